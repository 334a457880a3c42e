/**
 * Artifact shapes other tools push, against the real registry: one file per
 * layer named by org.opencontainers.image.title (oras, podman artifact add),
 * only the changed file's blob fetched on an update; a zstd tar layer; an
 * index with one entry per platform; hostile titles refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { hostPlatform, MEDIA, TITLE } from "../../src/oci/manifest.ts";
import { tarTree } from "../../src/oci/pack.ts";
import { clientFor, pushManifest } from "../../src/oci/push.ts";
import { parseOciReference } from "../../src/oci/reference.ts";
import { startRegistry, type OwnRegistry } from "../support/registry.ts";
import { tracedOciSource, tree } from "./support.ts";

let reg: OwnRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => reg?.stop());

const enc = (s: string) => new TextEncoder().encode(s);
const desc = (mediaType: string, b: Uint8Array, annotations?: Record<string, string>) => ({ mediaType, digest: `sha256:${createHash("sha256").update(b).digest("hex")}`, size: b.length, ...(annotations ? { annotations } : {}) });
const EMPTY = enc("{}");

/** Pushes a manifest with `layers` (bytes + descriptor) to repo:tag; returns its digest. */
async function pushLayers(repoTag: string, layers: { bytes: Uint8Array; mediaType: string; annotations?: Record<string, string> }[]): Promise<string> {
  const ref = parseOciReference(`oci://${reg.host}/${repoTag}`);
  const manifest = { schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: "application/vnd.example.config", config: desc(MEDIA.ociEmpty, EMPTY), layers: layers.map((l) => desc(l.mediaType, l.bytes, l.annotations)) };
  return pushManifest(clientFor(ref, { tlsVerify: false }), ref.repository, ref.tag!, manifest, [EMPTY, ...layers.map((l) => l.bytes)]);
}
const file = (name: string, content: string) => ({ bytes: enc(content), mediaType: "application/vnd.oci.image.layer.v1.tar", annotations: { [TITLE]: name } });

describe("artifact shapes", () => {
  test("one file per layer (oras style): the tree, and on an update only the changed file's blob is fetched", async () => {
    const d1 = await pushLayers("fmt/files:v1", [file("a.yaml", "a: 1\n"), file("b.yaml", "b: 1\n")]);
    const s = tracedOciSource(`oci://${reg.host}/fmt/files:v1`);
    expect(await s.source.fetch()).toBe(d1);
    const changes = await s.source.diff(null, d1, { targetPath: "" });
    expect(changes.map((c) => c.path).sort()).toEqual(["a.yaml", "b.yaml"]);
    const d2 = await pushLayers("fmt/files:v1", [file("a.yaml", "a: 2\n"), file("b.yaml", "b: 1\n")]);
    const mark = s.calls.length;
    expect(await s.source.fetch()).toBe(d2);
    expect(s.calls.slice(mark).filter((c) => c.url.includes("/blobs/")).length).toBe(1);
    const [changed] = await s.source.diff(d1, d2, { targetPath: "" });
    expect(changed?.path).toBe("a.yaml");
    expect((await s.source.readBlob(changed!.blob!)).toString()).toBe("a: 2\n");
  });

  test("a zstd tar layer (and gzip) of the whole tree", async () => {
    const tar = tarTree(tree({ "conf/z.txt": "zstd\n" }));
    const dz = await pushLayers("fmt/zstd:v1", [{ bytes: zstdCompressSync(tar), mediaType: MEDIA.layerZstd }]);
    const s = tracedOciSource(`oci://${reg.host}/fmt/zstd:v1`);
    expect(await s.source.fetch()).toBe(dz);
    const [c] = await s.source.diff(null, dz, { targetPath: "conf" });
    expect((await s.source.readBlob(c!.blob!)).toString()).toBe("zstd\n");
    const dg = await pushLayers("fmt/gzip:v1", [{ bytes: gzipSync(tar), mediaType: MEDIA.layerGzip }]);
    const g = tracedOciSource(`oci://${reg.host}/fmt/gzip:v1`);
    expect(await g.source.fetch()).toBe(dg);
    expect((await g.source.diff(null, dg, { targetPath: "" })).map((x) => x.path)).toEqual(["conf/z.txt"]);
  });

  test("an index: this host's platform entry is the tree; the index digest is the head", async () => {
    const host = hostPlatform();
    const other = host.architecture === "amd64" ? "arm64" : "amd64";
    const mine = await pushLayers("fmt/multi:mine", [file("which.txt", host.architecture)]);
    const theirs = await pushLayers("fmt/multi:theirs", [file("which.txt", other)]);
    const ref = parseOciReference(`oci://${reg.host}/fmt/multi:all`);
    const client = clientFor(ref, { tlsVerify: false });
    const entry = async (tag: string, digest: string, arch: string) => {
      const res = await client.request("GET", `/v2/fmt/multi/manifests/${tag}`, { repository: "fmt/multi", headers: { accept: MEDIA.ociManifest } });
      return { mediaType: MEDIA.ociManifest, digest, size: (await res.arrayBuffer()).byteLength, platform: { os: "linux", architecture: arch } };
    };
    const index = enc(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [await entry("theirs", theirs, other), await entry("mine", mine, host.architecture)] }));
    const put = await client.request("PUT", "/v2/fmt/multi/manifests/all", { repository: "fmt/multi", push: true, headers: { "content-type": MEDIA.ociIndex }, body: index });
    const indexDigest = put.headers.get("docker-content-digest");
    const s = tracedOciSource(`oci://${reg.host}/fmt/multi:all`);
    expect(await s.source.fetch()).toBe(indexDigest!);
    const [c] = await s.source.diff(null, indexDigest!, { targetPath: "" });
    expect((await s.source.readBlob(c!.blob!)).toString()).toBe(host.architecture);
  });

  test("hostile names are refused: a title escaping the tree, two layers with one title, a tar layer with a symlink out of it", async () => {
    const d = await pushLayers("fmt/evil:v1", [file("../../etc/evil", "x")]);
    const e1 = (await tracedOciSource(`oci://${reg.host}/fmt/evil:v1`).source.fetch().catch((e: unknown) => e)) as Error;
    expect(e1.message).toContain("would escape");
    expect(d).toMatch(/^sha256:/);
    await pushLayers("fmt/evil:dup", [file("app.yaml", "one"), file("app.yaml", "two")]);
    const dup = (await tracedOciSource(`oci://${reg.host}/fmt/evil:dup`).source.fetch().catch((e: unknown) => e)) as Error;
    expect(dup.message).toContain('two layers are named "app.yaml"');
    const root = tree({ "keep.txt": "k\n" });
    symlinkSync("/tmp", join(root, "link"));
    await pushLayers("fmt/evil:v2", [{ bytes: tarTree(root), mediaType: MEDIA.layerTar }, file("link/owned", "x")]);
    const e2 = (await tracedOciSource(`oci://${reg.host}/fmt/evil:v2`).source.fetch().catch((e: unknown) => e)) as Error;
    expect(e2.message).toContain('entry "link" is a symbolic link to "/tmp", outside the extraction directory');
  });
});
