/** `fetchit run` (alias `start`): the daemon, until SIGTERM/SIGINT or `signal` aborts. */
import { Daemon } from "../daemon.ts";
import { reconcileRemoved } from "../engine/removed.ts";
import { lockStateDir } from "../state/lock.ts";
import { prepareDemo } from "./demo.ts";
import { loadRuntime, makeLogger, type Env, type GlobalOptions } from "./options.ts";

export interface RunOptions extends GlobalOptions {
  /** Run against a demo repository created from the embedded examples (works offline). */
  demo?: boolean;
}

export async function runCommand(opts: RunOptions, env: Env, signal?: AbortSignal): Promise<void> {
  const log = makeLogger(opts, env);
  const demo = opts.demo ? await prepareDemo(opts, env, log) : undefined;
  const rt = loadRuntime({ opts: demo?.opts ?? opts, env, log, config: demo?.config });
  const lock = lockStateDir(rt.stateDir, "fetchit run");
  try {
    const daemon = new Daemon(rt.config, rt.stateDir, rt.deps);
    await reconcileRemoved(daemon.jobs, rt.deps, rt.config.pruneRemovedMethods ?? false);
    daemon.start();
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      signal?.addEventListener("abort", done, { once: true });
      process.once("SIGTERM", done);
      process.once("SIGINT", done);
    });
    await daemon.stop();
  } finally {
    lock.release();
  }
}
