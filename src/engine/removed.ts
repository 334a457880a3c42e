/**
 * Methods that left the config (FetchIt issue #252): their state records stay
 * behind. With `pruneRemovedMethods: true` what they deployed is removed and the
 * record deleted; otherwise the operator is told what was left in place.
 */
import type { CommonMethod, MethodKind } from "../config/types.ts";
import { errorMessage } from "../errors.ts";
import { methods } from "../methods/index.ts";
import type { MethodState } from "../state/store.ts";
import { methodContext, type EngineDeps } from "./context.ts";
import type { MethodJob } from "./run-method.ts";

const keyOf = (k: { target: string; kind: string; method: string }) => `${k.target}\n${k.kind}\n${k.method}`;

/** State records of git methods that no job in `jobs` owns any more. */
export async function orphanedRecords(jobs: MethodJob[], deps: EngineDeps): Promise<MethodState[]> {
  const live = new Set(jobs.map((j) => keyOf(j.key)));
  return (await deps.state.list()).filter((st) => st.kind in methods && !live.has(keyOf(st)));
}

/** Removes what one orphaned record manages; keeps the record (with what is left) when something fails. */
async function removeOrphan(st: MethodState, deps: EngineDeps): Promise<void> {
  const log = deps.log.child({ target: st.target, method: `${st.kind}/${st.method}` });
  const impl = methods[st.kind as MethodKind]!;
  if (!st.config) {
    log.warn("method removed from the config, but its state has no config snapshot (written by an older fetchit); remove its resources by hand", {
      resources: Object.values(st.resources).map((r) => r.name),
    });
    return;
  }
  const ctx = methodContext(deps, st.target, st.config as unknown as CommonMethod, log);
  for (const [rel, res] of Object.entries(st.resources)) {
    try {
      await impl.remove(ctx, res, rel);
      delete st.resources[rel];
    } catch (err) {
      log.error("could not remove a resource of a removed method; will try again at the next start", { resource: res.name, err: errorMessage(err) });
    }
  }
  if (Object.keys(st.resources).length) return void (await deps.state.save(st));
  await deps.state.remove(st);
  log.info("removed method cleaned up: everything it deployed is gone");
}

/** Handles every orphaned record according to `prune`. */
export async function reconcileRemoved(jobs: MethodJob[], deps: EngineDeps, prune: boolean): Promise<void> {
  for (const st of await orphanedRecords(jobs, deps)) {
    const n = Object.keys(st.resources).length;
    if (!prune) {
      if (n) deps.log.warn(`${st.kind}/${st.method} of target ${st.target} is no longer in the config; the ${n} resource(s) it deployed stay in place (set pruneRemovedMethods: true to remove them)`);
      continue;
    }
    await removeOrphan(st, deps);
  }
}
