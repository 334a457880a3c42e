/**
 * `oci://REGISTRY/REPO:TAG` and `oci://REGISTRY/REPO@sha256:…` references:
 * parsing, display, and the digest form used as a source's "commit".
 */
import { GitError } from "../errors.ts";

export interface OciReference {
  /** Registry host with optional port, e.g. `quay.io` or `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `org/app-config`. */
  repository: string;
  /** Tag, absent when the reference names a digest only. */
  tag?: string;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
}

export const OCI_SCHEME = "oci://";
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** True when `url` uses the oci:// scheme. */
export const isOciUrl = (url: string | undefined): boolean => typeof url === "string" && url.toLowerCase().startsWith(OCI_SCHEME);

/** True for a well-formed `sha256:<64 hex>` digest. */
export const isDigest = (s: string): boolean => DIGEST.test(s);

/** Parses an oci:// URL; the message says what is wrong and shows the expected shape. */
export function parseOciReference(url: string): OciReference {
  const shape = "expected oci://REGISTRY[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST]";
  if (!isOciUrl(url)) throw new GitError(`${JSON.stringify(url)} is not an oci:// reference; ${shape}`);
  let rest = url.slice(OCI_SCHEME.length);
  // Never echo a url that carries credentials.
  if (/^[^/]*@/.test(rest)) throw new GitError(`an oci:// url must not carry credentials (user:password@); log in with podman login (or set REGISTRY_AUTH_FILE) instead`);
  if (/[\s?#]/.test(rest) || rest.includes("://")) throw new GitError(`oci reference ${JSON.stringify(url)}: unexpected characters; ${shape}`);
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new GitError(`oci reference ${url}: digest must be sha256: and 64 lowercase hex digits`);
  }
  const slash = rest.indexOf("/");
  if (slash <= 0) throw new GitError(`oci reference ${url}: no repository after the registry; ${shape}`);
  const registry = rest.slice(0, slash);
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(":");
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!TAG.test(tag)) throw new GitError(`oci reference ${url}: invalid tag ${JSON.stringify(tag)}`);
  }
  if (!/^[A-Za-z0-9.-]+(:[0-9]+)?$/.test(registry) && !/^\[[0-9a-fA-F:]+\](:[0-9]+)?$/.test(registry)) {
    throw new GitError(`oci reference ${url}: invalid registry host ${JSON.stringify(registry)}`);
  }
  if (!REPO.test(repository)) throw new GitError(`oci reference ${url}: invalid repository ${JSON.stringify(repository)} (lowercase letters, digits, . _ - and /)`);
  if (!tag && !digest) tag = "latest";
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `oci://registry/repo:tag@digest` (no credentials are ever part of a reference). */
export function formatOciReference(r: OciReference): string {
  return `${OCI_SCHEME}${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** What to ask the registry for: the digest when pinned, else the tag. */
export const manifestRef = (r: OciReference): string => r.digest ?? r.tag ?? "latest";

/** `sha256:<hex>` → `<hex>`. */
export const digestHex = (d: string): string => d.slice(d.indexOf(":") + 1);
