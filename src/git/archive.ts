/**
 * What a disconnected source file is (git bundle, zip, tar, tar.gz), and
 * safe extraction of a zip or tar into an empty directory. Every entry is
 * checked before anything is written: absolute paths, `..` segments that
 * leave the archive's directory, symbolic links pointing outside the
 * directory, entries that would be written through a symbolic link, hard
 * links, devices and fifos refuse the whole archive with an error naming the
 * entry; so do the bomb limits (archive-limits.ts). Entries are streamed to
 * disk in pieces and counted as they are written.
 */
import { createReadStream } from "node:fs";
import { lstat, mkdir, open, rm, symlink } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { dirname, join, posix } from "node:path";
import { GitError } from "../errors.ts";
import { tarEntries, zipEntries, type ArchiveEntry } from "./archive-entries.ts";
import { byteCounter, checkRatio, DEFAULT_MAX_RATIO, precheck, RATIO_FLOOR, refuseRatio, refuseSize, sizeLimit, type ArchiveLimits } from "./archive-limits.ts";
import { formatBytes } from "../host/fs-stream.ts";

export interface ExtractOptions {
  limits?: ArchiveLimits;
  /**
   * The archive's base name (`fetchit` for fetchit.zip). Entries with `..`
   * are joined to it and cleaned, as FetchIt does (its CI zips `../fetchit`
   * from inside the repository, so every entry starts with `../fetchit/`):
   * what stays inside that directory is taken relative to it, the rest is
   * refused. Without it every `..` is refused.
   */
  base?: string;
}

export type ArtifactKind = "bundle" | "zip" | "tar" | "gzip";

/** The kind of a file from its first bytes; undefined when it is none of them. */
export async function artifactKind(path: string): Promise<ArtifactKind | undefined> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const text = head.subarray(0, 20).toString("latin1");
    if (/^# v[23] git bundle\n/.test(text)) return "bundle";
    if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) return "zip";
    if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
    if (bytesRead === 512 && head.subarray(257, 262).toString("latin1") === "ustar") return "tar";
    return undefined;
  } finally {
    await fh.close();
  }
}

const refuse = (archive: string, entry: string, why: string) =>
  new GitError(`${archive}: refusing the archive: entry ${JSON.stringify(entry)} ${why}; nothing was extracted. Rebuild it with plain relative paths (e.g. git archive, or zip -r from inside the repository)`, {
    retryable: false,
  });

/** The entry path made relative and clean, or an error when it could leave the directory (see {@link ExtractOptions.base}). */
export function cleanEntryPath(archive: string, raw: string, base?: string): string {
  if (raw.includes("\0")) throw refuse(archive, raw, "contains a NUL byte");
  if (raw.includes("\\")) throw refuse(archive, raw, "contains a backslash (a Windows path?)");
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) throw refuse(archive, raw, "is an absolute path");
  const parts = raw.split("/").filter((s) => s !== "" && s !== ".");
  if (!parts.includes("..")) return parts.join("/");
  if (!base || base === "." || base === ".." || base.includes("/")) throw refuse(archive, raw, "has a \"..\" segment and would escape the extraction directory");
  const joined = posix.normalize(posix.join(base, parts.join("/")));
  if (joined === base) return "";
  if (joined.startsWith(`${base}/`)) return joined.slice(base.length + 1);
  throw refuse(archive, raw, `has a ".." segment that leaves the directory ${JSON.stringify(base)} (entries are joined to the archive's base name, as FetchIt does) and would escape the extraction directory`);
}

/** Checks every entry; returns them with clean paths, in order. */
export async function checkEntries(archive: string, entries: ArchiveEntry[], base?: string): Promise<{ rel: string; entry: ArchiveEntry }[]> {
  const links = new Set<string>();
  const out: { rel: string; entry: ArchiveEntry }[] = [];
  for (const entry of entries) {
    const rel = cleanEntryPath(archive, entry.path, base);
    if (rel === "") continue;
    if (entry.type === "other") throw refuse(archive, entry.path, `is ${entry.what ?? "a special file"} (only files, directories and symbolic links are allowed)`);
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (links.has(parent)) throw refuse(archive, entry.path, `would be written through the symbolic link ${JSON.stringify(parent)}`);
    }
    if (entry.type === "symlink") {
      const target = (await entry.data()).toString("utf8");
      const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
      if (target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
        throw refuse(archive, entry.path, `is a symbolic link to ${JSON.stringify(target)}, outside the extraction directory`);
      }
      links.add(rel);
    } else links.delete(rel);
    out.push({ rel, entry });
  }
  return out;
}

