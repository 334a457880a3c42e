/**
 * The git source of one target: a bare clone per (url, branch) under the
 * cache directory, fetched cheaply (ls-remote first, single-flight, short
 * reuse window) and read only through git objects at exact commits.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GitError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { assertSha, diffCommits, pathExistsAt } from "./diff.ts";
import { fetchBranch, HEAD_REF, lsRemoteHead, missingBranchError, type RemoteRef } from "./fetch.ts";
import { repoDirFor, stripUserinfo, toFetchUrl } from "./remote-url.ts";
import { createGitRunner, type GitRunner } from "./runner.ts";
import type { CommitInfo, GitSource } from "./types.ts";

export interface GitSourceOptions {
  /** Remote: `https://`, `http://`, `ssh://`, `git@host:path`, `file://` or a local path. May carry `user:pass@`. */
  url: string;
  branch: string;
  /** Parent of all bare clones, normally `<stateDir>/repos`. Created when missing. */
  cacheDir: string;
  log: Logger;
  /** A fetch result younger than this is returned without asking the remote. Default 2000 ms. */
  reuseMs?: number;
  /** Kill a git command that stays silent this long. Default 300 000 ms. */
  timeoutMs?: number;
  /** GIT_SSH_COMMAND; default `ssh -o BatchMode=yes -o ConnectTimeout=30`. */
  sshCommand?: string;
  /** Sees the (masked) arguments of every git command; tests count fetches with it. */
  trace?: (args: string[]) => void;
}

/** File in the bare clone naming its url (without credentials) and branch, for humans. */
export const ORIGIN_FILE = "origin.txt";

/** Prefix of the refs that keep applied commits alive. */
export const PIN_PREFIX = "refs/fetchit/applied/";

/** Fetch state shared by every source using the same directory (same url and branch). */
interface SharedState {
  ready?: Promise<void>;
  inflight?: Promise<string>;
  last?: { sha: string; at: number };
}
const shared = new Map<string, SharedState>();

/** Creates the source; nothing touches the disk or network until the first call. */
export function createGitSource(opts: GitSourceOptions): GitSource {
  const dir = repoDirFor(opts.cacheDir, opts.url, opts.branch);
  const remote: RemoteRef = { fetchUrl: toFetchUrl(opts.url), displayUrl: stripUserinfo(opts.url), branch: opts.branch };
  const log = opts.log.child({ url: remote.displayUrl, branch: opts.branch });
  const state = shared.get(dir) ?? {};
  shared.set(dir, state);
  let runner: GitRunner | undefined;

  const git = async (): Promise<GitRunner> => {
    runner ??= await openRunner(dir, opts);
    state.ready ??= initRepo(runner, dir, remote, log).catch((err: unknown) => {
      state.ready = undefined;
      throw err;
    });
    await state.ready;
    return runner;
  };

  const fetchOnce = async (): Promise<string> => {
    const g = await git();
    const started = performance.now();
    const remoteSha = await lsRemoteHead(g, remote);
    if (remoteSha === null) throw missingBranchError(remote);
    const local = (await g.tryRun(["rev-parse", "--verify", HEAD_REF]))?.trim();
    if (local === remoteSha) {
      log.debug("git: branch unchanged", { commit: remoteSha, ms: elapsed(started) });
      return remoteSha;
    }
    await fetchBranch(g, remote, log);
    const head = (await g.run(["rev-parse", "--verify", HEAD_REF])).trim();
    log.info("git: fetched", { from: local ?? "(none)", commit: head, ms: elapsed(started) });
    return head;
  };

  return {
    url: remote.displayUrl,
    branch: opts.branch,
    dir,
    fetch: () => singleFlight(state, opts.reuseMs ?? 2000, fetchOnce),
    diff: async (from, to, filter) => diffCommits(await git(), from, to, filter),
    pathExists: async (commit, path) => pathExistsAt(await git(), commit, path),
    readBlob: async (sha) => {
      assertSha(sha, "blob");
      return (await git()).blob(sha);
    },
    commitInfo: async (sha) => readCommitInfo(await git(), sha),
    hasCommit: async (sha) => {
      assertSha(sha);
      return (await (await git()).tryRun(["cat-file", "-t", `${sha}^{commit}`]))?.trim() === "commit";
    },
    pin: async (name, sha) => {
      assertSha(sha);
      await (await git()).run(["update-ref", pinRef(name), sha]);
    },
    unpin: async (name) => {
      await (await git()).run(["update-ref", "-d", pinRef(name)]);
    },
  };
}

/** Joins an in-flight fetch, reuses a result younger than `reuseMs`, or starts `run`. */
function singleFlight(state: SharedState, reuseMs: number, run: () => Promise<string>): Promise<string> {
  if (state.inflight) return state.inflight;
  if (state.last && Date.now() - state.last.at < reuseMs) return Promise.resolve(state.last.sha);
  const p = run()
    .then((sha) => {
      state.last = { sha, at: Date.now() };
      return sha;
    })
    .finally(() => {
      state.inflight = undefined;
    });
  state.inflight = p;
  return p;
}

async function openRunner(dir: string, opts: GitSourceOptions): Promise<GitRunner> {
  await mkdir(dir, { recursive: true });
  return createGitRunner({ dir, gitDir: dir, timeoutMs: opts.timeoutMs, sshCommand: opts.sshCommand, trace: opts.trace });
}

/** Makes `dir` a bare repository (recreating it when it holds something else) and labels it for humans. */
async function initRepo(git: GitRunner, dir: string, remote: RemoteRef, log: Logger): Promise<void> {
  if ((await git.tryRun(["rev-parse", "--is-bare-repository"]))?.trim() === "true") return;
  if (existsSync(join(dir, "HEAD")) || existsSync(join(dir, "objects"))) {
    log.warn("git: cache directory is not a usable repository, recreating it", { dir });
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
  }
  await git.run(["init", "--bare"]);
  const label = `url=${remote.displayUrl}\nbranch=${remote.branch}\n`;
  await writeFile(join(dir, ORIGIN_FILE), `# fetchit cache of one remote branch (no credentials)\n${label}`);
  await writeFile(join(dir, "description"), `fetchit cache of ${remote.displayUrl} branch ${remote.branch}\n`);
}

async function readCommitInfo(git: GitRunner, sha: string): Promise<CommitInfo> {
  assertSha(sha);
  let out: string;
  try {
    out = await git.run(["log", "-1", "--no-show-signature", "--format=%H%x00%s%x00%cI", `${sha}^{commit}`, "--"]);
  } catch (err) {
    throw new GitError(`git: commit ${sha} not found locally: ${(err as Error).message}`, { cause: err });
  }
  const [full = sha, subject = "", date = ""] = out.trim().split("\0");
  return { sha: full, subject, date };
}

/**
 * `refs/fetchit/applied/<name>` with the name made a valid ref component.
 * A name that had to be changed gets a short hash so distinct names stay distinct.
 */
export function pinRef(name: string): string {
  const clean =
    name
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/\.{2,}/g, ".")
      .replace(/^[.-]+/, "")
      .replace(/(\.lock|\.)+$/i, "") || "_";
  if (clean === name) return PIN_PREFIX + clean;
  return `${PIN_PREFIX}${clean}-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
