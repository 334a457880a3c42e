/**
 * The `rollout:` block (staged waves with no server; not in FetchIt), at the
 * top level and per target (the target's keys win, key by key): its schema,
 * its rule, and the effective settings a target's jobs get.
 */
import { Type } from "@sinclair/typebox";
import type { ConfigIssue } from "../errors.ts";
import type { RolloutSettings } from "../engine/rollout.ts";
import { parseDuration } from "./health.ts";
import { formatPath, isRecord, type Segment } from "./path.ts";
import type { FetchitConfig, RolloutConfig } from "./types.ts";

export const RolloutSchema = Type.Object(
  {
    waves: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description:
          "Number of waves a new commit goes through. A host's wave is its label `wave` (host.labels or FETCHIT_LABEL_wave) when that is a whole number (capped to waves−1), else sha256(machine-id) mod waves. Wave w applies a commit once now − the commit's committer time ≥ w × interval, so every host agrees without talking to the others. Default: 1 (every host at once).",
      }),
    ),
    interval: Type.Optional(
      Type.Union([Type.Number({ minimum: 0 }), Type.String()], {
        description: "Time between two waves: seconds, or a duration string (\"30m\", \"2h\"). Required when waves > 1.",
      }),
    ),
    report: Type.Optional(
      Type.Boolean({
        description:
          "true: when this host quarantines a commit (health gate failed, rolled back), push refs/fetchit/quarantine/<sha> to the target's repository (an annotated tag: host, reason, time), so that every host, whatever its credentials, skips that commit. Needs credentials that may push; a refused push is logged and retried at the next quarantine. Git targets only (not disconnected or OCI). Default: false.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Staged rollout of new commits (see docs/fleet.md): at the top level for every target, or in a target (its keys win). Hosts always honour quarantine refs (refs/fetchit/quarantine/<sha>) that other hosts pushed. Default: none (one wave, no report). Not in FetchIt.",
  },
);

const MAX_INTERVAL_MS = 30 * 86_400_000;

/** Effective rollout of a target: its block over the global one; undefined when neither is set. */
export function resolveRollout(global: RolloutConfig | undefined, target: RolloutConfig | undefined): RolloutSettings | undefined {
  if (!global && !target) return undefined;
  const pick = <K extends keyof RolloutConfig>(k: K): RolloutConfig[K] => (target?.[k] !== undefined ? target[k] : global?.[k]);
  const interval = pick("interval");
  const ms = interval === undefined ? 0 : parseDuration(interval);
  return { waves: pick("waves") ?? 1, intervalMs: typeof ms === "number" ? ms : 0, report: pick("report") ?? false };
}

function blockIssues(block: unknown, at: Segment[], global: unknown): ConfigIssue[] {
  if (!isRecord(block)) return [];
  const out: ConfigIssue[] = [];
  if (block.interval !== undefined) {
    const d = parseDuration(block.interval);
    if (typeof d === "string") out.push({ path: formatPath([...at, "interval"]), message: d });
    else if (d > MAX_INTERVAL_MS) out.push({ path: formatPath([...at, "interval"]), message: "at most 30 days" });
  }
  const waves = typeof block.waves === "number" ? block.waves : isRecord(global) && typeof global.waves === "number" ? global.waves : 1;
  const interval = block.interval ?? (isRecord(global) ? global.interval : undefined);
  if (waves > 1 && interval === undefined) out.push({ path: formatPath([...at, "interval"]), message: `required with waves: ${waves} (the time between two waves, e.g. "30m")` });
  return out;
}

/** Rule `rollout`: the top-level block and every target's. */
export function rolloutIssues(config: FetchitConfig): ConfigIssue[] {
  const global = (config as { rollout?: unknown }).rollout;
  const out = blockIssues(global, ["rollout"], undefined);
  const targets: unknown = config.targetConfigs;
  if (Array.isArray(targets)) targets.forEach((t, i) => isRecord(t) && out.push(...blockIssues(t.rollout, ["targetConfigs", i, "rollout"], global)));
  return out;
}
