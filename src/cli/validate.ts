/** `fetchit validate`: load the config and print every problem (exit 1) or a summary (exit 0). */
import { homedir } from "node:os";
import { loadConfig } from "../config/index.ts";
import { METHOD_KINDS } from "../config/types.ts";
import { ConfigError } from "../errors.ts";
import { configSecretsWarning } from "../git/index.ts";
import type { Env, GlobalOptions } from "./options.ts";

export function validateCommand(opts: GlobalOptions, env: Env, print: (line: string) => void): number {
  try {
    const res = loadConfig({ flag: opts.config, env, uid: process.getuid?.() ?? 1000, home: env.HOME || homedir() });
    for (const w of res.warnings) print(`warning: ${w}`);
    const secrets = configSecretsWarning(res.file, res.config);
    if (secrets) print(`warning: ${secrets}`);
    const methods = res.config.targetConfigs.reduce((n, t) => n + METHOD_KINDS.reduce((m, k) => m + (t[k]?.length ?? 0), 0), 0);
    print(`${res.file}: valid (${res.config.targetConfigs.length} target(s), ${methods} method(s))`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      print(err.message);
      return 1;
    }
    throw err;
  }
}
