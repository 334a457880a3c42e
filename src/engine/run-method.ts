/**
 * One run of one (target, method): fetch, diff the last applied commit against
 * the head, apply the plan, and advance the state only when every change of
 * that commit succeeded. A tick with nothing new makes no Podman write and no
 * state write.
 */
import type { HealthSettings } from "../config/health.ts";
import type { CommonMethod, MethodKind } from "../config/types.ts";
import { isLocal } from "../errors.ts";
import { SourceUnavailableError, type CommitVerifier, type GitSource } from "../git/index.ts";
import type { AnyMethod } from "../methods/index.ts";
import type { MethodKey, MethodState } from "../state/store.ts";
import type { EngineDeps } from "./context.ts";
import { applyPlan, type Failure, type PlanOutcome } from "./apply-plan.ts";
import { backingOff, recordFailure } from "./failures.ts";
import { planChanges, type Op } from "./plan.ts";
import { healDrift } from "./self-heal.ts";
import { takeSnapshots } from "./volume-snapshots.ts";
import { fleetQuarantine, waveWait, type RolloutSettings, type Waiting } from "./rollout.ts";
import type { TemplateContext } from "../fleet/context.ts";
import { contextHash, isTemplateFile, templatesStale } from "./templates.ts";
import { gate, onGateFailure, resumeRollback, type RollbackInfo } from "./rollback.ts";

export interface MethodJob {
  key: MethodKey;
  kind: MethodKind;
  impl: AnyMethod;
  config: CommonMethod & Record<string, unknown>;
  source: GitSource;
  /** Commit signature check of the target (verifyCommitsInfo); every method of it is guarded. */
  verifier?: CommitVerifier;
  /** Health gate (src/config/health.ts): set when the config has a health block for this method or globally. */
  health?: HealthSettings;
  /** Staged waves of the target (src/config/rollout.ts) and who this host is; absent = apply at once. */
  rollout?: RolloutSettings;
  context?: TemplateContext;
  /** Ids (`peerId`) of every method in the same config: only their records can claim what this one manages. */
  peers?: ReadonlySet<string>;
}

export interface RunResult {
  status: "unchanged" | "applied" | "failed" | "skipped";
  commit?: string;
  /** Files whose apply changed something on the host. */
  changed: number;
  failures: Failure[];
  /** Set when this run's health gate failed (or a rollback was resumed): what happened then. */
  rollback?: RollbackInfo;
  /** Set while a new head waits for this host's wave (the run skipped it). */
  waiting?: Waiting;
  /** Set while the head is quarantined (the run skipped it). */
  quarantined?: { commit: string; reason: string };
}

export interface RunOptions {
  /** Ignore back-off and "already reported" (used by `fetchit sync`). */
  force?: boolean;
  /** Apply a new head now even when this host's rollout wave is not due (`fetchit sync --now`). */
  now?: boolean;
}

const short = (sha?: string) => sha?.slice(0, 9);

