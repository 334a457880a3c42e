/**
 * `fetchit sync`: run every (matching) method once now and wait; non-zero
 * exit when anything failed. A SIGTERM/SIGINT before the runs begin stops
 * with exit 0 and nothing done; during them, the runs finish and save their
 * state first (a second signal stops at once: src/main.ts).
 */
import { matches, syncOnce, type JobFilter } from "../daemon.ts";
import { buildJobs } from "../engine/jobs.ts";
import { ExitError } from "../errors.ts";
import { stopRequested } from "../signals.ts";
import { clearLeftovers, lockStateDir } from "../state/lock.ts";
import { silentLogger } from "../log.ts";
import type { RunResult } from "../engine/run-method.ts";
import type { Waiting } from "../engine/rollout.ts";
import { loadRuntime, makeLogger, type Env, type GlobalOptions } from "./options.ts";

export type SyncOptions = GlobalOptions & JobFilter & { now?: boolean };

const short = (sha?: string) => sha?.slice(0, 9);

/** " (waiting for wave 2 of 4, due at …; --now applies it now)". */
export const waitingNote = (w: Waiting): string => ` (waiting for wave ${w.wave} of ${w.waves}, due at ${w.dueAt}; \`fetchit sync --now\` applies it now)`;

/** Why a run rolled back, or why it skipped a quarantined head ("" otherwise). */
export function rollbackNote(r: RunResult): string {
  const rb = r.rollback;
  if (rb?.outcome === "rolled-back") return ` (rolled back ${short(rb.from)} to ${short(rb.to)}: ${rb.reason}; it is quarantined until a new commit or \`fetchit retry\`)`;
  if (rb?.outcome === "failed") return ` (rollback of ${short(rb.from)} to ${short(rb.to)} failed: ${rb.reason}; left as it is)`;
  if (rb) return ` (health gate failed and there is no earlier good commit: left applied, unhealthy: ${rb.reason})`;
  if (r.quarantined) return ` (head ${short(r.quarantined.commit)} is quarantined: ${r.quarantined.reason}; \`fetchit retry\` tries it again)`;
  return "";
}

/** Returns the process exit code: 0 all applied or unchanged, 1 something failed, rolled back or is quarantined. */
export async function syncCommand(opts: SyncOptions, env: Env, print: (line: string) => void): Promise<number> {
  const log = makeLogger(opts, env);
  const rt = loadRuntime({ opts, env, log });
  const filter = { target: opts.target, method: opts.method };
  const all = buildJobs(rt.config, rt.stateDir, silentLogger);
  if (![...all.jobs, ...all.tasks].some((j) => matches(j, filter))) {
    const why = all.unavailable.length ? `:\n  ${all.unavailable.join("\n  ")}` : "";
    throw new ExitError(`no method matches${opts.target ? ` --target ${opts.target}` : ""}${opts.method ? ` --method ${opts.method}` : ""}${why}`, 2);
  }
  if (stopRequested.aborted) return log.info(`${String(stopRequested.reason)}: stopped before any run`), 0;
  const lock = lockStateDir(rt.stateDir, "fetchit sync");
  await clearLeftovers(rt.stateDir, log).catch(() => {});
  const onStop = () => log.warn(`${String(stopRequested.reason)}: finishing the runs in flight so their state is saved (send it again to stop at once)`);
  stopRequested.addEventListener("abort", onStop, { once: true });
  const results = await syncOnce(rt.config, rt.stateDir, rt.deps, filter, { now: opts.now }).finally(() => {
    stopRequested.removeEventListener("abort", onStop);
    lock.release();
  });
  let failed = 0;
  for (const { job, result } of results) {
    const what = `${job.key.target} ${job.kind}/${job.key.method}`;
    const commit = result.commit?.slice(0, 9) ?? "-";
    if (result.status === "failed" || ("quarantined" in result && result.quarantined)) failed++;
    const note = "note" in result && result.note ? ` (${result.note})` : "waiting" in result && result.waiting ? waitingNote(result.waiting) : "rollback" in result || "quarantined" in result ? rollbackNote(result) : "";
    print(`${result.status.padEnd(9)} ${what} @ ${commit}${result.changed ? ` (${result.changed} changed)` : ""}${result.failures.length ? ` (${result.failures.length} failed)` : ""}${note}`);
  }
  return failed ? 1 : 0;
}
