import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHostFs } from "../../src/host/fs.ts";
import { createStateStore, emptyState, type MethodState, type StateStore } from "../../src/state/store.ts";
import { tempDir } from "./helpers.ts";

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

  test("a corrupted file gives an error naming the file and saying to move it away", async () => {
    const key = { target: "t1", kind: "raw", method: "apps" };
    await store.save(emptyState(key));
    const file = join(store.dir, readdirSync(store.dir)[0]!);
    writeFileSync(file, "{ not json");
    const err = await store.load(key).then(() => null, (e: Error) => e);
    expect(err?.message).toContain(file);
    expect(err?.message).toContain("unreadable");
    expect(err?.message).toContain("move it away");
    await expect(store.list()).rejects.toThrow(file);
  });

  test("a record with an unknown version is refused", async () => {
    const key = { target: "t1", kind: "raw", method: "apps" };
    await store.save(emptyState(key));
    const file = join(store.dir, readdirSync(store.dir)[0]!);
    writeFileSync(file, JSON.stringify({ ...emptyState(key), version: 2 }));
    await expect(store.load(key)).rejects.toThrow(/unknown record version.*move it away/);
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
