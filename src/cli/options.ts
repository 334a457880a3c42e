/**
 * Global options shared by every command, and how they turn into a logger, a
 * state dir and the engine's dependencies.
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { loadConfig } from "../config/index.ts";
import type { FetchitConfig } from "../config/types.ts";
import type { EngineDeps } from "../engine/context.ts";
import { ExitError } from "../errors.ts";
import { configSecretsWarning } from "../git/index.ts";
import { hostExec } from "../host/exec.ts";
import { createHostFs } from "../host/fs.ts";
import { createLogger, isJournalStream, type LogFormat, type Logger, type LogLevel } from "../log.ts";
import { createPodmanClient, resolveSocketPath } from "../podman/index.ts";
import { createStateStore } from "../state/store.ts";

export interface GlobalOptions {
  config?: string;
  stateDir?: string;
  podmanSocket?: string;
  logLevel?: string;
  logFormat?: string;
}

export type Env = Record<string, string | undefined>;

const LEVELS = ["error", "warn", "info", "debug"];

/** Flags naming a path on this host (global ones and install's); `--podman-socket` only as a bare path (unix:// must be absolute). */
const PATH_FLAGS = ["config", "stateDir", "podmanSocket", "binary", "unitDir"] as const;

/**
 * Makes every path flag absolute against `cwd`, once, before any command
 * runs: git and other helpers run in other directories, and a reload or a
 * unit written by `install` must mean the same file later.
 */
export function resolvePathFlags(opts: Record<string, unknown>, cwd: string): void {
  for (const key of PATH_FLAGS) {
    const value = opts[key];
    if (typeof value !== "string" && typeof value !== "number") continue;
    const text = String(value).trim();
    // A URL (unix:///…) or a systemd specifier (%t/…, for the unit install writes) is not a relative path.
    if (text === "" || isAbsolute(text) || text.startsWith("%") || /^[a-z][a-z0-9+.-]*:\/\//i.test(text)) continue;
    opts[key] = resolve(cwd, text);
  }
}

/** Checks --log-level and --log-format (every command, so a typo is never silently ignored). */
export function checkGlobalOptions(opts: GlobalOptions): void {
  if (opts.logLevel !== undefined && !LEVELS.includes(opts.logLevel)) {
    throw new ExitError(`--log-level ${opts.logLevel}: expected one of ${LEVELS.join(", ")}`, 2);
  }
  if (opts.logFormat !== undefined && !["pretty", "json", "journal"].includes(opts.logFormat)) {
    throw new ExitError(`--log-format ${opts.logFormat}: expected pretty, json or journal`, 2);
  }
}

export function makeLogger(opts: GlobalOptions, env: Env, write?: (line: string) => void): Logger {
  checkGlobalOptions(opts);
  const level = (opts.logLevel ?? (env.FETCHIT_DEBUG ? "debug" : "info")) as LogLevel;
  // Under systemd with stderr on the journal: priority prefixes, no timestamps (journald adds its own).
  const format = opts.logFormat ?? (!write && isJournalStream(env) ? "journal" : "pretty");
  return createLogger({ level, format: format as LogFormat, write });
}

/** `--state-dir`, else /var/lib/fetchit for root, else $XDG_STATE_HOME/fetchit (~/.local/state/fetchit). */
export function defaultStateDir(opts: GlobalOptions, env: Env, uid: number): string {
  if (opts.stateDir) return opts.stateDir;
  if (uid === 0) return "/var/lib/fetchit";
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state"), "fetchit");
}

export interface Runtime {
  config: FetchitConfig;
  configFile: string;
  stateDir: string;
  deps: EngineDeps;
}

export interface RuntimeInputs {
  opts: GlobalOptions;
  env: Env;
  log: Logger;
  /** Use this config instead of discovering one (the demo). */
  config?: { config: FetchitConfig; file: string };
}

export function loadRuntime({ opts, env, log, config }: RuntimeInputs): Runtime {
  const uid = process.getuid?.() ?? 1000;
  const loaded = config ?? loadAndWarn(opts, env, uid, log);
  const stateDir = defaultStateDir(opts, env, uid);
  const fs = createHostFs();
  const podman = createPodmanClient(resolveSocketPath({ flag: opts.podmanSocket, env, uid }));
  return {
    config: loaded.config,
    configFile: loaded.file,
    stateDir,
    deps: { podman, fs, exec: hostExec, state: createStateStore(fs, stateDir, log), log },
  };
}

/** Discovers and loads the config, logging its warnings; throws ConfigError when it is invalid. */
export function loadAndWarn(opts: GlobalOptions, env: Env, uid: number, log: Logger) {
  const res = loadConfig({ flag: opts.config, env, uid, home: env.HOME || homedir() });
  for (const w of res.warnings) log.warn(w, { config: res.file });
  const secrets = configSecretsWarning(res.file, res.config);
  if (secrets) log.warn(secrets);
  log.info("config loaded", { config: res.file });
  return res;
}
