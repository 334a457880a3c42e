/**
 * `fetchit facts [--json]`: the whole template context of this host: facts
 * (host.*), labels and values, as templates see them. Reads the config's
 * `host:` block when there is a config; without one, facts, FETCHIT_LABEL_*
 * and FETCHIT_VALUE_* and the default values file.
 */
import { homedir } from "node:os";
import { loadConfigFile, parseConfig, resolveConfigSource, type ParseResult } from "../config/index.ts";
import { ConfigError, formatIssue } from "../errors.ts";
import type { Env, GlobalOptions } from "./options.ts";

export interface FactsOptions extends GlobalOptions {
  json?: boolean;
}

export function factsCommand(opts: FactsOptions, env: Env, print: (line: string) => void): number {
  const uid = process.getuid?.() ?? 1000;
  const home = env.HOME || homedir();
  const parseOpts = { env, uid, home };
  let res: ParseResult;
  try {
    const source = resolveConfigSource({ flag: opts.config, env, uid, home });
    res = source.kind === "env" ? parseConfig(source.text, source.file, parseOpts) : loadConfigFile(source.file, undefined, parseOpts);
  } catch (err) {
    if (!(err instanceof ConfigError) || opts.config !== undefined) throw err;
    res = parseConfig("targetConfigs: []\n", "(no config)", parseOpts); // no config yet: facts, environment, default values file
  }
  const hostIssues = res.issues.filter((i) => i.path.startsWith("host"));
  for (const i of hostIssues) print(`error: ${res.file}: ${formatIssue(i)}`);
  const ctx = res.context!;
  if (opts.json) print(JSON.stringify(ctx, null, 2));
  else for (const line of flatten(ctx as unknown as Record<string, unknown>)) print(line);
  return hostIssues.length ? 1 : 0;
}

/** "host.os.id: debian" lines, sorted within each of host, labels, values. */
function flatten(obj: Record<string, unknown>, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length) out.push(...flatten(v as Record<string, unknown>, key));
    else out.push(`${key}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  }
  return out;
}
