/**
 * Disconnected (air-gapped) sources: FetchIt's `disconnected: true` without
 * helper containers. The source is a git bundle, a zip or a tar(.gz) of a
 * repository (with `.git`) or of a plain file tree, or a directory (a
 * repository or a plain tree), found at an http(s) URL, a host path, or on
 * the mount point of a device the OS mounted. New content is detected by
 * content hash (conditional GET, then sha256; size+mtime first for files),
 * imported into the target's bare repository (disconnected-import.ts), and
 * from there the ordinary diff/delete/state path applies it. While the source
 * is absent the last imported content stays.
 */
import { mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { errorMessage, FetchitError, GitError, isRetryable } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  decodeFingerprint, encodeFingerprint, mountPointOf, probeFile, probeUrl, tempPath, type Fingerprint, type Probe,
} from "../tasks/image-source.ts";
import { artifactKind, extractArchive, gunzipLimited } from "./archive.ts";
import { DEFAULT_MAX_RATIO, type ArchiveLimits } from "./archive-limits.ts";
import { currentHead, findGitDir, importBundle, importRepository, importTree, neuterRepository, unwrapSingleDir } from "./disconnected-import.ts";
import { stripUserinfo } from "./remote-url.ts";
import { createGitSource } from "./source.ts";
import type { GitSource } from "./types.ts";

export interface DisconnectedSourceOptions {
  /** http(s) URL, `file://` URL or absolute host path; with `device`, a path relative to its mount point. */
  url?: string;
  /** Block device whose mount point (from /proc/mounts) holds the source; fetchit never mounts it. */
  device?: string;
  /** Branch to take from a bundle or repository; "" = its HEAD (or its only branch). */
  branch: string;
  /** Parent of the bare repositories, e.g. `<stateDir>/repos/disconnected`. */
  cacheDir: string;
  /** Downloads and extracted archives go here (removed after each import). */
  tmpDir: string;
  log: Logger;
  reuseMs?: number;
  /** /proc/mounts text (tests). */
  readMounts?: () => string;
  /** Archive bomb limits (`maxExtractedSize`, `maxCompressionRatio`); default: free space less a margin, 200:1. */
  limits?: ArchiveLimits;
}

/** The source cannot be looked at now (device not mounted, file or URL absent) and nothing was imported yet. */
export class SourceUnavailableError extends GitError {
  constructor(message: string) {
    super(message, { retryable: true });
  }
}

/** Next to the bare repository: the fingerprint of the imported artifact and the head it gave. */
const IMPORT_FILE = "fetchit-import.json";

interface Memory {
  failed?: { fp: Fingerprint; error: GitError };
  unavailable?: string;
}

type Where = { http: string } | { path: string } | { unavailable: string };

/** Human name of the source (credentials removed); also keys its cache directory. */
export function disconnectedLabel(o: Pick<DisconnectedSourceOptions, "url" | "device">): string {
  if (o.device) return o.url ? `${o.device}:${o.url}` : o.device;
  return stripUserinfo(o.url ?? "");
}

