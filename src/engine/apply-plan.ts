/**
 * Executes a plan: removals, then creations, then updates, each phase with a
 * bounded pool (wide for methods that keep their creates in the small pool
 * themselves, see Method.boundsHeavyWork). Every failure is collected with
 * its file; one bad file never stops the others.
 */
import type { Logger } from "../log.ts";
import type { DesiredFile } from "../methods/index.ts";
import type { ManagedResource } from "../state/store.ts";
import { methodContext, STOP_CONCURRENCY, type EngineDeps } from "./context.ts";
import type { FileRef, Op } from "./plan.ts";
import { forEachLimited } from "./pool.ts";
import type { MethodJob } from "./run-method.ts";

export interface Failure {
  /** Repository path of the file, when the failure is about one file. */
  file: string | undefined;
  error: unknown;
}

export interface PlanOutcome {
  resources: Record<string, ManagedResource>;
  changed: number;
  failures: Failure[];
}

/** A file at a known blob, read (once) from the job's git source. */
export function desiredFile(job: MethodJob, ref: FileRef): DesiredFile {
  let cached: Promise<Buffer> | undefined;
  return { ...ref, content: () => (cached ??= job.source.readBlob(ref.blob)) };
}

/** {@link MethodContext.tree} of `job` at `commit`: listed on first use, once. Symlinks and submodules are left out. */
export function treeAt(job: MethodJob, commit: string): () => Promise<DesiredFile[]> {
  let cached: Promise<DesiredFile[]> | undefined;
  const list = async () =>
    (await job.source.diff(null, commit, { targetPath: job.config.targetPath }))
      .flatMap(({ relPath, path, blob, mode }) =>
        relPath && path && blob && (mode === "100644" || mode === "100755") ? [desiredFile(job, { relPath, path, blob, mode })] : [],
      );
  return () => (cached ??= list());
}

export async function applyPlan(
  job: MethodJob,
  deps: EngineDeps,
  ops: Op[],
  resources: Record<string, ManagedResource>,
  log: Logger,
  commit?: string,
): Promise<PlanOutcome> {
  const out: PlanOutcome = { resources, changed: 0, failures: [] };
  if (!ops.length) return out;
  const ctx = methodContext(deps, job.key.target, job.config, log, commit ? treeAt(job, commit) : undefined);
  await job.impl.prepare?.(ctx);
  const previousOf = async (op: Op): Promise<ManagedResource | undefined> =>
    op.previous ?? (op.old ? job.impl.identify(ctx, desiredFile(job, op.old)).catch(() => undefined) : undefined);

  const runOp = async (op: Op) => {
    try {
      const previous = await previousOf(op);
      if (op.op === "remove") {
        if (previous) await job.impl.remove(ctx, previous, op.relPath);
        else log.warn("deleted file managed nothing fetchit knows of; nothing to remove", { file: op.relPath });
        delete out.resources[op.relPath];
        out.changed++;
        return;
      }
      const res = await job.impl.apply(ctx, desiredFile(job, op.file), previous);
      if (op.fromRelPath && op.fromRelPath !== op.file.relPath) delete out.resources[op.fromRelPath];
      out.resources[op.file.relPath] = res.resource;
      if (res.changed) out.changed++;
    } catch (error) {
      out.failures.push({ file: op.op === "remove" ? (op.old?.path ?? op.relPath) : op.file.path, error });
    }
  };
  // Methods that bound their creates themselves run wide (stops wait on a timer); others in the small pool.
  const limit = job.impl.boundsHeavyWork ? (deps.stopConcurrency ?? STOP_CONCURRENCY) : (deps.concurrency ?? 4);
  for (const phase of ["remove", "create", "update"] as const) {
    await forEachLimited(ops.filter((o) => o.op === phase), limit, runOp);
  }
  if (job.impl.finish) {
    try {
      out.failures.push(...(await job.impl.finish(ctx)));
    } catch (error) {
      out.failures.push({ file: undefined, error });
    }
  }
  return out;
}
