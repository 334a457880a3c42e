/**
 * OCI / Docker v2 manifest and index shapes (the parts fetchit reads),
 * parsing with clear errors, and the platform entry of an index for this host.
 */
import { GitError } from "../errors.ts";

export const MEDIA = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociEmpty: "application/vnd.oci.empty.v1+json",
  layerTar: "application/vnd.oci.image.layer.v1.tar",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  layerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
} as const;

/** Accept header for manifest requests: every kind fetchit can read. */
export const MANIFEST_ACCEPT = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].join(", ");

/** The file-name annotation of oras, `podman artifact add` and Flight Control. */
export const TITLE = "org.opencontainers.image.title";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** Parses manifest bytes as an image manifest or an index (by content, the header's media type as a hint). */
export function parseManifest(bytes: Uint8Array, where: string): { kind: "manifest"; m: ImageManifest } | { kind: "index"; m: ImageIndex } {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new GitError(`${where}: the manifest is not JSON`);
  }
  if (Array.isArray(doc.manifests)) return { kind: "index", m: doc as unknown as ImageIndex };
  if (!Array.isArray(doc.layers)) throw new GitError(`${where}: neither an image manifest (layers) nor an index (manifests); media type ${String(doc.mediaType ?? "unknown")}`);
  for (const l of doc.layers as Descriptor[]) checkDescriptor(l, where);
  return { kind: "manifest", m: doc as unknown as ImageManifest };
}

function checkDescriptor(d: Descriptor, where: string): void {
  if (typeof d?.digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(d.digest) || typeof d.size !== "number" || d.size < 0) {
    throw new GitError(`${where}: a layer with an unsupported digest or size (${JSON.stringify(d?.digest)}); fetchit reads sha256 descriptors`);
  }
}

/** Go's names for this host's architecture. */
export function hostPlatform(): { os: string; architecture: string } {
  const arch = ({ x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[process.arch] ?? process.arch;
  return { os: "linux", architecture: arch };
}

/**
 * The entry of an index for this host: its platform, else a platform-less
 * entry (an artifact index). Signature and attestation entries are skipped.
 */
export function pickFromIndex(index: ImageIndex, where: string, platform = hostPlatform()): Descriptor {
  const entries = index.manifests.filter((d) => !d.annotations?.["vnd.docker.reference.type"]);
  const exact = entries.find((d) => d.platform?.os === platform.os && d.platform?.architecture === platform.architecture);
  const generic = entries.find((d) => !d.platform);
  const pick = exact ?? generic;
  if (!pick) {
    const have = entries.map((d) => `${d.platform?.os ?? "?"}/${d.platform?.architecture ?? "?"}`).join(", ") || "none";
    throw new GitError(`${where}: the index has no entry for ${platform.os}/${platform.architecture} (it has: ${have}); push one for this platform`);
  }
  checkDescriptor(pick, where);
  return pick;
}
