import { describe, expect, test } from "bun:test";
import { createLogger, maskUrl, silentLogger } from "../../src/log.ts";

const collect = (opts: Parameters<typeof createLogger>[0] = {}) => {
  const lines: string[] = [];
  return { lines, log: createLogger({ ...opts, write: (l) => void lines.push(l) }) };
};

describe("maskUrl", () => {
  test("hides user:password@ in URLs", () => {
    expect(maskUrl("https://bob:s3cret@github.com/org/repo.git")).toBe("https://***@github.com/org/repo.git");
    expect(maskUrl("cloning http://token@host:8080/r and ssh://git:pw@h/x")).toBe("cloning http://***@host:8080/r and ssh://***@h/x");
  });

  test("leaves URLs without credentials and plain text alone", () => {
    for (const s of ["https://github.com/org/repo.git", "git@github.com:org/repo.git", "mail me at a@b.c", "HTTPS://GitHub.com/x"]) {
      expect(maskUrl(s)).toBe(s);
    }
  });

  test("does not reach across a path to an @ later in the URL", () => {
    expect(maskUrl("https://host/users/@me")).toBe("https://host/users/@me");
  });
});

describe("createLogger", () => {
  test("pretty: time, padded level, message and key=value fields; credentials masked", () => {
    const { lines, log } = collect();
    log.child({ target: "t1" }).warn("fetch failed", { url: "https://u:p@h/r.git", n: 3, why: "two words", skip: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  fetch failed target=t1 url=https:\/\/\*\*\*@h\/r\.git n=3 why="two words"$/,
    );
  });

  test("pretty: errors render as their masked message", () => {
    const { lines, log } = collect();
    log.error("boom", { err: new Error("git clone https://x:y@h/r failed") });
    expect(lines[0]).toContain(" ERROR boom err=");
    expect(lines[0]).toContain("git clone https://***@h/r failed");
    expect(lines[0]).not.toContain("x:y@");
  });

  test("json: one object per line with time, level, msg and fields", () => {
    const { lines, log } = collect({ format: "json" });
    log.child({ target: "t1", method: "raw/apps" }).info("commit applied", { commit: "abc", changed: 2, err: new Error("at https://a:b@h/x") });
    const rec = JSON.parse(lines[0]!);
    expect(rec).toEqual({
      time: expect.stringMatching(/Z$/), level: "info", msg: "commit applied",
      target: "t1", method: "raw/apps", commit: "abc", changed: 2, err: "at https://***@h/x",
    });
  });

  test("json: credentials in nested values are masked too", () => {
    const { lines, log } = collect({ format: "json" });
    log.error("x", { remote: { url: "https://u:p@h/r" } });
    expect(lines[0]).not.toContain("u:p@");
    expect(JSON.parse(lines[0]!).remote.url).toBe("https://***@h/r");
  });

  test("level filtering: debug hidden at info, shown at debug; warn level hides info", () => {
    const a = collect({ format: "json" });
    a.log.debug("d");
    a.log.info("i");
    expect(a.lines.map((l) => JSON.parse(l).msg)).toEqual(["i"]);
    const b = collect({ level: "debug", format: "json" });
    b.log.debug("d");
    expect(b.lines.map((l) => JSON.parse(l).level)).toEqual(["debug"]);
    const c = collect({ level: "warn", format: "json" });
    c.log.info("i");
    c.log.warn("w");
    c.log.error("e");
    expect(c.lines.map((l) => JSON.parse(l).level)).toEqual(["warn", "error"]);
  });

  test("child fields are merged and per-call fields win", () => {
    const { lines, log } = collect({ format: "json" });
    log.child({ a: 1, b: 1 }).child({ b: 2 }).info("m", { c: 3 });
    log.info("plain");
    expect(JSON.parse(lines[0]!)).toMatchObject({ a: 1, b: 2, c: 3 });
    expect(Object.keys(JSON.parse(lines[1]!)).sort()).toEqual(["level", "msg", "time"]);
  });

  test("silentLogger drops everything and its child is silent too", () => {
    expect(silentLogger.child({ a: 1 })).toBe(silentLogger);
    expect(silentLogger.info("x")).toBeUndefined();
  });
});
