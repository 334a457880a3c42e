/**
 * Talking to the remote: `ls-remote` to learn the branch head cheaply, and a
 * single-branch (shallow when possible) fetch into `refs/fetchit/head`.
 * Failures become GitError with `retryable` telling network trouble apart
 * from problems that only a config change can fix.
 */
import { GitError } from "../errors.ts";
import type { Logger } from "../log.ts";
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

/** Wraps a failed remote operation; retryable unless the message shows a permanent problem. */
export function remoteError(what: string, remote: RemoteRef, err: unknown): GitError {
  const detail = describeFailure(err instanceof GitError && err.cause !== undefined ? err.cause : err);
  const retryable = !PERMANENT.some((re) => re.test(detail));
  const explained = retryable ? undefined : remote.explain?.(detail);
  const msg = `git ${what} ${remote.displayUrl} (branch ${remote.branch}) failed: ${explained ?? detail}`;
  return new GitError(msg, { cause: err, retryable });
}

/** The sha of `refs/heads/<branch>` on the remote, or null when the branch does not exist. */
export async function lsRemoteHead(git: GitRunner, remote: RemoteRef): Promise<string | null> {
  const ref = `refs/heads/${remote.branch}`;
  let out: string;
  try {
    out = await git.light(["ls-remote", "--", remote.fetchUrl, ref]);
  } catch (err) {
    throw remoteError("ls-remote", remote, err);
  }
  for (const line of out.split("\n")) {
    const [sha, name] = line.split("\t");
    if (name?.trim() === ref && sha) return sha.trim();
  }
  return null;
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
  // Not --quiet: simple-git waits 50 ms longer for commands that print nothing.
  const base = ["fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules"];
  try {
    await git.run([...base, "--depth=1", "--", remote.fetchUrl, refspec]);
    return;
  } catch (err) {
    log.debug("shallow fetch failed, fetching in full", { url: remote.displayUrl, error: describeFailure(err) });
  }
  try {
    await git.run([...base, "--", remote.fetchUrl, refspec]);
  } catch (err) {
    throw remoteError("fetch", remote, err);
  }
}
