/**
 * Pushing a directory as an OCI artifact: one reproducible tar+gzip layer,
 * the empty config, annotations, the manifest under the tag; optionally a
 * cosign-style signature under `sha256-<hex>.sig`. Blobs the registry already
 * has are not uploaded again.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { GitError } from "../errors.ts";
import { findCredentials } from "./auth.ts";
import { RegistryClient, type TraceEvent } from "./client.ts";
import { MEDIA, type Descriptor } from "./manifest.ts";
import { isLayoutUrl, parseLayoutUrl } from "./layout.ts";
import { writeLayout } from "./layout-write.ts";
import { packTree } from "./pack.ts";
import { parseOciReference, type OciReference } from "./reference.ts";
import { tlsFilesFor } from "./registries.ts";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING, signatureTag, signPayload, simpleSigningPayload } from "./sign.ts";

/** The artifact type of a tree pushed by fetchit. */
export const FETCHIT_ARTIFACT = "application/vnd.fetchit.tree.v1";
const EMPTY = new TextEncoder().encode("{}");

export interface PushOptions {
  annotations?: Record<string, string>;
  /** PEM private key file (ECDSA P-256 or Ed25519, PKCS#8). */
  signKey?: string;
  tlsVerify?: boolean;
  authFile?: string;
  env?: NodeJS.ProcessEnv;
  trace?: (e: TraceEvent) => void;
}

export interface PushResult {
  digest: string;
  reference: string;
  signatureDigest?: string;
}

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const describe = (mediaType: string, b: Uint8Array, annotations?: Record<string, string>): Descriptor => ({ mediaType, digest: sha(b), size: b.length, ...(annotations ? { annotations } : {}) });

/** Packs `dir` and pushes it to `url` (oci://…:TAG, or a layout directory oci:/PATH:TAG); returns the manifest digest. */
export async function pushDirectory(dir: string, url: string, o: PushOptions = {}): Promise<PushResult> {
  const layer = packTree(dir);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    artifactType: FETCHIT_ARTIFACT,
    config: describe(MEDIA.ociEmpty, EMPTY),
    layers: [describe(MEDIA.layerGzip, layer)],
    ...(o.annotations && Object.keys(o.annotations).length ? { annotations: sortKeys(o.annotations) } : {}),
  };
  if (isLayoutUrl(url)) {
    const { path, tag } = parseLayoutUrl(url);
    if (parseLayoutUrl(url).archive) throw new GitError(`${url}: push writes a layout directory (oci:/PATH:TAG); make an archive of it with tar`);
    return { digest: await writeLayout(path, tag ?? "latest", manifest, [EMPTY, layer]), reference: url };
  }
  const ref = parseOciReference(url);
  if (ref.digest || !ref.tag) throw new GitError(`${url}: push needs a tag (oci://REGISTRY/REPO:TAG), not a digest`);
  const client = clientFor(ref, o);
  const digest = await pushManifest(client, ref.repository, ref.tag, manifest, [EMPTY, layer]);
  const result: PushResult = { digest, reference: `${ref.registry}/${ref.repository}:${ref.tag}` };
  if (o.signKey) result.signatureDigest = await pushSignature(client, ref, digest, o.signKey);
  return result;
}

/** Signs `digest` with the key file and pushes the signature artifact; returns its manifest digest. */
export async function pushSignature(client: RegistryClient, ref: OciReference, digest: string, keyFile: string): Promise<string> {
  let pem: string;
  try {
    pem = readFileSync(keyFile, "utf8");
  } catch (err) {
    throw new GitError(`--sign ${keyFile}: cannot read the key: ${(err as Error).message}`);
  }
  const payload = simpleSigningPayload(`${ref.registry}/${ref.repository}`, digest);
  const signature = await signPayload(pem, keyFile, payload);
  const config = new TextEncoder().encode(JSON.stringify({ architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: [sha(payload)] } }));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: describe("application/vnd.oci.image.config.v1+json", config),
    layers: [describe(SIMPLE_SIGNING, payload, { [SIGNATURE_ANNOTATION]: signature })],
  };
  return pushManifest(client, ref.repository, signatureTag(digest), manifest, [config, payload]);
}

/** Uploads `blobs` the registry lacks, then the manifest under `tag`; returns its digest. */
export async function pushManifest(client: RegistryClient, repository: string, tag: string, manifest: object, blobs: Uint8Array[]): Promise<string> {
  for (const b of blobs) await pushBlob(client, repository, b);
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const digest = sha(bytes);
  const res = await client.request("PUT", `/v2/${repository}/manifests/${tag}`, { repository, push: true, headers: { "content-type": MEDIA.ociManifest }, body: bytes });
  await res.body?.cancel();
  const got = res.headers.get("docker-content-digest");
  if (got && got !== digest) throw client.error(`PUT manifest ${tag}: the registry answered digest ${got}, not ${digest}`, false);
  return digest;
}

async function pushBlob(client: RegistryClient, repository: string, bytes: Uint8Array): Promise<void> {
  const digest = sha(bytes);
  const head = await client.request("HEAD", `/v2/${repository}/blobs/${digest}`, { repository, push: true, accept: [404] });
  if (head.status === 200) return;
  const start = await client.request("POST", `/v2/${repository}/blobs/uploads/`, { repository, push: true });
  await start.body?.cancel();
  const location = start.headers.get("location");
  if (!location) throw client.error(`POST /v2/${repository}/blobs/uploads/: no Location header`, false);
  const url = new URL(location, "http://registry.invalid");
  url.searchParams.set("digest", digest);
  const put = await client.request("PUT", `${url.pathname}${url.search}`, { repository, push: true, headers: { "content-type": "application/octet-stream" }, body: bytes });
  await put.body?.cancel();
}

export function clientFor(ref: OciReference, o: Pick<PushOptions, "tlsVerify" | "authFile" | "env" | "trace">): RegistryClient {
  const credentials = findCredentials(ref.registry, ref.repository, { env: o.env, authFile: o.authFile });
  return new RegistryClient({ registry: ref.registry === "docker.io" ? "registry-1.docker.io" : ref.registry, tlsVerify: o.tlsVerify !== false, tls: tlsFilesFor(ref.registry), ...(o.trace ? { trace: o.trace } : {}), ...(credentials ? { credentials } : {}) });
}

const sortKeys = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));
