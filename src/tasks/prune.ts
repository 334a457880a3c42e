/**
 * The prune task (FetchIt's `prune`): on its schedule, `podman system prune`
 * with the configured `all`/`volumes` (scope "all", FetchIt's behaviour), or
 * only fetchit's own leftovers (scope "fetchit", see prune-owned.ts). Logs what
 * went and how much space came back.
 */
import type { PruneConfig } from "../config/types.ts";
import { FetchitError } from "../errors.ts";
import type { SystemPruneReport } from "../podman/index.ts";
import { pruneOwned } from "./prune-owned.ts";
import { PRUNE_TARGET, type Task, type TaskContext, type TaskOutcome } from "./types.ts";

const KINDS = ["containers", "pods", "images", "volumes", "networks"] as const;

/** Bytes for people: 0 B, 512 B, 1.5 kB, 20.3 MB, 1.2 GB (powers of 1000, as podman prints). */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Counts of what a report removed (failed items excluded) and the one-line summary. */
export function summarizePrune(r: SystemPruneReport): { counts: Record<(typeof KINDS)[number], number>; removed: number; text: string } {
  const counts = Object.fromEntries(KINDS.map((k) => [k, r[k].filter((i) => !i.error).length])) as Record<(typeof KINDS)[number], number>;
  const removed = KINDS.reduce((n, k) => n + counts[k], 0);
  const text = `removed ${KINDS.map((k) => `${counts[k]} ${k}`).join(", ")}; reclaimed ${formatBytes(r.reclaimedBytes)}`;
  return { counts, removed, text };
}

/** The prune task; `configured` holds the methodRef keys of the configured git methods (for scope fetchit). */
export function createPruneTask(cfg: PruneConfig, configured: ReadonlySet<string>): Task {
  return {
    kind: "prune",
    id: `${PRUNE_TARGET}/prune/prune`,
    key: { target: PRUNE_TARGET, kind: "prune", method: "prune" },
    schedule: cfg.schedule,
    ...(cfg.skew ? { skew: cfg.skew } : {}),
    run: (ctx) => runPrune(cfg, configured, ctx),
  };
}

async function runPrune(cfg: PruneConfig, configured: ReadonlySet<string>, ctx: TaskContext): Promise<TaskOutcome> {
  const scope = cfg.scope ?? "all";
  const volumes = cfg.volumes ?? false;
  ctx.log.info("pruning", { scope, all: cfg.all ?? false, volumes });
  const report =
    scope === "fetchit"
      ? await pruneOwned(ctx.deps.podman, await ctx.deps.state.list(), configured, volumes)
      : await ctx.deps.podman.systemPrune({ all: cfg.all ?? false, volumes });
  const { counts, removed, text } = summarizePrune(report);
  for (const k of KINDS) for (const item of report[k]) if (!item.error) ctx.log.debug("pruned", { kind: k, id: item.id, bytes: item.size });
  ctx.log.info("pruned", { ...counts, reclaimed: formatBytes(report.reclaimedBytes), bytes: report.reclaimedBytes });
  const failed = KINDS.flatMap((k) => report[k].filter((i) => i.error).map((i) => `${k} ${i.id}: ${i.error}`));
  if (failed.length) {
    throw new FetchitError(`prune: ${text}, but ${failed.length} object(s) could not be removed: ${failed.join("; ")}`, { retryable: true });
  }
  ctx.state.appliedAt = new Date(ctx.now()).toISOString();
  return { status: removed ? "applied" : "unchanged", changed: removed, note: text, save: true };
}
