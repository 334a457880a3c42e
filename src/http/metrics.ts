/**
 * GET /metrics: Prometheus text exposition format (version 0.0.4) from the run
 * tracker (runs, durations, last success) and the state store (applied commit,
 * managed resources, consecutive failures), plus the process's memory.
 */
import { DURATION_BUCKETS, type JobRecord } from "../engine/metrics.ts";
import type { MethodState } from "../state/store.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

const fmt = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
};

class Exposition {
  private lines: string[] = [];
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, labels: Labels, value: number): void {
    this.lines.push(`${name}${fmt(labels)} ${Number.isFinite(value) ? value : 0}`);
  }
  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

const ids = (k: { target: string; method: string }, kind: string): Labels => ({ target: k.target, kind, method: k.method });

export interface MetricsInput {
  jobs: JobRecord[];
  states: MethodState[];
  rssBytes: number;
  startedAtMs: number;
}

export function renderMetrics({ jobs, states, rssBytes, startedAtMs }: MetricsInput): string {
  const out = new Exposition();
  out.family("fetchit_method_runs_total", "counter", "Runs of each method or task since the process started, by result (applied, unchanged, skipped, failed).");
  for (const j of jobs) for (const [result, n] of Object.entries(j.runs)) out.sample("fetchit_method_runs_total", { ...ids(j.key, j.kind), result }, n);
  out.family("fetchit_method_failures_total", "counter", "Failed runs of each method or task since the process started.");
  for (const j of jobs) out.sample("fetchit_method_failures_total", ids(j.key, j.kind), j.runs.failed);
  out.family("fetchit_apply_duration_seconds", "histogram", "Duration of each run that was not skipped: fetch, diff, apply or drift check.");
  for (const j of jobs) {
    const l = ids(j.key, j.kind);
    DURATION_BUCKETS.forEach((le, i) => out.sample("fetchit_apply_duration_seconds_bucket", { ...l, le: String(le) }, j.durationBuckets[i]!));
    out.sample("fetchit_apply_duration_seconds_bucket", { ...l, le: "+Inf" }, j.durationCount);
    out.sample("fetchit_apply_duration_seconds_sum", l, j.durationSum);
    out.sample("fetchit_apply_duration_seconds_count", l, j.durationCount);
  }
  out.family("fetchit_last_success_timestamp_seconds", "gauge", "Unix time of the last run that applied or found nothing to do (absent before the first).");
  for (const j of jobs) if (j.lastSuccessAt !== null) out.sample("fetchit_last_success_timestamp_seconds", ids(j.key, j.kind), j.lastSuccessAt / 1000);
  out.family("fetchit_applied_commit_info", "gauge", "The commit each method has applied (value always 1).");
  for (const s of states) if (s.appliedCommit) out.sample("fetchit_applied_commit_info", { ...ids(s, s.kind), commit: s.appliedCommit }, 1);
  out.family("fetchit_managed_resources", "gauge", "Resources (containers, files, pods, units) each method manages, from the state store.");
  for (const s of states) out.sample("fetchit_managed_resources", ids(s, s.kind), Object.keys(s.resources).length);
  out.family("fetchit_method_consecutive_failures", "gauge", "Consecutive failed runs of each method or task (0 after a success), from the state store.");
  for (const s of states) out.sample("fetchit_method_consecutive_failures", ids(s, s.kind), s.failures);
  out.family("fetchit_rollbacks_total", "counter", "Rollbacks to the last good commit after a failed health gate, from the state store (kept across restarts).");
  for (const s of states) out.sample("fetchit_rollbacks_total", ids(s, s.kind), s.rollbacks ?? 0);
  out.family("fetchit_quarantined", "gauge", "1 while a commit of this method is quarantined (failed its gate, rolled back), else 0; the commit is a label.");
  for (const s of states) out.sample("fetchit_quarantined", { ...ids(s, s.kind), commit: s.quarantined?.commit ?? "" }, s.quarantined ? 1 : 0);
  out.family("fetchit_wave_due_timestamp_seconds", "gauge", "Fleets: while the fetched head waits for this host's rollout wave, the Unix time it is due (wave and waves are labels).");
  for (const j of jobs) if (j.waiting) out.sample("fetchit_wave_due_timestamp_seconds", { ...ids(j.key, j.kind), wave: String(j.waiting.wave), waves: String(j.waiting.waves) }, Date.parse(j.waiting.dueAt) / 1000);
  out.family("fetchit_process_resident_memory_bytes", "gauge", "Resident memory of the fetchit process.");
  out.sample("fetchit_process_resident_memory_bytes", {}, rssBytes);
  out.family("fetchit_process_start_time_seconds", "gauge", "Unix time the fetchit process started.");
  out.sample("fetchit_process_start_time_seconds", {}, startedAtMs / 1000);
  return out.text();
}
