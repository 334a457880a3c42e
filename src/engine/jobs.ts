/**
 * Builds the runnable jobs of a config: one GitSource per target (shared by
 * its methods, so one fetch per target per tick) and one job per method entry;
 * plus the scheduled tasks without git (prune, image loaders). Kinds and
 * features without an implementation yet are listed, not dropped silently.
 */
import { join } from "node:path";
import { targetKey } from "../config/index.ts";
import { METHOD_KINDS, type CommonMethod, type FetchitConfig } from "../config/types.ts";
import { createGitSource, type GitSource } from "../git/index.ts";
import type { Logger } from "../log.ts";
import { methods } from "../methods/index.ts";
import { createImagesTask } from "../tasks/images.ts";
import { methodRef } from "../tasks/prune-select.ts";
import { createPruneTask } from "../tasks/prune.ts";
import type { Task } from "../tasks/types.ts";
import type { MethodJob } from "./run-method.ts";

export interface JobSet {
  jobs: MethodJob[];
  /** Scheduled tasks without git: prune, then one per images entry. */
  tasks: Task[];
  /** Human-readable notes about configured things that will not run in this version. */
  unavailable: string[];
}

const GLOBAL_FEATURES = ["configReload", "podmanAutoUpdate"] as const;

export function buildJobs(config: FetchitConfig, stateDir: string, log: Logger): JobSet {
  const jobs: MethodJob[] = [];
  const unavailable: string[] = [];
  const sources = new Map<string, GitSource>();
  config.targetConfigs.forEach((t, ti) => {
    const target = targetKey(t);
    const why = unsupportedTarget(t);
    if (why) {
      unavailable.push(`targetConfigs[${ti}] (${target}): ${why}; its methods will not run`);
      return;
    }
    const sourceKey = `${t.url}\n${t.branch}`;
    const source = sources.get(sourceKey) ?? createGitSource({ url: t.url, branch: t.branch, cacheDir: join(stateDir, "repos"), log: log.child({ target }) });
    sources.set(sourceKey, source);
    for (const kind of METHOD_KINDS) {
      const entries = (t[kind] ?? []) as (CommonMethod & Record<string, unknown>)[];
      entries.forEach((config, mi) => {
        const impl = methods[kind];
        if (!impl) {
          unavailable.push(`targetConfigs[${ti}].${kind}[${mi}] (${config.name}): the ${kind} method is not available in this version of fetchit yet; it will not run`);
          return;
        }
        jobs.push({ key: { target, kind, method: config.name }, kind, impl, config, source });
      });
    }
  });
  if (config.gitAuth) unavailable.push("gitAuth: credentials are not used by this version of fetchit yet; only anonymous git access works");
  for (const f of GLOBAL_FEATURES) {
    if (config[f] !== undefined) unavailable.push(`${f}: not available in this version of fetchit yet; it will not run`);
  }
  return { jobs, tasks: buildTasks(config, jobs, stateDir, unavailable), unavailable };
}

/** The prune task (told which git methods are configured, for scope fetchit) and the image loaders. */
function buildTasks(config: FetchitConfig, jobs: MethodJob[], stateDir: string, notes: string[]): Task[] {
  const tasks: Task[] = [];
  if (config.prune) {
    if (config.prune.scope === "fetchit" && config.prune.all) notes.push("prune.all: has no effect with scope: fetchit (images are never pruned in that scope)");
    tasks.push(createPruneTask(config.prune, new Set(jobs.map((j) => methodRef(j.key.target, `${j.kind}/${j.key.method}`)))));
  }
  for (const img of config.images ?? []) tasks.push(createImagesTask(img, stateDir));
  return tasks;
}

/** Why a target cannot run in this version, or undefined. Refusing beats applying unverified or unreachable content. */
function unsupportedTarget(t: FetchitConfig["targetConfigs"][number]): string | undefined {
  if (t.disconnected) return "disconnected targets are not available in this version of fetchit yet";
  if (t.verifyCommitsInfo?.gitsignVerify) return "commit signature verification is not available in this version of fetchit yet, and unverified commits are never applied";
  return undefined;
}

export const jobId = (j: MethodJob) => `${j.key.target}/${j.kind}/${j.key.method}`;
