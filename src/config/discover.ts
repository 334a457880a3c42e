/**
 * Where the config comes from, first match wins:
 * 1. `--config PATH` (must exist);
 * 2. `$FETCHIT_CONFIG` holding the YAML text itself (as FetchIt's container
 *    entrypoint does);
 * 3. `/etc/fetchit/config.yaml` when running as root;
 * 4. `~/.fetchit/config.yaml`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";

/** Inputs of config discovery; tests inject `exists`. */
export interface ConfigSourceOptions {
  /** Value of `--config`, if given. */
  flag?: string;
  /** Process environment (reads FETCHIT_CONFIG). */
  env: Record<string, string | undefined>;
  /** Effective user id; 0 also looks in /etc/fetchit. */
  uid: number;
  /** Home directory for ~/.fetchit/config.yaml; "" skips it. */
  home: string;
  /** File existence check. Default: fs.existsSync. */
  exists?: (path: string) => boolean;
}

/** A found config: a file path, or the YAML text from $FETCHIT_CONFIG. */
export type ConfigSource =
  | { kind: "file"; file: string }
  | { kind: "env"; file: "$FETCHIT_CONFIG"; text: string };

/** The system-wide config file read when running as root. */
export const SYSTEM_CONFIG_PATH = "/etc/fetchit/config.yaml";

/** The per-user config file under `home`. */
export function userConfigPath(home: string): string {
  return join(home, ".fetchit", "config.yaml");
}

/** Where a config downloaded at start ($FETCHIT_CONFIG_URL) goes: /etc/fetchit/config.yaml for root, else under `home`. */
export function defaultConfigPath(uid: number, home: string): string {
  return uid === 0 || !home ? SYSTEM_CONFIG_PATH : userConfigPath(home);
}

/** Finds the config; throws ConfigError naming every place tried when there is none. */
export function resolveConfigSource(opts: ConfigSourceOptions): ConfigSource {
  const exists = opts.exists ?? existsSync;
  if (opts.flag !== undefined) {
    if (exists(opts.flag)) return { kind: "file", file: opts.flag };
    throw new ConfigError(opts.flag, [{ path: "", message: `config file ${opts.flag} (given with --config) does not exist` }]);
  }
  const text = opts.env.FETCHIT_CONFIG;
  if (text !== undefined && text.trim() !== "") {
    if (/^[^\n:]*\.ya?ml\s*$/.test(text.trim())) {
      const message = `FETCHIT_CONFIG holds the YAML text itself, not a file name (got ${JSON.stringify(text.trim())}); pass the file with --config instead`;
      throw new ConfigError("$FETCHIT_CONFIG", [{ path: "", message }]);
    }
    return { kind: "env", file: "$FETCHIT_CONFIG", text };
  }
  const candidates = [...(opts.uid === 0 ? [SYSTEM_CONFIG_PATH] : []), ...(opts.home ? [userConfigPath(opts.home)] : [])];
  const found = candidates.find((p) => exists(p));
  if (found) return { kind: "file", file: found };
  throw new ConfigError("fetchit", [{ path: "", message: notFoundMessage(candidates, opts.home) }]);
}

function notFoundMessage(candidates: string[], home: string): string {
  const tried = ["--config PATH (not given)", "$FETCHIT_CONFIG (not set)", ...candidates.map((p) => `${p} (not found)`)];
  const create = candidates.at(-1) ?? (home ? userConfigPath(home) : SYSTEM_CONFIG_PATH);
  return `no config found; tried ${tried.join(", ")}. Fix: pass --config PATH, set FETCHIT_CONFIG to the YAML text, or create ${create}`;
}
