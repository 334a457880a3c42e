/**
 * A bad commit stopped fleet-wide through git itself: a host that quarantines
 * a commit pushes `refs/fetchit/quarantine/<sha>`, an annotated tag whose
 * message says which host, why and when. Every host lists those refs in the
 * `ls-remote` it already makes each tick (no extra request) and never applies
 * a commit named by one. Deleting the ref on the server releases the commit.
 */
import { hostname } from "node:os";
import { remoteError, type RemoteRef } from "./fetch.ts";
import type { GitRunner } from "./runner.ts";

export const QUARANTINE_PREFIX = "refs/fetchit/quarantine/";
/** The ls-remote pattern that lists them. */
export const QUARANTINE_PATTERN = `${QUARANTINE_PREFIX}*`;

/** Commit shas named by quarantine refs in `git ls-remote` output (full 40/64-hex names only). */
export function parseQuarantineRefs(lsRemoteOut: string): string[] {
  const out = new Set<string>();
  for (const line of lsRemoteOut.split("\n")) {
    const name = line.split("\t")[1]?.trim() ?? "";
    if (!name.startsWith(QUARANTINE_PREFIX) || name.endsWith("^{}")) continue;
    const sha = name.slice(QUARANTINE_PREFIX.length);
    if (/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha)) out.add(sha);
  }
  return [...out].sort();
}

/** What a host writes into the tag: who, why, when (one "key: value" a line, then the reason's detail). */
export function quarantineMessage(commit: string, reason: string, at: Date, host = hostname()): string {
  return `fetchit quarantined ${commit}\n\nhost: ${host}\nat: ${at.toISOString()}\nreason: ${reason.split("\n")[0]}\n\n${reason}\n`;
}

/**
 * Pushes `refs/fetchit/quarantine/<commit>` (an annotated tag object made in
 * the local clone, where `commit` is present). Needs credentials that may
 * push; a refusal is a retryable GitError naming the remote.
 */
export async function pushQuarantineRef(git: GitRunner, remote: RemoteRef, commit: string, message: string): Promise<void> {
  const local = `refs/fetchit/quarantine-out/${commit}`;
  const ident = ["-c", "user.name=fetchit", "-c", `user.email=fetchit@${hostname()}`];
  try {
    // `tag -F -` would need stdin; -m keeps the message out of any shell, and it holds no secret.
    await git.run([...ident, "tag", "-a", "-f", "-m", message, `quarantine-out-${commit}`, commit]);
    await git.run(["update-ref", local, `refs/tags/quarantine-out-${commit}`]);
    await git.run(["tag", "-d", `quarantine-out-${commit}`]);
    await git.run(["push", "--no-verify", "--", remote.fetchUrl, `+${local}:${QUARANTINE_PREFIX}${commit}`]);
  } catch (err) {
    throw remoteError("push (quarantine report)", remote, err);
  } finally {
    await git.tryRun(["update-ref", "-d", local]);
  }
}

/** The tag message of a quarantine ref pushed by another host ("" when the remote no longer has it). */
export async function readQuarantineNote(git: GitRunner, remote: RemoteRef, commit: string): Promise<string> {
  const ref = `${QUARANTINE_PREFIX}${commit}`;
  const fetched = await git.tryRun(["fetch", "--no-tags", "--no-write-fetch-head", "--", remote.fetchUrl, `+${ref}:${ref}`]);
  if (fetched === null) return "";
  const tag = (await git.tryRun(["cat-file", "tag", ref])) ?? "";
  const body = tag.indexOf("\n\n");
  return body >= 0 ? tag.slice(body + 2).trim() : "";
}
