/** Volume snapshots (snapshotVolumes): taken before a container or pod is replaced, restored on rollback. */
import type { Logger } from "../log.ts";
import type { Failure } from "./apply-plan.ts";
import type { EngineDeps } from "./context.ts";
import type { MethodJob } from "./run-method.ts";

export async function restoreSnapshots(_job: MethodJob, _deps: EngineDeps, _bad: string, _log: Logger): Promise<Failure[]> {
  return [];
}
