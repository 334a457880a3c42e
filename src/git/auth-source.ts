/**
 * The auth layer as the git source uses it: resolves the access for one
 * remote each time a runner is made, hands the failure explanation to the
 * remote, and logs (once, without secrets) what is in use.
 */
import { GitError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { gitAccess, type AuthOrigin, type GitAccess } from "./auth.ts";
import type { RemoteRef } from "./fetch.ts";

interface SourceAuthOptions {
  url: string;
  cacheDir: string;
  auth?: AuthOrigin;
}

const logged = new WeakSet<RemoteRef>();

/**
 * Access for `opts.url`; sets `remote.explain`.
 * @throws GitError naming the remote when the credentials cannot be used (unset envSecret, missing key).
 */
export function resolveAccess(opts: SourceAuthOptions, remote: RemoteRef, log: Logger): GitAccess {
  let access: GitAccess;
  try {
    access = gitAccess(opts.url, opts.auth ?? { where: "gitAuth" }, { helperDir: opts.cacheDir });
  } catch (err) {
    throw new GitError(`git ${remote.displayUrl} (branch ${remote.branch}): ${(err as Error).message}`, { cause: err, retryable: false });
  }
  remote.explain = access.explain;
  if (!logged.has(remote)) {
    logged.add(remote);
    if (access.describe) log.debug("git: using credentials", { credentials: access.describe });
    if (opts.auth?.auth?.ssh && opts.auth.auth.sshStrictHostKeyChecking === false) {
      log.warn(`git: ${opts.auth.where}.sshStrictHostKeyChecking is false: the server's host key is NOT verified (anyone on the network path can impersonate it)`);
    }
  }
  return access;
}
