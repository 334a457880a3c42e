/**
 * `fetchit plan`: what one run of a method would do, computed the way
 * run-method does it (fetch, diff, plan, drift check) but with no write: no
 * Podman write, no host file, no state record. Only the methods' read-only
 * capabilities (`identify`, `drifted`) are called; `prepare`, `apply` and
 * `remove` never are. The git cache under the state dir is fetched into (that
 * is fetchit's own data, not the host's).
 */
import { waveWait } from "./rollout.ts";
import { isTemplateFile, templatesStale } from "./templates.ts";
import type { Logger } from "../log.ts";
import type { ManagedResource, MethodState } from "../state/store.ts";
import { desiredFile } from "./apply-plan.ts";
import { methodContext, type EngineDeps } from "./context.ts";
import { planChanges, type Op } from "./plan.ts";
import type { MethodJob } from "./run-method.ts";
import { selfHealEnabled } from "./self-heal.ts";
import { errorMessage } from "../errors.ts";

/** "take-over": a create or replace that would replace a same-named object fetchit did not create (printed "take over"). */
export type PlanAction = "create" | "replace" | "take-over" | "remove" | "unchanged" | "error";

/** One file of a method's plan (part of the stable `fetchit plan --json` shape). */
export interface PlanItem {
  action: PlanAction;
  /** Path relative to targetPath (for a rename: the new path). */
  file: string;
  /** What the file manages or would manage (container name, destination path); null when unknown. */
  resource: string | null;
  /** Why: "new file", "spec changed", "renamed from X", "file deleted", "drift", "method settings changed", … */
  reason: string;
  /** A `.tmpl` file: its rendering with this host's facts, labels and values (what would be applied; at most 4 KiB shown). */
  rendered?: string;
}

/** One method's plan. */
export interface MethodPlan {
  target: string;
  kind: string;
  method: string;
  appliedCommit: string | null;
  head: string | null;
  items: PlanItem[];
  /** Something the run would do differently (back-off, permanent failure, drift left alone). */
  notes: string[];
  /** Fetch or diff failure: the plan is unknown. */
  error: string | null;
  /** A commit that failed its health gate and was rolled back (a run skips it while it is the head). */
  quarantined: { commit: string; subject: string | null; reason: string; at: string } | null;
}

/** Kinds whose files are specs of something running (a changed file = "spec changed"); others copy content. */
const SPEC_KINDS = new Set(["raw", "kube"]);

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));

/** Same test as run-method: the method entry differs from the one its state was applied with. */
function reconfigured(st: MethodState, job: MethodJob): boolean {
  return st.appliedCommit !== undefined && st.config !== undefined && canonical(st.config) !== canonical(job.config);
}

/** The commit run-method would diff from (null = whole tree), with the same fallbacks. */
async function diffBase(job: MethodJob, st: MethodState, reconf: boolean): Promise<string | null> {
  const from = reconf ? null : (st.appliedCommit ?? null);
  if (from && !(await job.source.hasCommit(from))) return null;
  if (from && st.lastError?.commit && st.lastError.commit !== from) return null;
  return from;
}

