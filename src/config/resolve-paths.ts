/**
 * Relative host paths in a config, made absolute against the directory
 * fetchit started in (read once, when this module loads), so that every
 * later reader sees the same file: git runs in the clone's directory, a
 * reload happens hours later, a config downloaded from a URL has no
 * directory of its own.
 *
 * Keys with another base keep it: `targetPath` (the repository), a
 * disconnected `url` or `imagePath` with `device` (its mount point),
 * `configReload.configPath` (the device), and an SSH key or known_hosts
 * given as a bare name (looked up in ~/.ssh/, as FetchIt did) or as `~/…`.
 * Keys where a relative path makes no sense (`unitDirectory`: systemd reads
 * units from fixed directories) are left as written and reported by the
 * rules. A new host-path key gets one line in {@link resolveConfigPaths}
 * (or in {@link resolveHostPaths} when it is read while the config is parsed).
 */
import { isAbsolute, resolve } from "node:path";
import { remoteKind } from "../git/remote-url.ts";
import { isRecord } from "./path.ts";
import type { FetchitConfig } from "./types.ts";

/** The working directory at start: the base of every relative path in a config and on the command line. */
export const START_DIR = process.cwd();

type Loose = Record<string, unknown>;

/** `host.valuesFile` made absolute under `baseDir`, in the document before it is rendered (rendering reads it). */
export function resolveHostPaths(doc: unknown, baseDir: string = START_DIR): void {
  if (!isRecord(doc) || !isRecord(doc.host)) return;
  const v = doc.host.valuesFile;
  if (typeof v === "string" && v.trim() !== "" && !isAbsolute(v)) doc.host.valuesFile = resolve(baseDir, v);
}

/** Rewrites, in place, every relative host path of `config` as an absolute path under `baseDir`. */
export function resolveConfigPaths(config: FetchitConfig, baseDir: string = START_DIR): void {
  const abs = (obj: unknown, key: string, when: (value: string, obj: Loose) => boolean = () => true) => {
    if (!isRecord(obj)) return;
    const v = obj[key];
    if (typeof v === "string" && v.trim() !== "" && !isAbsolute(v) && when(v, obj)) obj[key] = resolve(baseDir, v);
  };
  const sshPath = (v: string) => v.includes("/") && !v.startsWith("~/");
  const gitAuth = (auth: unknown) => {
    abs(auth, "sshKeyFile", sshPath);
    abs(auth, "sshKnownHosts", sshPath);
  };
  const root = config as unknown as Loose;
  gitAuth(root.gitAuth);
  for (const img of list(root.images)) abs(img, "imagePath", (_v, o) => !hasText(o.device));
  for (const t of list(root.targetConfigs)) {
    if (!isRecord(t)) continue;
    gitAuth(t.gitAuth);
    abs(t.verifyCommitsInfo, "gpgKeyring");
    abs(t.verifyCommitsInfo, "sshAllowedSigners");
    // A plain path remote (git or disconnected); with device it is relative to the mount point.
    abs(t, "url", (v) => remoteKind(v) === "file" && !/^file:/i.test(v) && !(t.disconnected === true && hasText(t.device)));
    for (const m of list(t.filetransfer)) abs(m, "destinationDirectory");
    for (const m of list(t.ansible)) abs(m, "sshDirectory");
  }
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const hasText = (v: unknown) => typeof v === "string" && v.trim() !== "";
