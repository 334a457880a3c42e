/**
 * Scheduled tasks: top-level features that run on a schedule without git
 * (FetchIt's prune and image loader). A task keeps a state record in the same
 * store as the git methods, so `fetchit status` shows it and failures back off
 * the same way; the engine's runTask does that bookkeeping around `run`.
 */
import type { EngineDeps } from "../engine/context.ts";
import type { Logger } from "../log.ts";
import type { MethodKey, MethodState } from "../state/store.ts";

/** The kinds of task; also the `kind` of their state records. */
export type TaskKind = "prune" | "images" | "podmanAutoUpdate";

/** State-record target of the prune task. */
export const PRUNE_TARGET = "(global)";
/** State-record target of the image loaders. */
export const IMAGES_TARGET = "(images)";

/** What one successful run did. A failed run throws instead. */
export interface TaskOutcome {
  /** applied: the host changed; unchanged: nothing to do; skipped: could not look (e.g. source unavailable). */
  status: "applied" | "unchanged" | "skipped";
  /** Objects changed on the host (images loaded, objects pruned). */
  changed: number;
  /** One line for `fetchit sync`, e.g. what was pruned or why the run was skipped. */
  note?: string;
  /** The task changed `ctx.state` and wants it saved even though nothing was applied. */
  save?: boolean;
}

/** What a task run gets. */
export interface TaskContext {
  deps: EngineDeps;
  /** The task's state record; the task may change `resources` and `appliedAt`. */
  state: MethodState;
  log: Logger;
  now: () => number;
  /** `fetchit sync`: do the work even when the last attempt failed the same way. */
  force: boolean;
}

/** One scheduled task. */
export interface Task {
  kind: TaskKind;
  /** Scheduler id, `<target>/<kind>/<name>` like the git methods' ids. */
  id: string;
  /** State-record key: target PRUNE_TARGET or IMAGES_TARGET, method = entry name. */
  key: MethodKey;
  schedule: string;
  /** Max random delay in ms before each run. */
  skew?: number;
  /** Does the work; throws on failure (with `retryable` set on transient errors). */
  run(ctx: TaskContext): Promise<TaskOutcome>;
}
