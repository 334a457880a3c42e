/**
 * Writing an artifact into an OCI image layout directory (`fetchit push DIR
 * oci:/PATH:TAG`, for air-gapped media): blobs under `blobs/sha256/`, the
 * `oci-layout` marker, and `index.json` with the manifest tagged by
 * `org.opencontainers.image.ref.name` (replacing the tag's previous entry).
 * Files are written before the index, and the index atomically.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GitError } from "../errors.ts";
import { MEDIA, type Descriptor, type ImageIndex } from "./manifest.ts";
import { REF_NAME } from "./layout.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Adds `manifest` (and `blobs`) to the layout at `dir` under `tag`; returns the manifest digest. */
export async function writeLayout(dir: string, tag: string, manifest: object, blobs: Uint8Array[]): Promise<string> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  for (const b of [...blobs, bytes]) {
    const path = join(dir, "blobs", "sha256", sha(b));
    if (!existsSync(path)) await writeFile(path, b);
  }
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const indexFile = join(dir, "index.json");
  let index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] };
  if (existsSync(indexFile)) {
    try {
      index = JSON.parse(readFileSync(indexFile, "utf8")) as ImageIndex;
    } catch {
      throw new GitError(`${indexFile}: not valid JSON; remove the layout or fix it`);
    }
  }
  const entry: Descriptor = { mediaType: MEDIA.ociManifest, digest: `sha256:${sha(bytes)}`, size: bytes.length, annotations: { [REF_NAME]: tag } };
  index.manifests = [...(index.manifests ?? []).filter((d) => d.annotations?.[REF_NAME] !== tag), entry];
  await writeFile(`${indexFile}.tmp`, JSON.stringify(index));
  await rename(`${indexFile}.tmp`, indexFile);
  return entry.digest;
}
