/**
 * Remote URL handling: which form git is given, what may be shown to humans,
 * and where the local cache of a (url, branch) lives.
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";

/** `scheme://...` */
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `[user@]host:path` — git's scp-like syntax: a colon before the first slash. */
const SCP_LIKE = /^[^/]*:/;

/** How git will reach the remote. */
export type RemoteKind = "file" | "http" | "ssh" | "other";

/** Classifies a URL as git would: scheme URLs, scp-like `git@host:path`, or a local path. */
export function remoteKind(url: string): RemoteKind {
  if (SCHEME.test(url)) {
    const scheme = url.slice(0, url.indexOf(":")).toLowerCase();
    if (scheme === "file") return "file";
    if (scheme === "http" || scheme === "https") return "http";
    if (scheme === "ssh" || scheme === "git+ssh" || scheme === "ssh+git") return "ssh";
    return "other";
  }
  return SCP_LIKE.test(url) ? "ssh" : "file";
}

/**
 * The URL handed to git. Plain paths become `file://` URLs: git clones plain
 * paths with the local transport, which ignores `--depth`. http(s) URLs lose
 * any `user:password@` (see auth.ts).
 */
export function toFetchUrl(url: string): string {
  // HTTP credentials never reach git's argv: auth.ts sends them as a header from the environment.
  if (remoteKind(url) === "http") return stripUserinfo(url);
  if (SCHEME.test(url) || SCP_LIKE.test(url)) return url;
  return "file://" + resolve(url).replace(/%/g, "%25");
}

/** Removes `user[:password]@` from `scheme://` URLs, so the result can be stored or shown. */
export function stripUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

/**
 * The cache directory of one (url, branch): `<cacheDir>/<16 hex of sha256>`.
 * Keyed on the URL without credentials, so rotating a password keeps the cache.
 * (FetchIt keys on the URL basename, so `a/app` and `b/app` collide.)
 */
export function repoDirFor(cacheDir: string, url: string, branch: string): string {
  const key = createHash("sha256").update(`${stripUserinfo(url)}\n${branch}`).digest("hex");
  return join(cacheDir, key.slice(0, 16));
}

/** Host and port (when given) of an ssh remote: `ssh://[user@]host[:port]/path` or `[user@]host:path`. */
export function sshHostPort(url: string): { host: string; port?: string } {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/@]*@)?(\[[^\]]+\]|[^/:]+)(?::(\d+))?/i.exec(url);
  if (scheme) return { host: scheme[1] ?? "", ...(scheme[2] ? { port: scheme[2] } : {}) };
  const scp = /^(?:[^@/:]*@)?([^:/]+):/.exec(url);
  return { host: scp?.[1] ?? url };
}
