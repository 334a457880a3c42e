/**
 * Runs jobs on cron schedules. One croner job per (target, method); a run never
 * overlaps the previous run of the same job; `skew` adds a random delay drawn
 * anew for every run. Knows nothing about git, Podman or the config.
 */
import { Cron } from "croner";
import type { Logger } from "../log.ts";

export interface Job {
  id: string;
  /** A croner pattern: 5 fields, or 6 with seconds first, or an @hourly-style nickname. */
  pattern: string;
  /** Max random delay in ms before each run. */
  skew?: number;
  run: () => Promise<void>;
}

export interface JobInfo {
  id: string;
  running: boolean;
  nextRun: Date | null;
}

interface Entry {
  job: Job;
  cron: Cron;
  inFlight: Promise<void> | null;
}

export class Scheduler {
  private entries = new Map<string, Entry>();
  private stopping = false;
  private sleepers = new Set<() => void>();

  constructor(
    private log: Logger,
    /** FetchIt evaluates schedules in UTC; so do we. */
    private timezone = "Etc/UTC",
  ) {}

  /** Schedules a job; with `runNow` it also runs once immediately (FetchIt's StartImmediately). */
  add(job: Job, runNow = true): void {
    if (this.entries.has(job.id)) throw new Error(`scheduler: job ${job.id} already exists`);
    const cron = new Cron(job.pattern, { timezone: this.timezone, name: job.id, mode: "5-or-6-parts" }, () => void this.trigger(job.id));
    this.entries.set(job.id, { job, cron, inFlight: null });
    if (runNow) void this.trigger(job.id);
  }

  /** Stops and forgets one job, waiting for its run in flight. */
  async remove(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e) return;
    e.cron.stop();
    this.entries.delete(id);
    await e.inFlight;
  }

  /** Starts a run unless one is in flight (then returns that one). Skew applies. */
  trigger(id: string, opts: { skew?: boolean } = {}): Promise<void> {
    const e = this.entries.get(id);
    if (!e || this.stopping) return Promise.resolve();
    if (e.inFlight) {
      this.log.debug("previous run still in progress; skipping this tick", { job: id });
      return e.inFlight;
    }
    const delay = opts.skew === false || !e.job.skew ? 0 : Math.floor(Math.random() * e.job.skew);
    e.inFlight = this.sleep(delay)
      .then(() => (this.stopping ? undefined : e.job.run()))
      .catch((err) => this.log.error("job crashed", { job: id, err }))
      .finally(() => {
        e.inFlight = null;
      });
    return e.inFlight;
  }

  info(): JobInfo[] {
    return [...this.entries.values()].map((e) => ({ id: e.job.id, running: e.inFlight !== null, nextRun: e.cron.nextRun() }));
  }

  /** Stops every schedule, cancels skew delays, and waits for runs in flight to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const e of this.entries.values()) e.cron.stop();
    for (const wake of this.sleepers) wake();
    await Promise.all([...this.entries.values()].map((e) => e.inFlight));
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}
