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
import { diffCommits, pathExistsAt } from "./diff.ts";
import { fetchBranch, HEAD_REF, lsRemote, missingBranchError, type RemoteRef } from "./fetch.ts";
import { pushQuarantineRef, readQuarantineNote } from "./quarantine-refs.ts";
import { blobSize, copyBlobTo, hasCommit, pinCommit, readBlob, readCommitInfo, streamBlob, unpinCommit } from "./objects.ts";
import { inClone, type CloneState } from "./repair.ts";
import { repoDirFor, stripUserinfo, toFetchUrl } from "./remote-url.ts";
import { createGitRunner, type GitRunner } from "./runner.ts";
import { resolveAccess } from "./auth-source.ts";
import type { AuthOrigin } from "./auth.ts";
import type { GitSource } from "./types.ts";
import { unshallow } from "./verify-history.ts";

export interface GitSourceOptions {
  /** Remote: `https://`, `http://`, `ssh://`, `git@host:path`, `file://` or a local path. May carry `user:pass@`. */
  url: string;
  branch: string;
  /** Parent of all bare clones, normally `<stateDir>/repos`. Created when missing. */
  cacheDir: string;
  log: Logger;
  /** A fetch begun less than this long ago is reused without asking the remote (methods of a target ticking together). Default 1000 ms. */
  reuseMs?: number;
  /** Kill a git command that stays silent this long. Default 300 000 ms. */
  timeoutMs?: number;
  /** GIT_SSH_COMMAND; default `ssh -o BatchMode=yes -o ConnectTimeout=30`. */
  sshCommand?: string;
  /** Credentials (target's gitAuth, else the global one) and where they are configured; see auth.ts. */
  auth?: AuthOrigin;
  /** Sees the (masked) arguments of every git command; tests count fetches with it. */
  trace?: (args: string[]) => void;
  /** Keep the whole history of the branch (no shallow fetch): commit signature verification walks it. */
  fullHistory?: boolean;
  /** Replaces the remote fetch: puts the head into HEAD_REF of `dir` and returns it (disconnected sources). */
  importHead?: (dir: string) => Promise<string>;
}

/** File in the bare clone naming its url (without credentials) and branch, for humans. */
export const ORIGIN_FILE = "origin.txt";

/** Fetch state shared by every source using the same directory (same url and branch). */
interface SharedState extends CloneState {
  /** Creation of the bare repository, shared so concurrent first calls create it once. */
  ready?: Promise<void>;
  initDone?: boolean;
  inflight?: Promise<string>;
  /** Whose credentials the fetch in flight uses: a source with other credentials waits for it, never joins it. */
  inflightBy?: string;
  /** The sha in HEAD_REF, once read or fetched (saves a rev-parse per tick). */
  localHead?: string;
  /** Commits named by refs/fetchit/quarantine/* at the last ls-remote (fleets). */
  quarantined?: ReadonlySet<string>;
}
const shared = new Map<string, SharedState>();

/** The last fetch result of one source, reused for `reuseMs` (several methods of a target ticking together). */
interface LastFetch {
  last?: { sha: string; at: number };
}

interface SourceContext {
  dir: string;
  remote: RemoteRef;
  log: Logger;
  state: SharedState;
  recent: LastFetch;
  /** A digest of the credentials this source fetches with (never the credentials themselves). */
  credentials: string;
  /** The runner, after the bare repository exists. */
  git(): Promise<GitRunner>;
  /** Fills a fresh clone again: the branch head (fetch or import); the repair restores pins after it. */
  refill(): Promise<string>;
  /** Where a repair fetches pinned commits from (none for imported sources). */
  pinsRemote?: RemoteRef;
}

