/**
 * The host filesystem port. Methods and the state store never import node:fs;
 * they get a HostFs. `root` re-bases every absolute path (tests point it at a
 * temp dir; OSTree layouts can use it too).
 */
import { createHash, randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import { dirname, join } from "node:path";
import { hashFile, spaceShortfall, writeStreamAtomic, type FileDigest, type StreamSource, type StreamWriteOptions, type StreamWritten } from "./fs-stream.ts";

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
  /** temp file in the same directory + fsync + rename; creates parent directories. */
  writeFileAtomic(path: string, data: Uint8Array | string, mode?: number): Promise<void>;
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
      await fsp.mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.fetchit-${randomBytes(4).toString("hex")}.tmp`;
      const fh = await fsp.open(tmp, "w", mode);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await fsp.chmod(tmp, mode);
        await fsp.rename(tmp, target);
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
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
    writeStreamAtomic: (p, source, opts) => writeStreamAtomic(resolve(p), source, opts),
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
