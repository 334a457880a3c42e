/**
 * An HTTP response body streamed to a temp file (image archives, disconnected
 * sources): hashed on the way, aborted when nothing arrives for a while, and
 * kept off a full disk. A Content-Length the temp directory's file system
 * cannot hold (plus fetchit's margin) is refused before the first byte; bytes
 * are counted as they land, and the download stops before it eats the
 * margin, or when the file system fills anyway (ENOSPC), with the temp file
 * removed. Those errors are local: the host is short of space, not the
 * source at fault, so they are retried with back-off.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { errorMessage, FetchitError, fullDiskErrno, LocalError } from "../errors.ts";
import { formatBytes, freeSpace, spaceMargin, STATE_DIR_FULL_ADVICE as FREE_UP } from "../host/fs-stream.ts";

const STALL_TIMEOUT_MS = 60_000;
/** How often (in bytes received) the free space is asked again once the first look's budget is used up. */
const RECHECK_BYTES = 4 * 1024 * 1024;

/** `url` as it may be shown: no user or password, no query or fragment (tokens travel there). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.search || u.hash ? "?…" : "";
    return `${u.protocol}//${u.host}${u.pathname}${hidden}`;
  } catch {
    return "(an unparsable URL)";
  }
}

/** What {@link downloadTo} wrote. */
export interface Downloaded {
  sha256: string;
  bytes: number;
}

/** The download does not fit: refused before it starts, or stopped on the way. */
function noRoom(url: string, dir: string, what: string, free: number, cause?: unknown): LocalError {
  return new LocalError(`image archive ${displayUrl(url)}: ${what}, ${formatBytes(free)} is free in ${dir}; the partial download was removed. ${FREE_UP}`, { cause });
}

/**
 * Streams `res`'s body into the new file `file` (in `dir`), hashing it.
 * `ctl` aborts the request (stall). On any failure the file is removed.
 */
export async function downloadTo(url: string, res: Response, file: string, dir: string, ctl: AbortController): Promise<Downloaded> {
  const announced = res.headers.get("content-encoding") ? undefined : Number(res.headers.get("content-length") ?? NaN);
  let free = await freeSpace(dir);
  if (announced !== undefined && Number.isFinite(announced) && free < announced + spaceMargin(announced)) {
    await res.body?.cancel().catch(() => {});
    throw new LocalError(
      `image archive ${displayUrl(url)}: the download is ${formatBytes(announced)} (Content-Length), ${formatBytes(free)} is free in ${dir} and fetchit keeps ${formatBytes(spaceMargin(announced))} spare; nothing was downloaded. ${FREE_UP}`,
    );
  }
  const hash = createHash("sha256");
  let bytes = 0;
  let budget = free - spaceMargin(free);
  let short: LocalError | undefined;
  const timer = setTimeout(() => ctl.abort(new Error(`download stalled for ${STALL_TIMEOUT_MS / 1000}s`)), STALL_TIMEOUT_MS);
  const counting = new Transform({
    transform(chunk: Buffer, _enc, done) {
      timer.refresh();
      bytes += chunk.length;
      if (bytes <= budget) {
        hash.update(chunk);
        return done(null, chunk);
      }
      // Past what the first look allowed: ask again (others write and free space too), stop before the margin is gone.
      freeSpace(dir).then((now) => {
        free = now;
        const margin = spaceMargin(bytes);
        if (now - chunk.length < margin) {
          short = noRoom(url, dir, `stopped after ${formatBytes(bytes - chunk.length)}${sizeNote(announced)}, the file system being nearly full (fetchit keeps ${formatBytes(margin)} spare)`, now);
          return done(short);
        }
        budget = bytes + Math.min(now - chunk.length - margin, RECHECK_BYTES);
        hash.update(chunk);
        done(null, chunk);
      }, done);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as never), counting, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await rm(file, { force: true });
    if (short) throw short;
    const full = fullDiskErrno(err);
    if (full) throw noRoom(url, dir, `the file system filled up after ${formatBytes(bytes)}${sizeNote(announced)} (${full})`, await freeSpace(dir).catch(() => free), err);
    throw new FetchitError(`image archive ${displayUrl(url)}: download failed after ${formatBytes(bytes)}: ${errorMessage(err)}`, { cause: err, retryable: true });
  } finally {
    clearTimeout(timer);
  }
  return { sha256: hash.digest("hex"), bytes };
}

const sizeNote = (announced: number | undefined) => (announced !== undefined && Number.isFinite(announced) ? ` of ${formatBytes(announced)}` : "");
