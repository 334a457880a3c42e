/** The apply → gate → rollback → quarantine flow of run-method with an in-memory source and method, the gate a scripted `command`. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { resolveHealth } from "../../src/config/health.ts";
import { runMethod } from "../../src/engine/run-method.ts";
import type { Exec } from "../../src/host/exec.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { createStateStore, type StateStore } from "../../src/state/store.ts";
import { engineDeps, fakeMethod, fakeSource, methodJob, tempDir, type FakeSource } from "./helpers.ts";

const KEY = { target: "t1", kind: "raw", method: "apps" };
let tmp: ReturnType<typeof tempDir>;
let store: StateStore;
/** Exit codes the gate command returns, in order (then 0); each call is counted. */
let verdicts: number[];
let gates: number;
const exec: Exec = async () => (gates++, { code: verdicts.shift() ?? 0, stdout: "", stderr: "health: app.conf rejected" });

beforeEach(() => {
  tmp = tempDir();
  store = createStateStore(createHostFs(), tmp.dir);
  verdicts = [];
  gates = 0;
});
afterEach(() => tmp.cleanup());

const deps = () => engineDeps(tmp.dir, { state: store, exec });
const job = (src: FakeSource, method: ReturnType<typeof fakeMethod>["method"], rollback = true) => ({
  ...methodJob(src, method),
  health: resolveHealth(undefined, { window: 0, command: "check", rollback }),
});
const commits = { c1: { "a.json": "A1", "b.json": "B1" }, c2: { "a.json": "A2", "c.json": "C2" }, c3: { "a.json": "A3", "b.json": "B1" } };

describe("rollback", () => {
  test("a failed gate re-applies G's version of what C changed, gates G, quarantines C; later runs on C do nothing", async () => {
    const src = fakeSource(commits, "c1");
    const { method, calls } = fakeMethod();
    await runMethod(job(src, method), deps());
    src.head = "c2";
    verdicts = [1];
    calls.length = 0;
    gates = 0;
    const r = await runMethod(job(src, method), deps());
    expect(r.rollback).toMatchObject({ outcome: "rolled-back", from: "c2", to: "c1" });
    expect(r.rollback!.reason).toMatch(/command `check` exited with code 1[\s\S]*health: app.conf rejected/);
    expect(src.calls.diff.slice(-2)).toEqual([["c1", "c2"], ["c2", "c1"]]);
    // C: b removed, c created, a updated; then back: c removed, b created, a updated to A1
    expect(calls.filter((c) => c.op !== "identify").map((c) => `${c.op} ${c.relPath}`)).toEqual([
      "prepare undefined", "remove b.json", "apply c.json", "apply a.json", "prepare undefined", "remove c.json", "apply b.json", "apply a.json",
    ]);
    const st = await store.load(KEY);
    expect(st).toMatchObject({ appliedCommit: "c1", quarantined: { commit: "c2", subject: "subject of c2" }, rollbacks: 1 });
    expect(st.resources).toEqual({ "a.json": { name: "c-a.json", hash: "A1" }, "b.json": { name: "c-b.json", hash: "B1" } });
    expect(st.rollingBack).toBeUndefined();
    expect(gates).toBe(2);

    calls.length = 0;
    for (let i = 0; i < 3; i++) expect((await runMethod(job(src, method), deps())).quarantined?.commit).toBe("c2");
    expect(calls).toEqual([]);
    expect(gates).toBe(2);

    src.head = "c3"; // a new head is applied over G and, being good, clears the quarantine
    expect((await runMethod(job(src, method), deps())).status).toBe("applied");
    expect(src.calls.diff.at(-1)).toEqual(["c1", "c3"]);
    expect((await store.load(KEY)).quarantined).toBeUndefined();
  });

  test("rollback: false: the failure is only reported; the commit stays applied (the state says what runs) and nothing is quarantined", async () => {
    const src = fakeSource(commits, "c1");
    const { method } = fakeMethod();
    await runMethod(job(src, method, false), deps());
    gates = 0;
    src.head = "c2";
    verdicts = [1];
    const r = await runMethod(job(src, method, false), deps());
    expect(r.status).toBe("failed");
    expect(r.rollback).toBeUndefined();
    const st = await store.load(KEY);
    expect(st).toMatchObject({ appliedCommit: "c2", lastError: { commit: "c2", retryable: false } });
    expect(st.quarantined).toBeUndefined();
    expect(gates).toBe(1);
  });

  test("an interrupted rollback is finished first; when G fails its gate again it is tried once more, then left alone (no loop)", async () => {
    const src = fakeSource(commits, "c2");
    const { method, calls } = fakeMethod();
    await store.save({
      version: 1, ...KEY, appliedCommit: "c1", failures: 0,
      resources: { "a.json": { name: "c-a.json", hash: "A2" }, "c.json": { name: "c-c.json", hash: "C2" } },
      quarantined: { commit: "c2", reason: "was bad", at: "2024-01-01T00:00:00.000Z" },
      rollingBack: { from: "c2", to: "c1", at: "2024-01-01T00:00:00.000Z" },
    });
    verdicts = [1, 1];
    const r = await runMethod(job(src, method), deps());
    expect(r.rollback).toMatchObject({ outcome: "failed", from: "c2", to: "c1" });
    expect(src.calls.fetch).toBe(0); // finished before anything new is fetched
    expect(gates).toBe(2);
    const st = await store.load(KEY);
    expect(st.rollingBack).toBeUndefined();
    expect(st.unhealthy).toMatchObject({ commit: "c1" });
    expect(st.unhealthy!.reason).toContain("rollback to c1 failed");
    calls.length = 0;
    await runMethod(job(src, method), deps());
    expect(calls).toEqual([]);
    expect(gates).toBe(2);
  });

  test("the first apply (no G): left applied, marked unhealthy, not re-applied on later runs", async () => {
    const src = fakeSource(commits, "c1");
    const { method, calls } = fakeMethod();
    verdicts = [1];
    const r = await runMethod(job(src, method), deps());
    expect(r).toMatchObject({ status: "failed", rollback: { outcome: "not-possible", from: "c1" } });
    expect(await store.load(KEY)).toMatchObject({ appliedCommit: "c1", unhealthy: { commit: "c1" } });
    calls.length = 0;
    expect((await runMethod(job(src, method), deps())).status).toBe("unchanged");
    expect(calls).toEqual([]);
  });

  test("a gate that throws (host trouble) is a failed apply to retry, not a verdict: nothing is quarantined", async () => {
    const src = fakeSource(commits, "c1");
    const { method } = fakeMethod();
    await runMethod(job(src, method), deps());
    src.head = "c2";
    const broken = engineDeps(tmp.dir, { state: store, exec: async () => { throw new Error("spawn failed"); } });
    const r = await runMethod(job(src, method), broken);
    expect(r.status).toBe("failed");
    expect(r.rollback).toBeUndefined();
    const st = await store.load(KEY);
    expect(st.quarantined).toBeUndefined();
    expect(st.lastError).toMatchObject({ commit: "c2", retryable: true, message: expect.stringContaining("could not run command `check`: spawn failed") });
  });
});
