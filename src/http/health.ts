/**
 * GET /healthz. Healthy (200) when the scheduler runs and every scheduled
 * method and task has completed its last tick: it finished at least one run
 * since the process started, no run has been in flight longer than
 * STUCK_AFTER_MS, and no schedule is overdue. A run that failed is still a
 * completed tick (a restart would not fix a bad commit): it is listed under
 * `failing` and the status is "degraded", still 200. Otherwise 503 with the
 * reasons.
 */
import type { RunTracker } from "../engine/metrics.ts";
import type { JobInfo } from "../scheduler/scheduler.ts";

/** A run in flight for longer than this is reported as stuck. */
export const STUCK_AFTER_MS = 15 * 60_000;
/** A next run this far in the past means the scheduler stopped firing. */
const OVERDUE_MS = 60_000;

export type ScheduledJob = JobInfo & { lastStart?: number };

export interface HealthReport {
  status: "ok" | "degraded" | "unhealthy";
  /** Why the status is unhealthy (503). */
  reasons: string[];
  /** Methods whose last run failed, with the error. */
  failing: { id: string; error: string }[];
  methods: number;
}

export function health(schedule: ScheduledJob[] | null, tracker: RunTracker, now = Date.now(), stuckAfterMs = STUCK_AFTER_MS): HealthReport {
  if (!schedule) return { status: "unhealthy", reasons: ["the scheduler is not running (starting, reloading or stopping)"], failing: [], methods: 0 };
  const reasons: string[] = [];
  const failing: HealthReport["failing"] = [];
  for (const job of schedule) {
    const rec = tracker.get(job.id);
    if (job.running && job.lastStart !== undefined && now - job.lastStart > stuckAfterMs) {
      reasons.push(`${job.id}: a run has been in progress for ${Math.round((now - job.lastStart) / 1000)} s (stuck?)`);
    } else if (!rec?.lastEndedAt) {
      reasons.push(`${job.id}: has not completed a run since fetchit started${job.running ? " (first run in progress)" : ""}`);
    }
    if (!job.nextRun) reasons.push(`${job.id}: no next run is scheduled`);
    else if (!job.running && now - job.nextRun.getTime() > OVERDUE_MS) reasons.push(`${job.id}: its run due at ${job.nextRun.toISOString()} did not start`);
    if (rec?.lastResult === "failed") failing.push({ id: job.id, error: rec.lastError ?? "failed" });
  }
  const status = reasons.length ? "unhealthy" : failing.length ? "degraded" : "ok";
  return { status, reasons, failing, methods: schedule.length };
}
