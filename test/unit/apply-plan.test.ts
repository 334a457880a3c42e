import { describe, expect, test } from "bun:test";
import { applyPlan } from "../../src/engine/apply-plan.ts";
import { methodContext } from "../../src/engine/context.ts";
import type { FileRef, Op } from "../../src/engine/plan.ts";
import { MethodError } from "../../src/errors.ts";
import { collectingLogger, engineDeps, fakeMethod, fakePodman, fakeSource, methodJob } from "./helpers.ts";

const ref = (rel: string, content = rel.toUpperCase()): FileRef => ({ relPath: rel, path: `raw/${rel}`, blob: `blob:${content}`, mode: "100644" });
const create = (rel: string, content?: string): Op => ({ op: "create", file: ref(rel, content) });
const update = (rel: string, content?: string): Op => ({ op: "update", file: ref(rel, content), previous: { name: `c-${rel}`, hash: "old" } });
const remove = (rel: string): Op => ({ op: "remove", relPath: rel, previous: { name: `c-${rel}`, hash: "old" }, old: ref(rel) });
const src = fakeSource({}, "c1");
const deps = (extra = {}) => engineDeps("/nonexistent-state-dir", extra);

describe("applyPlan", () => {
  test("one failing file does not stop the others; the failure names the file", async () => {
    const boom = new MethodError("bad", "raw/b.json");
    const { method, calls } = fakeMethod({ fail: (rel) => (rel === "b.json" ? boom : undefined) });
    const out = await applyPlan(methodJob(src, method), deps(), [create("a.json"), create("b.json"), create("c.json")], {}, collectingLogger());
    expect(calls.filter((c) => c.op === "apply").map((c) => c.relPath)).toEqual(["a.json", "b.json", "c.json"]);
    expect(out.failures).toEqual([{ file: "raw/b.json", error: boom }]);
    expect(out.changed).toBe(2);
    expect(Object.keys(out.resources).sort()).toEqual(["a.json", "c.json"]);
  });

  test("phases run in order: all removals, then all creations, then all updates", async () => {
    const { method, calls } = fakeMethod({ delayMs: 3 });
    // record when each call finishes too, so a phase starting before the previous one ended would show
    const done: string[] = [];
    const { apply, remove: rm } = method;
    method.apply = async (ctx, file, prev) => apply.call(method, ctx, file, prev).finally(() => void done.push(`${calls.length}:${file.relPath}`));
    method.remove = async (ctx, prev, rel) => rm.call(method, ctx, prev, rel).finally(() => void done.push(`${calls.length}:${rel}`));
    const ops = [update("u1"), create("c1"), remove("r1"), update("u2"), remove("r2"), create("c2")];
    const out = await applyPlan(methodJob(src, method), deps({ concurrency: 4 }), ops, { r1: { name: "c-r1", hash: "x" }, r2: { name: "c-r2", hash: "x" } }, collectingLogger());
    const seq = calls.map((c) => `${c.op}:${c.relPath ?? ""}`);
    expect(seq).toEqual(["prepare:", "remove:r1", "remove:r2", "apply:c1", "apply:c2", "apply:u1", "apply:u2"]);
    // number of calls started when each op finished: both removals end before any create starts, etc.
    expect(done.sort()).toEqual(["3:r1", "3:r2", "5:c1", "5:c2", "7:u1", "7:u2"]);
    expect(out.resources).toEqual({
      c1: { name: "c-c1", hash: "C1" }, c2: { name: "c-c2", hash: "C2" }, u1: { name: "c-u1", hash: "U1" }, u2: { name: "c-u2", hash: "U2" },
    });
    expect(out.changed).toBe(6);
  });

  test("the concurrency limit is respected", async () => {
    const { method, stats } = fakeMethod({ delayMs: 10 });
    const ops = ["a", "b", "c", "d", "e"].map((r) => create(r));
    await applyPlan(methodJob(src, method), deps({ concurrency: 2 }), ops, {}, collectingLogger());
    expect(stats.maxInFlight).toBe(2);
    const { method: m4, stats: s4 } = fakeMethod({ delayMs: 10 });
    await applyPlan(methodJob(src, m4), deps(), ops, {}, collectingLogger());
    expect(s4.maxInFlight).toBe(4);
  });

  test("an empty plan does nothing, not even prepare", async () => {
    const { method, calls } = fakeMethod();
    const resources = { a: { name: "x", hash: "y" } };
    const out = await applyPlan(methodJob(src, method), deps(), [], resources, collectingLogger());
    expect(out).toEqual({ resources, changed: 0, failures: [], touched: [], lastChangeAt: expect.any(Number) });
    expect(calls).toEqual([]);
  });

  test("a rename drops the old key; a removal without a known resource identifies the old file", async () => {
    const { method, calls } = fakeMethod();
    const ops: Op[] = [
      { op: "remove", relPath: "gone.json", old: ref("gone.json", "G") },
      { op: "update", file: ref("new.json", "N"), previous: { name: "c-old.json", hash: "O" }, fromRelPath: "old.json" },
    ];
    const out = await applyPlan(methodJob(src, method), deps(), ops, { "old.json": { name: "c-old.json", hash: "O" } }, collectingLogger());
    expect(calls.filter((c) => c.op !== "prepare")).toEqual([
      { op: "identify", relPath: "gone.json" },
      { op: "remove", relPath: "gone.json", previous: { name: "c-gone.json", hash: "G" } },
      { op: "apply", relPath: "new.json", previous: { name: "c-old.json", hash: "O" } },
    ]);
    expect(out.resources).toEqual({ "new.json": { name: "c-new.json", hash: "N" } });
    expect(out.touched).toEqual([{ relPath: "new.json", path: "raw/new.json", resource: { name: "c-new.json", hash: "N" } }]);
  });

  test("a removal failure reports the old repository path", async () => {
    const { method } = fakeMethod();
    method.remove = async () => {
      throw new Error("cannot remove");
    };
    const out = await applyPlan(methodJob(src, method), deps(), [remove("r.json")], { "r.json": { name: "c", hash: "h" } }, collectingLogger());
    expect(out.failures.map((f) => f.file)).toEqual(["raw/r.json"]);
    expect(out.resources).toEqual({ "r.json": { name: "c", hash: "h" } });
  });
});

