/**
 * An artifact's layers → a file tree → a commit in the source's bare
 * repository (so the ordinary diff, blob reads and pins work on it, offline).
 * A layer is either a tar (plain, gzip or zstd: the whole tree; at most one
 * per artifact) or one file named by its `org.opencontainers.image.title`
 * annotation (oras, `podman artifact add`). Every tar entry is checked before
 * anything is extracted (archive.ts).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { GitError } from "../errors.ts";
import { cleanEntryPath, extractArchive } from "../git/archive.ts";
import { gitAt } from "../git/disconnected-import.ts";
import { HEAD_REF } from "../git/index.ts";
import { MEDIA, TITLE, type Descriptor, type ImageManifest } from "./manifest.ts";
import { digestHex } from "./reference.ts";

/** Ref keeping the commit made from one manifest digest. */
export const digestRef = (digest: string) => `refs/fetchit/oci/${digestHex(digest)}`;

type LayerKind = "tar" | "gzip" | "zstd" | "file";

/** How a layer is read, or a clear refusal. */
export function layerKind(d: Descriptor, where: string): LayerKind {
  if (d.annotations?.[TITLE]) return "file";
  const t = d.mediaType ?? "";
  if (t === MEDIA.layerTar || t === "application/vnd.docker.image.rootfs.diff.tar" || t === "application/x-tar") return "tar";
  if (t === MEDIA.layerGzip || t === "application/vnd.docker.image.rootfs.diff.tar.gzip") return "gzip";
  if (t === MEDIA.layerZstd) return "zstd";
  throw new GitError(`${where}: layer ${d.digest} has media type ${JSON.stringify(t)} and no ${TITLE} annotation; fetchit reads tar layers (plain, gzip, zstd) or one file per layer named by ${TITLE}`);
}

/**
 * Writes the tree of `manifest` (blobs at `blobPath(digest)`) into the empty
 * directory `dest`: the one tar layer first, then the titled files (each
 * checked to stay inside `dest`, also through symlinks the tar made).
 */
export async function materialize(manifest: ImageManifest, blobPath: (digest: string) => string, dest: string, tmpDir: string, where: string): Promise<void> {
  const kinds = manifest.layers.map((l) => ({ layer: l, kind: layerKind(l, where) }));
  const tars = kinds.filter((k) => k.kind !== "file");
  if (tars.length > 1) throw new GitError(`${where}: ${tars.length} tar layers; fetchit reads one tar of the whole tree (fetchit push makes one), or one file per layer`);
  for (const { layer, kind } of tars) await extractTarLayer(blobPath(layer.digest), kind, dest, tmpDir, `${where} layer ${layer.digest.slice(0, 19)}`);
  const root = await realpath(dest);
  const titled = new Set<string>();
  for (const { layer } of kinds.filter((k) => k.kind === "file")) {
    const rel = cleanEntryPath(where, layer.annotations![TITLE]!);
    if (!rel) throw new GitError(`${where}: layer ${layer.digest} has an empty ${TITLE}`);
    // Podman 5.4's `artifact add` with several files names every layer after the last file: refuse rather than drop files.
    if (titled.has(rel)) throw new GitError(`${where}: two layers are named ${JSON.stringify(rel)} (${TITLE}); push an artifact whose files have distinct names (with Podman 5.4, one file per \`podman artifact add\`)`);
    titled.add(rel);
    const path = join(dest, rel);
    await mkdir(dirname(path), { recursive: true });
    const parent = await realpath(dirname(path));
    if (parent !== root && !parent.startsWith(`${root}/`)) throw new GitError(`${where}: file ${JSON.stringify(rel)} would be written outside the tree (through a symlink); refused`);
    await rm(path, { recursive: true, force: true });
    await copyFile(blobPath(layer.digest), path);
  }
}

async function extractTarLayer(blob: string, kind: LayerKind, dest: string, tmpDir: string, label: string): Promise<void> {
  if (kind === "tar") {
    await extractArchive(blob, "tar", dest, label);
    return;
  }
  await mkdir(tmpDir, { recursive: true });
  const scratch = await mkdtemp(join(tmpDir, "oci-layer-"));
  const tar = join(scratch, "layer.tar");
  try {
    try {
      await pipeline(createReadStream(blob), kind === "gzip" ? createGunzip() : createZstdDecompress(), createWriteStream(tar, { mode: 0o600 }));
    } catch (err) {
      throw new GitError(`${label}: not valid ${kind}: ${(err as Error).message}`);
    }
    await extractArchive(tar, "tar", dest, label);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Commits `root` in `repo` as the content of `digest` (ref digestRef, and
 * HEAD_REF); the subject names the reference, the date is the artifact's
 * `org.opencontainers.image.created` when it has one.
 */
export async function commitTree(repo: string, root: string, digest: string, subject: string, created?: string): Promise<string> {
  const index = `${root}.index`;
  try {
    const env = { GIT_WORK_TREE: root, GIT_INDEX_FILE: index };
    await gitAt(repo, ["-c", "core.bare=false", "add", "--all", "--force", "--", "."], env, root);
    const tree = (await gitAt(repo, ["write-tree"], env)).trim();
    const date: Record<string, string> = created && !Number.isNaN(Date.parse(created)) ? { GIT_AUTHOR_DATE: created, GIT_COMMITTER_DATE: created } : {};
    const ident = { GIT_AUTHOR_NAME: "fetchit", GIT_AUTHOR_EMAIL: "fetchit@localhost", GIT_COMMITTER_NAME: "fetchit", GIT_COMMITTER_EMAIL: "fetchit@localhost", ...date };
    const commit = (await gitAt(repo, ["commit-tree", tree, "-m", `${subject}\n\nOCI manifest ${digest}`], ident)).trim();
    await gitAt(repo, ["update-ref", digestRef(digest), commit]);
    await gitAt(repo, ["update-ref", HEAD_REF, commit]);
    return commit;
  } finally {
    await rm(index, { force: true });
  }
}

/** The commit made from `digest`, or undefined when it is not held. */
export async function commitOf(repo: string, digest: string): Promise<string | undefined> {
  const out = await gitAt(repo, ["rev-parse", "--verify", "-q", `${digestRef(digest)}^{commit}`]).catch(() => "");
  return out.trim() || undefined;
}
