/**
 * Config rules of disconnected targets and commit verification: where a
 * disconnected source may be (http(s), file://, an absolute path, or a path
 * relative to a device's mount point) and that key files are absolute paths.
 * Existence is checked at run time (the files may live on media mounted later).
 */
import type { ConfigIssue } from "../errors.ts";
import { isRecord, issue, type Segment } from "../config/path.ts";
import type { FetchitConfig } from "../config/types.ts";


function disconnectedUrl(t: Record<string, unknown>, at: Segment[]): ConfigIssue[] {
  const url = t.url;
  if (typeof url !== "string" || url === "") return [];
  // oci:PATH / oci-archive:PATH: an OCI image layout, checked by src/oci/check.ts.
  if (/^oci(-archive)?:(?!\/\/)/i.test(url)) return [];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    if (/^(https?|file):\/\//i.test(url)) return [];
    return [issue([...at, "url"], `a disconnected source is read over http(s), from file:// or a host path, not ${JSON.stringify(url.split(":")[0])}; use disconnected: false for a git remote`)];
  }
  const hasDevice = typeof t.device === "string" && t.device !== "";
  if (url.startsWith("/")) return hasDevice ? [issue([...at, "url"], "with device, url is a path relative to the device's mount point; remove the leading / (or remove device)")] : [];
  if (!hasDevice) return [issue([...at, "url"], `a relative path needs device (it is resolved against the device's mount point); give an absolute host path or an http(s) URL, got ${JSON.stringify(url)}`)];
  if (url.split("/").includes("..")) return [issue([...at, "url"], `must stay inside the device's mount point; ${JSON.stringify(url)} contains a ".." segment`)];
  return [];
}

function verifyKeyPaths(t: Record<string, unknown>, at: Segment[]): ConfigIssue[] {
  const v = t.verifyCommitsInfo;
  if (!isRecord(v)) return [];
  return (["gpgKeyring", "sshAllowedSigners"] as const).flatMap((key) => {
    const p = v[key];
    if (typeof p !== "string") return [];
    if (p === "") return [issue([...at, "verifyCommitsInfo", key], "must not be empty; give the host path of the key file or remove the key")];
    return p.startsWith("/") ? [] : [issue([...at, "verifyCommitsInfo", key], `must be an absolute host path, got ${JSON.stringify(p)}`)];
  });
}

/** Issues of every target's disconnected source and verification keys. */
export function disconnectedIssues(config: FetchitConfig): ConfigIssue[] {
  const list: unknown = config.targetConfigs;
  if (!Array.isArray(list)) return [];
  return list.flatMap((t, i) => {
    if (!isRecord(t)) return [];
    const at: Segment[] = ["targetConfigs", i];
    return [...(t.disconnected === true ? disconnectedUrl(t, at) : []), ...verifyKeyPaths(t, at)];
  });
}
