/**
 * The long-running agent: turns a config into scheduled jobs, runs each method
 * and task (prune, image loaders) on its cron (and once at start, like
 * FetchIt), and stops cleanly: schedules end, the apply in flight finishes and
 * saves its state.
 */
import type { FetchitConfig } from "./config/types.ts";
import { toCronPattern } from "./config/index.ts";
import type { EngineDeps } from "./engine/context.ts";
import { definitions, diffJobs, type JobDiff } from "./engine/job-diff.ts";
import { buildJobs, jobId } from "./engine/jobs.ts";
import { reconcileRemoved } from "./engine/removed.ts";
import { runMethod, type MethodJob, type RunOptions, type RunResult } from "./engine/run-method.ts";
import { forgetRemovedTasks, runTask, type TaskResult } from "./engine/run-task.ts";
import { Scheduler, type JobInfo } from "./scheduler/scheduler.ts";
import type { MethodKey } from "./state/store.ts";
import type { Task } from "./tasks/types.ts";

export interface JobFilter {
  target?: string;
  method?: string;
}

/** What `--target`/`--method` look at: a git method job or a task. */
export interface Runnable {
  key: MethodKey;
  kind: string;
}

/** Matches `--target NAME` and `--method NAME` or `--method KIND/NAME` (tasks: `prune`, `images/NAME`). */
export function matches(job: Runnable, f: JobFilter): boolean {
  if (f.target && job.key.target !== f.target) return false;
  if (f.method && job.key.method !== f.method && `${job.kind}/${job.key.method}` !== f.method && job.kind !== f.method) return false;
  return true;
}

function prepareJobs(config: FetchitConfig, stateDir: string, deps: EngineDeps): { jobs: MethodJob[]; tasks: Task[] } {
  const { jobs, tasks, unavailable } = buildJobs(config, stateDir, deps.log);
  for (const note of unavailable) deps.log.warn(note);
  return { jobs, tasks };
}

/**
 * Sees the result of every scheduled method and task run (sd_notify STATUS,
 * webhooks, metrics). Called synchronously after the run; must not throw and
 * must not block (queue slow work).
 */
export type RunObserver = (job: Runnable, result: RunResult | TaskResult) => void;

export class Daemon {
  private scheduler: Scheduler;
  /** The running jobs and tasks; replaced by {@link swap}. */
  jobs: MethodJob[];
  tasks: Task[];
  /** Definition of each scheduled job, by id: what {@link swap} compares. */
  private defs: Map<string, string>;
  private observers: RunObserver[] = [];
  /** When each scheduled job last started (after its skew) and ended: the systemd watchdog's heartbeat. */
  private lastStart = new Map<string, number>();
  private lastEnd = new Map<string, number>();
  /** Jobs whose next run ignores the back-off (POST /sync). */
  private forced = new Set<string>();

  constructor(
    private config: FetchitConfig,
    private stateDir: string,
    private deps: EngineDeps,
  ) {
    this.scheduler = new Scheduler(deps.log);
    ({ jobs: this.jobs, tasks: this.tasks } = prepareJobs(config, stateDir, deps));
    this.defs = definitions(config, this.jobs, this.tasks, jobId);
  }

  start(): void {
    for (const job of this.jobs) this.addJob(job);
    for (const task of this.tasks) this.addTask(task);
    this.deps.log.info("fetchit started", { methods: this.jobs.length, tasks: this.tasks.length });
    void forgetRemovedTasks(this.tasks, this.deps).catch((err) => this.deps.log.warn("could not tidy the state of removed tasks", { err }));
    if (this.tasks.some((t) => t.kind !== "podmanAutoUpdate") || this.jobs.some((j) => j.impl.usesPodman)) void this.checkPodman();
    if (!this.jobs.length && !this.tasks.length) this.deps.log.warn("no method to run: the config has no available methods; fetchit will idle");
  }

  private addJob(job: MethodJob): void {
    this.scheduler.add({
      id: jobId(job),
      pattern: toCronPattern(job.config.schedule),
      skew: job.config.skew,
      run: () => this.observed(jobId(job), job, () => runMethod(job, this.deps, { force: this.forced.delete(jobId(job)) })),
    });
  }

  private addTask(task: Task): void {
    this.scheduler.add({
      id: task.id,
      pattern: toCronPattern(task.schedule),
      skew: task.skew,
      run: () => this.observed(task.id, task, () => runTask(task, this.deps, { force: this.forced.delete(task.id) })),
    });
  }

