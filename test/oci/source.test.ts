/**
 * The OCI source against Debian's real docker-registry on loopback:
 * `fetchit push`'s library pushes, the source fetches; one HEAD per tick,
 * blobs never fetched twice, diffs between digests, a tag moved back, the
 * registry killed (last tree kept, clear error), a damaged blob refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KEEP_RECENT, pruneBlobs } from "../../src/oci/gc.ts";
import { pushDirectory } from "../../src/oci/index.ts";
import { startRegistry, type OwnRegistry } from "../support/registry.ts";
import { tracedOciSource, tree } from "./support.ts";

let reg: OwnRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => reg?.stop());

const push = (dir: string, repo: string) => pushDirectory(dir, `oci://${reg.host}/${repo}`, { tlsVerify: false }).then((r) => r.digest);
const text = async (s: ReturnType<typeof tracedOciSource>["source"], blob: string | undefined) => (await s.readBlob(blob!)).toString("utf8");

describe("OCI source over a real registry", () => {
  test("push gives the same digest for the same tree; the source reads the tree at that digest", async () => {
    const dir = tree({ "apps/a.yaml": "a: 1\n", "apps/sub/b.yaml": "b: 2\n", "other.txt": "x\n" });
    const d1 = await push(dir, "t1/config:v1");
    expect(d1).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await push(tree({ "apps/a.yaml": "a: 1\n", "apps/sub/b.yaml": "b: 2\n", "other.txt": "x\n" }), "t1/config:v1")).toBe(d1);
    const s = tracedOciSource(`oci://${reg.host}/t1/config:v1`);
    expect(await s.source.fetch()).toBe(d1);
    const changes = await s.source.diff(null, d1, { targetPath: "apps" });
    expect(changes.map((c) => [c.status, c.relPath]).sort()).toEqual([["added", "a.yaml"], ["added", "sub/b.yaml"]]);
    expect(await text(s.source, changes.find((c) => c.relPath === "a.yaml")?.blob)).toBe("a: 1\n");
    expect(await s.source.pathExists(d1, "apps/sub")).toBe(true);
    expect((await s.source.commitInfo(d1)).sha).toBe(d1);
  });

  test("a tick without change costs one HEAD; a new digest fetches only the blobs not held; diffs between digests", async () => {
    const dir = tree({ "a.conf": "a=1\n", "gone.txt": "bye\n" });
    const d1 = await push(dir, "t2/config:prod");
    const s = tracedOciSource(`oci://${reg.host}/t2/config:prod`);
    await s.source.fetch();
    const before = s.calls.length;
    expect(await s.source.fetch()).toBe(d1);
    expect(s.calls.slice(before).map((c) => c.method)).toEqual(["HEAD"]);
    writeFileSync(join(dir, "a.conf"), "a=2\n");
    const { rmSync } = await import("node:fs");
    rmSync(join(dir, "gone.txt"));
    const d2 = await push(dir, "t2/config:prod");
    const mark = s.calls.length;
    expect(await s.source.fetch()).toBe(d2);
    // HEAD, GET manifest, GET the new layer (the empty config is never fetched).
    expect(s.calls.slice(mark).map((c) => `${c.method} ${c.url.includes("/blobs/") ? "blob" : "manifest"}`)).toEqual(["HEAD manifest", "GET manifest", "GET blob"]);
    const diff = await s.source.diff(d1, d2, { targetPath: "" });
    expect(diff.map((c) => [c.status, c.path ?? c.oldPath]).sort()).toEqual([["deleted", "gone.txt"], ["modified", "a.conf"]]);
    // The tag moved back to the older digest: applied from what is held, no blob or manifest fetched.
    const back = await push(tree({ "a.conf": "a=1\n", "gone.txt": "bye\n" }), "t2/config:prod");
    expect(back).toBe(d1);
    const mark2 = s.calls.length;
    expect(await s.source.fetch()).toBe(d1);
    expect(s.calls.slice(mark2).map((c) => c.method)).toEqual(["HEAD"]);
    expect((await s.source.diff(d2, d1, { targetPath: "" })).map((c) => c.status).sort()).toEqual(["added", "modified"]);
  });

  test("registry down: a clear retryable error, and the last tree stays readable offline", async () => {
    const own = await startRegistry();
    try {
      const d1 = await pushDirectory(tree({ "f.txt": "1\n" }), `oci://${own.host}/down/c:v1`, { tlsVerify: false }).then((r) => r.digest);
      const s = tracedOciSource(`oci://${own.host}/down/c:v1`);
      await s.source.fetch();
      await own.kill();
      const err = (await s.source.fetch().catch((e: unknown) => e)) as Error & { retryable?: boolean };
      expect(err.message).toContain(`oci://${own.host}/down/c:v1`);
      expect(err.message).toContain("cannot reach the registry");
      expect(err.retryable).toBe(true);
      expect(await s.source.hasCommit(d1)).toBe(true);
      const [change] = await s.source.diff(null, d1, { targetPath: "" });
      expect(await text(s.source, change?.blob)).toBe("1\n");
    } finally {
      await own.stop();
    }
  });

  test("a blob altered in the registry's storage is refused, and nothing is imported", async () => {
    const own = await startRegistry();
    try {
      const res = await pushDirectory(tree({ "f.txt": "original\n" }), `oci://${own.host}/bad/c:v1`, { tlsVerify: false });
      const blobs = join(own.dataDir, "docker/registry/v2/blobs/sha256");
      // Damage every blob except the manifest: the layer's bytes no longer match its digest.
      for (const pre of readdirSync(blobs)) {
        for (const hex of readdirSync(join(blobs, pre))) {
          if (`sha256:${hex}` !== res.digest) writeFileSync(join(blobs, pre, hex, "data"), "tampered");
        }
      }
      const s = tracedOciSource(`oci://${own.host}/bad/c:v1`);
      const err = (await s.source.fetch().catch((e: unknown) => e)) as Error & { retryable?: boolean };
      expect(err.message).toContain("does not match its digest");
      expect(err.retryable).toBe(false);
      expect(await s.source.hasCommit(res.digest)).toBe(false);
      expect(readdirSync(join(s.state, "blobs", "sha256")).filter((f) => !f.endsWith(".part"))).toEqual([]);
      // The next tick asks for the digest again (one HEAD) but does not download the refused content again.
      const mark = s.calls.length;
      expect(((await s.source.fetch().catch((e: unknown) => e)) as Error).message).toContain("does not match its digest");
      expect(s.calls.slice(mark).map((c) => c.method)).toEqual(["HEAD"]);
    } finally {
      await own.stop();
    }
  });

  test("the state stays bounded: old digests' trees dropped unless applied, blobs no kept digest names removed", async () => {
    const s = tracedOciSource(`oci://${reg.host}/gc/config:v1`);
    const digests: string[] = [];
    for (let i = 0; i < KEEP_RECENT + 3; i++) {
      digests.push(await push(tree({ "n.txt": `${i}\n` }), "gc/config:v1"));
      expect(await s.source.fetch()).toBe(digests[i]!);
      if (i === 0) await s.source.pin("t/filetransfer/files", digests[0]!);
    }
    expect(await s.source.hasCommit(digests[0]!)).toBe(true); // applied: kept for rollback
    expect(await s.source.hasCommit(digests[1]!)).toBe(false);
    expect(await s.source.hasCommit(digests[2]!)).toBe(false);
    for (const d of digests.slice(3)) expect(await s.source.hasCommit(d)).toBe(true);
    const blobs = join(s.state, "blobs", "sha256");
    expect(readdirSync(blobs).length).toBe(KEEP_RECENT + 3); // younger than the age guard
    expect(await pruneBlobs(join(s.state, "repos"), blobs, 0)).toBe(2);
    expect(readdirSync(blobs).length).toBe(KEEP_RECENT + 1);
    // A dropped digest comes back (tag moved back) by fetching it again.
    await push(tree({ "n.txt": "1\n" }), "gc/config:v1");
    expect(await s.source.fetch()).toBe(digests[1]!);
    expect(await s.source.hasCommit(digests[1]!)).toBe(true);
  });
});
