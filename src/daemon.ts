/**
 * The long-running agent: turns a config into scheduled jobs, runs each method
 * and task (prune, image loaders) on its cron (and once at start, like
 * FetchIt), and stops cleanly: schedules end, the apply in flight finishes and
 * saves its state.
 */
import type { FetchitConfig } from "./config/types.ts";
import { toCronPattern } from "./config/index.ts";
import type { EngineDeps } from "./engine/context.ts";
import { buildJobs, jobId } from "./engine/jobs.ts";
import { runMethod, type MethodJob, type RunResult } from "./engine/run-method.ts";
import { forgetRemovedTasks, runTask, type TaskResult } from "./engine/run-task.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
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

export class Daemon {
  private scheduler: Scheduler;
  readonly jobs: MethodJob[];
  readonly tasks: Task[];

  constructor(
    config: FetchitConfig,
    stateDir: string,
    private deps: EngineDeps,
  ) {
    this.scheduler = new Scheduler(deps.log);
    ({ jobs: this.jobs, tasks: this.tasks } = prepareJobs(config, stateDir, deps));
  }

  start(): void {
    for (const job of this.jobs) {
      this.scheduler.add({
        id: jobId(job),
        pattern: toCronPattern(job.config.schedule),
        skew: job.config.skew,
        run: async () => void (await runMethod(job, this.deps)),
      });
    }
    for (const task of this.tasks) {
      this.scheduler.add({
        id: task.id,
        pattern: toCronPattern(task.schedule),
        skew: task.skew,
        run: async () => void (await runTask(task, this.deps)),
      });
    }
    this.deps.log.info("fetchit started", { methods: this.jobs.length, tasks: this.tasks.length });
    void forgetRemovedTasks(this.tasks, this.deps).catch((err) => this.deps.log.warn("could not tidy the state of removed tasks", { err }));
    if (this.tasks.length || this.jobs.some((j) => j.impl.usesPodman)) void this.checkPodman();
    if (!this.jobs.length && !this.tasks.length) this.deps.log.warn("no method to run: the config has no available methods; fetchit will idle");
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
 * image loaders first (methods may need their images), then the git methods,
 * then prune (so it never races an apply). Returns the results in that order.
 */
export async function syncOnce(config: FetchitConfig, stateDir: string, deps: EngineDeps, filter: JobFilter = {}): Promise<SyncEntry[]> {
  const { jobs, tasks } = prepareJobs(config, stateDir, deps);
  if (!filter.target && !filter.method) await forgetRemovedTasks(tasks, deps);
  const pick = <T extends Runnable>(list: T[]) => list.filter((j) => matches(j, filter));
  const runTasks = (list: Task[]) => Promise.all(list.map(async (job) => ({ job, result: await runTask(job, deps, { force: true }) })));
  const images = await runTasks(pick(tasks).filter((t) => t.kind === "images"));
  const methods = await Promise.all(pick(jobs).map(async (job) => ({ job, result: await runMethod(job, deps, { force: true }) })));
  const prune = await runTasks(pick(tasks).filter((t) => t.kind === "prune"));
  return [...images, ...methods, ...prune];
}
