/**
 * flock(2) through libc via bun:ffi (Bun has no flock): a lock the kernel
 * drops when the process dies, whatever killed it (kill -9, a power cut). The
 * file is opened with O_CLOEXEC, so git, podman or ansible children never
 * inherit the lock and keep it alive after fetchit is gone.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { closeSync } from "node:fs";

const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

let libc: ReturnType<typeof openLibc> | undefined;
function openLibc() {
  return dlopen("libc.so.6", {
    open: { args: [FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

function errno(lib: NonNullable<typeof libc>): number {
  const at = lib.symbols.__errno_location();
  return at ? read.i32(at, 0) : 0;
}

/**
 * Opens (creating, mode 0600) `path` and takes an exclusive flock without
 * waiting. Returns the open fd holding the lock, or null when another open
 * file (another process) holds it. Throws on any other failure.
 */
export function tryFlock(path: string): number | null {
  const lib = (libc ??= openLibc());
  const cpath = Buffer.from(`${path}\0`);
  const fd = lib.symbols.open(ptr(cpath), O_RDWR | O_CREAT | O_CLOEXEC, 0o600);
  if (fd < 0) throw new Error(`cannot open the lock file ${path} (errno ${errno(lib)}); check that the state dir is writable`);
  for (;;) {
    if (lib.symbols.flock(fd, LOCK_EX | LOCK_NB) === 0) return fd;
    const e = errno(lib);
    if (e === EINTR) continue;
    closeSync(fd);
    if (e === EWOULDBLOCK) return null;
    throw new Error(`cannot lock ${path} (flock errno ${e}); the state dir must be on a local file system`);
  }
}
