/**
 * What happens after an apply: the health gate, and when it fails, the
 * rollback to the last good commit G. G's version of every file the bad commit
 * C changed is re-applied (a plan from the diff C→G run by the same
 * applyPlan), G is gated again, and C is quarantined: never re-applied while
 * it is the head. "Rolling back C to G" is saved before the rollback starts,
 * so a restart after a crash finishes it (see resumeRollback).
 */
import { errorMessage, isRetryable } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Touched } from "../methods/types.ts";
import type { ManagedResource, MethodState } from "../state/store.ts";
import { applyPlan, type Failure } from "./apply-plan.ts";
import type { EngineDeps } from "./context.ts";
import { quarantineMessage } from "../git/index.ts";
import { runHealthGate } from "./health-gate.ts";
import { planChanges, type Op } from "./plan.ts";
import type { MethodJob, RunResult } from "./run-method.ts";
import { restartStopped, restoreSnapshots } from "./volume-snapshots.ts";

const short = (sha?: string) => sha?.slice(0, 9);

/** What a run did after its gate failed. */
export interface RollbackInfo {
  /** rolled-back: G runs again and C is quarantined; failed: G failed too; not-possible: no G (first apply). */
  outcome: "rolled-back" | "failed" | "not-possible";
  /** The commit that failed its gate. */
  from: string;
  /** The last good commit, when there is one. */
  to?: string;
  reason: string;
}

/** Every file a plan created or updated, with what it manages after the apply (all of them: a resumed apply changes nothing but must be judged). */
export function touchedBy(ops: Op[], resources: Record<string, ManagedResource>): Touched[] {
  return ops.flatMap((op) => (op.op !== "remove" && resources[op.file.relPath] ? [{ relPath: op.file.relPath, path: op.file.path, resource: resources[op.file.relPath]! }] : []));
}

/** One line per failure: file, then the gate's message (container or unit, exit code, last log lines). */
export function gateReason(failures: Failure[]): string {
  return failures
    .map((f) => {
      const msg = errorMessage(f.error);
      return f.file && !msg.startsWith(`${f.file}: `) ? `${f.file}: ${msg}` : msg; // a MethodError already names its file
    })
    .join("; ");
}

/**
 * Runs the gate after a successful apply of `ops`. A thrown error (Podman unreachable…) is
 * returned as `thrown`: it is an apply failure to retry, not a verdict on the commit.
 */
export async function gate(
  job: MethodJob, deps: EngineDeps, ops: Op[], resources: Record<string, ManagedResource>, log: Logger, since = Date.now(),
): Promise<{ failures: Failure[]; thrown?: Failure[] }> {
  if (!job.health) return { failures: [] };
  try {
    const failures = await runHealthGate(job, deps, touchedBy(ops, resources), since, log);
    // A gate that could not judge (the command could not start, Podman unreachable) is host trouble to retry, not a verdict.
    const host = failures.filter((f) => isRetryable(f.error));
    return host.length ? { failures: [], thrown: host } : { failures };
  } catch (error) {
    return { failures: [], thrown: [{ file: undefined, error }] };
  }
}

/**
 * `head` applied over `good` (undefined: nothing to go back to) failed its gate: quarantine it and
 * roll back, or, without a good commit, leave it applied but marked unhealthy.
 */
export async function onGateFailure(
  job: MethodJob,
  deps: EngineDeps,
  st: MethodState,
  head: string,
  good: string | undefined,
  failures: Failure[],
  log: Logger,
): Promise<RunResult> {
  const reason = gateReason(failures);
  const at = new Date().toISOString();
  const base = { status: "failed" as const, commit: head, changed: 0, failures };
  if (!good) {
    log.error("health gate failed and there is no earlier good commit to roll back to; the commit stays applied, marked unhealthy", { commit: short(head), reason });
    st.unhealthy = { commit: head, reason, at };
    return { ...base, rollback: { outcome: "not-possible", from: head, reason } };
  }
  const subject = await job.source.commitInfo(head).then((c) => c.subject, () => undefined);
  st.quarantined = { commit: head, ...(subject ? { subject } : {}), reason, at };
  st.rollingBack = { from: head, to: good, at };
  await deps.state.save(st);
  log.error("health gate failed; rolling back to the last good commit and quarantining this one", { commit: short(head), to: short(good), reason });
  const rb = await rollBack(job, deps, st, log);
  await reportToFleet(job, head, reason, log);
  return { ...base, changed: rb.changed, rollback: { ...rb.info, reason } };
}

