/**
 * filetransfer: copies the files under targetPath into destinationDirectory,
 * keeping sub-directories, writing atomically, and removing files that were
 * deleted from git. Symlinks in the repository and any path that would leave
 * the destination (through `..` or a symlink on the host) are refused.
 */
import { join, normalize, posix } from "node:path";
import type { FileTransferMethod } from "../config/types.ts";
import { MethodError } from "../errors.ts";
import { sha256 } from "../host/fs.ts";
import type { Method, MethodContext } from "./types.ts";

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

  async identify(ctx, file) {
    return { name: destinationOf(destDirOf(ctx), file.relPath), hash: sha256(await file.content()) };
  },

  async apply(ctx, file, previous) {
    if (file.mode === "120000") throw new MethodError("is a symlink in the repository; filetransfer copies regular files only", file.path);
    if (file.mode === "160000") throw new MethodError("is a git submodule; filetransfer copies regular files only", file.path);
    const destDir = destDirOf(ctx);
    const dest = destinationOf(destDir, file.relPath);
    await checkPathOnHost(ctx, destDir, file.relPath);
    const data = await file.content();
    const hash = sha256(data);
    if (previous && previous.name !== dest) await this.remove(ctx, previous, file.relPath);
    const current = await ctx.fs.readFile(dest);
    if (current && sha256(current) === hash) return { resource: { name: dest, hash }, changed: false };
    await ctx.fs.writeFileAtomic(dest, data, file.mode === "100755" ? 0o755 : 0o644);
    ctx.log.info(current ? "file updated" : "file created", { file: file.path, dest });
    return { resource: { name: dest, hash }, changed: true };
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