describe("methodContext.ensureImage", () => {
  const ctxWith = (existing: string[]) => {
    const { podman, calls } = fakePodman(existing);
    const ctx = methodContext(engineDeps("/x", { podman }), "t1", { name: "apps", schedule: "* * * * *", targetPath: "raw" }, collectingLogger());
    return { ctx, calls };
  };

  test("pulls a missing image once even when called concurrently", async () => {
    const { ctx, calls } = ctxWith([]);
    await Promise.all([ctx.ensureImage("img:a", false), ctx.ensureImage("img:a", false), ctx.ensureImage("img:b", false), ctx.ensureImage("img:a", false)]);
    await ctx.ensureImage("img:a", false);
    expect(calls.exists.sort()).toEqual(["img:a", "img:b"]);
    expect(calls.pulls.sort()).toEqual(["img:a", "img:b"]);
  });

  test("does not pull an image that exists", async () => {
    const { ctx, calls } = ctxWith(["img:a"]);
    await Promise.all([ctx.ensureImage("img:a", false), ctx.ensureImage("img:a", false)]);
    expect(calls.exists).toEqual(["img:a"]);
    expect(calls.pulls).toEqual([]);
  });

  test("alwaysPull skips the existence check and pulls once", async () => {
    const { ctx, calls } = ctxWith(["img:a"]);
    await Promise.all([ctx.ensureImage("img:a", true), ctx.ensureImage("img:a", true)]);
    expect(calls.exists).toEqual([]);
    expect(calls.pulls).toEqual(["img:a"]);
  });

  test("each context has its own pull cache", async () => {
    const { podman, calls } = fakePodman([]);
    const d = engineDeps("/x", { podman });
    const cfg = { name: "apps", schedule: "* * * * *", targetPath: "raw" };
    await methodContext(d, "t1", cfg, collectingLogger()).ensureImage("img:a", false);
    await methodContext(d, "t1", cfg, collectingLogger()).ensureImage("img:a", false);
    expect(calls.pulls).toEqual(["img:a", "img:a"]);
  });
});
