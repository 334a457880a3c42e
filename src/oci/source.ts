/**
 * The OCI source: a target whose url is `oci://REGISTRY/REPO:TAG` (or
 * `@sha256:…`) seen through the same GitSource contract as a git remote.
 * The manifest digest (`sha256:<hex>`) plays the commit's role; each digest's
 * tree is committed once into a bare repository under the state dir
 * (`refs/fetchit/oci/<hex>`), so diffs, blob reads, pins, rollback and drift
 * repair work offline. A tick costs one HEAD on the manifest; blobs are
 * fetched only for a digest not held yet, and never twice.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GitError } from "../errors.ts";
import { createGitSource, type GitSource } from "../git/index.ts";
import type { Logger } from "../log.ts";
import { createHash } from "node:crypto";
import { BlobStore } from "./blobs.ts";
import { pruneBlobs, recordImport } from "./gc.ts";
import { LayoutReader, parseLayoutUrl } from "./layout.ts";
import { parseManifest, pickFromIndex, type ImageManifest } from "./manifest.ts";
import { isDigest, manifestRef, parseOciReference, type OciReference } from "./reference.ts";
import { OciRemote, type RemoteOptions } from "./remote.ts";
import { commitOf, commitTree, materialize } from "./tree.ts";

export interface OciSourceOptions extends RemoteOptions {
  /** `oci://REGISTRY/REPO[:TAG][@sha256:…]`. */
  url: string;
  /** The state dir's `oci` directory: `blobs/` (shared) and `repos/` (one bare repository per reference). */
  cacheDir: string;
  tmpDir: string;
  log: Logger;
  reuseMs?: number;
}

/** What the source reads the tree of a digest from: a registry, or an OCI layout on disk. */
export interface ManifestReader {
  readonly label: string;
  resolve(): Promise<string>;
  manifest(digest: string): Promise<{ bytes: Uint8Array }>;
  blob(store: BlobStore, desc: { digest: string; size: number; mediaType: string }): Promise<string>;
}

/** commit (per bare repository) → the digest it was made from; filled by every import. */
const digestOfCommit = new Map<string, string>();

export function createOciSource(o: OciSourceOptions): GitSource {
  const ref = parseOciReference(o.url);
  return createManifestSource(new OciRemote(ref, o), ref, o);
}

/** A layout source (`oci:/PATH[:TAG]`, `oci-archive:/FILE[:TAG]`, optionally on `device`). */
export function createOciLayoutSource(o: Omit<OciSourceOptions, keyof RemoteOptions> & { device?: string; readMounts?: () => string }): GitSource {
  const label = o.device ? `${o.device}:${o.url}` : o.url;
  const key = createHash("sha256").update(label).digest("hex").slice(0, 16);
  const reader = new LayoutReader({ url: o.url, device: o.device, stateFile: join(o.cacheDir, "layouts", `${key}.json`), log: o.log.child({ source: label }), readMounts: o.readMounts });
  const tag = parseLayoutUrl(o.url).tag;
  return createManifestSource(reader, { registry: "layout", repository: label, ...(tag ? { tag } : {}) }, o);
}

/** The GitSource over any ManifestReader (registry or layout). */
export function createManifestSource(reader: ManifestReader, ref: OciReference, o: Pick<OciSourceOptions, "cacheDir" | "tmpDir" | "log" | "reuseMs">): GitSource {
  const label = reader.label;
  const store = new BlobStore(join(o.cacheDir, "blobs"));
  const log = o.log.child({ source: label });
  const failed = new Map<string, GitError>();
  const inner = createGitSource({
    url: label, branch: manifestRef(ref), cacheDir: join(o.cacheDir, "repos"), log: o.log, reuseMs: o.reuseMs,
    importHead: async (dir) => {
      const digest = await reader.resolve();
      // A digest refused for its content (mismatch, bad layer) is not downloaded again every tick; a new digest is.
      const refused = failed.get(digest);
      if (refused) throw refused;
      const commit =
        (await commitOf(dir, digest)) ??
        (await importDigest(dir, reader, store, digest, o.tmpDir, log).catch((err: unknown) => {
          if (err instanceof GitError && !err.retryable) failed.set(digest, err);
          throw err;
        }));
      digestOfCommit.set(`${dir}\n${commit}`, digest);
      return commit;
    },
  });
  const commit = async (digest: string): Promise<string> => {
    const c = await commitOf(inner.dir, digest);
    if (!c) throw new GitError(`${label}: the tree of ${digest} is not held locally (never fetched, or its cache was removed)`);
    return c;
  };
  const has = async (digest: string) => isDigest(digest) && (await commitOf(inner.dir, digest)) !== undefined;
  return {
    url: label,
    branch: manifestRef(ref),
    dir: inner.dir,
    fetch: async () => {
      const c = await inner.fetch();
      const digest = digestOfCommit.get(`${inner.dir}\n${c}`);
      if (!digest) throw new GitError(`${label}: internal: no digest recorded for commit ${c}`);
      return digest;
    },
    forget: () => inner.forget(),
    diff: async (from, to, filter) => inner.diff(from === null ? null : await commit(from), await commit(to), filter),
    pathExists: async (digest, path) => inner.pathExists(await commit(digest), path),
    readBlob: (sha, max) => inner.readBlob(sha, max),
    blobSize: (sha) => inner.blobSize(sha),
    streamBlob: (sha) => inner.streamBlob(sha),
    copyBlobTo: (sha, fd) => inner.copyBlobTo(sha, fd),
    commitInfo: async (digest) => ({ ...(await inner.commitInfo(await commit(digest))), sha: digest }),
    hasCommit: has,
    pin: async (name, digest) => inner.pin(name, await commit(digest)),
    unpin: (name) => inner.unpin(name),
  };
}

/** Downloads what `digest` needs (manifest, index entry, layers) and commits its tree. */
async function importDigest(repo: string, reader: ManifestReader, store: BlobStore, digest: string, tmpDir: string, log: Logger): Promise<string> {
  const started = performance.now();
  const where = `${reader.label}@${digest}`;
  let parsed = parseManifest((await reader.manifest(digest)).bytes, where);
  let annotations = parsed.m.annotations ?? {};
  if (parsed.kind === "index") {
    const entry = pickFromIndex(parsed.m, where);
    parsed = parseManifest((await reader.manifest(entry.digest)).bytes, `${where} (entry ${entry.digest})`);
    if (parsed.kind === "index") throw new GitError(`${where}: an index inside an index; push a manifest per platform`);
    annotations = { ...annotations, ...parsed.m.annotations };
  }
  const manifest = parsed.m as ImageManifest;
  for (const layer of manifest.layers) await reader.blob(store, layer);
  await mkdir(tmpDir, { recursive: true });
  const dest = await mkdtemp(join(tmpDir, "oci-import-"));
  try {
    await materialize(manifest, (d) => store.path(d), dest, tmpDir, where);
    const subject = annotations["org.opencontainers.image.description"] ?? annotations["org.opencontainers.image.revision"] ?? `${reader.label}`;
    const commit = await commitTree(repo, dest, digest, subject.split("\n")[0]!, annotations["org.opencontainers.image.created"]);
    log.info("oci: fetched", { digest, layers: manifest.layers.length, ms: Math.round(performance.now() - started) });
    await recordImport(repo, { digest, layers: manifest.layers.map((l) => l.digest) });
    const removed = await pruneBlobs(dirname(repo), join(store.dir, "sha256"));
    if (removed) log.debug("oci: removed blobs no kept digest needs", { removed });
    return commit;
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
}