/** Creates the source; nothing touches the disk or network until the first call. */
export function createGitSource(opts: GitSourceOptions): GitSource {
  const ctx = sourceContext(opts);
  const use =
    <A extends unknown[], R>(fn: (git: GitRunner, ...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      inClone(ctx, async () => fn(await ctx.git(), ...args));
  return {
    url: ctx.remote.displayUrl,
    branch: opts.branch,
    dir: ctx.dir,
    fetch: () => singleFlight(ctx.state, ctx.recent, opts.reuseMs ?? 1000, ctx.credentials, () => inClone(ctx, ctx.refill)),
    forget: () => {
      ctx.recent.last = undefined;
    },
    diff: use(diffCommits),
    pathExists: use(pathExistsAt),
    readBlob: use(readBlob),
    blobSize: use(blobSize),
    copyBlobTo: use(copyBlobTo),
    streamBlob: async function* (sha) {
      yield* streamBlob(await ctx.git(), sha);
    },
    commitInfo: use(readCommitInfo),
    hasCommit: use(hasCommitChecked(ctx)),
    pin: use(pinCommit),
    unpin: use(unpinCommit),
    quarantinedRemotely: () => ctx.state.quarantined ?? new Set(),
    ...(ctx.pinsRemote
      ? {
          reportQuarantine: async (commit: string, message: string) => pushQuarantineRef(await ctx.git(), ctx.remote, commit, message),
          quarantineNote: async (commit: string) => readQuarantineNote(await ctx.git(), ctx.remote, commit),
        }
      : {}),
  };
}

function sourceContext(opts: GitSourceOptions): SourceContext {
  const dir = repoDirFor(opts.cacheDir, opts.url, opts.branch);
  const remote: RemoteRef = { fetchUrl: toFetchUrl(opts.url), displayUrl: stripUserinfo(opts.url), branch: opts.branch };
  const log = opts.log.child({ url: remote.displayUrl, branch: opts.branch });
  const state = shared.get(dir) ?? {};
  shared.set(dir, state);
  const { timeoutMs, sshCommand, trace } = opts;
  const makeRunner = () => {
    const access = resolveAccess(opts, remote, log);
    return createGitRunner({ dir, gitDir: dir, timeoutMs, sshCommand: access.sshCommand ?? sshCommand, extraEnv: access.env, trace });
  };
  let runner: GitRunner | undefined;
  const recent: LastFetch = {};
  const git = async (): Promise<GitRunner> => {
    if (state.initDone && !existsSync(join(dir, "HEAD"))) {
      // The cache was deleted underneath us: create it again.
      state.ready = undefined;
      state.initDone = false;
      state.localHead = undefined;
    }
    state.ready ??= initRepo(dir, makeRunner, remote, log).then(
      () => void (state.initDone = true),
      (err: unknown) => {
        state.ready = undefined;
        throw err;
      },
    );
    await state.ready;
    return (runner ??= makeRunner());
  };
  const credentials = createHash("sha256").update(JSON.stringify(opts.auth?.auth ?? null)).digest("hex");
  const ctx: SourceContext = { dir, remote, log, state, recent, credentials, git, refill: () => Promise.resolve(""), pinsRemote: opts.importHead ? undefined : remote };
  ctx.refill = opts.importHead ? () => git().then(() => opts.importHead!(dir)) : () => fetchOnce(ctx, opts.fullHistory);
  return ctx;
}

/**
 * hasCommit, plus a damage check when the answer is no: the commit HEAD_REF
 * names was fetched by this process, so if it cannot be read either, objects
 * were lost underneath us (a repair follows in inClone).
 */
function hasCommitChecked(ctx: SourceContext) {
  return async (git: GitRunner, sha: string): Promise<boolean> => {
    if (await hasCommit(git, sha)) return true;
    const head = ctx.state.localHead;
    if (head && (head === sha || !(await hasCommit(git, head)))) {
      throw new GitError(`git: commit ${head} of ${HEAD_REF} is missing from the local clone: missing object`, { local: true });
    }
    return false;
  };
}

/** One round: ls-remote; fetch only when the remote head differs from the local one. */
async function fetchOnce(ctx: SourceContext, fullHistory = false): Promise<string> {
  const git = await ctx.git();
  const started = performance.now();
  const listed = await lsRemote(git, ctx.remote);
  const remoteSha = listed.head;
  ctx.state.quarantined = new Set(listed.quarantined);
  if (remoteSha === null) throw missingBranchError(ctx.remote);
  const local = (ctx.state.localHead ??= (await git.run(["rev-parse", "--verify", "-q", HEAD_REF]).catch(() => null))?.trim());
  if (local === remoteSha) {
    ctx.log.debug("git: branch unchanged", { commit: remoteSha, ms: elapsed(started) });
    return remoteSha;
  }
  await fetchBranch(git, ctx.remote, ctx.log);
  if (fullHistory) await unshallow(git, ctx.remote, ctx.dir);
  const head = (ctx.state.localHead = (await git.run(["rev-parse", "--verify", HEAD_REF])).trim());
  ctx.log.info("git: fetched", { from: local ?? "(none)", commit: head, ms: elapsed(started) });
  return head;
}

/**
 * Joins an in-flight fetch made with the same credentials, reuses a result
 * younger than `reuseMs`, or starts `run` (after an in-flight fetch made with
 * other credentials, so one repository never runs two fetches at once and no
 * target learns a head through another target's credentials).
 */
async function singleFlight(state: SharedState, recent: LastFetch, reuseMs: number, by: string, run: () => Promise<string>): Promise<string> {
  if (recent.last && Date.now() - recent.last.at < reuseMs) return recent.last.sha;
  while (state.inflight && state.inflightBy !== by) await state.inflight.catch(() => undefined);
  if (!state.inflight) {
    state.inflightBy = by;
    state.inflight = run().finally(() => {
      state.inflight = undefined;
    });
  }
  // Measured from when this call began, so a tick one schedule interval later always asks the remote again.
  const began = Date.now();
  return state.inflight.then((sha) => {
    recent.last = { sha, at: began };
    return sha;
  });
}

/** Makes `dir` a bare repository (recreating it when it holds something else) and labels it for humans. */
async function initRepo(dir: string, makeRunner: () => GitRunner, remote: RemoteRef, log: Logger): Promise<void> {
  await mkdir(dir, { recursive: true });
  const git = makeRunner();
  if ((await git.run(["rev-parse", "--is-bare-repository"]).catch(() => null))?.trim() === "true") return;
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

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
