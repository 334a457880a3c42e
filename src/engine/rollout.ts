/**
 * Staged waves with no server: every host works out its own wave from what
 * it knows (the `wave` label, else a hash of its machine id) and applies a new
 * commit only once the commit is old enough for that wave. All hosts agree
 * without talking to each other, since they read the same committer time.
 */
import { createHash } from "node:crypto";
import type { TemplateContext } from "../fleet/context.ts";
import type { Logger } from "../log.ts";
import type { GitSource } from "../git/index.ts";
import type { MethodState } from "../state/store.ts";

export interface RolloutSettings {
  /** Number of waves (1 = everyone at once). */
  waves: number;
  /** Delay between two waves, ms. */
  intervalMs: number;
  /** Push refs/fetchit/quarantine/<sha> when this host quarantines a commit. */
  report: boolean;
}

/** Where this host stands for one commit. */
export interface WaveDecision {
  wave: number;
  /** Epoch ms from which this host may apply the commit. */
  dueAt: number;
  due: boolean;
  /** Why the wave is what it is ("label wave=2", "machine-id hash"). */
  source: string;
}

/** This host's wave: the `wave` label when it is a whole number (capped to waves−1), else sha256(machine-id) mod waves. */
export function hostWave(ctx: Pick<TemplateContext, "labels" | "host">, waves: number): { wave: number; source: string } {
  if (waves <= 1) return { wave: 0, source: "one wave" };
  const label = ctx.labels.wave;
  const n = typeof label === "number" ? label : typeof label === "string" && /^\d+$/.test(label.trim()) ? Number(label) : NaN;
  if (Number.isInteger(n) && n >= 0) return { wave: Math.min(n, waves - 1), source: n > waves - 1 ? `label wave=${n}, capped to the last wave` : `label wave=${n}` };
  const id = ctx.host.machineId || ctx.host.hostname;
  const h = createHash("sha256").update(id).digest();
  return { wave: h.readUInt32BE(0) % waves, source: ctx.host.machineId ? "hash of machine-id" : "hash of hostname (no machine-id)" };
}

/** Wave w may apply a commit once now − committer time ≥ w × interval. */
export function waveDecision(ctx: Pick<TemplateContext, "labels" | "host">, r: RolloutSettings, commitTimeMs: number, now: number): WaveDecision {
  const { wave, source } = hostWave(ctx, r.waves);
  const dueAt = commitTimeMs + wave * r.intervalMs;
  return { wave, dueAt, due: wave === 0 || now >= dueAt, source }; // wave 0 never waits, even for a commit dated in the future
}

/** Committer times of heads seen while waiting (a commit never changes): one git call per head, not per tick. */
const commitTimes = new Map<string, number>();
async function commitTime(source: GitSource, head: string): Promise<number> {
  const known = commitTimes.get(head);
  if (known !== undefined) return known;
  const info = await source.commitInfo(head).catch(() => undefined);
  const at = info ? Date.parse(info.date) : NaN;
  if (Number.isFinite(at)) {
    if (commitTimes.size >= 256) commitTimes.delete(commitTimes.keys().next().value!);
    commitTimes.set(head, at);
  }
  return at;
}

/** Why a run did not apply a new head yet: its wave is not due. */
export interface Waiting {
  wave: number;
  waves: number;
  /** ISO time from which this host applies the commit. */
  dueAt: string;
}

/**
 * The wait for `head` when its wave is not due yet (undefined: apply now). A
 * commit whose time cannot be read is applied (waiting forever would be worse).
 */
export async function waveWait(
  r: RolloutSettings | undefined, ctx: Pick<TemplateContext, "labels" | "host"> | undefined, source: GitSource, head: string, now: number, log: Logger,
): Promise<Waiting | undefined> {
  if (!r || r.waves <= 1 || !ctx) return undefined;
  const at = await commitTime(source, head);
  if (!Number.isFinite(at)) return undefined;
  const d = waveDecision(ctx, r, at, now);
  if (d.due) return undefined;
  const waiting = { wave: d.wave, waves: r.waves, dueAt: new Date(d.dueAt).toISOString() };
  log.debug("new commit waits for this host's wave", { commit: head.slice(0, 12), ...waiting, why: d.source });
  return waiting;
}

/** Commits whose quarantine ref this process has already logged (once each). */
const told = new Set<string>();

/**
 * Why `head` must not be applied because another host quarantined it
 * (`refs/fetchit/quarantine/<sha>` listed by this tick's ls-remote), or
 * undefined. A head this host already runs stays; `fetchit retry` releases it.
 */
export async function fleetQuarantine(job: { source: GitSource }, st: MethodState, head: string, log: Logger): Promise<string | undefined> {
  if (!job.source.quarantinedRemotely?.().has(head) || st.appliedCommit === head || st.released === head) return undefined;
  if (st.releaseRemote) {
    st.released = head; // saved with the apply that follows
    delete st.releaseRemote;
    log.warn("applying a commit another host quarantined, as `fetchit retry` asked", { commit: head.slice(0, 12) });
    return undefined;
  }
  const reason = `quarantined by another host (refs/fetchit/quarantine/${head.slice(0, 12)}…); delete that ref or run \`fetchit retry\` to apply it here`;
  if (!told.has(head)) {
    told.add(head);
    const note = await job.source.quarantineNote?.(head).catch(() => "");
    log.warn("new commit skipped: another host quarantined it", { commit: head.slice(0, 12), note: note?.split("\n").slice(0, 4).join(" | ") ?? "" });
  }
  return reason;
}
