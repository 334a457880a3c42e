/**
 * Self-heal: on a run with no new commit, ask the method which of the
 * resources it manages drifted (removed, stopped or replaced out of band) and
 * re-apply just those files from the applied commit. The state is not
 * rewritten: the resources are the same ones, recreated.
 */
import type { Logger } from "../log.ts";
import type { MethodState } from "../state/store.ts";
import { desiredFile, treeAt } from "./apply-plan.ts";
import { methodContext, type EngineDeps } from "./context.ts";
import type { MethodJob } from "./run-method.ts";

/** Whether self-heal applies to this job (method supports it and the entry did not turn it off). */
export function selfHealEnabled(job: MethodJob): boolean {
  if (!job.impl.drifted) return false;
  const opt = job.config.selfHeal;
  return typeof opt === "boolean" ? opt : (job.impl.selfHealDefault ?? false);
}

/** Repairs drift; returns how many files were re-applied. Failures are logged, never thrown. */
export async function healDrift(job: MethodJob, deps: EngineDeps, st: MethodState, log: Logger): Promise<number> {
  const applied = st.appliedCommit;
  if (!applied || !selfHealEnabled(job) || Object.keys(st.resources).length === 0) return 0;
  const ctx = methodContext(deps, job.key.target, job.config, log, treeAt(job, applied));
  let drifted: string[];
  try {
    drifted = await job.impl.drifted!(ctx, st.resources);
  } catch (err) {
    log.warn("drift check failed; will try again next run", { err });
    return 0;
  }
  if (!drifted.length) return 0;
  const filter = { targetPath: job.config.targetPath, glob: job.config.glob, extensions: job.impl.extensions };
  let files;
  try {
    // A damaged clone is cloned again inside these calls; only a failure of that reaches the catch.
    if (!(await job.source.hasCommit(applied))) {
      log.warn("drift found but the applied commit is missing from the local clone; it will be repaired by the next commit", { files: drifted });
      return 0;
    }
    files = new Map((await job.source.diff(null, applied, filter)).map((c) => [c.relPath, c]));
  } catch (err) {
    log.error("drift found but the applied commit cannot be read; will try again next run", { files: drifted, err });
    return 0;
  }
  let repaired = 0;
  for (const rel of drifted) {
    const c = files.get(rel);
    if (!c?.path || !c.blob) continue;
    try {
      await job.impl.apply(ctx, await desiredFile(job, { relPath: rel, path: c.path, blob: c.blob, mode: c.mode ?? "100644" }), st.resources[rel]);
      log.warn("drift repaired: recreated from the applied commit", { file: c.path, resource: st.resources[rel]?.name, commit: applied.slice(0, 9) });
      repaired++;
    } catch (err) {
      log.error("drift repair failed; will try again next run", { file: c.path, err });
    }
  }
  return repaired;
}