/** Plans one method against the fetched head; never throws (a failure is the plan's `error`). */
export async function planMethod(job: MethodJob, deps: EngineDeps, log: Logger): Promise<MethodPlan> {
  const st = await deps.state.load(job.key);
  const plan: MethodPlan = {
    ...job.key, appliedCommit: st.appliedCommit ?? null, head: null, items: [], notes: [], error: null,
    quarantined: st.quarantined ? { ...st.quarantined, subject: st.quarantined.subject ?? null } : null,
  };
  /** State keys of files renamed in this diff: their record moves to the new path. */
  const renamedAway = new Set<string>();
  try {
    const head = (plan.head = await job.source.fetch());
    const reconf = reconfigured(st, job);
    rolloutNotes(st, head, plan.notes);
    if (st.appliedCommit !== head) await fleetNotes(job, st, head, plan.notes, log);
    // labels, values or facts changed since the templates were rendered: the run re-renders the .tmpl files only
    const rerender = st.appliedCommit === head && !reconf && templatesStale(job.context, st);
    if (st.quarantined?.commit !== head && !st.rollingBack && (st.appliedCommit !== head || reconf || rerender)) {
      const from = await diffBase(job, st, reconf || rerender);
      const filter = { targetPath: job.config.targetPath, glob: job.config.glob, extensions: job.impl.extensions };
      const all = planChanges(await job.source.diff(from, head, filter), st.resources, from === null);
      const ops = rerender ? all.filter((o) => o.op !== "remove" && isTemplateFile(o.file.relPath)) : all;
      const why = reconf ? "method settings changed" : rerender ? "labels, values or facts changed" : undefined;
      for (const op of ops) plan.items.push(await describe(job, deps, op, log, why));
      for (const op of ops) if (op.op !== "remove" && op.fromRelPath) renamedAway.add(op.fromRelPath);
      if (st.lastError?.commit === head && !st.lastError.retryable && !reconf) {
        plan.notes.push(`commit ${head.slice(0, 9)} already failed with a permanent error; the daemon waits for a new commit (fetchit sync retries it)`);
      }
    }
    if (st.nextRetryAt && Date.parse(st.nextRetryAt) > Date.now()) plan.notes.push(`backing off after a transient failure until ${st.nextRetryAt}`);
    await addDrift(job, deps, st, plan, log, renamedAway);
  } catch (err) {
    plan.error = errorMessage(err);
  }
  return plan;
}

/** Fleets: a head another host quarantined, or one that waits for this host's wave (the plan still lists what it would change). */
async function fleetNotes(job: MethodJob, st: MethodState, head: string, notes: string[], log: Logger): Promise<void> {
  if (job.source.quarantinedRemotely?.().has(head) && st.released !== head && !st.releaseRemote) {
    notes.push(`head ${head.slice(0, 9)} was quarantined by another host (refs/fetchit/quarantine/${head.slice(0, 12)}…); a run does not apply it; \`fetchit retry\` applies it here`);
  }
  const w = await waveWait(job.rollout, job.context, job.source, head, Date.now(), log);
  if (w) notes.push(`head ${head.slice(0, 9)} waits for wave ${w.wave} of ${w.waves}, due at ${w.dueAt}; \`fetchit sync --now\` applies it now`);
}

/** What quarantine, an interrupted rollback or an unhealthy commit change about the next run. */
function rolloutNotes(st: MethodState, head: string, notes: string[]): void {
  const q = st.quarantined;
  if (st.rollingBack) notes.push(`a rollback of ${st.rollingBack.from.slice(0, 9)} to ${st.rollingBack.to.slice(0, 9)} was interrupted; the next run finishes it`);
  else if (q?.commit === head) notes.push(`head ${head.slice(0, 9)} is quarantined (failed its health gate at ${q.at}: ${q.reason}); a run does not apply it, only repairs drift from ${st.appliedCommit?.slice(0, 9) ?? "-"}; \`fetchit retry\` tries it again`);
  else if (q) notes.push(`commit ${q.commit.slice(0, 9)} is quarantined; the new head is applied over ${st.appliedCommit?.slice(0, 9) ?? "-"} and a good one clears it`);
  if (st.unhealthy) notes.push(`applied commit ${st.unhealthy.commit.slice(0, 9)} is unhealthy and could not be rolled back: ${st.unhealthy.reason}`);
}

/** One op as a plan item; `identify` tells whether an update really changes anything. */
async function describe(job: MethodJob, deps: EngineDeps, op: Op, log: Logger, why?: string): Promise<PlanItem> {
  const ctx = methodContext(deps, job.key.target, job.config, log);
  if (op.op === "remove") {
    const previous = op.previous ?? (op.old ? await desiredFile(job, op.old).then((f) => job.impl.identify(ctx, f)).catch(() => undefined) : undefined);
    return { action: "remove", file: op.relPath, resource: previous?.name ?? null, reason: op.old ? "file deleted" : "file no longer in the tree" };
  }
  let next: ManagedResource;
  let rendered: string | undefined;
  try {
    const file = await desiredFile(job, op.file);
    if (isTemplateFile(op.file.relPath)) rendered = (await file.content()).subarray(0, 4096).toString("utf8");
    next = await job.impl.identify(ctx, file);
  } catch (err) {
    return { action: "error", file: op.file.relPath, resource: op.previous?.name ?? null, reason: errorMessage(err) };
  }
  const item = await changeOf(job, op, next, why);
  const shown = rendered === undefined || item.action === "unchanged" ? item : { ...item, rendered };
  return shown.action === "create" || shown.action === "replace" ? takeOver(job, ctx, next, shown) : shown;
}

