/**
 * `fetchit run` (alias `start`): the daemon, until SIGTERM/SIGINT or `signal`
 * aborts. SIGHUP, edits of the config file and configReload swap a new
 * config in (src/reload/): unchanged methods keep running untouched; an
 * invalid config is rejected and the running config stays.
 */
import type { FetchitConfig } from "../config/types.ts";
import { Daemon } from "../daemon.ts";
import { reconcileRemoved } from "../engine/removed.ts";
import { sdNotify } from "../host/notify.ts";
import { startOperations, type Operations } from "../http/operations.ts";
import { attachRunHooks, startDaemonWatchdog } from "../notify/daemon-hooks.ts";
import { closeNotifier } from "../notify/index.ts";
import { lockStateDir } from "../state/lock.ts";
import type { ConfigReloader } from "../reload/reloader.ts";
import { prepareDemo } from "./demo.ts";
import { fetchInitialConfig, startReloader } from "./run-reload.ts";
import { loadRuntime, makeLogger, type Env, type GlobalOptions, type Runtime } from "./options.ts";

export interface RunOptions extends GlobalOptions {
  /** Run against a demo repository created from the embedded examples (works offline). */
  demo?: boolean;
  /** HTTP endpoint address (HOST:PORT or unix socket path); overrides `listen.address`. */
  listen?: string;
}

async function startDaemon(config: FetchitConfig, rt: Runtime, env: Env): Promise<Daemon> {
  const daemon = new Daemon(config, rt.stateDir, rt.deps);
  attachRunHooks(daemon, config, env, rt.deps.log);
  await reconcileRemoved(daemon.jobs, rt.deps, config.pruneRemovedMethods ?? false);
  daemon.start();
  // Type=notify: ready once the config is loaded and every method is scheduled.
  sdNotify(`READY=1\nSTATUS=running ${daemon.jobs.length} method(s) from ${rt.configFile}`, env);
  return daemon;
}

function untilStopped(signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    // Signal listeners do not keep the event loop alive: an idle daemon (no methods yet) would exit at once.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const done = () => {
      clearInterval(keepAlive);
      resolve();
    };
    signal?.addEventListener("abort", done, { once: true });
    process.once("SIGTERM", done);
    process.once("SIGINT", done);
  });
}

export async function runCommand(opts: RunOptions, env: Env, signal?: AbortSignal): Promise<void> {
  const log = makeLogger(opts, env);
  const demo = opts.demo ? await prepareDemo(opts, env, log) : undefined;
  if (!demo) await fetchInitialConfig(opts, env, log);
  const rt = loadRuntime({ opts: demo?.opts ?? opts, env, log, config: demo?.config });
  const lock = lockStateDir(rt.stateDir, "fetchit run");
  let daemon: Daemon | undefined;
  // SIGHUP, local file edits and configReload swap a new config in (src/reload/); the demo's config is built in.
  let reloader: ConfigReloader | undefined;
  const onHup = () => {
    if (reloader) return void reloader.reload();
    sdNotify("RELOADING=1", env);
    sdNotify("READY=1", env);
    log.info("SIGHUP: the demo config is built in; nothing to reload");
  };
  const stopWatchdog = startDaemonWatchdog(() => daemon, env, log);
  let ops: Operations | undefined;
  try {
    // status runtime file, metrics, and the HTTP endpoint (a bad --listen fails before anything runs)
    ops = startOperations({ config: rt.config, stateDir: rt.stateDir, fs: rt.deps.fs, log, env, listen: opts.listen, daemon: () => daemon });
    daemon = await startDaemon(rt.config, rt, env);
    ops.attach(daemon);
    if (!demo) reloader = startReloader(daemon, rt, env);
    process.on("SIGHUP", onHup);
    await untilStopped(signal);
    sdNotify("STOPPING=1", env);
    process.off("SIGHUP", onHup);
    await reloader?.stop();
    await daemon.stop();
    await closeNotifier();
  } finally {
    await ops?.stop();
    stopWatchdog();
    process.off("SIGHUP", onHup);
    lock.release();
  }
}