/** Reads the entries of a zip or (uncompressed) tar file. */
async function readEntries(file: string, kind: "zip" | "tar", label: string): Promise<{ entries: ArchiveEntry[]; close: () => Promise<void> }> {
  const fh = await open(file, "r");
  try {
    const { size } = await fh.stat();
    const entries = kind === "zip" ? await zipEntries(fh, size, label) : await tarEntries(fh, size, label);
    return { entries, close: () => fh.close() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * Extracts a zip or tar `file` into the empty directory `dest` after checking
 * every entry and the bomb limits. Files get mode 0755 when the archive marks
 * them executable, else 0644 (git keeps only that bit). `label` names the
 * source in errors. On a refusal `dest` may hold part of the content: the
 * caller removes it (nothing is imported from it).
 */
export async function extractArchive(file: string, kind: "zip" | "tar", dest: string, label: string, opts: ExtractOptions = {}): Promise<number> {
  const { entries, close } = await readEntries(file, kind, label);
  try {
    const checked = await checkEntries(label, entries, opts.base);
    const limits = opts.limits ?? { maxRatio: DEFAULT_MAX_RATIO };
    const size = await sizeLimit(dest, limits);
    precheck(label, checked.map((c) => c.entry), limits, size);
    const count = byteCounter(label, size);
    const seen = new Set<string>(); // paths written so far: only a repeated entry needs a look at the disk
    const dirs = new Set<string>([dest]);
    const ensureDir = async (d: string) => {
      if (!dirs.has(d)) await mkdir(d, { recursive: true });
      dirs.add(d);
    };
    for (const { rel, entry } of checked) {
      const path = join(dest, rel);
      const existing = seen.has(path) ? await lstat(path).catch(() => null) : null;
      seen.add(path);
      if (entry.type === "dir") {
        if (existing && !existing.isDirectory()) await rm(path, { recursive: true, force: true });
        if (existing && !existing.isDirectory()) dirs.delete(path);
        await ensureDir(path);
        continue;
      }
      if (existing) await rm(path, { recursive: true, force: true });
      if (existing?.isDirectory()) for (const d of dirs) if (d === path || d.startsWith(`${path}/`)) dirs.delete(d);
      await ensureDir(dirname(path));
      if (entry.type === "symlink") await symlink((await entry.data()).toString("utf8"), path);
      else await writeEntry(path, entry, (n) => count(entry.path, n), (n) => checkRatio(label, entry, n, limits.maxRatio));
    }
    return checked.length;
  } finally {
    await close();
  }
}

/** One file entry streamed to `path`, every piece counted (total size) and the running size checked (ratio). */
async function writeEntry(path: string, entry: ArchiveEntry, count: (n: number) => void, ratio: (expanded: number) => void): Promise<void> {
  const fh = await open(path, "wx", entry.mode & 0o111 ? 0o755 : 0o644);
  try {
    let written = 0;
    for await (const chunk of entry.stream()) {
      count(chunk.length);
      written += chunk.length;
      ratio(written);
      for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Decompresses the gzip `file` into `out` (a new file) in pieces, refusing
 * it as soon as the output passes the size limit or `maxRatio` times the
 * compressed bytes read so far (a tar.gz bomb never fills the disk).
 */
export async function gunzipLimited(file: string, out: string, label: string, limits: ArchiveLimits = { maxRatio: DEFAULT_MAX_RATIO }): Promise<void> {
  const size = await sizeLimit(dirname(out), limits);
  const fh = await open(out, "wx", 0o600);
  // Created after the last await: a "data" listener starts the flow at once.
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  let read = 0;
  input.on("data", (c) => void (read += c.length));
  let written = 0;
  try {
    for await (const chunk of input.pipe(createGunzip()) as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > size.max) throw refuseSize(label, `it decompresses past ${size.why} (${formatBytes(written)} so far)`, size);
      if (written > RATIO_FLOOR && written / Math.max(read, 1) > limits.maxRatio) {
        throw refuseRatio(label, `it decompresses more than ${limits.maxRatio}:1 (${formatBytes(read)} to ${formatBytes(written)} so far), over maxCompressionRatio`);
      }
      for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
  } catch (err) {
    if (err instanceof GitError) throw err;
    throw new GitError(`${label}: not a valid gzip file: ${(err as Error).message}`, { cause: err, retryable: false });
  } finally {
    input.destroy();
    await fh.close();
  }
}
