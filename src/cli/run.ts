/**
 * `fetchit run` (alias `start`): the daemon, until SIGTERM/SIGINT or `signal`
 * aborts. SIGHUP, edits of the config file and configReload swap a new
 * config in (src/reload/): unchanged methods keep running untouched; an
 * invalid config is rejected and the running config stays. A stop at any
 * moment of start-up (the handlers are in from the first instant, see
 * src/signals.ts) skips what has not begun, lets what is in flight finish
 * and save its state, and exits 0.
 */
import { homedir } from "node:os";
import { resolveConfigSource } from "../config/index.ts";
import type { FetchitConfig } from "../config/types.ts";
import { Daemon } from "../daemon.ts";
import { reconcileRemoved } from "../engine/removed.ts";
import { createHostFs } from "../host/fs.ts";
import { sdNotify } from "../host/notify.ts";
import type { Logger } from "../log.ts";
import { startOperations, type Operations } from "../http/operations.ts";
import { attachRunHooks, startDaemonWatchdog } from "../notify/daemon-hooks.ts";
import { closeNotifier } from "../notify/index.ts";
import { setAsideDamagedRuntime } from "../engine/runtime-file.ts";
import { hangupCount, onHangup, stopRequested } from "../signals.ts";
import { clearLeftovers, lockStateDir } from "../state/lock.ts";
import { recoverConfigFile } from "../reload/config-file.ts";
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

async function startDaemon(config: FetchitConfig, rt: Runtime, env: Env, stop: AbortSignal): Promise<Daemon> {
  const daemon = new Daemon(config, rt.stateDir, rt.deps);
  attachRunHooks(daemon, config, env, rt.deps.log);
  await reconcileRemoved(daemon.jobs, rt.deps, config.pruneRemovedMethods ?? false);
  if (stop.aborted) return daemon; // stopped during start-up: schedule nothing
  daemon.start();
  // Type=notify: ready once the config is loaded and every method is scheduled.
  sdNotify(`READY=1\nSTATUS=running ${daemon.jobs.length} method(s) from ${rt.configFile}`, env);
  return daemon;
}

/** A config file a power cut zeroed is restored from its backup (src/reload/config-file.ts). */
async function recoverConfig(opts: GlobalOptions, env: Env, log: Logger): Promise<void> {
  let source;
  try {
    source = resolveConfigSource({ flag: opts.config, env, uid: process.getuid?.() ?? 1000, home: env.HOME || homedir() });
  } catch {
    return; // no config: loadRuntime says so
  }
  if (source.kind === "file") await recoverConfigFile(createHostFs(), source.file, log);
}

function untilStopped(stop: AbortSignal): Promise<void> {
  if (stop.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    // Signal listeners do not keep the event loop alive: an idle daemon (no methods yet) would exit at once.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    stop.addEventListener("abort", () => (clearInterval(keepAlive), resolve()), { once: true });
  });
}

/** Why `stop` aborted: the signal's name, or "stop requested". */
const reasonOf = (stop: AbortSignal) => (typeof stop.reason === "string" ? stop.reason : "stop requested");

/** The config (demo, initial download, a zeroed file restored) and the runtime; undefined when stopped first. */
async function prepare(opts: RunOptions, env: Env, log: Logger, stop: AbortSignal): Promise<{ rt: Runtime; demo: boolean } | undefined> {
  const demo = opts.demo ? await prepareDemo(opts, env, log) : undefined;
  if (!demo && !stop.aborted) await fetchInitialConfig(opts, env, log);
  if (stop.aborted) return undefined;
  if (!demo) await recoverConfig(opts, env, log);
  return { rt: loadRuntime({ opts: demo?.opts ?? opts, env, log, config: demo?.config }), demo: !!demo };
}

export async function runCommand(opts: RunOptions, env: Env, signal?: AbortSignal): Promise<void> {
  const stop = signal ? AbortSignal.any([signal, stopRequested]) : stopRequested;
  const log = makeLogger(opts, env);
  const prepared = await prepare(opts, env, log, stop);
  if (!prepared) return log.info(`${reasonOf(stop)}: stopped before start-up; nothing was running`);
  const { rt, demo } = prepared;
  const hangupsAtLoad = hangupCount();
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
  let offHup = () => {};
  const stopWatchdog = startDaemonWatchdog(() => daemon, env, log);
  let ops: Operations | undefined;
  try {
    await setAsideDamagedRuntime(rt.deps.fs, rt.stateDir, log);
    await clearLeftovers(rt.stateDir, log);
    // status runtime file, metrics, and the HTTP endpoint (a bad --listen fails before anything runs)
    ops = startOperations({ config: rt.config, stateDir: rt.stateDir, fs: rt.deps.fs, log, env, listen: opts.listen, daemon: () => daemon });
    daemon = await startDaemon(rt.config, rt, env, stop);
    ops.attach(daemon);
    if (!demo && !stop.aborted) reloader = startReloader(daemon, rt, env);
    offHup = onHangup(onHup);
    if (hangupCount() !== hangupsAtLoad && !stop.aborted) onHup(); // a SIGHUP that came during start-up
    await untilStopped(stop);
    log.info(`${reasonOf(stop)}: stopping`);
    sdNotify("STOPPING=1", env);
    offHup();
    await reloader?.stop();
    await daemon.stop();
    await closeNotifier();
  } finally {
    await ops?.stop();
    stopWatchdog();
    offHup();
    lock.release();
  }
}
