/**
 * systemd's watchdog (WatchdogSec= in the unit): while the service manager
 * asks for it (WATCHDOG_USEC, for this PID per WATCHDOG_PID), send WATCHDOG=1
 * every WATCHDOG_USEC/2 — but only while the scheduler is alive. A wedged
 * event loop sends nothing (the timer never fires); a dead scheduler (a job
 * whose cron stopped, or that did not fire within 10 s of its due time)
 * stops the pings, so systemd kills and restarts fetchit.
 */
import type { Logger } from "../log.ts";
import { sdNotify } from "./notify.ts";

type Env = Record<string, string | undefined>;

/** The ping interval in ms (half of WATCHDOG_USEC), or undefined when systemd does not watch this process. */
export function watchdogIntervalMs(env: Env, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** What the daemon tells about one scheduled job (Daemon.schedule()). */
export interface JobBeat {
  id: string;
  running: boolean;
  nextRun: Date | null;
  lastStart?: number;
  lastEnd?: number;
}

/**
 * Follows the scheduler between checks: remembers each job's next due time,
 * and at the next check, once that time is more than `slackMs` past, wants
 * proof it fired (a run started, or one in flight ended, at or after it).
 */
export class SchedulerHeartbeat {
  private due = new Map<string, number>();
  private owner: unknown;

  constructor(private slackMs = 10_000) {}

  /** Undefined when alive, else why not. `owner` (the daemon) changing resets what is remembered. */
  check(owner: unknown, jobs: JobBeat[], now = Date.now()): string | undefined {
    if (owner !== this.owner) this.due.clear();
    this.owner = owner;
    let problem: string | undefined;
    for (const j of jobs) {
      const due = this.due.get(j.id);
      const fired = (j.lastStart ?? 0) >= (due ?? 0) - 1_000 || (j.lastEnd ?? 0) >= (due ?? 0);
      if (!j.running && due !== undefined && now > due + this.slackMs && !fired) {
        problem ??= `job ${j.id} was due at ${new Date(due).toISOString()} and did not run`;
      }
      if (!j.running && j.nextRun === null) problem ??= `job ${j.id} has no next run (its schedule stopped)`;
      const next = j.nextRun?.getTime();
      // keep the older due time until it is proven fired, so a missed run is not forgotten
      if (next !== undefined && (due === undefined || fired || j.running)) this.due.set(j.id, next);
    }
    return problem;
  }
}

export interface WatchdogOptions {
  env: Env;
  log: Logger;
  /** Undefined when healthy, else the reason (logged once; no ping is sent). */
  healthy: () => string | undefined;
  /** Test hook: what sends WATCHDOG=1. */
  ping?: () => void;
}

/** Starts pinging when systemd asks for it; returns the stop function (a no-op otherwise). */
export function startWatchdog(opts: WatchdogOptions): () => void {
  const interval = watchdogIntervalMs(opts.env);
  if (interval === undefined) return () => {};
  const ping = opts.ping ?? (() => sdNotify("WATCHDOG=1", opts.env));
  let reported: string | undefined;
  const tick = () => {
    const problem = opts.healthy();
    if (problem) {
      if (problem !== reported) opts.log.error("scheduler is not alive; no longer answering the systemd watchdog, so systemd restarts fetchit", { reason: problem });
      reported = problem;
      return;
    }
    reported = undefined;
    ping();
  };
  tick();
  const timer = setInterval(tick, interval);
  opts.log.debug("systemd watchdog enabled", { pingEveryMs: interval });
  return () => clearInterval(timer);
}
