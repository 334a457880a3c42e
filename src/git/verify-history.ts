/**
 * Full history for targets whose commits are verified: the git source fetches
 * shallow (depth 1) for speed, which leaves the commits between the last
 * applied one and the new head out of the clone; signature verification must
 * see every one of them, so the clone is deepened after each fetch.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HEAD_REF, remoteError, type RemoteRef } from "./fetch.ts";
import type { GitRunner } from "./runner.ts";

/** Fetches the rest of the branch history when the bare clone at `dir` is shallow; no-op otherwise. */
export async function unshallow(git: GitRunner, remote: RemoteRef, dir: string): Promise<void> {
  if (!existsSync(join(dir, "shallow"))) return;
  const refspec = `+refs/heads/${remote.branch}:${HEAD_REF}`;
  try {
    await git.run(["fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", "--unshallow", "--", remote.fetchUrl, refspec]);
  } catch (err) {
    throw remoteError("fetch --unshallow (full history for signature verification)", remote, err);
  }
}