/** A create or replace that would replace something fetchit did not create becomes "take-over" (or an error with `adopt: false`). */
async function takeOver(job: MethodJob, ctx: ReturnType<typeof methodContext>, next: ManagedResource, item: PlanItem): Promise<PlanItem> {
  if (!job.impl.takeovers) return item;
  let found: string[];
  try {
    found = await job.impl.takeovers(ctx, next);
  } catch (err) {
    return { ...item, reason: `${item.reason}; could not check for same-named objects: ${errorMessage(err)}` };
  }
  if (!found.length) return item;
  const what = found.join("; ");
  if ((job.config as { adopt?: boolean }).adopt === false) {
    return { ...item, action: "error", reason: `${what} exists and was not created by fetchit; adopt: false refuses to replace it` };
  }
  return { ...item, action: "take-over", reason: `${item.reason}; replaces ${what}, which fetchit did not create` };
}

/** What an op does to its file, from the state and identify. */
async function changeOf(job: MethodJob, op: Exclude<Op, { op: "remove" }>, next: ManagedResource, why?: string): Promise<PlanItem> {
  const prev = op.previous;
  const base = { file: op.file.relPath, resource: next.name };
  if (!prev) return { ...base, action: "create", reason: why ?? (op.fromRelPath ? `renamed from ${op.fromRelPath}` : "new file") };
  if (prev.name !== next.name) return { ...base, action: "replace", reason: why ?? `renamed from ${prev.name}` };
  if (op.fromRelPath && op.fromRelPath !== op.file.relPath && prev.hash === next.hash) {
    return { ...base, action: "unchanged", reason: `file renamed from ${op.fromRelPath}; same content` };
  }
  const changed = SPEC_KINDS.has(job.kind) ? "spec changed" : "content changed";
  const renamed = op.fromRelPath && op.fromRelPath !== op.file.relPath ? `renamed from ${op.fromRelPath}; ` : "";
  if (prev.hash !== next.hash) return { ...base, action: "replace", reason: why ?? `${renamed}${changed}` };
  return { ...base, action: "unchanged", reason: "same spec" };
}

/** Drift of resources the plan leaves in place, and the resources nothing touches. */
async function addDrift(job: MethodJob, deps: EngineDeps, st: MethodState, plan: MethodPlan, log: Logger, renamedAway: Set<string>): Promise<void> {
  const touched = new Set([...renamedAway, ...plan.items.flatMap((i) => (i.action === "unchanged" ? [] : [i.file]))]);
  const kept = Object.entries(st.resources).filter(([rel]) => !touched.has(rel));
  let drifted = new Set<string>();
  if (job.impl.drifted && kept.length) {
    try {
      drifted = new Set(await job.impl.drifted(methodContext(deps, job.key.target, job.config, log), Object.fromEntries(kept)));
    } catch (err) {
      plan.notes.push(`drift not checked: ${errorMessage(err)}`);
    }
  }
  const heals = selfHealEnabled(job);
  if (drifted.size && !heals) plan.notes.push("selfHeal is off: drifted resources are left as they are");
  for (const [rel, r] of kept) {
    const listed = plan.items.find((i) => i.file === rel);
    if (drifted.has(rel) && heals) {
      if (listed) Object.assign(listed, { action: "replace", reason: "drift" });
      else plan.items.push({ action: "replace", file: rel, resource: r.name, reason: "drift" });
    } else if (!listed) {
      plan.items.push({ action: "unchanged", file: rel, resource: r.name, reason: drifted.has(rel) ? "drift (selfHeal off)" : "no change" });
    }
  }
}

/** Counts per action over every method. */
export function summarize(plans: MethodPlan[]): Record<PlanAction, number> {
  const sum: Record<PlanAction, number> = { create: 0, replace: 0, "take-over": 0, remove: 0, unchanged: 0, error: 0 };
  for (const p of plans) for (const i of p.items) sum[i.action]++;
  return sum;
}
