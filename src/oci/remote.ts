/**
 * One repository as read through its endpoints (registries.conf mirrors in
 * order, then the primary): the manifest digest by one HEAD, the manifest
 * bytes checked against their digest, blobs into the blob store. An endpoint
 * that fails or lacks the content is skipped for the next; when all fail,
 * the error lists each one.
 */
import { createHash } from "node:crypto";
import { GitError } from "../errors.ts";
import { findCredentials } from "./auth.ts";
import type { BlobStore } from "./blobs.ts";
import { RegistryClient, type TraceEvent } from "./client.ts";
import { MANIFEST_ACCEPT, type Descriptor } from "./manifest.ts";
import { formatOciReference, isDigest, type OciReference } from "./reference.ts";
import { endpointsFor, tlsFilesFor, type Endpoint } from "./registries.ts";

export interface RemoteOptions {
  /** false: a lab registry (any certificate, plain HTTP allowed). Default true. */
  tlsVerify?: boolean;
  /** An auth file instead of Podman's lookup order. */
  authFile?: string;
  /** Largest blob downloaded. */
  maxBlobBytes?: number;
  env?: NodeJS.ProcessEnv;
  certsDirs?: string[];
  trace?: (e: TraceEvent) => void;
}

const MAX_MANIFEST = 4 * 1024 * 1024;

/** Docker Hub's API is not at its name (as Podman resolves it). */
const apiHost = (registry: string) => (registry === "docker.io" ? "registry-1.docker.io" : registry);

export class OciRemote {
  readonly label: string;
  private clients = new Map<string, RegistryClient>();
  /** The endpoint that answered last: asked first for the manifest and blobs of what it named. */
  private preferred?: Endpoint;

  constructor(
    readonly ref: OciReference,
    readonly opts: RemoteOptions = {},
  ) {
    this.label = formatOciReference(ref);
  }

  endpoints(): Endpoint[] {
    const list = endpointsFor(this.ref.registry, this.ref.repository, { tlsVerify: this.opts.tlsVerify, byDigest: !!this.ref.digest, env: this.opts.env });
    if (!this.preferred) return list;
    const p = this.preferred;
    return [p, ...list.filter((e) => e.registry !== p.registry || e.repository !== p.repository)];
  }

  client(e: Endpoint): RegistryClient {
    const key = `${e.registry}\n${e.tlsVerify}`;
    let c = this.clients.get(key);
    if (!c) {
      const credentials = findCredentials(e.registry, e.repository, { env: this.opts.env, authFile: this.opts.authFile });
      c = new RegistryClient({ registry: apiHost(e.registry), tlsVerify: e.tlsVerify, tls: tlsFilesFor(e.registry, this.opts.certsDirs), trace: this.opts.trace, ...(credentials ? { credentials } : {}) });
      this.clients.set(key, c);
    }
    return c;
  }

  /** Tries `fn` on each endpoint in order (mirrors first); the first answer wins. */
  async tryEach<T>(what: string, fn: (c: RegistryClient, e: Endpoint) => Promise<T | undefined>, list = this.endpoints()): Promise<T> {
    const errors: GitError[] = [];
    for (const e of list) {
      try {
        const v = await fn(this.client(e), e);
        if (v !== undefined) {
          this.preferred = e.mirror ? e : undefined;
          return v;
        }
        errors.push(new GitError(`registry ${e.registry}: ${e.repository}: ${what} not found`));
      } catch (err) {
        errors.push(err instanceof GitError ? err : new GitError(String(err), { retryable: true }));
      }
    }
    const retryable = errors.some((e) => e.retryable);
    const detail = errors.map((e) => e.message).join("; ");
    throw new GitError(`${this.label}: ${what}: ${detail}${retryable ? " (will try again)" : ""}`, { retryable });
  }

  /** The manifest digest the reference names now: one HEAD (a GET when the registry gives no digest). */
  async resolve(): Promise<string> {
    if (this.ref.digest) return this.ref.digest;
    const tag = this.ref.tag ?? "latest";
    return this.tryEach(`tag ${tag}`, async (c, e) => {
      const res = await c.request("HEAD", `/v2/${e.repository}/manifests/${tag}`, { repository: e.repository, headers: { accept: MANIFEST_ACCEPT }, accept: [404] });
      if (res.status === 404) return undefined;
      const digest = res.headers.get("docker-content-digest") ?? res.headers.get("etag")?.replace(/"/g, "");
      if (digest && isDigest(digest)) return digest;
      return (await this.manifestFrom(c, e, tag, undefined))?.digest;
    });
  }

  /** The manifest bytes of `digest`, checked against it. */
  async manifest(digest: string): Promise<{ bytes: Uint8Array; mediaType: string }> {
    return this.tryEach(`manifest ${digest}`, async (c, e) => this.manifestFrom(c, e, digest, digest));
  }

  private async manifestFrom(c: RegistryClient, e: Endpoint, ref: string, expect: string | undefined): Promise<{ bytes: Uint8Array; mediaType: string; digest: string } | undefined> {
    const res = await c.request("GET", `/v2/${e.repository}/manifests/${ref}`, { repository: e.repository, headers: { accept: MANIFEST_ACCEPT }, accept: [404] });
    if (res.status === 404) return undefined;
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST) throw new GitError(`registry ${e.registry}: manifest ${ref} is ${bytes.length} bytes, over ${MAX_MANIFEST}; refused`);
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (expect && digest !== expect) {
      throw new GitError(`registry ${e.registry}: manifest ${expect} of ${e.repository}: content does not match its digest (got ${digest}); refused, the registry or a proxy serves altered content`);
    }
    return { bytes, mediaType: res.headers.get("content-type") ?? "", digest };
  }

  /** Ensures blob `desc` is in `store` (never fetched when already held); returns its path. */
  async blob(store: BlobStore, desc: Descriptor): Promise<string> {
    if (store.has(desc.digest)) return store.path(desc.digest);
    return this.tryEach(`blob ${desc.digest}`, async (c, e) => {
      try {
        return await store.fetch(c, e.repository, desc, this.opts.maxBlobBytes);
      } catch (err) {
        if ((err as { status?: number }).status === 404) return undefined;
        throw err;
      }
    });
  }
}
