/**
 * Reading and pinning objects of the local bare clone: blobs (binary-safe),
 * commit metadata, presence checks, and the refs that keep applied commits
 * alive after a force push rewrites the branch.
 */
import { createHash } from "node:crypto";
import { GitError } from "../errors.ts";
import { assertSha } from "./diff.ts";
import type { GitRunner } from "./runner.ts";
import type { CommitInfo } from "./types.ts";

/** Prefix of the refs that keep applied commits alive. */
export const PIN_PREFIX = "refs/fetchit/applied/";

/**
 * Largest blob read whole into memory (templates, units, specs, YAML). Bigger
 * blobs are refused, so a 1 GB file never lands in memory by accident; only
 * {@link streamBlob} reads them.
 */
export const MAX_WHOLE_BLOB = 32 * 1024 * 1024;

/** A blob over the size a whole read allows. */
export class BlobTooLargeError extends GitError {
  constructor(readonly sha: string, readonly limit: number) {
    super(`blob ${sha} is larger than ${limit} bytes, the most fetchit reads whole into memory`, { retryable: false });
  }
}

/** Size in bytes of blob `sha`, without reading it. */
export async function blobSize(git: GitRunner, sha: string): Promise<number> {
  assertSha(sha, "blob");
  // Not `${sha}^{blob}`: peeling parses the object, which hashes all of it (12 s for 300 MiB on a busy box).
  const out = (await git.run(["cat-file", "-s", sha])).trim();
  if (!/^\d+$/.test(out)) throw new GitError(`git cat-file -s ${sha}: unexpected answer ${JSON.stringify(out)}`);
  return Number(out);
}

/**
 * The bytes of blob `sha` in chunks as `git cat-file blob` writes them (pipe
 * sized, 64-256 KiB): memory stays bounded whatever the blob's size. Ends
 * with a GitError when git fails; stopping early ends git.
 */
export async function* streamBlob(git: GitRunner, sha: string): AsyncGenerator<Uint8Array> {
  assertSha(sha, "blob");
  const s = git.stream(["cat-file", "blob", sha]);
  let finished = false;
  try {
    for await (const chunk of s.stdout) yield chunk;
    finished = true;
  } finally {
    if (!finished) s.kill();
  }
  await s.done;
}

/** Writes blob `sha` into the open file `fd` (git writes it; nothing passes through this process). */
export async function copyBlobTo(git: GitRunner, sha: string, fd: number): Promise<void> {
  assertSha(sha, "blob");
  await git.toFile(["cat-file", "blob", sha], fd);
}

/** Exact bytes of blob `sha`; a {@link BlobTooLargeError} past `max` bytes (read stops there). */
export async function readBlob(git: GitRunner, sha: string, max = MAX_WHOLE_BLOB): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of streamBlob(git, sha)) {
    size += chunk.length;
    if (size > max) throw new BlobTooLargeError(sha, max);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** True when commit `sha` is in the local object store. */
export async function hasCommit(git: GitRunner, sha: string): Promise<boolean> {
  assertSha(sha);
  // `-t` rather than `-e`: one probe that prints the type, and fails like `-e` when the object is missing.
  return (await git.tryRun(["cat-file", "-t", `${sha}^{commit}`]))?.trim() === "commit";
}

/** Full sha, subject and committer date (strict ISO 8601) of a local commit. */
export async function readCommitInfo(git: GitRunner, sha: string): Promise<CommitInfo> {
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

/** Points `refs/fetchit/applied/<name>` at `sha` (which must be local). */
export async function pinCommit(git: GitRunner, name: string, sha: string): Promise<void> {
  assertSha(sha);
  await git.run(["update-ref", pinRef(name), sha]);
}

/** Deletes the pin `name`; no-op when absent. */
export async function unpinCommit(git: GitRunner, name: string): Promise<void> {
  await git.run(["update-ref", "-d", pinRef(name)]);
}

/**
 * `refs/fetchit/applied/<name>` with the name made one valid ref component.
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
