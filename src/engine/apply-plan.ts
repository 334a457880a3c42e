/**
 * Executes a plan: removals, then creations, then updates, each phase with a
 * bounded pool (wide for methods that keep their creates in the small pool
 * themselves, see Method.boundsHeavyWork). Every failure is collected with
 * its file; one bad file never stops the others.
 */
import { MethodError } from "../errors.ts";
import { BlobTooLargeError } from "../git/index.ts";
import type { Logger } from "../log.ts";
import type { DesiredFile, Touched } from "../methods/index.ts";
import type { ManagedResource } from "../state/store.ts";
import { methodContext, STOP_CONCURRENCY, type EngineDeps } from "./context.ts";
import type { FileRef, Op } from "./plan.ts";
import { forEachLimited } from "./pool.ts";
import type { MethodJob } from "./run-method.ts";
import { renderedFile } from "./templates.ts";
import { checkOwnership, othersClaims } from "./ownership.ts";

export interface Failure {
  /** Repository path of the file, when the failure is about one file. */
  file: string | undefined;
  error: unknown;
}

export interface PlanOutcome {
  resources: Record<string, ManagedResource>;
  changed: number;
  failures: Failure[];
  /** Files whose apply created or replaced something (changed: true); removals are not in it. For the health gate. */
  touched: Touched[];
  /** When the last change happened (epoch ms; after `finish` when anything changed): the health window starts here. */
  lastChangeAt: number;
}

/** A file at a known blob of the job's git source: read whole (once, small files only) or streamed. */
export function desiredFile(job: MethodJob, ref: FileRef): Promise<DesiredFile> {
  let cached: Promise<Buffer> | undefined;
  const whole = () =>
    job.source.readBlob(ref.blob).catch((err: unknown) => {
      if (!(err instanceof BlobTooLargeError)) throw err;
      const mib = err.limit / 1024 / 1024;
      throw new MethodError(`is larger than ${mib} MiB, the most the ${job.impl.kind} method reads into memory; big files belong to filetransfer, which streams them`, ref.path);
    });
  const { source } = job;
  const file: DesiredFile = { ...ref, content: () => (cached ??= whole()), size: () => source.blobSize(ref.blob), stream: () => source.streamBlob(ref.blob), copyTo: (fd) => source.copyBlobTo(ref.blob, fd) };
  return renderedFile(file, job.context); // `.tmpl` files: rendered with the host's facts, labels and values
}

/** {@link MethodContext.tree} of `job` at `commit`: listed on first use, once. Symlinks and submodules are left out. */
export function treeAt(job: MethodJob, commit: string): () => Promise<DesiredFile[]> {
  let cached: Promise<DesiredFile[]> | undefined;
  const list = async () =>
    Promise.all(
      (await job.source.diff(null, commit, { targetPath: job.config.targetPath })).flatMap(({ relPath, path, blob, mode }) =>
        relPath && path && blob && (mode === "100644" || mode === "100755") ? [desiredFile(job, { relPath, path, blob, mode })] : [],
      ),
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
  const out: PlanOutcome = { resources, changed: 0, failures: [], touched: [], lastChangeAt: Date.now() };
  if (!ops.length) return out;
  const ctx = methodContext(deps, job.key.target, job.config, log, commit ? treeAt(job, commit) : undefined);
  await job.impl.prepare?.(ctx);
  let owned: Promise<Awaited<ReturnType<typeof othersClaims>>> | undefined;
  const previousOf = async (op: Op): Promise<ManagedResource | undefined> =>
    op.previous ?? (op.old ? desiredFile(job, op.old).then((f) => job.impl.identify(ctx, f)).catch(() => undefined) : undefined);

  const runOp = async (op: Op) => {
    try {
      const previous = await previousOf(op);
      if (op.op === "remove") {
        if (previous) await job.impl.remove(ctx, previous, op.relPath);
        else log.warn("deleted file managed nothing fetchit knows of; nothing to remove", { file: op.relPath });
        delete out.resources[op.relPath];
        out.changed++;
        out.lastChangeAt = Date.now();
        return;
      }
      const file = await desiredFile(job, op.file);
      await checkOwnership(job, ctx, file, await (owned ??= othersClaims(job, deps.state)));
      const res = await job.impl.apply(ctx, file, previous);
      if (op.fromRelPath && op.fromRelPath !== op.file.relPath) delete out.resources[op.fromRelPath];
      out.resources[op.file.relPath] = res.resource;
      if (res.changed) {
        out.changed++;
        out.touched.push({ relPath: op.file.relPath, path: op.file.path, resource: res.resource });
        out.lastChangeAt = Date.now();
      }
    } catch (error) {
      out.failures.push({ file: op.op === "remove" ? (op.old?.path ?? op.relPath) : op.file.path, error });
    }
  };
  if (job.impl.serial) {
    // One file at a time, in path order, new and changed alike.
    const pathOf = (o: Op) => (o.op === "remove" ? o.relPath : o.file.relPath);
    await forEachLimited([...ops].sort((a, b) => (pathOf(a) < pathOf(b) ? -1 : pathOf(a) > pathOf(b) ? 1 : 0)), 1, runOp);
  } else {
    // Methods that bound their creates themselves run wide (stops wait on a timer); others in the small pool.
    const limit = job.impl.boundsHeavyWork ? (deps.stopConcurrency ?? STOP_CONCURRENCY) : (deps.concurrency ?? 4);
    for (const phase of ["remove", "create", "update"] as const) await forEachLimited(ops.filter((o) => o.op === phase), limit, runOp);
  }
  if (job.impl.finish) {
    try {
      out.failures.push(...(await job.impl.finish(ctx)));
    } catch (error) {
      out.failures.push({ file: undefined, error });
    }
    if (out.changed) out.lastChangeAt = Date.now(); // units started or restarted by finish
  }
  return out;
}
