/**
 * The engine side of health gates with an in-memory source and a fake method
 * (its `healthy` hook records what it is given): when the gate runs, what it
 * sees (touched files, window start), and what a failed gate does to the state
 * with rollback: false (reported, the commit stays applied).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { resolveHealth } from "../../src/config/health.ts";
import { runHealthGate } from "../../src/engine/health-gate.ts";
import { runMethod } from "../../src/engine/run-method.ts";
import { MethodError } from "../../src/errors.ts";
import type { Exec } from "../../src/host/exec.ts";
import type { HealthWindow, Touched } from "../../src/methods/index.ts";
import { collectingLogger, engineDeps, fakeMethod, fakeSource, methodJob, tempDir } from "./helpers.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

/** A fake method whose health hook records its calls and answers with `verdict`. */
function gated(verdict: (touched: Touched[]) => unknown[] = () => []) {
  const { method } = fakeMethod();
  const seen: { touched: Touched[]; window: HealthWindow; at: number }[] = [];
  method.healthy = async (_ctx, touched, window) => {
    seen.push({ touched, window, at: Date.now() });
    return verdict(touched).map((error) => ({ file: touched[0]!.path, error }));
  };
  return { method, seen };
}

describe("health gate in runMethod", () => {
  test("the hook sees only the files the apply changed, and the window starts at the last change", async () => {
    const src = fakeSource({ c1: { "a.json": "A", "b.json": "B", "gone.json": "G" }, c2: { "a.json": "A2", "b.json": "B" } }, "c1");
    const { method, seen } = gated();
    const job = { ...methodJob(src, method), health: resolveHealth(undefined, { window: 2 }) };
    const deps = engineDeps(tmp.dir);
    expect((await runMethod(job, deps)).status).toBe("applied");
    src.head = "c2";
    const before = Date.now();
    const r = await runMethod(job, deps);
    expect(r.status).toBe("applied");
    expect(seen).toHaveLength(2);
    expect(seen[1]!.touched).toEqual([{ relPath: "a.json", path: "raw/a.json", resource: { name: "c-a.json", hash: "A2" } }]);
    expect(seen[1]!.window.windowMs).toBe(2000);
    expect(seen[1]!.window.since).toBeGreaterThanOrEqual(before);
    expect(seen[1]!.window.since).toBeLessThanOrEqual(seen[1]!.at);
  });

  test("rollback: false: a failed gate is reported, the commit stays applied, and the next run changes nothing", async () => {
    const src = fakeSource({ c1: { "a.json": "A" }, c2: { "a.json": "BAD" } }, "c1");
    const { method, seen } = gated((t) => (t[0]?.resource.hash === "BAD" ? [new MethodError("health gate: container c-a.json exited with code 3", "raw/a.json")] : []));
    const job = { ...methodJob(src, method), health: resolveHealth({ rollback: false }, { window: 1 }) };
    const deps = engineDeps(tmp.dir);
    await runMethod(job, deps);
    src.head = "c2";
    const r = await runMethod(job, deps);
    expect(r.status).toBe("failed");
    expect(r.failures.map((f) => f.file)).toEqual(["raw/a.json"]);
    const st = await deps.state.load(job.key);
    expect(st.appliedCommit).toBe("c2");
    expect(st.resources["a.json"]?.hash).toBe("BAD");
    expect(st.lastError).toMatchObject({ commit: "c2", retryable: false, files: ["raw/a.json"] });
    expect(st.lastError?.message).toContain("exited with code 3");
    expect(deps.log.lines.some((l) => l.msg.includes("health gate failed"))).toBe(true);
    const again = await runMethod(job, deps);
    expect(again.status).toBe("unchanged");
    expect(seen).toHaveLength(2);
  });

  test("no health block: no gate; a hook that throws fails the gate with its error", async () => {
    const src = fakeSource({ c1: { "a.json": "A" } }, "c1");
    const { method, seen } = gated();
    expect((await runMethod(methodJob(src, method), engineDeps(tmp.dir))).status).toBe("applied");
    expect(seen).toHaveLength(0);
    method.healthy = async () => {
      throw new Error("Podman API unreachable");
    };
    // t2 manages b.json (a.json's container belongs to t1: one owner per thing)
    const job = { ...methodJob(fakeSource({ c1: { "b.json": "B" } }, "c1"), method), key: { target: "t2", kind: "raw", method: "apps" }, health: resolveHealth({ window: 1, rollback: false }, undefined) };
    const r = await runMethod(job, engineDeps(tmp.dir));
    expect(r.status).toBe("failed");
    expect(String(r.failures[0]!.error)).toContain("Podman API unreachable");
  });
});

describe("runHealthGate", () => {
  const touched: Touched[] = [{ relPath: "a.json", path: "raw/a.json", resource: { name: "c-a", hash: "h" } }];

  test("window 0 and no command or http: nothing runs; window 0 with a command: it runs at once under timeout, with FETCHIT_* set", async () => {
    const calls: { cmd: string; args: string[]; env?: Record<string, string | undefined> }[] = [];
    const exec: Exec = async (cmd, args, opts) => (calls.push({ cmd, args, env: opts?.env }), { code: 0, stdout: "", stderr: "" });
    const { method, seen } = gated();
    const src = fakeSource({}, "c1");
    const deps = engineDeps(tmp.dir, { exec });
    expect(await runHealthGate({ ...methodJob(src, method), health: resolveHealth(undefined, { window: 0 }) }, deps, touched, Date.now(), collectingLogger())).toEqual([]);
    expect(seen).toHaveLength(0);
    const t0 = Date.now();
    const job = { ...methodJob(src, method), health: resolveHealth({ command: "curl -f http://x/ready", timeout: "2s" }, { window: 0 }) };
    expect(await runHealthGate(job, deps, touched, t0, collectingLogger())).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(seen).toHaveLength(0);
    expect(calls).toEqual([{ cmd: "timeout", args: ["--kill-after=5s", "2s", "/bin/sh", "-c", "curl -f http://x/ready"], env: { FETCHIT_TARGET: "t1", FETCHIT_METHOD: "raw/apps" } }]);
  });

  test("a failed watch ends the gate at once: the command does not run", async () => {
    let ran = 0;
    const exec: Exec = async () => (ran++, { code: 0, stdout: "", stderr: "" });
    const { method } = gated(() => [new MethodError("health gate: bad", "raw/a.json")]);
    const job = { ...methodJob(fakeSource({}, "c1"), method), health: resolveHealth({ window: 30, command: ["true"] }, undefined) };
    const t0 = Date.now();
    const failures = await runHealthGate(job, engineDeps(tmp.dir, { exec }), touched, t0, collectingLogger());
    expect(failures).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(ran).toBe(0);
  });
});
