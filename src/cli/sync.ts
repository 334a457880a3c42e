/** `fetchit sync`: run every (matching) method once now and wait; non-zero exit when anything failed. */
import { matches, syncOnce, type JobFilter } from "../daemon.ts";
import { buildJobs } from "../engine/jobs.ts";
import { ExitError } from "../errors.ts";
import { lockStateDir } from "../state/lock.ts";
import { silentLogger } from "../log.ts";
import { loadRuntime, makeLogger, type Env, type GlobalOptions } from "./options.ts";

export type SyncOptions = GlobalOptions & JobFilter;

/** Returns the process exit code: 0 all applied or unchanged, 1 something failed. */
export async function syncCommand(opts: SyncOptions, env: Env, print: (line: string) => void): Promise<number> {
  const log = makeLogger(opts, env);
  const rt = loadRuntime({ opts, env, log });
  const filter = { target: opts.target, method: opts.method };
  const all = buildJobs(rt.config, rt.stateDir, silentLogger);
  if (![...all.jobs, ...all.tasks].some((j) => matches(j, filter))) {
    const why = all.unavailable.length ? `:\n  ${all.unavailable.join("\n  ")}` : "";
    throw new ExitError(`no method matches${opts.target ? ` --target ${opts.target}` : ""}${opts.method ? ` --method ${opts.method}` : ""}${why}`, 2);
  }
  const lock = lockStateDir(rt.stateDir, "fetchit sync");
  const results = await syncOnce(rt.config, rt.stateDir, rt.deps, filter).finally(() => lock.release());
  let failed = 0;
  for (const { job, result } of results) {
    const what = `${job.key.target} ${job.kind}/${job.key.method}`;
    const commit = result.commit?.slice(0, 9) ?? "-";
    if (result.status === "failed") failed++;
    const note = "note" in result && result.note ? ` (${result.note})` : "";
    print(`${result.status.padEnd(9)} ${what} @ ${commit}${result.changed ? ` (${result.changed} changed)` : ""}${result.failures.length ? ` (${result.failures.length} failed)` : ""}${note}`);
  }
  return failed ? 1 : 0;
}
