/**
 * Staged waves with no server: every host works out its own wave from what
 * it knows (the `wave` label, else a hash of its machine id) and applies a new
 * commit only once the commit is old enough for that wave. All hosts agree
 * without talking to each other, since they read the same committer time.
 */
import { createHash } from "node:crypto";
import type { TemplateContext } from "../fleet/context.ts";

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
