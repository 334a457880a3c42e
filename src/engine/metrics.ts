/**
 * In-memory record of the daemon's runs, per scheduled job (git method or
 * task): counts by result, a duration histogram, last start/end, the last
 * result and fetched head. Fed by the daemon around every run; read by the
 * HTTP endpoint (metrics, healthz) and the runtime file behind `fetchit
 * status`. A few numbers per job: the footprint stays tiny.
 */
import type { Waiting } from "./rollout.ts";
import { errorMessage } from "../errors.ts";
import type { MethodKey } from "../state/store.ts";

export type RunStatus = "applied" | "unchanged" | "skipped" | "failed";

/** Upper bounds (seconds) of the run duration histogram. */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

export interface JobRecord {
  id: string;
  key: MethodKey;
  kind: string;
  runs: Record<RunStatus, number>;
  /** Cumulative counts per bucket of DURATION_BUCKETS (plus +Inf = `durationCount`). */
  durationBuckets: number[];
  durationSum: number;
  durationCount: number;
  /** Epoch ms. */
  lastEndedAt: number | null;
  lastSuccessAt: number | null;
  lastResult: RunStatus | null;
  /** The head the last run fetched (absent when the fetch failed or a task). */
  fetchedHead: string | null;
  lastError: string | null;
  /** The fetched head waits for this host's rollout wave (null: not waiting). */
  waiting: Waiting | null;
}

/** What the daemon reports at the end of a run. */
export interface RunEnd {
  status: RunStatus;
  commit?: string;
  waiting?: Waiting;
  failures: { file: string | undefined; error: unknown }[];
}

/** The scheduler id of a method or task: `target/kind/name` (jobId, Task.id). */
export const runId = (key: MethodKey, kind: string) => `${key.target}/${kind}/${key.method}`;

export class RunTracker {
  private jobs = new Map<string, JobRecord>();
  /** Process start (epoch ms). */
  readonly startedAt = Date.now();
  /** Called after every change (the runtime file listens). */
  onChange?: () => void;

  constructor(private now: () => number = Date.now) {}

  /** The job's record, created (as "never run") on first use. */
  register(key: MethodKey, kind: string): JobRecord {
    const id = runId(key, kind);
    let r = this.jobs.get(id);
    if (!r) {
      r = {
        id, key, kind, runs: { applied: 0, unchanged: 0, skipped: 0, failed: 0 },
        durationBuckets: DURATION_BUCKETS.map(() => 0), durationSum: 0, durationCount: 0,
        lastEndedAt: null, lastSuccessAt: null, lastResult: null, fetchedHead: null, lastError: null, waiting: null,
      };
      this.jobs.set(id, r);
    }
    return r;
  }

  /** Forgets jobs that are no longer scheduled (after a config reload). */
  retain(ids: Set<string>): void {
    for (const id of [...this.jobs.keys()]) if (!ids.has(id)) this.jobs.delete(id);
  }

  /** Records the end of a run that started at `startedAt` (epoch ms; null when unknown: no duration then). */
  finished(key: MethodKey, kind: string, end: RunEnd, startedAt: number | null): void {
    const r = this.register(key, kind);
    const at = this.now();
    r.lastEndedAt = at;
    r.lastResult = end.status;
    r.runs[end.status]++;
    if (end.commit) r.fetchedHead = end.commit;
    r.waiting = end.waiting ?? null;
    if (end.status === "failed") {
      const f = end.failures[0];
      r.lastError = f ? `${f.file ? `${f.file}: ` : ""}${errorMessage(f.error)}${end.failures.length > 1 ? ` (and ${end.failures.length - 1} more)` : ""}` : "failed";
    } else if (end.status !== "skipped") {
      r.lastError = null;
      r.lastSuccessAt = at;
    }
    if (end.status !== "skipped" && startedAt !== null) this.observe(r, Math.max(0, at - startedAt) / 1000);
    this.onChange?.();
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  records(): JobRecord[] {
    return [...this.jobs.values()];
  }

  private observe(r: JobRecord, seconds: number): void {
    DURATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) r.durationBuckets[i]!++;
    });
    r.durationSum += seconds;
    r.durationCount++;
  }
}
