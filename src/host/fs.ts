/**
 * The host filesystem port. Methods and the state store never import node:fs;
 * they get a HostFs. `root` re-bases every absolute path (tests point it at a
 * temp dir; OSTree layouts can use it too).
 */
import { createHash, randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { hostFileError } from "../errors.ts";
import { hashFile, PROCESS_TOKEN, spaceShortfall, syncDir, TEMP_SUFFIX, writeStreamAtomic, type FileDigest, type StreamSource, type StreamWriteOptions, type StreamWritten } from "./fs-stream.ts";

export type { FileDigest, StreamSource, StreamWriteOptions, StreamWritten } from "./fs-stream.ts";

export interface FileStat {
  kind: "file" | "dir" | "symlink" | "other";
  size: number;
  mode: number;
}

export interface HostFs {
  /** The absolute host path for `path` (after re-basing on the root). */
  resolve(path: string): string;
  readFile(path: string): Promise<Buffer | null>;
  /** temp file in the same directory + fsync + rename + fsync of the directory; creates parent directories. */
  writeFileAtomic(path: string, data: Uint8Array | string, mode?: number): Promise<void>;
  /** rename within one directory, then fsync of that directory (the new name survives a power cut); false when `from` is missing. */
  renameDurable(from: string, to: string): Promise<boolean>;
  /** lstat: symlinks are reported as such, never followed. null when missing. */
  lstat(path: string): Promise<FileStat | null>;
  mkdirp(path: string, mode?: number): Promise<void>;
  /** Removes a file; false when it did not exist. */
  remove(path: string): Promise<boolean>;
  /** Removes a directory if empty; false otherwise. */
  removeEmptyDir(path: string): Promise<boolean>;
  readDir(path: string): Promise<string[]>;
  /**
   * Like writeFileAtomic for content of any size: chunks (or a writer given
   * the temp file's descriptor) go to a temp file, counted (and hashed when
   * asked) from the disk, fsync, rename, fsync of the directory. With
   * `size`, content of another length is refused; on any failure the old
   * file stays.
   */
  writeStreamAtomic(path: string, source: StreamSource, opts?: StreamWriteOptions): Promise<StreamWritten>;
  /** sha256 and git blob id of a file, read once in chunks; null when missing. */
  hashFile(path: string, blobFormat?: "sha1" | "sha256"): Promise<FileDigest | null>;
  /** Free bytes at `path` when fewer than `bytes` plus a margin are free; undefined when there is room. */
  spaceShortfall(path: string, bytes: number): Promise<number | undefined>;
}

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === "object" && err !== null && codes.includes((err as { code?: string }).code ?? "");
}



/**
 * Removes `<target>.fetchit-<token><rand>.tmp` siblings that other processes
 * left (a kill -9 or power cut between the temp write and the rename), so no
 * orphan file outlives the next write of the same file. Best effort.
 */
async function removeStaleTemps(target: string): Promise<void> {
  const base = basename(target);
  const names = await fsp.readdir(dirname(target)).catch(() => [] as string[]);
  for (const n of names) {
    const token = n.startsWith(base) ? TEMP_SUFFIX.exec(n.slice(base.length))?.[1] : undefined;
    if (token && token !== PROCESS_TOKEN) await fsp.rm(join(dirname(target), n), { force: true }).catch(() => {});
  }
}

/**
 * Removes what killed processes left in a scratch directory (`<stateDir>/tmp`:
 * image downloads, unpacked archives): every entry not modified for
 * `olderThanMs`. Called by the lock holder at its start, so nothing of its own
 * is there yet; the age spares a `fetchit plan` writing there at that moment.
 * Returns how many entries went.
 */
export async function removeLeftovers(dir: string, olderThanMs = 60_000): Promise<number> {
  let removed = 0;
  for (const n of await fsp.readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, n);
    const st = await fsp.lstat(p).catch(() => null);
    if (!st || Date.now() - st.mtimeMs < olderThanMs) continue;
    await fsp.rm(p, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** `<path>.corrupt-<UTC time>`, e.g. `x.json.corrupt-20260101T120000Z`. */
export function corruptName(path: string, now = new Date()): string {
  return `${path}.corrupt-${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "")}`;
}

/**
 * Moves a damaged record aside (what a power cut leaves: empty, truncated,
 * unparsable) so the next start reads none and starts afresh; the directory
 * is fsynced. Returns the new path, or null when another process moved it first.
 */
export async function moveAsideCorrupt(fs: HostFs, path: string): Promise<string | null> {
  let to = corruptName(path);
  if (await fs.lstat(to)) to = `${to}-${randomBytes(2).toString("hex")}`;
  return (await fs.renameDurable(path, to)) ? to : null;
}

export function createHostFs(root = "/"): HostFs {
  const resolve = (p: string) => (root === "/" ? p : join(root, p));
  return {
    resolve,
    async readFile(p) {
      try {
        return await fsp.readFile(resolve(p));
      } catch (err) {
        if (isErrno(err, "ENOENT")) return null;
        throw err;
      }
    },
    async writeFileAtomic(p, data, mode = 0o644) {
      const target = resolve(p);
      await fsp.mkdir(dirname(target), { recursive: true }).catch((err) => Promise.reject(hostFileError("cannot create directory", dirname(target), err)));
      // Temp file, fsync, rename, directory fsync; nothing half-written stays behind (a full disk fails the write part-way).
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      await writeStreamAtomic(target, (async function* () { yield bytes; })(), { mode }).catch((err) => Promise.reject(hostFileError("cannot write", target, err)));
      await removeStaleTemps(target);
    },
    async renameDurable(from, to) {
      try {
        await fsp.rename(resolve(from), resolve(to));
      } catch (err) {
        if (isErrno(err, "ENOENT")) return false;
        throw err;
      }
      await syncDir(dirname(resolve(to)));
      return true;
    },
    async lstat(p) {
      try {
        const st = await fsp.lstat(resolve(p));
        const kind = st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : st.isDirectory() ? "dir" : "other";
        return { kind, size: st.size, mode: st.mode & 0o7777 };
      } catch (err) {
        if (isErrno(err, "ENOENT", "ENOTDIR")) return null;
        throw err;
      }
    },
    async mkdirp(p, mode = 0o755) {
      await fsp.mkdir(resolve(p), { recursive: true, mode });
    },
    async remove(p) {
      try {
        await fsp.unlink(resolve(p));
        await removeStaleTemps(resolve(p));
        return true;
      } catch (err) {
        if (isErrno(err, "ENOENT")) return false;
        throw err;
      }
    },
    async removeEmptyDir(p) {
      try {
        await fsp.rmdir(resolve(p));
        return true;
      } catch (err) {
        if (isErrno(err, "ENOENT", "ENOTEMPTY", "EEXIST", "ENOTDIR")) return false;
        throw err;
      }
    },
    async writeStreamAtomic(p, source, opts) {
      const written = await writeStreamAtomic(resolve(p), source, opts);
      await removeStaleTemps(resolve(p)); // what a killed writer of this file left (same temp naming as writeFileAtomic)
      return written;
    },
    hashFile: (p, format) => hashFile(resolve(p), format),
    spaceShortfall: (p, bytes) => spaceShortfall(resolve(p), bytes),
    async readDir(p) {
      try {
        return await fsp.readdir(resolve(p));
      } catch (err) {
        if (isErrno(err, "ENOENT")) return [];
        throw err;
      }
    },
  };
}
