import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { runMethod } from "../../src/engine/run-method.ts";
import { GitError, MethodError } from "../../src/errors.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { createStateStore, type StateStore } from "../../src/state/store.ts";
import { engineDeps, fakeMethod, fakeSource, methodJob, tempDir } from "./helpers.ts";

const KEY = { target: "t1", kind: "raw", method: "apps" };
let tmp: ReturnType<typeof tempDir>;
let saves: number;
let store: StateStore;
let clock: number;
const T0 = Date.parse("2024-05-01T12:00:00Z");

beforeEach(() => {
  tmp = tempDir();
  saves = 0;
  clock = T0;
  const real = createStateStore(createHostFs(), tmp.dir);
  store = { ...real, save: async (st) => { saves++; await real.save(st); } };
});
afterEach(() => tmp.cleanup());

const deps = () => engineDeps(tmp.dir, { state: store, now: () => clock });
const stateFile = () => join(tmp.dir, "state", readdirSync(join(tmp.dir, "state"))[0]!);

describe("runMethod", () => {
  test("first run applies every file, pins the commit and records resources", async () => {
    const src = fakeSource({ c1: { "a.json": "A", "b.json": "B" } }, "c1");
    const { method } = fakeMethod();
    const r = await runMethod(methodJob(src, method), deps());
    expect(r).toEqual({ status: "applied", commit: "c1", changed: 2, failures: [] });
    expect(src.calls.pins).toEqual([["t1/raw/apps", "c1"]]);
    const st = await store.load(KEY);
    expect(st.appliedCommit).toBe("c1");
    expect(st.appliedSubject).toBe("subject of c1");
    expect(st.appliedAt).toBe(new Date(T0).toISOString());
    expect(st.resources).toEqual({ "a.json": { name: "c-a.json", hash: "A" }, "b.json": { name: "c-b.json", hash: "B" } });
  });

  test("an unchanged head makes no state write", async () => {
    const src = fakeSource({ c1: { "a.json": "A" } }, "c1");
    const { method, calls } = fakeMethod();
    await runMethod(methodJob(src, method), deps());
    const mtime = statSync(stateFile()).mtimeMs;
    const savesBefore = saves;
    calls.length = 0;
    await Bun.sleep(15);
    const r = await runMethod(methodJob(src, method), deps());
    expect(r).toEqual({ status: "unchanged", commit: "c1", changed: 0, failures: [] });
    expect(saves).toBe(savesBefore);
    expect(statSync(stateFile()).mtimeMs).toBe(mtime);
    expect(calls).toEqual([]);
    expect(src.calls.diff).toHaveLength(1);
  });

  test("a permanent failure does not advance the state and is not retried on the same head", async () => {
    const src = fakeSource({ c1: { "a.json": "A" }, c2: { "a.json": "A2", "bad.json": "BAD" } }, "c1");
    const { method, calls } = fakeMethod({ fail: (rel) => (rel === "bad.json" ? new MethodError("broken spec", "raw/bad.json") : undefined) });
    await runMethod(methodJob(src, method), deps());
    src.head = "c2";
    const r = await runMethod(methodJob(src, method), deps());
    expect(r.status).toBe("failed");
    expect(r.failures.map((f) => f.file)).toEqual(["raw/bad.json"]);
    const st = await store.load(KEY);
    expect(st.appliedCommit).toBe("c1");
    expect(st.failures).toBe(1);
    expect(st.nextRetryAt).toBeUndefined();
    expect(st.lastError).toEqual({
      message: "raw/bad.json: broken spec", at: new Date(T0).toISOString(), commit: "c2", retryable: false, files: ["raw/bad.json"],
    });
    // the good file of the failed commit was still applied and recorded
    expect(st.resources["a.json"]).toEqual({ name: "c-a.json", hash: "A2" });

    calls.length = 0;
    const again = await runMethod(methodJob(src, method), deps());
    expect(again).toEqual({ status: "skipped", commit: "c2", changed: 0, failures: [] });
    expect(calls).toEqual([]);

    const forced = await runMethod(methodJob(src, method), deps(), { force: true });
    expect(forced.status).toBe("failed");
    expect(calls.filter((c) => c.op === "apply").map((c) => c.relPath).sort()).toEqual(["a.json", "bad.json"]);
    expect((await store.load(KEY)).failures).toBe(2);
  });

  test("a retryable failure backs off: skipped without fetching until nextRetryAt, then retried", async () => {
    const src = fakeSource({ c1: { "a.json": "A" } }, "c1");
    let broken = true;
    const { method } = fakeMethod({ fail: () => (broken ? new MethodError("x", "f", { retryable: true }) : undefined) });
    const job = methodJob(src, method);
    expect((await runMethod(job, deps())).status).toBe("failed");
    let st = await store.load(KEY);
    expect(st.lastError?.retryable).toBe(true);
    expect(st.nextRetryAt).toBe(new Date(T0 + 10_000).toISOString());

    clock = T0 + 9_999;
    const fetchesBefore = src.calls.fetch;
    expect((await runMethod(job, deps())).status).toBe("skipped");
    expect(src.calls.fetch).toBe(fetchesBefore);

    clock = T0 + 10_000;
    expect((await runMethod(job, deps())).status).toBe("failed");
    expect(src.calls.fetch).toBe(fetchesBefore + 1);
    st = await store.load(KEY);
    expect(st.failures).toBe(2);
    expect(st.nextRetryAt).toBe(new Date(T0 + 10_000 + 20_000).toISOString());

    // force ignores the back-off
    broken = false;
    const r = await runMethod(job, deps(), { force: true });
    expect(r.status).toBe("applied");
    st = await store.load(KEY);
    expect(st.failures).toBe(0);
    expect(st.lastError).toBeUndefined();
    expect(st.nextRetryAt).toBeUndefined();
    expect(st.appliedCommit).toBe("c1");
    expect(src.calls.pins).toEqual([["t1/raw/apps", "c1"]]);
  });

  test("success after a permanent failure clears lastError and resets failures", async () => {
    const src = fakeSource({ c1: { "a.json": "BAD" }, c2: { "a.json": "GOOD" } }, "c1");
    const { method } = fakeMethod({ fail: (_r, content) => (content === "BAD" ? new Error("bad content") : undefined) });
    await runMethod(methodJob(src, method), deps());
    expect((await store.load(KEY)).lastError?.message).toBe("bad content");
    src.head = "c2";
    const r = await runMethod(methodJob(src, method), deps());
    expect(r.status).toBe("applied");
    const st = await store.load(KEY);
    expect(st).toMatchObject({ appliedCommit: "c2", failures: 0, resources: { "a.json": { name: "c-a.json", hash: "GOOD" } } });
    expect("lastError" in st).toBe(false);
  });

  test("a fetch failure is recorded without a commit and backs off when retryable", async () => {
    const src = fakeSource({ c1: { "a.json": "A" } }, "c1");
    src.fetchError = new GitError("git fetch https://example.invalid: connection refused", { retryable: true });
    const { method, calls } = fakeMethod();
    const r = await runMethod(methodJob(src, method), deps());
    expect(r.status).toBe("failed");
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]!.file).toBeUndefined();
    const st = await store.load(KEY);
    expect(st.lastError).toEqual({
      message: "git fetch https://example.invalid: connection refused", at: new Date(T0).toISOString(), retryable: true, files: [],
    });
    expect(st.nextRetryAt).toBe(new Date(T0 + 10_000).toISOString());
    expect(st.appliedCommit).toBeUndefined();
    expect(calls).toEqual([]);
  });

  test("a missing old commit triggers a full-tree reconciliation that removes vanished files", async () => {
    const src = fakeSource({ c1: { "a.json": "A", "b.json": "B" }, c3: { "a.json": "A" } }, "c1");
    const { method, calls } = fakeMethod();
    await runMethod(methodJob(src, method), deps());
    // history rewritten: c1 is gone from the clone, head is c3
    src.commits.delete("c1");
    src.head = "c3";
    calls.length = 0;
    const r = await runMethod(methodJob(src, method), deps());
    expect(r.status).toBe("applied");
    expect(src.calls.diff.at(-1)).toEqual([null, "c3"]);
    expect(calls.filter((c) => c.op === "remove")).toEqual([{ op: "remove", relPath: "b.json", previous: { name: "c-b.json", hash: "B" } }]);
    // a.json is an update of the recorded resource, not a fresh create; its content did not change
    expect(calls.find((c) => c.op === "apply")).toEqual({ op: "apply", relPath: "a.json", previous: { name: "c-a.json", hash: "A" } });
    expect(r.changed).toBe(1);
    const st = await store.load(KEY);
    expect(st.appliedCommit).toBe("c3");
    expect(Object.keys(st.resources)).toEqual(["a.json"]);
  });
});
