import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHostFs } from "../../src/host/fs.ts";
import { createStateStore, emptyState, type MethodState, type StateStore } from "../../src/state/store.ts";
import { collectingLogger, tempDir } from "./helpers.ts";

let tmp: ReturnType<typeof tempDir>;
let store: StateStore;
beforeEach(() => {
  tmp = tempDir();
  store = createStateStore(createHostFs(), tmp.dir);
});
afterEach(() => tmp.cleanup());

const full = (target: string, method = "apps"): MethodState => ({
  version: 1, target, kind: "raw", method,
  appliedCommit: "a".repeat(40), appliedAt: "2024-05-01T12:00:00.000Z", appliedSubject: "add web",
  resources: { "web.yaml": { name: "web", hash: "h1" } },
  lastError: { message: "boom", at: "2024-05-01T12:01:00.000Z", commit: "b".repeat(40), retryable: true, files: ["raw/x.json"] },
  failures: 2, nextRetryAt: "2024-05-01T12:02:00.000Z",
});

describe("state store", () => {
  test("lives under <stateDir>/state", () => {
    expect(store.dir).toBe(join(tmp.dir, "state"));
  });

  test("load of an unknown key gives an empty record", async () => {
    expect(await store.load({ target: "t", kind: "raw", method: "m" })).toEqual({
      version: 1, target: "t", kind: "raw", method: "m", resources: {}, failures: 0,
    });
  });

  test("save/load round-trips every field", async () => {
    const st = full("t1");
    await store.save(st);
    expect(await store.load({ target: "t1", kind: "raw", method: "apps" })).toEqual(st);
  });

  test("save is atomic: one .json file with mode 0600, no temp files left", async () => {
    await store.save(full("t1"));
    await store.save({ ...full("t1"), failures: 3 });
    const names = readdirSync(store.dir);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^t1--raw--apps--[0-9a-f]{10}\.json$/);
    expect(statSync(join(store.dir, names[0]!)).mode & 0o777).toBe(0o600);
    expect((await store.load({ target: "t1", kind: "raw", method: "apps" })).failures).toBe(3);
  });

  test("list() returns every record, sorted by file name", async () => {
    await store.save(full("zeta"));
    await store.save(emptyState({ target: "alpha", kind: "filetransfer", method: "conf" }));
    await store.save(full("mid", "other"));
    writeFileSync(join(store.dir, "notes.txt"), "ignored");
    const all = await store.list();
    expect(all.map((s) => `${s.target}/${s.kind}/${s.method}`)).toEqual(["alpha/filetransfer/conf", "mid/raw/other", "zeta/raw/apps"]);
    expect(all[2]).toEqual(full("zeta"));
  });

  test("list() of a missing directory is empty", async () => {
    expect(await store.list()).toEqual([]);
  });

  test("a damaged record (empty, truncated, unparsable, unknown version) is moved aside, logged once, and that method starts afresh", async () => {
    const damage = ["", '{\n  "version": 1,\n  "tar', "\0\0\0\0", "{ not json", JSON.stringify({ ...emptyState({ target: "t1", kind: "raw", method: "apps" }), version: 2 })];
    for (const [i, bad] of damage.entries()) {
      const log = collectingLogger();
      const logged = createStateStore(createHostFs(), tmp.dir, log);
      const key = { target: "t1", kind: "raw", method: "apps" };
      const other = full("t2");
      await logged.save(full("t1"));
      await logged.save(other);
      const file = join(logged.dir, readdirSync(logged.dir).find((n) => n.startsWith("t1--") && n.endsWith(".json"))!);
      writeFileSync(file, bad);
      expect(await logged.load(key)).toEqual(emptyState(key));
      expect(await logged.load(key)).toEqual(emptyState(key)); // logged once, not on every load
      const errors = log.lines.filter((l) => l.level === "error");
      expect(errors).toHaveLength(1);
      const moved = readdirSync(logged.dir).filter((n) => n.includes(".corrupt-"));
      expect(moved).toHaveLength(i + 1);
      const newest = moved.find((n) => readFileSync(join(logged.dir, n), "utf8") === bad)!;
      expect(newest).toMatch(/^t1--raw--apps--[0-9a-f]{10}\.json\.corrupt-\d{8}T\d{6}Z(-[0-9a-f]{4})?$/);
      expect(errors[0]!.msg).toContain(file);
      expect(errors[0]!.msg).toContain(join(logged.dir, newest));
      expect(await logged.load({ target: "t2", kind: "raw", method: "apps" })).toEqual(other);
      expect((await logged.list()).map((s) => s.target)).toEqual(["t2"]);
    }
  });

  test("list() moves a damaged record aside too; without a logger (status) it is skipped and left in place", async () => {
    await store.save(full("t1"));
    await store.save(full("t2"));
    const file = join(store.dir, readdirSync(store.dir).find((n) => n.startsWith("t1--"))!);
    writeFileSync(file, "");
    expect((await store.list()).map((s) => s.target)).toEqual(["t2"]);
    expect(readFileSync(file, "utf8")).toBe("");
    const log = collectingLogger();
    expect((await createStateStore(createHostFs(), tmp.dir, log).list()).map((s) => s.target)).toEqual(["t2"]);
    expect(readdirSync(store.dir).filter((n) => n.endsWith(".json"))).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === "error")).toHaveLength(1);
  });

  test("keys with similar names do not collide", async () => {
    const keys = [
      { target: "a/b", kind: "raw", method: "m" },
      { target: "a_b", kind: "raw", method: "m" },
      { target: "a b", kind: "raw", method: "m" },
      { target: "a", kind: "raw", method: "b--raw--m" },
      { target: "a--raw--b", kind: "raw", method: "m" },
    ];
    for (const [i, k] of keys.entries()) await store.save({ ...emptyState(k), failures: i });
    expect(readdirSync(store.dir)).toHaveLength(keys.length);
    for (const [i, k] of keys.entries()) {
      const st = await store.load(k);
      expect(st.target).toBe(k.target);
      expect(st.method).toBe(k.method);
      expect(st.failures).toBe(i);
    }
  });

  test("very long names are shortened but stay distinct", async () => {
    const long = "x".repeat(200);
    await store.save(emptyState({ target: long + "1", kind: "raw", method: "m" }));
    await store.save(emptyState({ target: long + "2", kind: "raw", method: "m" }));
    const names = readdirSync(store.dir);
    expect(names).toHaveLength(2);
    for (const n of names) expect(n.length).toBeLessThan(160);
    expect((await store.load({ target: long + "2", kind: "raw", method: "m" })).target).toBe(long + "2");
  });

  test("remove() deletes the record; load is then empty again", async () => {
    const key = { target: "t1", kind: "raw", method: "apps" };
    await store.save(full("t1"));
    await store.remove(key);
    expect(readdirSync(store.dir)).toEqual([]);
    expect((await store.load(key)).appliedCommit).toBeUndefined();
  });

  test("a state dir under a HostFs root is re-based", async () => {
    const rooted = createStateStore(createHostFs(tmp.dir), "/var/lib/fetchit");
    await rooted.save(emptyState({ target: "t", kind: "raw", method: "m" }));
    expect(readdirSync(join(tmp.dir, "var/lib/fetchit/state"))).toHaveLength(1);
    expect(rooted.dir).toBe("/var/lib/fetchit/state");
  });
});
