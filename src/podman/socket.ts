/**
 * Where the Podman API socket is: flag, then CONTAINER_HOST, then the
 * rootful or rootless default. Also the hint shown when it is missing.
 */
import { FetchitError } from "../errors.ts";

/** Inputs of {@link resolveSocketPath}; passed in so tests need no real environment. */
export interface SocketPathOptions {
  /** Value of `--podman-socket`: a path or `unix://path`. Wins over everything. */
  flag?: string;
  /** Process environment (reads CONTAINER_HOST and XDG_RUNTIME_DIR). */
  env: Record<string, string | undefined>;
  /** Effective uid: 0 selects the rootful socket. */
  uid: number;
}

/** The rootful default socket. */
export const ROOT_SOCKET = "/run/podman/podman.sock";

/**
 * Resolves the Podman socket path. Throws a FetchitError for a non-unix
 * `CONTAINER_HOST` (ssh://, tcp://) or an empty path, since fetchit only
 * talks to a local socket.
 */
export function resolveSocketPath(opts: SocketPathOptions): string {
  if (opts.flag !== undefined && opts.flag.trim() !== "") return unixPath(opts.flag.trim(), "--podman-socket", true);
  const host = opts.env.CONTAINER_HOST?.trim();
  if (host) return unixPath(host, "CONTAINER_HOST", false);
  if (opts.uid === 0) return ROOT_SOCKET;
  const runtimeDir = opts.env.XDG_RUNTIME_DIR?.trim() || `/run/user/${opts.uid}`;
  return `${runtimeDir.replace(/\/+$/, "")}/podman/podman.sock`;
}

function unixPath(value: string, source: string, allowBarePath: boolean): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== "unix") {
      throw new FetchitError(
        `${source}: unsupported scheme "${scheme[1]}://" in ${JSON.stringify(value)}; ` +
          `fetchit needs a local Podman socket such as unix:///run/podman/podman.sock`,
      );
    }
    const path = value.slice(scheme[0].length);
    if (!path.startsWith("/")) throw new FetchitError(`${source}: ${JSON.stringify(value)} must name an absolute socket path`);
    return path;
  }
  if (!allowBarePath) {
    throw new FetchitError(`${source}: ${JSON.stringify(value)} must start with unix:// (e.g. unix:///run/podman/podman.sock)`);
  }
  if (!value.startsWith("/")) throw new FetchitError(`${source}: ${JSON.stringify(value)} must be an absolute socket path`);
  return value;
}

/** How to start the Podman API service, for error messages. */
export function socketHint(uid: number | undefined = process.getuid?.()): string {
  const rootful = "systemctl enable --now podman.socket";
  const rootless = "systemctl --user enable --now podman.socket";
  return uid === 0
    ? `start it with \`${rootful}\` (rootless: \`${rootless}\`)`
    : `start it with \`${rootless}\` (root: \`${rootful}\`)`;
}
