import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/errors.ts";
import { loadConfig, loadConfigFile, resolveConfigSource } from "../../src/config/index.ts";

const root = mkdtempSync(join(tmpdir(), "fetchit-config-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const GOOD = "targetConfigs:\n- url: https://h/r.git\n  branch: main\n";
const home = join(root, "home");
mkdirSync(join(home, ".fetchit"), { recursive: true });
const userFile = join(home, ".fetchit", "config.yaml");
writeFileSync(userFile, GOOD);
const flagFile = join(root, "flag.yaml");
writeFileSync(flagFile, "targetConfigs: []\n");

/** `exists` that sees only the given paths. */
const only = (...paths: string[]) => (p: string) => paths.includes(p);

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("resolveConfigSource", () => {
  test("--config wins over everything", () => {
    const src = resolveConfigSource({ flag: "/x.yaml", env: { FETCHIT_CONFIG: GOOD }, uid: 0, home, exists: only("/x.yaml", "/etc/fetchit/config.yaml") });
    expect(src).toEqual({ kind: "file", file: "/x.yaml" });
  });

  test("a --config path that does not exist is an error naming it", () => {
    const err = thrown(() => resolveConfigSource({ flag: "/nope.yaml", env: {}, uid: 1000, home, exists: only(userFile) }));
    expect(err.file).toBe("/nope.yaml");
    expect(err.message).toContain("/nope.yaml (given with --config) does not exist");
  });

  test("$FETCHIT_CONFIG holds the YAML text and comes next", () => {
    const src = resolveConfigSource({ env: { FETCHIT_CONFIG: GOOD }, uid: 0, home, exists: only("/etc/fetchit/config.yaml", userFile) });
    expect(src).toEqual({ kind: "env", file: "$FETCHIT_CONFIG", text: GOOD });
  });

  test("an empty $FETCHIT_CONFIG counts as unset", () => {
    expect(resolveConfigSource({ env: { FETCHIT_CONFIG: " " }, uid: 1000, home, exists: only(userFile) })).toEqual({ kind: "file", file: userFile });
  });

  test("a file name in $FETCHIT_CONFIG is explained", () => {
    const err = thrown(() => resolveConfigSource({ env: { FETCHIT_CONFIG: "/etc/fetchit/config.yaml" }, uid: 0, home }));
    expect(err.message).toContain("holds the YAML text itself, not a file name");
  });

  test("root reads /etc/fetchit/config.yaml before ~/.fetchit", () => {
    const src = resolveConfigSource({ env: {}, uid: 0, home, exists: only("/etc/fetchit/config.yaml", userFile) });
    expect(src).toEqual({ kind: "file", file: "/etc/fetchit/config.yaml" });
    expect(resolveConfigSource({ env: {}, uid: 0, home, exists: only(userFile) })).toEqual({ kind: "file", file: userFile });
  });

  test("other users ignore /etc/fetchit", () => {
    const src = resolveConfigSource({ env: {}, uid: 1000, home, exists: only("/etc/fetchit/config.yaml", userFile) });
    expect(src).toEqual({ kind: "file", file: userFile });
  });

  test("nothing found lists every place tried and how to fix it", () => {
    const err = thrown(() => resolveConfigSource({ env: {}, uid: 0, home: "/home/u", exists: only() }));
    for (const part of ["--config PATH (not given)", "$FETCHIT_CONFIG (not set)", "/etc/fetchit/config.yaml (not found)", "/home/u/.fetchit/config.yaml (not found)", "create /home/u/.fetchit/config.yaml"]) {
      expect(err.message).toContain(part);
    }
  });

  test("uses the real filesystem by default", () => {
    expect(resolveConfigSource({ env: {}, uid: 1000, home })).toEqual({ kind: "file", file: userFile });
  });
});

describe("loadConfig", () => {
  test("reads the discovered file", () => {
    const loaded = loadConfig({ env: {}, uid: 1000, home });
    expect(loaded.file).toBe(userFile);
    expect(loaded.config.targetConfigs[0]?.branch).toBe("main");
  });

  test("reads --config", () => {
    expect(loadConfig({ flag: flagFile, env: {}, uid: 1000, home }).config).toEqual({ targetConfigs: [] });
  });

  test("parses $FETCHIT_CONFIG and returns its warnings", () => {
    const loaded = loadConfig({ env: { FETCHIT_CONFIG: "TargetConfigs: []\n" }, uid: 1000, home: "" });
    expect(loaded.file).toBe("$FETCHIT_CONFIG");
    expect(loaded.warnings).toHaveLength(1);
  });

  test("throws one ConfigError carrying every issue", () => {
    const err = thrown(() => loadConfig({ env: { FETCHIT_CONFIG: "targetConfigs:\n- url: x\nprune: {}\n" }, uid: 1000, home: "" }));
    expect(err.file).toBe("$FETCHIT_CONFIG");
    expect(err.issues.map((i) => i.path)).toEqual(["prune.schedule", "targetConfigs[0].branch"]);
    expect(err.message).toContain("$FETCHIT_CONFIG: 2 problem(s) in config");
    expect(err.message).toContain("prune.schedule: required key missing");
  });

  test("loadConfigFile reports an unreadable file as an issue", () => {
    const result = loadConfigFile(join(root, "missing.yaml"));
    expect(result.config).toBeUndefined();
    expect(result.issues[0]?.message).toContain("cannot read config file");
  });
});
