/**
 * `fetchit run --demo`: a working setup with no network and no config. Creates
 * a local git repository from the embedded example files and a filetransfer
 * method that copies them into a demo directory every 5 seconds.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config/index.ts";
import type { FetchitConfig } from "../config/types.ts";
import { ConfigError, ExitError } from "../errors.ts";
import { hostExec } from "../host/exec.ts";
import { createHostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";
import appConf from "../../examples/repo/files/conf.d/app.conf" with { type: "text" };
import motd from "../../examples/repo/files/motd.txt" with { type: "text" };
import type { Env, GlobalOptions } from "./options.ts";

const FILES: Record<string, string> = { "files/motd.txt": motd, "files/conf.d/app.conf": appConf };
const GIT_ENV = { GIT_AUTHOR_NAME: "fetchit demo", GIT_AUTHOR_EMAIL: "demo@fetchit.invalid", GIT_COMMITTER_NAME: "fetchit demo", GIT_COMMITTER_EMAIL: "demo@fetchit.invalid" };

async function git(repo: string, ...args: string[]): Promise<void> {
  const r = await hostExec("git", ["-C", repo, ...args], { env: GIT_ENV });
  if (r.code !== 0) throw new ExitError(`demo: git ${args[0]} failed in ${repo}: ${r.stderr.trim()}`, 1);
}

/** Creates the demo repository once; later runs reuse it (and whatever you committed to it). */
async function ensureRepo(repo: string): Promise<boolean> {
  const fs = createHostFs();
  if (await fs.lstat(join(repo, ".git"))) return false;
  for (const [path, text] of Object.entries(FILES)) await fs.writeFileAtomic(join(repo, path), text);
  await git(repo, "init", "-q", "-b", "main");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-q", "-m", "Demo content for fetchit");
  return true;
}

export function demoConfigText(repo: string, out: string): string {
  return [
    "targetConfigs:",
    "  - name: demo",
    `    url: file://${repo}`,
    "    branch: main",
    "    filetransfer:",
    "      - name: files",
    "        targetPath: files",
    `        destinationDirectory: ${out}`,
    '        schedule: "*/5 * * * * *"',
    "",
  ].join("\n");
}

export async function prepareDemo(opts: GlobalOptions, env: Env, log: Logger) {
  const dir = opts.stateDir ?? join(env.TMPDIR || tmpdir(), "fetchit-demo");
  const repo = join(dir, "repo");
  const out = join(dir, "out");
  const created = await ensureRepo(repo);
  const parsed = parseConfig(demoConfigText(repo, out), "(demo config)");
  if (!parsed.config) throw new ConfigError("(demo config)", parsed.issues);
  log.info(created ? "demo repository created" : "reusing demo repository", { repo });
  log.info(`files under ${repo}/files are copied to ${out} every 5 s; edit, \`git -C ${repo} commit -am change\`, and watch. Ctrl-C stops.`);
  return { opts: { ...opts, stateDir: join(dir, "state") }, config: { config: parsed.config as FetchitConfig, file: "(demo config)" } };
}
