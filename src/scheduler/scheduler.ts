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
  /** Set once the job is removed or the scheduler stops: a pending run is dropped. */
  cancelled: boolean;
  /** Ends the skew delay early (on remove/stop). */
  wake?: () => void;
  /** A run was started once: later runs skip the start-up gate. */
  started: boolean;
}

/**
 * How many first runs go at once; the others wait (their ticks are skipped
 * meanwhile, as for any run in flight). At boot every job runs immediately:
 * 20 targets cloning and applying at the same instant start hundreds of git
 * processes together and leave the allocator and the JS heap at that peak
 * (bench/RESULTS.md, scenario 4). Later runs are not gated. When the last
 * first run of a burst ends, one full GC returns the burst's garbage.
 */
export const START_CONCURRENCY = 2;
/** A slow first run (a remote that does not answer, a long playbook) holds its slot this long at most, so it never holds the others back. */
export const START_SLOT_MS = 15_000;

export class Scheduler {
  private entries = new Map<string, Entry>();
  private startSlots = START_CONCURRENCY;
  private startWaiters: (() => void)[] = [];

  constructor(
    private log: Logger,
    /** FetchIt evaluates schedules in UTC; so do we. */
    private timezone = "Etc/UTC",
  ) {}

  /** Schedules a job; with `runNow` it also runs once immediately (FetchIt's StartImmediately). */
  add(job: Job, runNow = true): void {
    if (this.entries.has(job.id)) throw new Error(`scheduler: job ${job.id} already exists`);
    const cron = new Cron(job.pattern, { timezone: this.timezone, name: job.id, mode: "5-or-6-parts" }, () => void this.trigger(job.id));
    this.entries.set(job.id, { job, cron, inFlight: null, cancelled: false, started: false });
    if (runNow) void this.trigger(job.id);
  }

  /** Stops and forgets one job: a run waiting out its skew is dropped, a run in progress is awaited. */
  async remove(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    await this.cancel(e);
  }

  /** Starts a run unless one is in flight (then returns that one). Skew applies unless `skew: false`. */
  trigger(id: string, opts: { skew?: boolean } = {}): Promise<void> {
    const e = this.entries.get(id);
    if (!e || e.cancelled) return Promise.resolve();
    if (e.inFlight) {
      this.log.debug("previous run still in progress; skipping this tick", { job: id });
      return e.inFlight;
    }
    const delay = opts.skew === false || !e.job.skew ? 0 : Math.floor(Math.random() * e.job.skew);
    const first = !e.started;
    e.started = true;
    e.inFlight = this.sleep(e, delay)
      .then(() => (first ? this.gated(e) : e.cancelled ? undefined : e.job.run()))
      .catch((err) => this.log.error("job crashed", { job: id, err }))
      .finally(() => {
        e.inFlight = null;
      });
    return e.inFlight;
  }

  info(): JobInfo[] {
    return [...this.entries.values()].map((e) => ({ id: e.job.id, running: e.inFlight !== null, nextRun: e.cron.nextRun() }));
  }

  /** Stops every schedule, drops runs still waiting out their skew, and waits for runs in progress. */
  async stop(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.cancel(e)));
  }

  private async cancel(e: Entry): Promise<void> {
    e.cancelled = true;
    e.cron.stop();
    e.wake?.();
    await e.inFlight;
  }

  /** A first run, behind the start-up gate; it gives its slot back when done or after {@link START_SLOT_MS}, whichever comes first. */
  private async gated(e: Entry): Promise<void> {
    if (this.startSlots > 0) this.startSlots--;
    else await new Promise<void>((r) => this.startWaiters.push(r));
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      const next = this.startWaiters.shift();
      if (next) next();
      else if (++this.startSlots === START_CONCURRENCY) Bun.gc(true); // the start-up burst is over: give its garbage back once
    };
    const timer = setTimeout(release, START_SLOT_MS);
    try {
      if (!e.cancelled) await e.job.run();
    } finally {
      release();
    }
  }

  private sleep(e: Entry, ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => e.wake?.(), ms);
      e.wake = () => {
        clearTimeout(timer);
        e.wake = undefined;
        resolve();
      };
    });
  }
}
