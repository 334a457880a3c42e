/**
 * One run of a scheduled task (prune, an image loader) with the same state
 * bookkeeping as a git method: back-off after a transient failure, failures
 * recorded once (an identical error again is logged at debug), the record
 * cleared on the next good run, and no state write when nothing changed.
 */
import type { MethodState, StateStore } from "../state/store.ts";
import { IMAGES_TARGET, PRUNE_TARGET, type Task, type TaskOutcome } from "../tasks/types.ts";
import type { EngineDeps } from "./context.ts";
import { backingOff, recordFailure, type FailureAdvice } from "./failures.ts";
import type { RunOptions, RunResult } from "./run-method.ts";

/** A task's result: a RunResult (no commit) plus the task's one-line note. */
export interface TaskResult extends RunResult {
  note?: string;
}

const ADVICE: FailureAdvice = {
  retryable: (at) => `task failed; will retry after ${at}`,
  permanent: "task failed; it runs again on its schedule, and this error is not reported again until it changes",
  local: (at) => `task failed because of this host (see above); fix it there; will retry after ${at}`,
};

/** Runs `task` once; `force` (fetchit sync) ignores the back-off. Never throws for a task failure. */
export async function runTask(task: Task, deps: EngineDeps, opts: RunOptions = {}): Promise<TaskResult> {
  const log = deps.log.child({ target: task.key.target, method: `${task.kind}/${task.key.method}` });
  const now = deps.now ?? Date.now;
  const st = await deps.state.load(task.key);
  if (backingOff(st, now(), opts.force, log)) return { status: "skipped", changed: 0, failures: [] };
  let out: TaskOutcome;
  try {
    out = await task.run({ deps, state: st, log, now, force: opts.force ?? false });
  } catch (err) {
    const failures = [{ file: undefined, error: err }];
    await recordFailure(deps.state, st, failures, undefined, now(), log, ADVICE);
    return { status: "failed", changed: 0, failures };
  }
  await settle(deps.state, st, out, now());
  return { status: out.status, changed: out.changed, failures: [], ...(out.note ? { note: out.note } : {}) };
}

/** Marks an applied run, clears a recorded failure after a good run, and saves only when something changed. */
async function settle(store: StateStore, st: MethodState, out: TaskOutcome, at: number): Promise<void> {
  let save = out.save ?? false;
  if (out.status === "applied") {
    st.appliedAt = new Date(at).toISOString();
    save = true;
  }
  if (out.status !== "skipped" && (st.lastError || st.failures > 0)) {
    delete st.lastError;
    delete st.nextRetryAt;
    st.failures = 0;
    save = true;
  }
  if (save) await store.save(st);
}

/**
 * Removes the state records of tasks no longer in the config, so `fetchit
 * status` does not show them; what they did stays (loaded images are kept).
 */
export async function forgetRemovedTasks(tasks: Task[], deps: EngineDeps): Promise<void> {
  const key = (k: { target: string; kind: string; method: string }) => `${k.target}\n${k.kind}\n${k.method}`;
  const live = new Set(tasks.map((t) => key(t.key)));
  for (const st of await deps.state.list()) {
    if ((st.target !== PRUNE_TARGET && st.target !== IMAGES_TARGET) || live.has(key(st))) continue;
    await deps.state.remove(st);
    const kept = st.kind === "images" ? "; the images it loaded stay in Podman" : "";
    deps.log.info(`${st.kind}/${st.method} is no longer in the config: its state record is removed${kept}`);
  }
}
