/**
 * filetransfer: copies the files under targetPath into destinationDirectory,
 * keeping sub-directories, writing atomically, and removing files that were
 * deleted from git. Symlinks in the repository and any path that would leave
 * the destination (through `..` or a symlink on the host) are refused.
 * Content is written by git into a temp file next to the destination, so
 * memory does not depend on the file's size; "unchanged?" compares the file
 * on disk with the blob id, read once, and never loads the blob. A file's
 * recorded hash is its git blob id (sha256 of the content before 2026-12).
 */
import { dirname, join, normalize, posix } from "node:path";
import type { FileTransferMethod } from "../config/types.ts";
import { MethodError } from "../errors.ts";
import { formatBytes, spaceMargin } from "../host/fs-stream.ts";
import type { ApplyResult, DesiredFile, Method, MethodContext } from "./types.ts";

type Ctx = MethodContext<FileTransferMethod>;

/** The destination directory without a trailing slash. */
const destDirOf = (ctx: Ctx) => normalize(ctx.config.destinationDirectory).replace(/(.)\/+$/, "$1");

/** Destination path for a file, refusing anything that leaves the destination directory. */
export function destinationOf(destDir: string, relPath: string): string {
  const rel = posix.normalize(relPath);
  if (rel.startsWith("/") || rel === ".." || rel.startsWith("../") || rel.split("/").includes("..")) {
    throw new MethodError(`path escapes the destination directory ${destDir}`, relPath);
  }
  return join(destDir, rel);
}

/** Refuses to write through a symlink or onto a directory: each parent below destDir must be a real directory. */
async function checkPathOnHost(ctx: Ctx, destDir: string, relPath: string): Promise<void> {
  const parts = posix.normalize(relPath).split("/");
  let cur = destDir;
  for (const [i, part] of parts.entries()) {
    cur = join(cur, part);
    const st = await ctx.fs.lstat(cur);
    if (!st) return;
    const last = i === parts.length - 1;
    if (st.kind === "symlink") throw new MethodError(`refusing to write through symlink ${cur} on the host`, relPath);
    if (!last && st.kind !== "dir") throw new MethodError(`${cur} on the host is not a directory`, relPath);
    if (last && st.kind !== "file") throw new MethodError(`${cur} on the host is a ${st.kind}, not a file; remove it first`, relPath);
  }
}

/** Removes now-empty parent directories of `path`, stopping at destDir. */
async function pruneEmptyDirs(ctx: Ctx, destDir: string, path: string): Promise<void> {
  let dir = posix.dirname(path);
  while (dir.startsWith(destDir + "/") && (await ctx.fs.removeEmptyDir(dir))) dir = posix.dirname(dir);
}

export const filetransfer: Method<FileTransferMethod> = {
  kind: "filetransfer",

  async prepare(ctx) {
    const dest = destDirOf(ctx);
    const st = await ctx.fs.lstat(dest);
    if (st && st.kind !== "dir") {
      throw new MethodError(`destinationDirectory ${dest} exists but is a ${st.kind}, not a directory`, undefined);
    }
    if (!st) {
      await ctx.fs.mkdirp(dest);
      ctx.log.info("created destination directory", { dir: dest });
    }
  },

  /** The resource's hash is the git blob id: known without reading the file (a plan of a 2 GiB file reads nothing). */
  async identify(ctx, file) {
    return { name: destinationOf(destDirOf(ctx), file.relPath), hash: file.blob };
  },

  async apply(ctx, file, previous) {
    if (file.mode === "120000") throw new MethodError("is a symlink in the repository; filetransfer copies regular files only", file.path);
    if (file.mode === "160000") throw new MethodError("is a git submodule; filetransfer copies regular files only", file.path);
    const destDir = destDirOf(ctx);
    const dest = destinationOf(destDir, file.relPath);
    await checkPathOnHost(ctx, destDir, file.relPath);
    if (previous && previous.name !== dest) await this.remove(ctx, previous, file.relPath);
    return place(ctx, file, dest);
  },

  /**
   * Removes a file fetchit wrote (its path comes from fetchit's own state). It may
   * lie outside the current destinationDirectory when that setting changed: the
   * file is then moved, not left behind. Only regular files are removed.
   */
  async remove(ctx, previous, relPath) {
    const path = previous.name;
    if (!path.startsWith("/") || posix.normalize(path) !== path) {
      throw new MethodError(`recorded path ${JSON.stringify(path)} is not a clean absolute path; not removing it`, relPath);
    }
    const st = await ctx.fs.lstat(path);
    if (st && st.kind !== "file") throw new MethodError(`${path} on the host is a ${st.kind}; not removing it`, relPath);
    if (await ctx.fs.remove(path)) ctx.log.info("file removed", { dest: path });
    const destDir = destDirOf(ctx);
    if (path.startsWith(destDir + "/")) await pruneEmptyDirs(ctx, destDir, path);
  },
};

/** The blob's content at `dest`, unless the file there already holds it (same size, same git blob id). */
async function place(ctx: Ctx, file: DesiredFile, dest: string): Promise<ApplyResult> {
  const size = await file.size();
  const current = await ctx.fs.lstat(dest);
  if (current && current.size === size) {
    const digest = await ctx.fs.hashFile(dest, file.blob.length === 64 ? "sha256" : "sha1");
    if (digest && digest.gitBlob === file.blob) return { resource: { name: dest, hash: file.blob }, changed: false };
  }
  const free = await ctx.fs.spaceShortfall(dirname(dest), size);
  if (free !== undefined) {
    throw new MethodError(
      `not enough free space for ${dest}: the file is ${formatBytes(size)}, ${formatBytes(free)} is free there and fetchit keeps ${formatBytes(spaceMargin(size))} spare; ` +
        `nothing was written${current ? " and the old file was left in place" : ""}. Free space on that file system or point destinationDirectory elsewhere`,
      file.path,
      { local: true }, // the host is full, not the commit's fault
    );
  }
  let written;
  try {
    written = await ctx.fs.writeStreamAtomic(dest, (fd) => file.copyTo(fd), { mode: file.mode === "100755" ? 0o755 : 0o644, size });
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOSPC") throw err;
    const left = current ? "; the old file was left in place" : "";
    throw new MethodError(`no space left on the file system of ${dest} while writing ${formatBytes(size)}${left}`, file.path, { cause: err, retryable: true });
  }
  ctx.log.info(current ? "file updated" : "file created", { file: file.path, dest, bytes: written.bytes });
  return { resource: { name: dest, hash: file.blob }, changed: true };
}
