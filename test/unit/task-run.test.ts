import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { matches } from "../../src/daemon.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { runTask } from "../../src/engine/run-task.ts";
import { FetchitError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import type { Task, TaskOutcome } from "../../src/tasks/types.ts";
import { engineDeps, tempDir } from "./helpers.ts";

let tmp: ReturnType<typeof tempDir>;
let clock: number;
const T0 = Date.parse("2024-05-01T12:00:00Z");
beforeEach(() => {
  tmp = tempDir();
  clock = T0;
});
afterEach(() => tmp.cleanup());

/** A task whose runs return (or throw) the given outcomes in turn. */
function fakeTask(outcomes: (TaskOutcome | Error)[]): Task & { runs: number } {
  const t = {
    kind: "prune" as const, id: "(global)/prune/prune", key: { target: "(global)", kind: "prune", method: "prune" }, schedule: "@daily", runs: 0,
    async run() {
      const o = outcomes[t.runs++] ?? { status: "unchanged", changed: 0 };
      if (o instanceof Error) throw o;
      return o;
    },
  };
  return t;
}

describe("runTask", () => {
  test("an applied run records when it applied; an unchanged one writes nothing", async () => {
    let saves = 0;
    const deps = engineDeps(tmp.dir, { now: () => clock });
    const save = deps.state.save;
    deps.state.save = async (st) => void (saves++, await save(st));
    const task = fakeTask([{ status: "applied", changed: 2, note: "did it" }, { status: "unchanged", changed: 0 }]);
    expect(await runTask(task, deps)).toEqual({ status: "applied", changed: 2, failures: [], note: "did it" });
    const st = await deps.state.load(task.key);
    expect(st.appliedAt).toBe(new Date(T0).toISOString());
    expect(saves).toBe(1);
    expect((await runTask(task, deps)).status).toBe("unchanged");
    expect(saves).toBe(1);
  });

  test("a transient failure backs off (sync ignores it); the next good run clears it", async () => {
    const deps = engineDeps(tmp.dir, { now: () => clock });
    const task = fakeTask([new FetchitError("registry down", { retryable: true }), { status: "unchanged", changed: 0 }]);
    expect((await runTask(task, deps)).status).toBe("failed");
    const st = await deps.state.load(task.key);
    expect(st).toMatchObject({ failures: 1, lastError: { message: "registry down", retryable: true }, nextRetryAt: new Date(T0 + 10_000).toISOString() });
    clock += 5_000;
    expect((await runTask(task, deps)).status).toBe("skipped");
    expect(task.runs).toBe(1);
    expect((await runTask(task, deps, { force: true })).status).toBe("unchanged");
    const after = await deps.state.load(task.key);
    expect([after.failures, after.lastError, after.nextRetryAt]).toEqual([0, undefined, undefined]);
  });

  test("a permanent failure is reported once: the same error again is logged at debug only", async () => {
    const deps = engineDeps(tmp.dir, { now: () => clock });
    const task = fakeTask([new FetchitError("bad archive"), new FetchitError("bad archive"), new FetchitError("worse archive")]);
    await runTask(task, deps);
    await runTask(task, deps);
    const errors = () => deps.log.lines.filter((l) => l.level === "error").map((l) => l.msg);
    expect(errors()).toEqual(["failed", "task failed; it runs again on its schedule, and this error is not reported again until it changes"]);
    expect((await deps.state.load(task.key)).nextRetryAt).toBeUndefined();
    await runTask(task, deps);
    expect(errors().length).toBe(4);
    expect((await deps.state.load(task.key)).failures).toBe(3);
  });

  test("a skipped run (source unavailable) keeps a recorded error", async () => {
    const deps = engineDeps(tmp.dir, { now: () => clock });
    const task = fakeTask([new FetchitError("bad"), { status: "skipped", changed: 0, note: "source unavailable: x" }]);
    await runTask(task, deps);
    expect(await runTask(task, deps)).toEqual({ status: "skipped", changed: 0, failures: [], note: "source unavailable: x" });
    expect((await deps.state.load(task.key)).lastError?.message).toBe("bad");
  });
});

describe("tasks from the config", () => {
  const yaml = `prune:\n  scope: fetchit\n  all: true\n  schedule: "@daily"\n  skew: 500\nimages:\n  - url: http://h/app.tar\n    schedule: "*/5 * * * *"\n  - name: usb\n    imagePath: /media/usb/x.tar\n    device: /dev/sdb1\n    schedule: "@hourly"\n`;

  test("prune and each images entry become tasks; only features still missing are reported unavailable", () => {
    const set = buildJobs(parseConfig(yaml, "t").config!, tmp.dir, silentLogger);
    expect(set.tasks.map((t) => [t.id, t.schedule, t.skew])).toEqual([
      ["(global)/prune/prune", "@daily", 500],
      ["(images)/images/app.tar", "*/5 * * * *", undefined],
      ["(images)/images/usb", "@hourly", undefined],
    ]);
    expect(set.unavailable).toEqual(["prune.all: has no effect with scope: fetchit (images are never pruned in that scope)"]);
  });

  test("--method prune, images, images/NAME and --target select tasks", () => {
    const [prune, app, usb] = buildJobs(parseConfig(yaml, "t").config!, tmp.dir, silentLogger).tasks;
    const sel = (f: { target?: string; method?: string }) => [prune!, app!, usb!].filter((t) => matches(t, f)).map((t) => t.key.method);
    expect(sel({ method: "prune" })).toEqual(["prune"]);
    expect(sel({ method: "images" })).toEqual(["app.tar", "usb"]);
    expect(sel({ method: "images/usb" })).toEqual(["usb"]);
    expect(sel({ target: "t1" })).toEqual([]);
    expect(sel({ target: "(images)" })).toEqual(["app.tar", "usb"]);
  });

  test("config rules: a relative imagePath is resolved against the start directory (with device: its mount point); names are unique", () => {
    const issues = (y: string) => parseConfig(y, "t").issues.map((i) => `${i.path}: ${i.message}`);
    expect(issues(`images:\n  - imagePath: /abs/a.tar\n    schedule: "@daily"\n`)).toEqual([]);
    const rel = parseConfig(`images:\n  - imagePath: rel/a.tar\n    schedule: "@daily"\n`, "t", { baseDir: "/base" });
    expect(rel.issues).toEqual([]);
    expect(rel.config!.images![0]!.imagePath).toBe("/base/rel/a.tar");
    const dev = parseConfig(`images:\n  - imagePath: rel/a.tar\n    device: /dev/sdb1\n    schedule: "@daily"\n`, "t", { baseDir: "/base" });
    expect(dev.config!.images![0]!.imagePath).toBe("rel/a.tar");
    expect(issues(`images:\n  - url: http://a/x.tar\n    schedule: "@daily"\n  - imagePath: /b/x.tar\n    schedule: "@daily"\n`)).toEqual([
      'images[1].name: duplicate image name "x.tar"; give each images entry a unique name',
    ]);
    expect(issues(`prune:\n  scope: mine\n  schedule: "@daily"\n`)).toEqual([`prune.scope: expected one of "all", "fetchit", got a string ("mine")`]);
  });
});
