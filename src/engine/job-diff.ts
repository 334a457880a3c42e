/**
 * What a config reload changes in the schedule: every scheduled runnable (git
 * method job or task) gets an id and a definition (canonical JSON of
 * everything its runs depend on). Two job sets are compared by id, then by
 * definition: unchanged ones keep their scheduler entry and state, changed
 * ones are replaced, removed ones stop, new ones start. Pure.
 */
import { imageEntryName, METHOD_KINDS, targetKey, type FetchitConfig, type TargetConfig } from "../config/index.ts";
import type { Task } from "../tasks/types.ts";
import type { MethodJob } from "./run-method.ts";

/** Canonical JSON: object keys sorted, so key order in the YAML does not count as a change. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/** A target without its method lists: what every job of the target depends on. */
function targetSettings(t: TargetConfig): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...t };
  for (const kind of METHOD_KINDS) delete rest[kind];
  return rest;
}

/**
 * The definition of every job and task of `config`, by scheduler id. A git
 * method depends on its own entry, its target's settings and gitAuth; the
 * prune task (scope fetchit) also on which methods are configured; an image
 * loader on its entry.
 */
export function definitions(config: FetchitConfig, jobs: MethodJob[], tasks: Task[], idOf: (j: MethodJob) => string): Map<string, string> {
  const targets = new Map(config.targetConfigs.map((t) => [targetKey(t), targetSettings(t)]));
  const out = new Map<string, string>();
  for (const j of jobs) {
    out.set(idOf(j), canonicalJson({ target: targets.get(j.key.target), gitAuth: config.gitAuth, kind: j.kind, method: j.config, health: j.health, rollout: j.rollout, context: j.context }));
  }
  const images = new Map((config.images ?? []).map((img) => [imageEntryName(img), img]));
  for (const t of tasks) {
    if (t.kind === "images") out.set(t.id, canonicalJson(images.get(t.key.method) ?? t.id));
    else if (config.prune?.scope === "fetchit") out.set(t.id, canonicalJson({ prune: config.prune, methods: jobs.map(idOf).sort() }));
    else out.set(t.id, canonicalJson({ prune: config.prune }));
  }
  return out;
}

/** The ids of one reload, by what happens to them. */
export interface JobDiff {
  /** Same id and definition: the scheduler entry and state stay, no run now. */
  unchanged: string[];
  /** Same id, new definition: stopped (a run in flight finishes), then scheduled anew and run now. */
  changed: string[];
  /** Gone from the config: stopped (a run in flight finishes). */
  removed: string[];
  /** New in the config: scheduled and run now, as at start. */
  added: string[];
}

/** Compares the running definitions with the next ones. */
export function diffJobs(running: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): JobDiff {
  const diff: JobDiff = { unchanged: [], changed: [], removed: [], added: [] };
  for (const [id, def] of next) {
    const old = running.get(id);
    if (old === undefined) diff.added.push(id);
    else (old === def ? diff.unchanged : diff.changed).push(id);
  }
  for (const id of running.keys()) if (!next.has(id)) diff.removed.push(id);
  return diff;
}

/** True when the reload changes nothing that is scheduled. */
export const isNoop = (d: JobDiff) => !d.changed.length && !d.removed.length && !d.added.length;