export async function runMethod(job: MethodJob, deps: EngineDeps, opts: RunOptions = {}): Promise<RunResult> {
  const log = deps.log.child({ target: job.key.target, method: `${job.kind}/${job.key.method}` });
  const now = deps.now ?? Date.now;
  const st = await deps.state.load(job.key);
  if (st.rollingBack) return resumeRollback(job, deps, st, log);
  if (backingOff(st, now(), opts.force, log)) return { status: "skipped", changed: 0, failures: [] };
  let head: string;
  try {
    head = await job.source.fetch();
  } catch (err) {
    // A disconnected source with nothing imported yet: waiting is not a failure (the source logged why).
    if (err instanceof SourceUnavailableError) return { status: "skipped", changed: 0, failures: [] };
    await recordFailure(deps.state, st, [{ file: undefined, error: err }], undefined, now(), log);
    return { status: "failed", changed: 0, failures: [{ file: undefined, error: err }] };
  }
  const reconfigured = configChanged(st, job);
  if (st.quarantined?.commit === head) {
    // No flapping: the bad commit is not re-applied; drift is repaired from the last good commit.
    log.debug("head is quarantined; waiting for a new commit or `fetchit retry`", { commit: short(head) });
    const repaired = await healDrift(job, deps, st, log);
    const { commit, reason } = st.quarantined;
    return { status: "skipped", commit: head, changed: repaired, failures: [], quarantined: { commit, reason } };
  }
  const fleet = await fleetQuarantine(job, st, head, log);
  if (fleet) {
    const repaired = await healDrift(job, deps, st, log);
    return { status: "skipped", commit: head, changed: repaired, failures: [], quarantined: { commit: head, reason: fleet } };
  }
  if (st.appliedCommit === head && !reconfigured && templatesStale(job.context, st)) {
    log.info("labels, values or facts changed; re-rendering this commit's templates (.tmpl files only)", { commit: short(head) });
    return applyCommit(job, deps, st, head, log, now, true, isTemplateFile).catch((err) => localFailure(deps, st, err, head, log, now));
  }
  if (st.appliedCommit === head && !reconfigured) {
    log.debug("no changes", { commit: short(head) });
    // An unhealthy commit that could not be rolled back is left as it is, not recreated every tick.
    const repaired = st.unhealthy?.commit === head ? 0 : await healDrift(job, deps, st, log);
    return { status: "unchanged", commit: head, changed: repaired, failures: [] };
  }
  const waiting = opts.now ? undefined : await waveWait(job.rollout, job.context, job.source, head, now(), log);
  if (waiting) {
    const repaired = await healDrift(job, deps, st, log);
    return { status: "skipped", commit: head, changed: repaired, failures: [], waiting };
  }
  if (!opts.force && !reconfigured && st.lastError?.commit === head && !st.lastError.retryable) {
    log.debug("commit already failed with a permanent error; waiting for a new commit", { commit: short(head) });
    const repaired = await healDrift(job, deps, st, log);
    return { status: "skipped", commit: head, changed: repaired, failures: [] };
  }
  if (reconfigured) log.info("method settings changed; re-applying every file at this commit", { commit: short(head) });
  return applyCommit(job, deps, st, head, log, now, reconfigured).catch((err) => localFailure(deps, st, err, head, log, now));
}

/** A local error outside the apply (e.g. the state record cannot be written: a full disk) is recorded and retried, not thrown. */
async function localFailure(deps: EngineDeps, st: MethodState, err: unknown, head: string, log: EngineDeps["log"], now: () => number): Promise<RunResult> {
  if (!isLocal(err)) throw err;
  const failures = [{ file: undefined, error: err }];
  await recordFailure(deps.state, st, failures, head, now(), log);
  return { status: "failed", commit: head, changed: 0, failures };
}

/** Canonical JSON (sorted keys) for comparing method settings. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));

/** True when the method entry differs from the one its state was applied with (e.g. a new destinationDirectory). */
function configChanged(st: MethodState, job: MethodJob): boolean {
  return st.appliedCommit !== undefined && st.config !== undefined && canonical(st.config) !== canonical(job.config);
}

/** The commit to diff from: the applied one, or null (whole tree) when it is unusable. */
async function diffBase(job: MethodJob, st: MethodState, reconfigured: boolean, log: EngineDeps["log"]): Promise<string | null> {
  const from = reconfigured ? null : (st.appliedCommit ?? null);
  if (from && !(await job.source.hasCommit(from))) {
    log.warn("last applied commit is missing from the local clone; reconciling the whole tree against recorded resources", { commit: short(from) });
    return null;
  }
  if (from && st.lastError?.commit && st.lastError.commit !== from) {
    // A partly applied commit may have recorded resources whose files are gone by now
    // (added then deleted before anything applied): compare the whole tree, not the diff.
    log.debug("previous apply failed part-way; reconciling the whole tree against recorded resources");
    return null;
  }
  return from;
}