/** `rollout.report`: tells every host of the fleet through git (refs/fetchit/quarantine/<sha>); a refused push is only logged. */
async function reportToFleet(job: MethodJob, commit: string, reason: string, log: Logger): Promise<void> {
  if (!job.rollout?.report) return;
  if (!job.source.reportQuarantine) return void log.warn("rollout.report: this source is not a git remote; the quarantine stays on this host", { commit: short(commit) });
  try {
    await job.source.reportQuarantine(commit, quarantineMessage(commit, reason, new Date(), job.context?.host.hostname));
    log.info("quarantine reported to the fleet", { commit: short(commit), ref: `refs/fetchit/quarantine/${commit}` });
  } catch (err) {
    log.warn("could not push the quarantine ref (does this host's gitAuth allow pushes?); other hosts may still apply this commit", { commit: short(commit), error: errorMessage(err) });
  }
}

/** Finishes a rollback recorded before a crash (st.rollingBack is set); the caller returns this as the run's result. */
export async function resumeRollback(job: MethodJob, deps: EngineDeps, st: MethodState, log: Logger): Promise<RunResult> {
  const { from } = st.rollingBack!;
  log.warn("a rollback was interrupted (fetchit stopped or crashed); finishing it", { from: short(from), to: short(st.rollingBack!.to) });
  const reason = st.quarantined?.commit === from ? st.quarantined.reason : "interrupted rollback";
  const rb = await rollBack(job, deps, st, log, 2);
  return { status: "failed", commit: from, changed: rb.changed, failures: [{ file: undefined, error: new Error(reason) }], rollback: { ...rb.info, reason } };
}

/**
 * Restores volume snapshots, re-applies G's version of every file C changed, gates G. Saves the
 * state once at the end. `attempts` > 1 (a resumed rollback): a change the dead process left cut
 * short may still be undone by Podman under our feet (it cleans up after a dropped request), so a
 * failed gate is followed by one more apply and gate before giving up. Never more: no loop.
 */
async function rollBack(job: MethodJob, deps: EngineDeps, st: MethodState, log: Logger, attempts = 1): Promise<{ changed: number; info: Omit<RollbackInfo, "reason"> }> {
  const { from: bad, to: good } = st.rollingBack!;
  let failures: Failure[] = [];
  let changed = 0;
  for (let i = 1; i <= attempts; i++) {
    if (i > 1) log.warn("the last good commit failed its gate right after a crash; applying and gating it once more", { to: short(good), reason: gateReason(failures) });
    const r = await applyGood(job, deps, st, bad, good, log);
    changed += r.changed;
    failures = r.failures;
    if (!failures.length) break;
  }
  delete st.rollingBack;
  const at = new Date().toISOString();
  if (failures.length) {
    const reason = `rollback to ${short(good)} failed: ${gateReason(failures)}`;
    st.unhealthy = { commit: good, reason, at };
    await deps.state.save(st);
    log.error("rollback failed; leaving things as they are (the bad commit stays quarantined, nothing is retried until a new commit or `fetchit retry`)", { from: short(bad), to: short(good), reason });
    return { changed, info: { outcome: "failed", from: bad, to: good } };
  }
  delete st.unhealthy;
  // The host is at G again, with G's resources: an older failure no longer describes it.
  delete st.lastError;
  delete st.nextRetryAt;
  st.rollbacks = (st.rollbacks ?? 0) + 1;
  await deps.state.save(st);
  log.warn("rolled back; the bad commit is quarantined until a new commit or `fetchit retry`", { from: short(bad), to: short(good), changed });
  return { changed, info: { outcome: "rolled-back", from: bad, to: good } };
}

/** One pass of a rollback: snapshots back, the plan C→G applied, G gated. `st.resources` follows the apply. */
async function applyGood(job: MethodJob, deps: EngineDeps, st: MethodState, bad: string, good: string, log: Logger): Promise<{ changed: number; failures: Failure[] }> {
  const filter = { targetPath: job.config.targetPath, glob: job.config.glob, extensions: job.impl.extensions };
  try {
    // Without C in the clone (rare), compare G's whole tree with the recorded resources.
    const base = (await job.source.hasCommit(bad)) ? bad : null;
    const ops = planChanges(await job.source.diff(base, good, filter), st.resources, base === null);
    log.info("rolling back", { from: short(bad), to: short(good), changes: ops.length });
    // The data first, so G's containers start on it.
    const restored = await restoreSnapshots(job, deps, bad, ops, log);
    const outcome = await applyPlan(job, deps, ops, { ...st.resources }, log, good);
    await restartStopped(deps, restored.stopped);
    st.resources = outcome.resources;
    const failures = [...restored.failures, ...outcome.failures];
    if (failures.length) return { changed: outcome.changed, failures };
    const g = await gate(job, deps, ops, outcome.resources, log);
    return { changed: outcome.changed, failures: g.thrown ?? g.failures };
  } catch (error) {
    return { changed: 0, failures: [{ file: undefined, error }] };
  }
}