function locate(o: DisconnectedSourceOptions): Where {
  const url = o.url ?? "";
  if (/^https?:\/\//i.test(url)) return { http: url };
  const local = url.startsWith("file://") ? fileURLToPath(url) : url;
  if (!o.device || isAbsolute(local)) return { path: local };
  const mounts = (o.readMounts ?? (() => readFileSync("/proc/mounts", "utf8")))();
  const mount = mountPointOf(o.device, mounts);
  if (!mount) return { unavailable: `device ${o.device} is not mounted (fetchit does not mount devices; let the OS do it: fstab, a systemd .mount unit or udisks)` };
  return { path: local ? join(mount, local) : mount };
}

/** Creates the source; the bare repository is the ordinary git source's, keyed on the label. */
export function createDisconnectedSource(o: DisconnectedSourceOptions): GitSource {
  const label = disconnectedLabel(o);
  const log = o.log.child({ source: label });
  const memory: Memory = {};
  return createGitSource({ url: label, branch: o.branch, cacheDir: o.cacheDir, log: o.log, reuseMs: o.reuseMs, importHead: (dir) => importOnce(dir, o, `disconnected source ${label}`, memory, log) });
}

async function importOnce(repo: string, o: DisconnectedSourceOptions, label: string, memory: Memory, log: Logger): Promise<string> {
  const where = locate(o);
  if ("unavailable" in where) return unavailable(repo, where.unavailable, memory, log);
  const head = await currentHead(repo);
  const saved = await readImport(repo);
  const known = { loaded: saved && saved.head === head ? decodeFingerprint(saved.fingerprint) : undefined, failed: memory.failed?.fp };
  let probe: Probe;
  if ("http" in where) probe = await probeUrl(where.http, known, o.tmpDir).catch((err: unknown) => Promise.reject(wrap(label, err)));
  else {
    const dir = await isDirectory(where.path);
    if (dir === undefined) return unavailable(repo, `${where.path} does not exist`, memory, log);
    if (dir) return available(await importDirectory(repo, where.path, o.branch, label), head, memory, log);
    probe = await probeFile(where.path, known);
  }
  if (probe.kind === "unavailable") return unavailable(repo, probe.reason, memory, log);
  if (probe.kind === "same" && probe.as === "failed" && memory.failed) throw memory.failed.error;
  if (probe.kind === "same" && head) {
    // Same bytes with a new mtime or new validators: remember them, so the next look is cheap again.
    const fingerprint = encodeFingerprint(probe.fp);
    if (saved && saved.fingerprint !== fingerprint) await writeImport(repo, { fingerprint, head });
    return available(head, head, memory, log);
  }
  const file = probe.kind === "new" ? probe.file : (where as { path: string }).path;
  try {
    const sha = await importFile(repo, file, o, label);
    await writeImport(repo, { fingerprint: encodeFingerprint(probe.fp), head: sha });
    memory.failed = undefined;
    return available(sha, head, memory, log);
  } catch (err) {
    const error = wrap(label, err);
    if (!isRetryable(error)) memory.failed = { fp: probe.fp, error }; // a host problem (full state dir) is never remembered as a bad archive
    throw error;
  } finally {
    if (probe.kind === "new" && probe.temp) await rm(probe.file, { force: true });
  }
}

function available(sha: string, before: string | undefined, memory: Memory, log: Logger): string {
  if (memory.unavailable) log.info("disconnected source available again");
  memory.unavailable = undefined;
  if (sha !== before) log.info("disconnected source imported", { from: before ?? "(none)", commit: sha });
  return sha;
}

/** Absent source: keep the last import (logged once per reason), or wait when nothing was imported yet. */
async function unavailable(repo: string, reason: string, memory: Memory, log: Logger): Promise<string> {
  const head = await currentHead(repo);
  const repeated = memory.unavailable === reason;
  memory.unavailable = reason;
  const msg = head ? "disconnected source unavailable; keeping the content imported before" : "disconnected source unavailable; nothing imported yet, waiting for it";
  if (repeated) log.debug(msg, { reason });
  else log.warn(msg, { reason });
  if (head) return head;
  throw new SourceUnavailableError(`disconnected source unavailable: ${reason}; waiting for it (nothing imported yet)`);
}

function wrap(label: string, err: unknown): GitError {
  if (err instanceof GitError && err.message.startsWith(label)) return err;
  const msg = errorMessage(err).replace(/^image archive /, "");
  return new GitError(`${label}: ${msg}`, { cause: err, retryable: isRetryable(err), local: err instanceof FetchitError && err.local });
}

async function isDirectory(path: string): Promise<boolean | undefined> {
  return stat(path).then((s) => s.isDirectory(), () => undefined);
}

/** A directory: a repository is fetched from (git decides what changed); a plain tree is committed. */
async function importDirectory(repo: string, dir: string, branch: string, label: string): Promise<string> {
  const gitDir = findGitDir(dir);
  if (gitDir) return importRepository(repo, gitDir, branch, label);
  return importTree(repo, dir, join(repo, "fetchit-tree.index"), label);
}

/** `fetchit` for `…/fetchit.zip`, `x` for `x.tar.gz`: the directory FetchIt joins the entries to. */
export function archiveBaseName(url: string): string {
  const path = /^[a-z]+:\/\//i.test(url) ? new URL(url).pathname : url;
  const name = decodeURIComponent(path.replace(/\/+$/, "").split("/").pop() ?? "");
  return name.replace(/\.(tar\.gz|tgz|tar|zip|gz)$/i, "");
}

/** A file: bundle, zip, tar or tar.gz, by its first bytes. */
async function importFile(repo: string, file: string, o: DisconnectedSourceOptions, label: string): Promise<string> {
  let kind = await artifactKind(file);
  if (kind === "bundle") return importBundle(repo, file, o.branch, label);
  const limits = o.limits ?? { maxRatio: DEFAULT_MAX_RATIO };
  let archive = file;
  if (kind === "gzip") {
    archive = await tempPath(o.tmpDir, "gunzip");
    try {
      await gunzipLimited(file, archive, label, limits);
      kind = await artifactKind(archive);
    } catch (err) {
      await rm(archive, { force: true });
      throw err;
    }
    if (kind !== "tar") {
      await rm(archive, { force: true });
      throw new GitError(`${label}: a gzip file that does not hold a tar archive; expected a git bundle, zip, tar or tar.gz`);
    }
  }
  if (kind !== "zip" && kind !== "tar") throw new GitError(`${label}: not a git bundle, zip, tar or tar.gz file (judged by its content, not its name)`);
  const dest = await mkdtemp(await tempPath(o.tmpDir, "extract"));
  try {
    await extractArchive(archive, kind, dest, label, { limits, base: archiveBaseName(o.url ?? "") });
    const root = await unwrapSingleDir(dest);
    const gitDir = findGitDir(root);
    if (!gitDir) return await importTree(repo, root, `${dest}.index`, label);
    await neuterRepository(gitDir);
    return await importRepository(repo, gitDir, o.branch, label);
  } finally {
    if (archive !== file) await rm(archive, { force: true });
    await rm(dest, { recursive: true, force: true });
    await rm(`${dest}.index`, { force: true });
  }
}

async function readImport(repo: string): Promise<{ fingerprint: string; head: string } | undefined> {
  try {
    const v = JSON.parse(await readFile(join(repo, IMPORT_FILE), "utf8")) as { fingerprint?: unknown; head?: unknown };
    return typeof v.fingerprint === "string" && typeof v.head === "string" ? { fingerprint: v.fingerprint, head: v.head } : undefined;
  } catch {
    return undefined;
  }
}

/** Written after HEAD_REF moved: a crash before it only costs a re-import of the same content. */
async function writeImport(repo: string, v: { fingerprint: string; head: string }): Promise<void> {
  const tmp = join(repo, `${IMPORT_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(v) + "\n");
  await rename(tmp, join(repo, IMPORT_FILE));
}