async function applyCommit(
  job: MethodJob,
  deps: EngineDeps,
  st: MethodState,
  head: string,
  log: EngineDeps["log"],
  now: () => number,
  reconfigured = false,
  only?: (relPath: string) => boolean,
): Promise<RunResult> {
  st.config = job.config;
  const verifyFrom = st.appliedCommit && (await job.source.hasCommit(st.appliedCommit)) ? st.appliedCommit : null;
  const from = await diffBase(job, st, reconfigured, log);
  const filter = { targetPath: job.config.targetPath, glob: job.config.glob, extensions: job.impl.extensions };
  let outcome;
  let ops: Op[] = [];
  try {
    await job.verifier?.verify(verifyFrom, head);
    if (!from && !(await job.source.pathExists(head, job.config.targetPath))) {
      log.warn("targetPath does not exist at this commit; nothing to apply", { targetPath: job.config.targetPath, commit: short(head) });
    }
    const changes = await job.source.diff(from, head, filter);
    ops = planChanges(changes, st.resources, from === null).filter((o) => !only || only(o.op === "remove" ? o.relPath : o.file.relPath));
    await takeSnapshots(job, deps, ops, head, log);
    log.info(ops.length ? "applying commit" : "new commit has no changes for this method", {
      from: short(from ?? undefined) ?? "(none)", to: short(head), changes: ops.length,
    });
    outcome = await applyPlan(job, deps, ops, { ...st.resources }, log, head);
  } catch (err) {
    outcome = { resources: st.resources, changed: 0, failures: [{ file: undefined, error: err }], touched: [], lastChangeAt: now() };
  }
  st.resources = outcome.resources;
  if (outcome.failures.length) {
    await recordFailure(deps.state, st, outcome.failures, head, now(), log);
    return { status: "failed", commit: head, changed: outcome.changed, failures: outcome.failures };
  }
  const good = !reconfigured && st.appliedCommit && (await job.source.hasCommit(st.appliedCommit)) ? st.appliedCommit : undefined;
  return judge(job, deps, st, head, good, ops, outcome, log, now);
}

/**
 * After a clean apply of `head` over `good` (the last good commit, if any): the health gate, then
 * advance the state, or roll back (rollback.ts), or report.
 */
async function judge(
  job: MethodJob, deps: EngineDeps, st: MethodState, head: string, good: string | undefined,
  ops: Op[], outcome: PlanOutcome, log: EngineDeps["log"], now: () => number,
): Promise<RunResult> {
  // Health gate (docs/health.md): only when this apply had something to do for the method.
  const gated = ops.length ? await gate(job, deps, ops, outcome.resources, log, outcome.lastChangeAt) : { failures: [] };
  if (gated.thrown) {
    await recordFailure(deps.state, st, gated.thrown, head, now(), log);
    return { status: "failed", commit: head, changed: outcome.changed, failures: gated.thrown };
  }
  if (gated.failures.length && !job.health?.rollback) {
    // rollback: false — the commit stays applied (the state says what the host runs) and the failure is reported once.
    await advance(job, deps, st, head, now);
    await recordFailure(deps.state, st, gated.failures, head, now(), log, { permanent: "applied, but its health gate failed; it stays applied (rollback: false): fix it and push a new commit" });
    return { status: "failed", commit: head, changed: outcome.changed, failures: gated.failures };
  }
  if (gated.failures.length) {
    const r = await onGateFailure(job, deps, st, head, good, gated.failures, log);
    if (r.rollback?.outcome !== "not-possible") return { ...r, changed: r.changed + outcome.changed };
    // No good commit: the commit is recorded as applied (below) but stays marked unhealthy.
    await advance(job, deps, st, head, now);
    return { ...r, changed: outcome.changed };
  }
  delete st.quarantined;
  delete st.unhealthy;
  await advance(job, deps, st, head, now);
  log.info("commit applied", { commit: short(head), changed: outcome.changed });
  return { status: "applied", commit: head, changed: outcome.changed, failures: [] };
}

/** Records `head` as applied (subject, time, pin) and saves. */
async function advance(job: MethodJob, deps: EngineDeps, st: MethodState, head: string, now: () => number): Promise<void> {
  const subject = await job.source.commitInfo(head).then((c) => c.subject, () => undefined);
  Object.assign(st, { appliedCommit: head, appliedAt: new Date(now()).toISOString(), appliedSubject: subject, failures: 0 });
  if (job.context) st.contextHash = contextHash(job.context);
  delete st.lastError;
  delete st.nextRetryAt;
  await job.source.pin(`${job.key.target}/${job.kind}/${job.key.method}`, head);
  await deps.state.save(st);
}
