/**
 * `fetchit run` (alias `start`): the daemon, until SIGTERM/SIGINT or `signal`
 * aborts. SIGHUP re-reads the config: a valid one replaces the running
 * schedules, an invalid one is rejected and the running config stays.
 */
import type { FetchitConfig } from "../config/types.ts";
import { Daemon } from "../daemon.ts";
import { reconcileRemoved } from "../engine/removed.ts";
import { errorMessage } from "../errors.ts";
import { sdNotify } from "../host/notify.ts";
import { lockStateDir } from "../state/lock.ts";
import { prepareDemo } from "./demo.ts";
import { loadAndWarn, loadRuntime, makeLogger, type Env, type GlobalOptions, type Runtime } from "./options.ts";

export interface RunOptions extends GlobalOptions {
  /** Run against a demo repository created from the embedded examples (works offline). */
  demo?: boolean;
}

async function startDaemon(config: FetchitConfig, rt: Runtime, env: Env): Promise<Daemon> {
  const daemon = new Daemon(config, rt.stateDir, rt.deps);
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
  const rt = loadRuntime({ opts: demo?.opts ?? opts, env, log, config: demo?.config });
  const lock = lockStateDir(rt.stateDir, "fetchit run");
  let daemon: Daemon | undefined;
  let reloading = Promise.resolve();
  const reload = async () => {
    log.info("SIGHUP: reloading the config", { config: rt.configFile });
    sdNotify("RELOADING=1", env);
    if (demo) {
      sdNotify("READY=1", env);
      return log.info("the demo config is built in; nothing to reload");
    }
    let next: FetchitConfig;
    try {
      next = loadAndWarn(opts, env, process.getuid?.() ?? 1000, log).config;
    } catch (err) {
      sdNotify("READY=1\nSTATUS=config reload rejected; the previous config keeps running", env);
      return log.error("config reload rejected; the running config stays", { err: errorMessage(err) });
    }
    await daemon?.stop();
    daemon = await startDaemon(next, rt, env);
    log.info("config reloaded", { config: rt.configFile });
  };
  const onHup = () => void (reloading = reloading.then(reload));
  try {
    daemon = await startDaemon(rt.config, rt, env);
    process.on("SIGHUP", onHup);
    await untilStopped(signal);
    sdNotify("STOPPING=1", env);
    process.off("SIGHUP", onHup);
    await reloading;
    await daemon.stop();
  } finally {
    process.off("SIGHUP", onHup);
    lock.release();
  }
}
