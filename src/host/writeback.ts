/**
 * Early writeback of a file while it is being written (git cat-file writing
 * into the temp file's descriptor): the disk writes while git inflates, so
 * the fsync before the rename finds little left to do. Without it a 2 GiB
 * file sat in the page cache until that fsync and then took about as long
 * again to reach the disk. Durability still comes from that fsync; this only
 * starts the work early.
 *
 * The loop calls fdatasync on the thread pool each time the file has grown
 * by {@link STEP}: it runs beside the JS thread, works on every libc and
 * architecture, and keeps the disk busy (each call writes what piled up since
 * the last). Linux's sync_file_range(SYNC_FILE_RANGE_WRITE) through bun:ffi
 * was measured and not taken: an ffi call runs on the JS thread, and it
 * blocks while the device's queue is full, 2.2 s in all for 2 GiB, single
 * calls up to 0.6 s, whatever the range size (1 or 8 MiB), which stalls the
 * daemon (other methods, the HTTP endpoint, the watchdog).
 *
 * Once a big file is on disk, posix_fadvise(POSIX_FADV_DONTNEED) (bun:ffi,
 * libc looked up by name as flock.ts does; clean pages, so it does not
 * block) drops its pages, so it does not push out what the host's services
 * keep cached. Without glibc (musl) or ffi that step is skipped.
 */
import { dlopen, FFIType } from "bun:ffi";
import { fdatasync, fstat } from "node:fs";
import { promisify } from "node:util";

const datasync = promisify(fdatasync);
const statFd = promisify(fstat);

/** How often the file's growth is looked at. */
export const TICK_MS = 50;
/** Growth that starts a writeback: big enough for few calls, small enough to keep the disk busy. */
export const STEP = 8 * 1024 * 1024;

const POSIX_FADV_DONTNEED = 4;

let fadvise: ((fd: number) => number) | null | undefined;

/** libc's posix_fadvise(fd, 0, 0, DONTNEED), or null where it cannot be had (no glibc, no ffi). */
function openFadvise(): ((fd: number) => number) | null {
  try {
    const lib = dlopen("libc.so.6", { posix_fadvise: { args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.i32], returns: FFIType.i32 } });
    return (fd) => lib.symbols.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  } catch {
    return null;
  }
}

/** A running writeback; `stop` ends it and waits for a call in flight. */
export interface Writeback {
  /** fdatasync calls made so far (tests, the bench). */
  readonly calls: number;
  stop(): Promise<void>;
}

/**
 * Hands what lands in `fd` to the disk as the file grows, until `stop`.
 * Never fails the write: an error only ends the early writeback (the fsync
 * that follows reports real I/O errors).
 */
export function startWriteback(fd: number, opts: { tickMs?: number; step?: number } = {}): Writeback {
  const tickMs = opts.tickMs ?? TICK_MS;
  const step = opts.step ?? STEP;
  let handed = 0;
  let calls = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      const { size } = await statFd(fd);
      if (size - handed >= step) {
        // Again at once while the writer stays ahead: the disk never waits for a tick.
        calls++;
        await datasync(fd);
        handed = size;
        continue;
      }
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, tickMs);
      });
    }
  })().catch(() => {});
  return {
    get calls() {
      return calls;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}

/**
 * Drops the pages of a file that is on disk (fsynced) from the page cache.
 * Best effort; false where it cannot be done (no glibc, no ffi).
 */
export function dropCache(fd: number): boolean {
  try {
    fadvise ??= openFadvise();
    return fadvise ? fadvise(fd) === 0 : false;
  } catch {
    return false;
  }
}
