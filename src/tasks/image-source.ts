/**
 * Where an image archive comes from, and whether it changed: a conditional GET
 * for URLs (ETag / Last-Modified; a 200 is streamed to a temp file and hashed
 * on the way, kept off a full disk: download.ts), size + mtime and then sha256 for host files. Archives are never
 * held in memory. This module is the image loader's host side (fetch, files,
 * /proc/mounts); images.ts holds the policy.
 */
import { randomBytes } from "node:crypto";
import { sha256OfFile } from "../host/fs-stream.ts";
import { createReadStream, createWriteStream, readFileSync, realpathSync } from "node:fs";
import { mkdir, open, rm, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { errorMessage, FetchitError } from "../errors.ts";
import { downloadTo } from "./download.ts";

/** Identifies one version of an archive; stored (encoded) as the state resource's hash. */
export interface Fingerprint {
  sha256: string;
  etag?: string;
  lastModified?: string;
  size?: number;
  mtimeMs?: number;
}

/** The versions already seen: the one loaded, and the one that failed to load (permanently). */
export interface Known {
  loaded?: Fingerprint;
  failed?: Fingerprint;
}

/** The result of looking at a source. */
export type Probe =
  | { kind: "unavailable"; reason: string }
  | { kind: "same"; as: "loaded" | "failed"; fp: Fingerprint }
  | { kind: "new"; fp: Fingerprint; file: string; temp: boolean };

/** The source cannot be looked at right now (device not mounted); not a failure. */
export class SourceUnavailable extends Error {}

const HEADERS_TIMEOUT_MS = 30_000;
const FIELDS = ["sha256", "etag", "lastModified", "size", "mtimeMs"] as const;

/** `sha256=…&etag=…`: readable in `fetchit status --json`, parsed back by decodeFingerprint. */
export function encodeFingerprint(fp: Fingerprint): string {
  const p = new URLSearchParams();
  for (const k of FIELDS) if (fp[k] !== undefined) p.set(k, String(fp[k]));
  return p.toString();
}

/** undefined for a hash not written by encodeFingerprint. */
export function decodeFingerprint(s: string): Fingerprint | undefined {
  const p = new URLSearchParams(s);
  const sha256 = p.get("sha256");
  if (!sha256) return undefined;
  const num = (k: string) => (p.has(k) ? Number(p.get(k)) : undefined);
  const fp: Fingerprint = { sha256, etag: p.get("etag") ?? undefined, lastModified: p.get("lastModified") ?? undefined, size: num("size"), mtimeMs: num("mtimeMs") };
  return Object.fromEntries(Object.entries(fp).filter(([, v]) => v !== undefined)) as unknown as Fingerprint;
}

/** A path next to the others under `tmpDir` (created), unique per call. */
export async function tempPath(tmpDir: string, prefix: string): Promise<string> {
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  return join(tmpDir, `${prefix}-${randomBytes(6).toString("hex")}`);
}

/** Decodes /proc/mounts' octal escapes (`\040` = space). */
const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The mount point of `device` in a /proc/mounts text (symlinks such as /dev/disk/by-label/X resolved), or undefined. */
export function mountPointOf(device: string, mounts: string, real: (p: string) => string = realpathOr): string | undefined {
  const want = real(device);
  for (const line of mounts.split("\n")) {
    const [src, dir] = line.split(" ");
    if (src && dir && (src === device || real(unescapeMount(src)) === want)) return unescapeMount(dir);
  }
  return undefined;
}

/** The host path of `imagePath`: itself when absolute, else under the mount point of `device`. */
export function resolveImagePath(imagePath: string, device: string | undefined, readMounts = () => readFileSync("/proc/mounts", "utf8")): string {
  if (isAbsolute(imagePath)) return imagePath;
  if (!device) throw new FetchitError(`imagePath ${imagePath} is relative and no device is set; give an absolute host path`);
  const mount = mountPointOf(device, readMounts());
  if (!mount) throw new SourceUnavailable(`device ${device} is not mounted (fetchit does not mount devices; mount it with fstab, a systemd .mount unit or udisks)`);
  return join(mount, imagePath);
}

/** GET with the validators of `v`; network errors and 404/410 are "unavailable", other errors throw. */
async function conditionalGet(url: string, v: Fingerprint | undefined, ctl: AbortController): Promise<Response | Probe> {
  const headers: Record<string, string> = {};
  if (v?.etag) headers["if-none-match"] = v.etag;
  if (v?.lastModified) headers["if-modified-since"] = v.lastModified;
  const timer = setTimeout(() => ctl.abort(new Error(`no answer within ${HEADERS_TIMEOUT_MS / 1000}s`)), HEADERS_TIMEOUT_MS);
  try {
    const res = await fetch(url, { headers, signal: ctl.signal });
    if (res.status === 404 || res.status === 410) return { kind: "unavailable", reason: `${url} answered ${res.status}` };
    if (res.status !== 304 && !res.ok) {
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new FetchitError(`image archive ${url}: HTTP ${res.status} ${res.statusText}`.trim(), { retryable });
    }
    return res;
  } catch (err) {
    if (err instanceof FetchitError) throw err;
    return { kind: "unavailable", reason: `cannot reach ${url}: ${errorMessage(err)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Compares a freshly hashed version against what is known. */
function classify(fp: Fingerprint, known: Known): "loaded" | "failed" | undefined {
  if (known.loaded?.sha256 === fp.sha256) return "loaded";
  if (known.failed?.sha256 === fp.sha256) return "failed";
  return undefined;
}

/** Looks at an HTTP(S) archive; a new version is left in a temp file under `tmpDir`. */
export async function probeUrl(url: string, known: Known, tmpDir: string): Promise<Probe> {
  const sent = known.failed ?? known.loaded;
  const ctl = new AbortController();
  const res = await conditionalGet(url, sent, ctl);
  if (!(res instanceof Response)) return res;
  if (res.status === 304) {
    if (sent) return { kind: "same", as: sent === known.failed ? "failed" : "loaded", fp: sent };
    throw new FetchitError(`image archive ${url}: HTTP 304 to a request without validators`, { retryable: true });
  }
  const file = await tempPath(tmpDir, "download");
  const { sha256 } = await downloadTo(url, res, file, tmpDir, ctl);
  const fp: Fingerprint = { sha256 };
  if (res.headers.get("etag")) fp.etag = res.headers.get("etag")!;
  if (res.headers.get("last-modified")) fp.lastModified = res.headers.get("last-modified")!;
  const as = classify(fp, known);
  if (!as) return { kind: "new", fp, file, temp: true };
  await rm(file, { force: true });
  return { kind: "same", as, fp };
}

/** One reused buffer: a 2 GiB archive hashed through a read stream left ~15 MiB of garbage pieces at the peak. */
const sha256File = sha256OfFile;

/** Looks at a host file: unchanged size and mtime mean unchanged; otherwise the content hash decides. */
export async function probeFile(path: string, known: Known): Promise<Probe> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return null;
    throw err;
  });
  if (!st) return { kind: "unavailable", reason: `${path} does not exist` };
  if (!st.isFile()) throw new FetchitError(`image archive ${path} is not a regular file`);
  const quick = (fp?: Fingerprint) => fp !== undefined && fp.size === st.size && fp.mtimeMs === st.mtimeMs;
  if (quick(known.loaded)) return { kind: "same", as: "loaded", fp: known.loaded! };
  if (quick(known.failed)) return { kind: "same", as: "failed", fp: known.failed! };
  const fp: Fingerprint = { sha256: await sha256File(path), size: st.size, mtimeMs: st.mtimeMs };
  const as = classify(fp, known);
  return as ? { kind: "same", as, fp } : { kind: "new", fp, file: path, temp: false };
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * The archive as Podman takes it: a gzip-compressed one is decompressed
 * (streamed) into a temp file first, since Podman 4 loads a gzipped
 * docker-archive only after it is unpacked. `cleanup` removes that temp file.
 */
export async function uncompressed(path: string, tmpDir: string): Promise<{ file: string; cleanup: () => Promise<void> }> {
  if (!(await isGzip(path))) return { file: path, cleanup: async () => {} };
  const file = await tempPath(tmpDir, "gunzip");
  const cleanup = () => rm(file, { force: true });
  try {
    await pipeline(createReadStream(path), createGunzip(), createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await cleanup();
    throw new FetchitError(`not a valid gzip file: ${errorMessage(err)}`, { cause: err });
  }
  return { file, cleanup };
}

/** Removes a temp file (a downloaded archive) once loaded. */
export const removeTemp = (path: string) => rm(path, { force: true });

/** The archive as a request body streamed from disk (never read into memory). */
export const archiveBody = (path: string): Blob => Bun.file(path);
