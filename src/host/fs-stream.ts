/**
 * Files of any size without holding them in memory: an atomic write from a
 * stream of chunks (hashed and counted as it goes), a one-pass hash of a file
 * on disk (sha256 and git's blob id, so "unchanged?" never loads either
 * side), and the free space of a file system (statfs) for the checks made
 * before a big write. Paths here are absolute host paths (HostFs re-bases).
 */
import { createHash, randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import { dirname } from "node:path";
import { dropCache, startWriteback, STEP } from "./writeback.ts";

/** What {@link writeStreamAtomic} wrote. */
export interface StreamWritten {
  bytes: number;
  /** sha256 of what landed on disk, when asked for (`sha256: true`). */
  sha256?: string;
}

/** Options of {@link writeStreamAtomic}. */
export interface StreamWriteOptions {
  /** Default 0o644. */
  mode?: number;
  /** The announced length: content of another length is refused and nothing is replaced. */
  size?: number;
  /** Read the written file back (1 MiB pieces, one buffer) for its sha256. Default false. */
  sha256?: boolean;
}

/** A file's size, sha256, and git blob id (sha1 or sha256 object format, by `blobFormat`). */
export interface FileDigest {
  size: number;
  sha256: string;
  gitBlob: string;
}

/** Read size for hashing a file: big enough for speed, small against memory. */
const CHUNK = 1024 * 1024;

/** Files from this size on leave the page cache once on disk (a 2 GiB model would push out what services use). */
const DROP_CACHE_FROM = 64 * 1024 * 1024;

/** Thrown when the content had another length than announced; the old file stays. */
export class SizeMismatchError extends Error {}

/** Marks this process's temp files: another token is a process that died mid-write (fetchit writes a given file from one process). */
export const PROCESS_TOKEN = randomBytes(4).toString("hex");
/** `.fetchit-<process token><random>.tmp` after the file's name. */
export const TEMP_SUFFIX = /^\.fetchit-([0-9a-f]{8})[0-9a-f]{8}\.tmp$/;
/** The temp file next to `target` that an atomic write renames over it. */
export const tempPath = (target: string): string => `${target}.fetchit-${PROCESS_TOKEN}${randomBytes(4).toString("hex")}.tmp`;

/** Content for {@link writeStreamAtomic}: chunks, or a function that writes into an open file descriptor. */
export type StreamSource = AsyncIterable<Uint8Array> | ((fd: number) => Promise<void>);

/**
 * Writes `source` to a temp file next to `target` (created with parents),
 * counts what landed on disk (and hashes it when asked), fsyncs it (its
 * writeback started early, while it was written), sets the mode, renames it
 * over `target` and fsyncs the directory. On any failure
 * (ENOSPC included) the temp file is removed and `target` is untouched.
 */
export async function writeStreamAtomic(target: string, source: StreamSource, opts: StreamWriteOptions = {}): Promise<StreamWritten> {
  const mode = opts.mode ?? 0o644;
  await fsp.mkdir(dirname(target), { recursive: true });
  const tmp = tempPath(target);
  let written: StreamWritten;
  try {
    const fh = await fsp.open(tmp, "wx+", mode);
    // Big content (or content another process writes, of any size): the disk starts writing while it comes, so the fsync below has little left (writeback.ts).
    const writeback = typeof source === "function" || (opts.size ?? 0) >= STEP ? startWriteback(fh.fd) : undefined;
    try {
      try {
        if (typeof source === "function") await source(fh.fd);
        else for await (const chunk of source) for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      } finally {
        await writeback?.stop();
      }
      written = opts.sha256 ? await digestOpen(fh) : { bytes: (await fh.stat()).size };
      if (opts.size !== undefined && written.bytes !== opts.size) {
        throw new SizeMismatchError(`${target}: the content had ${written.bytes} bytes, not the announced ${opts.size}; nothing was replaced`);
      }
      await fh.sync();
      if (written.bytes >= DROP_CACHE_FROM) dropCache(fh.fd);
    } finally {
      await fh.close();
    }
    await fsp.chmod(tmp, mode);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(target));
  return written;
}

/** Byte count and sha256 of an open file, read from its start with one reused buffer. */
async function digestOpen(fh: fsp.FileHandle, extra?: ReturnType<typeof createHash>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, bytes);
    if (bytesRead === 0) break;
    const part = buf.subarray(0, bytesRead);
    hash.update(part);
    extra?.update(part);
    bytes += bytesRead;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * fsync of a directory: makes a rename in it durable. Without it, ext4 and
 * flash can come back from a power cut with the old entry or none at all.
 * Best effort: some file systems (e.g. some FUSE or 9p mounts) refuse it, and
 * a directory without read permission cannot be opened for it.
 */
export async function syncDir(dir: string): Promise<void> {
  let dh: fsp.FileHandle | undefined;
  try {
    dh = await fsp.open(dir, "r");
    await dh.sync();
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (!["EINVAL", "ENOTSUP", "EOPNOTSUPP", "EISDIR", "EBADF", "EACCES", "EPERM"].includes(code)) throw err;
  } finally {
    await dh?.close();
  }
}

/** sha256 and git blob id of the file at `path` in one streaming pass; null when it is missing. */
export async function hashFile(path: string, blobFormat: "sha1" | "sha256" = "sha1"): Promise<FileDigest | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, "r");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return null;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const blob = createHash(blobFormat).update(`blob ${size}\0`);
    const { bytes, sha256 } = await digestOpen(fh, blob);
    // A file that changed size while being read matches no blob.
    return { size: bytes, sha256, gitBlob: bytes === size ? blob.digest("hex") : "" };
  } finally {
    await fh.close();
  }
}

/**
 * Bytes an unprivileged writer may still use on the file system holding
 * `path` (the nearest existing ancestor when `path` does not exist yet).
 */
export async function freeSpace(path: string): Promise<number> {
  let p = path;
  for (;;) {
    try {
      const st = await fsp.statfs(p);
      return Number(st.bavail) * Number(st.bsize);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || p === dirname(p)) throw err;
      p = dirname(p);
    }
  }
}

/** A byte count for people: `300.0 MiB`. */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

/** Room kept free besides the file itself: 1 MiB plus 1 % of the file (metadata, journal, other writers). */
/** What to do when the state dir's file system is too full for what passes through it (downloads, unpacking). */
export const STATE_DIR_FULL_ADVICE = "Free space on that file system (it holds fetchit's state directory) or point --state-dir elsewhere";
export const spaceMargin = (bytes: number) => 1024 * 1024 + Math.ceil(bytes / 100);

/** Free bytes at `path` when they are fewer than `bytes` plus {@link spaceMargin}; undefined when there is room. */
export async function spaceShortfall(path: string, bytes: number): Promise<number | undefined> {
  const free = await freeSpace(path);
  return free < bytes + spaceMargin(bytes) ? free : undefined;
}

/** sha256 (hex) of the file at `path`, read with one reused 1 MiB buffer (no garbage per piece, whatever its size). */
export async function sha256OfFile(path: string): Promise<string> {
  const fh = await fsp.open(path, "r");
  try {
    return (await digestOpen(fh)).sha256;
  } finally {
    await fh.close();
  }
}