  /**
   * Replaces the running config (a reload): jobs whose definition did not
   * change keep their schedule and state and do not run now; changed and
   * removed ones stop (a run in flight finishes first); changed and new ones
   * are scheduled and run now. Removed methods are then reconciled as at start.
   */
  async swap(next: FetchitConfig): Promise<JobDiff> {
    const built = prepareJobs(next, this.stateDir, this.deps);
    const defs = definitions(next, built.jobs, built.tasks, jobId);
    const diff = diffJobs(this.defs, defs);
    await Promise.all([...diff.changed, ...diff.removed].map((id) => this.scheduler.remove(id)));
    const keep = new Set(diff.unchanged);
    const running = new Map<string, MethodJob | Task>([...this.jobs.map((j) => [jobId(j), j] as const), ...this.tasks.map((t) => [t.id, t] as const)]);
    this.jobs = built.jobs.map((j) => (keep.has(jobId(j)) ? (running.get(jobId(j)) as MethodJob) : j));
    this.tasks = built.tasks.map((t) => (keep.has(t.id) ? (running.get(t.id) as Task) : t));
    this.config = next;
    this.defs = defs;
    await reconcileRemoved(this.jobs, this.deps, next.pruneRemovedMethods ?? false).catch((err) =>
      this.deps.log.warn("could not check for removed methods; they are checked again at the next start", { err }),
    );
    await forgetRemovedTasks(this.tasks, this.deps).catch((err) => this.deps.log.warn("could not tidy the state of removed tasks", { err }));
    for (const job of this.jobs) if (!keep.has(jobId(job))) this.addJob(job);
    for (const task of this.tasks) if (!keep.has(task.id)) this.addTask(task);
    return diff;
  }

  /** The config the jobs were built from. */
  get current(): FetchitConfig {
    return this.config;
  }

  /** Runs these jobs now (no skew, ignoring back-off; a run in flight is joined); resolves when they have finished. */
  async runNow(ids: string[]): Promise<void> {
    // A run asked for now must see what was just pushed, not a fetch result reused from a moment ago.
    for (const job of this.jobs) if (ids.includes(jobId(job))) job.source.forget();
    for (const id of ids) this.forced.add(id);
    await Promise.all(ids.map((id) => this.scheduler.trigger(id, { skew: false })));
    for (const id of ids) this.forced.delete(id);
  }

  /** Adds a {@link RunObserver}; it sees every run from now on. */
  observe(fn: RunObserver): void {
    this.observers.push(fn);
  }

  /** The scheduled jobs with their next run, whether one is in flight, and when it last started (watchdog). */
  schedule(): (JobInfo & { lastStart?: number; lastEnd?: number })[] {
    return this.scheduler.info().map((j) => ({ ...j, lastStart: this.lastStart.get(j.id), lastEnd: this.lastEnd.get(j.id) }));
  }

  private async observed(id: string, job: Runnable, run: () => Promise<RunResult | TaskResult>): Promise<void> {
    this.lastStart.set(id, Date.now());
    const result = await run().finally(() => this.lastEnd.set(id, Date.now()));
    for (const fn of this.observers) {
      try {
        fn(job, result);
      } catch (err) {
        this.deps.log.warn("a run observer failed", { job: id, err });
      }
    }
  }

  /** Says early, once, when the Podman API is unreachable (methods keep retrying on their own schedules). */
  private async checkPodman(): Promise<void> {
    try {
      const v = await this.deps.podman.version();
      this.deps.log.info("podman reachable", { version: v.version, api: v.apiVersion });
    } catch (err) {
      this.deps.log.warn("podman is not reachable; methods that need it will fail until it is", { err });
    }
  }

  async stop(): Promise<void> {
    this.deps.log.info("stopping: waiting for applies in flight");
    await this.scheduler.stop();
    this.deps.log.info("stopped");
  }
}

/** One result of {@link syncOnce}. */
export interface SyncEntry {
  job: Runnable;
  result: RunResult | TaskResult;
}

/**
 * Runs every matching method and task once now (no skew, ignoring back-off):
 * image loaders and podmanAutoUpdate first (methods may need their images), then the git methods,
 * then prune (so it never races an apply). Returns the results in that order.
 */
export async function syncOnce(config: FetchitConfig, stateDir: string, deps: EngineDeps, filter: JobFilter = {}, opts: RunOptions = {}): Promise<SyncEntry[]> {
  const { jobs, tasks } = prepareJobs(config, stateDir, deps);
  if (!filter.target && !filter.method) await forgetRemovedTasks(tasks, deps);
  const pick = <T extends Runnable>(list: T[]) => list.filter((j) => matches(j, filter));
  const runTasks = (list: Task[]) => Promise.all(list.map(async (job) => ({ job, result: await runTask(job, deps, { force: true }) })));
  const images = await runTasks(pick(tasks).filter((t) => t.kind === "images" || t.kind === "podmanAutoUpdate"));
  const methods = await Promise.all(pick(jobs).map(async (job) => ({ job, result: await runMethod(job, deps, { ...opts, force: true }) })));
  const prune = await runTasks(pick(tasks).filter((t) => t.kind === "prune"));
  return [...images, ...methods, ...prune];
}
