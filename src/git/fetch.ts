/**
 * Talking to the remote: `ls-remote` to learn the branch head cheaply, and a
 * single-branch (shallow when possible) fetch into `refs/fetchit/head`.
 * Failures become GitError with `retryable` telling network trouble apart
 * from problems that only a config change can fix.
 */
import { GitError, isLocal } from "../errors.ts";
import type { Logger } from "../log.ts";
import { hostProblemAdvice, isDamagedMessage } from "./local-failure.ts";
import { parseQuarantineRefs, QUARANTINE_PATTERN } from "./quarantine-refs.ts";
import { describeFailure, type GitRunner } from "./runner.ts";

/** Local ref holding the last fetched branch head. */
export const HEAD_REF = "refs/fetchit/head";

/** What the fetch helpers need to know about the remote. */
export interface RemoteRef {
  /** URL given to git (may carry credentials; never logged). */
  fetchUrl: string;
  /** URL without credentials, for messages. */
  displayUrl: string;
  branch: string;
  /** From the auth layer: a clearer message for an authentication failure (never holds secrets). */
  explain?: (detail: string) => string | undefined;
}

/** Failures no retry can fix: auth, missing repository or ref, forbidden transport. */
const PERMANENT = [
  /authentication failed/i,
  /could not read (username|password)/i,
  /terminal prompts disabled/i,
  /permission denied/i,
  /host key verification failed/i,
  /not found/i,
  /does not appear to be a git repository/i,
  /returned error: (400|401|403|404|410)/i,
  /unsupported protocol|transport '[^']*' not allowed|not supported/i,
  /couldn't find remote ref/i,
  /blocked by the environment guard|allowUnsafe/i,
];

/**
 * Wraps a failed remote operation: local (this host: a damaged clone, a full
 * disk, permissions in the state dir), else retryable unless the message
 * shows a permanent problem of the remote or the credentials.
 */
export function remoteError(what: string, remote: RemoteRef, err: unknown): GitError {
  const detail = describeFailure(err instanceof GitError && err.cause !== undefined ? err.cause : err);
  const advice = hostProblemAdvice(detail);
  const local = advice !== undefined || isDamagedMessage(detail);
  const retryable = local || !PERMANENT.some((re) => re.test(detail));
  const explained = retryable ? undefined : remote.explain?.(detail);
  const msg = `git ${what} ${remote.displayUrl} (branch ${remote.branch}) failed: ${explained ?? detail}${advice ? ` (${advice})` : ""}`;
  return new GitError(msg, { cause: err, retryable, local });
}

/**
 * One `ls-remote` a tick: the sha of `refs/heads/<branch>` (null when the
 * branch does not exist) and the commits other hosts quarantined
 * (`refs/fetchit/quarantine/<sha>`, fleets), in the same request.
 */
export async function lsRemote(git: GitRunner, remote: RemoteRef): Promise<{ head: string | null; quarantined: string[] }> {
  const ref = `refs/heads/${remote.branch}`;
  let out: string;
  try {
    out = await git.run(["ls-remote", "--", remote.fetchUrl, ref, QUARANTINE_PATTERN]);
  } catch (err) {
    throw remoteError("ls-remote", remote, err);
  }
  let head: string | null = null;
  for (const line of out.split("\n")) {
    const [sha, name] = line.split("\t");
    if (name?.trim() === ref && sha) head = sha.trim();
  }
  return { head, quarantined: parseQuarantineRefs(out) };
}

/** The sha of `refs/heads/<branch>` on the remote, or null when the branch does not exist. */
export async function lsRemoteHead(git: GitRunner, remote: RemoteRef): Promise<string | null> {
  return (await lsRemote(git, remote)).head;
}

/** The GitError for a branch the remote does not have. Not retryable. */
export function missingBranchError(remote: RemoteRef): GitError {
  return new GitError(`git: branch "${remote.branch}" not found in ${remote.displayUrl}`, { retryable: false });
}

/**
 * Fetches only `branch` into {@link HEAD_REF} (forced, so force pushes are
 * followed), shallow first and in full when the transport refuses depth.
 */
export async function fetchBranch(git: GitRunner, remote: RemoteRef, log: Logger): Promise<void> {
  const refspec = `+refs/heads/${remote.branch}:${HEAD_REF}`;
  // Not --quiet: what git prints is kept for the debug log and errors.
  const base = ["fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules"];
  try {
    await git.run([...base, "--depth=1", "--", remote.fetchUrl, refspec]);
    return;
  } catch (err) {
    // A stale shallow.lock or a full disk would make every fetch a full one, silently: report it instead.
    if (isLocal(err)) throw remoteError("fetch", remote, err);
    log.debug("shallow fetch failed, fetching in full", { url: remote.displayUrl, error: describeFailure(err) });
  }
  try {
    await git.run([...base, "--", remote.fetchUrl, refspec]);
  } catch (err) {
    throw remoteError("fetch", remote, err);
  }
}

/**
 * Fetches one commit by its sha (shallow, no ref written): a pinned commit
 * brought back after the clone was made again. Fails when the remote no
 * longer has it (rewritten history) or refuses requests by sha.
 */
export async function fetchCommit(git: GitRunner, remote: RemoteRef, sha: string): Promise<void> {
  try {
    await git.run(["fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", "--depth=1", "--", remote.fetchUrl, sha]);
  } catch (err) {
    throw remoteError(`fetch of commit ${sha.slice(0, 9)} from`, remote, err);
  }
}
