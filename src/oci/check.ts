/**
 * Config rules of oci:// targets: the reference parses; what does not apply
 * to a registry (branch, gitAuth, verifyCommitsInfo, disconnected) is
 * refused with what to use instead; tlsVerify and verifyOciSignature belong
 * to oci:// targets; the key is an absolute path (read at run time).
 */
import type { ConfigIssue } from "../errors.ts";
import { isRecord, issue, type Segment } from "../config/path.ts";
import type { FetchitConfig } from "../config/types.ts";
import { isLayoutUrl } from "./layout.ts";
import { isOciUrl, parseOciReference } from "./reference.ts";

function targetIssues(t: Record<string, unknown>, at: Segment[]): ConfigIssue[] {
  const url = typeof t.url === "string" ? t.url : undefined;
  if (!isOciUrl(url)) {
    return (["tlsVerify", "verifyOciSignature"] as const).filter((k) => t[k] !== undefined).map((k) => issue([...at, k], "applies to oci:// targets only (url: oci://REGISTRY/REPO:TAG); remove it"));
  }
  const out: ConfigIssue[] = [];
  try {
    parseOciReference(url!);
  } catch (err) {
    out.push(issue([...at, "url"], (err as Error).message));
  }
  if (t.disconnected === true) out.push(issue([...at, "disconnected"], "an oci:// url is a registry; for an OCI layout on disk use url: oci:/PATH[:TAG] or oci-archive:/FILE[:TAG] with disconnected: true"));
  if (typeof t.branch === "string" && t.branch !== "") out.push(issue([...at, "branch"], "an oci:// url names its tag (oci://REGISTRY/REPO:TAG); remove branch"));
  if (t.gitAuth !== undefined) out.push(issue([...at, "gitAuth"], "registry credentials come from Podman's auth files ($REGISTRY_AUTH_FILE, podman login), not gitAuth; remove it"));
  if (t.verifyCommitsInfo !== undefined) out.push(issue([...at, "verifyCommitsInfo"], "an artifact has no commits to verify; use verifyOciSignature: /path/to/key.pub"));
  const key = t.verifyOciSignature;
  if (typeof key === "string" && !key.startsWith("/")) out.push(issue([...at, "verifyOciSignature"], `must be an absolute host path of a PEM public key, got ${JSON.stringify(key)}`));
  return out;
}

/** Issues of every target's oci:// settings, and of a configReload that names an OCI target. */
export function ociIssues(config: FetchitConfig): ConfigIssue[] {
  const list: unknown = config.targetConfigs;
  if (!Array.isArray(list)) return [];
  const out = list.flatMap((t, i) => (isRecord(t) ? targetIssues(t, ["targetConfigs", i]) : []));
  const reload: unknown = config.configReload;
  const name = isRecord(reload) ? reload.target : undefined;
  if (typeof name === "string") {
    // By name, or by the name an oci:// target gets by default (its last path segment, e.g. config:prod).
    const t = list.find((x) => isRecord(x) && (x.name === name || (!x.name && isOciUrl(x.url as string) && (x.url as string).split("/").at(-1) === name)));
    const url = isRecord(t) && typeof t.url === "string" ? t.url : undefined;
    if (isOciUrl(url) || isLayoutUrl(url)) out.push(issue(["configReload", "target"], `names ${name}, an OCI target; the config is read from a git target's branch (or use configURL)`));
  }
  return out;
}
