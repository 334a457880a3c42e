/**
 * What the engine needs from the outside world, and the per-apply context it
 * hands to a method.
 */
import type { CommonMethod } from "../config/types.ts";
import type { Exec } from "../host/exec.ts";
import type { HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";
import type { DesiredFile, MethodContext } from "../methods/index.ts";
import type { PodmanClient } from "../podman/index.ts";
import type { StateStore } from "../state/store.ts";
import { limiter } from "./pool.ts";

export interface EngineDeps {
  podman: PodmanClient;
  fs: HostFs;
  exec: Exec;
  state: StateStore;
  log: Logger;
  /** Clock in ms (tests move it forward). */
  now?: () => number;
  /** Creates and starts (heavy Podman work) at once per apply; default 4. */
  concurrency?: number;
  /** Files of one commit in flight at once for methods that bound their heavy work (stops wait on a timer); default STOP_CONCURRENCY. */
  stopConcurrency?: number;
}

/**
 * How many files of one apply may wait on a stop or removal at once (raw,
 * kube): replacing 50 containers that ignore SIGTERM waits about one stop
 * timeout (one wave) instead of fifty quarters of one. Creates stay at
 * `concurrency`. A waiting stop costs a socket and a timer here and a
 * goroutine in Podman (whose own pool, 3 × cores by default, may still queue
 * them: see docs/ownership.md).
 */
export const STOP_CONCURRENCY = 64;

/** A MethodContext whose ensureImage pulls each image at most once for this apply. */
export function methodContext<C extends CommonMethod>(
  deps: EngineDeps,
  target: string,
  config: C,
  log: Logger,
  tree?: () => Promise<DesiredFile[]>,
): MethodContext<C> {
  const pulls = new Map<string, Promise<void>>();
  const ensureImage = (image: string, alwaysPull: boolean): Promise<void> => {
    let p = pulls.get(image);
    if (!p) {
      p = (async () => {
        if (!alwaysPull && (await deps.podman.imageExists(image))) return;
        log.info("pulling image", { image });
        await deps.podman.pullImage(image);
      })();
      pulls.set(image, p);
    }
    return p;
  };
  const limitHeavy = limiter(deps.concurrency ?? 4);
  return { target, config, podman: deps.podman, fs: deps.fs, exec: deps.exec, log, ensureImage, limitHeavy, ...(tree ? { tree } : {}) };
}
