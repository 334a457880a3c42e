/**
 * `fetchit run`'s config reload wiring: the initial download from
 * $FETCHIT_CONFIG_URL before the config is loaded, and the ConfigReloader
 * that swaps reloaded configs into the running daemon.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import type { Daemon } from "../daemon.ts";
import { createHostFs } from "../host/fs.ts";
import { sdNotify } from "../host/notify.ts";
import type { Logger } from "../log.ts";
import { installNotifier, notifyEvent } from "../notify/index.ts";
import { ENV_CONFIG } from "../reload/config-file.ts";
import { downloadInitialConfig } from "../reload/initial.ts";
import { ConfigReloader } from "../reload/reloader.ts";
import type { Env, GlobalOptions, Runtime } from "./options.ts";

/** Without any local config, saves $FETCHIT_CONFIG_URL's config where discovery finds it (FetchIt's start). */
export async function fetchInitialConfig(opts: GlobalOptions, env: Env, log: Logger): Promise<void> {
  await downloadInitialConfig({ flag: opts.config, env, uid: process.getuid?.() ?? 1000, home: env.HOME || homedir(), fs: createHostFs(), log });
}

/** Starts watching for config changes (SIGHUP goes through `reload()`); each valid one is swapped into `daemon`. */
export function startReloader(daemon: Daemon, rt: Runtime, env: Env): ConfigReloader {
  const { fs, log } = rt.deps;
  // synchronous on purpose: `run` installs its SIGTERM handler right after, with no await in between
  const text = rt.configFile === ENV_CONFIG ? env.FETCHIT_CONFIG : readText(rt.configFile);
  const reloader = new ConfigReloader({
    file: rt.configFile,
    text,
    config: rt.config,
    stateDir: rt.stateDir,
    env,
    log,
    fs,
    apply: async (next) => {
      const diff = await daemon.swap(next);
      installNotifier(next, log, env);
      return diff;
    },
    notify: (state) => sdNotify(state, env),
    onReject: (why) => notifyEvent({ event: "config-reload-rejected", summary: `${rt.configFile}: ${why.split("\n").slice(0, 3).join("; ")}` }),
  });
  reloader.start();
  return reloader;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
