/**
 * sd_notify without a helper process: one datagram to $NOTIFY_SOCKET sent by
 * fetchit's own PID (through libc via bun:ffi, since Bun has no unix datagram
 * sockets), so `Type=notify` works with the default `NotifyAccess=main` and
 * without the race of a short-lived `systemd-notify` child.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;

let libc: ReturnType<typeof openLibc> | undefined;
function openLibc() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
}

/** The sockaddr_un for a NOTIFY_SOCKET value ("@name" is the abstract namespace). */
export function notifyAddress(socket: string): { addr: Buffer; len: number } {
  const path = Buffer.from(socket);
  if (path[0] === 0x40) path[0] = 0;
  if (path.length > 107) throw new Error(`NOTIFY_SOCKET path too long: ${socket}`);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  path.copy(addr, 2);
  return { addr, len: 2 + path.length + (path[0] === 0 ? 0 : 1) };
}

/**
 * Sends `state` (e.g. "READY=1\nSTATUS=…") to systemd when $NOTIFY_SOCKET is
 * set. Returns false when not under systemd; never throws (a failed
 * notification must not stop the agent).
 */
export function sdNotify(state: string, env: Record<string, string | undefined> = process.env): boolean {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return false;
  try {
    libc ??= openLibc();
    const { addr, len } = notifyAddress(socket);
    const fd = libc.symbols.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const msg = Buffer.from(state);
    const sent = libc.symbols.sendto(fd, ptr(msg), msg.length, MSG_NOSIGNAL, ptr(addr), len);
    libc.symbols.close(fd);
    return Number(sent) === msg.length;
  } catch {
    return false;
  }
}
