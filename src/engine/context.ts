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

export interface EngineDeps {
  podman: PodmanClient;
  fs: HostFs;
  exec: Exec;
  state: StateStore;
  log: Logger;
  /** Clock in ms (tests move it forward). */
  now?: () => number;
  /** Files of one commit applied at once; default 4. */
  concurrency?: number;
}

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
  return { target, config, podman: deps.podman, fs: deps.fs, exec: deps.exec, log, ensureImage, ...(tree ? { tree } : {}) };
}
