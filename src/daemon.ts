/**
 * The long-running agent: turns a config into scheduled jobs, runs each method
 * on its cron (and once at start, like FetchIt), and stops cleanly: schedules
 * end, the apply in flight finishes and saves its state.
 */
import type { FetchitConfig } from "./config/types.ts";
import { toCronPattern } from "./config/index.ts";
import type { EngineDeps } from "./engine/context.ts";
import { buildJobs, jobId } from "./engine/jobs.ts";
import { runMethod, type MethodJob, type RunResult } from "./engine/run-method.ts";
import { Scheduler } from "./scheduler/scheduler.ts";

export interface JobFilter {
  target?: string;
  method?: string;
}

/** Matches `--target NAME` and `--method NAME` or `--method KIND/NAME`. */
export function matches(job: MethodJob, f: JobFilter): boolean {
  if (f.target && job.key.target !== f.target) return false;
  if (f.method && job.key.method !== f.method && `${job.kind}/${job.key.method}` !== f.method && job.kind !== f.method) return false;
  return true;
}

function prepareJobs(config: FetchitConfig, stateDir: string, deps: EngineDeps): MethodJob[] {
  const { jobs, unavailable } = buildJobs(config, stateDir, deps.log);
  for (const note of unavailable) deps.log.warn(note);
  return jobs;
}

export class Daemon {
  private scheduler: Scheduler;
  readonly jobs: MethodJob[];

  constructor(
    config: FetchitConfig,
    stateDir: string,
    private deps: EngineDeps,
  ) {
    this.scheduler = new Scheduler(deps.log);
    this.jobs = prepareJobs(config, stateDir, deps);
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
    this.deps.log.info("fetchit started", { methods: this.jobs.length });
    if (this.jobs.some((j) => j.impl.usesPodman)) void this.checkPodman();
    if (!this.jobs.length) this.deps.log.warn("no method to run: the config has no available methods; fetchit will idle");
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

/** Runs every matching method once now (no skew, ignoring back-off) and returns the results. */
export async function syncOnce(
  config: FetchitConfig,
  stateDir: string,
  deps: EngineDeps,
  filter: JobFilter = {},
): Promise<{ job: MethodJob; result: RunResult }[]> {
  const jobs = prepareJobs(config, stateDir, deps).filter((j) => matches(j, filter));
  return Promise.all(jobs.map(async (job) => ({ job, result: await runMethod(job, deps, { force: true }) })));
}
