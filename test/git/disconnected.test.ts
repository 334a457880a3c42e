/**
 * Disconnected sources end to end through the real CLI (`fetchit sync`) and
 * the filetransfer method: git bundles, zip and tar(.gz) of a repository or
 * of a plain tree, on a host path and over HTTP (a real local server), new
 * content detected by hash, deleted files removed, absent sources waited for.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { disconnectedConfig, packRepo, run, serveArchives, tempLeftovers, type ArchiveServer, type RepoArtifact } from "../support/archives.ts";
import { harness, type Harness } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";

const servers: ArchiveServer[] = [];
afterAll(() => servers.forEach((s) => s.stop()));


async function status(h: Harness) {
  return JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
}

const read = (dest: string, name: string) => readFileSync(join(dest, name), "utf8");

interface Setup {
  h: Harness;
  dest: string;
  file: string;
  pack(): Promise<void>;
  remote: Awaited<ReturnType<typeof createRemote>>;
}

async function setup(kind: RepoArtifact, over: "path" | "http" | "http-plain"): Promise<Setup> {
  const remote = await createRemote({ "files/a.conf": "a=1\n", "files/gone.txt": "bye\n", "other/x": "x\n" });
  const media = tempDir("fetchit-media-");
  const file = join(media, `repo.${kind}`);
  const pack = () => packRepo(remote.dir, kind, file);
  await pack();
  let url = file;
  if (over !== "path") {
    const server = serveArchives({ [`repo.${kind}`]: file });
    servers.push(server);
    url = server.url(`${over === "http-plain" ? "plain/" : ""}repo.${kind}`);
  }
  const dest = join(tempDir("fetchit-dest-"), "app");
  return { h: harness(undefined, disconnectedConfig(url, dest)), dest, file, pack, remote };
}

const KINDS: RepoArtifact[] = ["bundle", "zip", "tar.gz", "zip-tree", "tar-tree"];

describe("disconnected sources: content, changes and deletions", () => {
  for (const kind of KINDS) {
    for (const over of ["path", "http"] as const) {
      test(`${kind} over ${over}: applied, then a new version at the same place replaces changed and deleted files`, async () => {
        const s = await setup(kind, over);
        const first = await s.h.cli("sync");
        expect(first.out.join("\n")).toContain("applied");
        expect(first.code).toBe(0);
        expect(read(s.dest, "a.conf")).toBe("a=1\n");
        expect(read(s.dest, "gone.txt")).toBe("bye\n");
        expect(existsSync(join(s.dest, "x"))).toBe(false);
        const before = (await status(s.h)).appliedCommit;

        // Nothing new: no re-apply.
        expect((await s.h.cli("sync")).out.join("\n")).toContain("unchanged");

        await s.remote.commit({ "files/a.conf": "a=2\n", "files/gone.txt": null, "files/new/b.txt": "b\n" });
        await s.pack();
        expect((await s.h.cli("sync")).code).toBe(0);
        expect(read(s.dest, "a.conf")).toBe("a=2\n");
        expect(read(s.dest, "new/b.txt")).toBe("b\n");
        expect(existsSync(join(s.dest, "gone.txt"))).toBe(false);
        const after = await status(s.h);
        expect(after.appliedCommit).not.toBe(before);
        expect(after.lastError).toBeNull();
        expect(tempLeftovers(s.h.stateDir)).toEqual([]);
      });
    }
  }

  test("a repository's history is kept: the applied commit is the repository's own", async () => {
    const s = await setup("bundle", "path");
    await s.h.cli("sync");
    expect((await status(s.h)).appliedCommit).toBe(await s.remote.head());
  });

  test("without branch: the bundle's HEAD is followed", async () => {
    const remote = await createRemote({ "files/a.conf": "head\n" });
    const file = join(tempDir("fetchit-media-"), "repo.bundle");
    await run(["git", "bundle", "create", file, "HEAD", "main"], remote.dir);
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(file, dest).replace("    branch: main\n", ""));
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("head\n");
  });

  test("a branch the bundle does not have: a clear error listing its branches", async () => {
    const s = await setup("bundle", "path");
    s.h.writeConfig(disconnectedConfig(s.file, s.dest).replace("branch: main", "branch: prod"));
    expect((await s.h.cli("sync")).code).toBe(1);
    expect((await status(s.h)).lastError.message).toContain('branch "prod" is not in it (branches: main)');
  });

  test("http without ETag or Last-Modified: the same bytes are recognised by their hash, new bytes applied", async () => {
    const s = await setup("bundle", "http-plain");
    expect((await s.h.cli("sync")).code).toBe(0);
    const server = servers.at(-1)!;
    const gets = server.counts[200] ?? 0;
    expect((await s.h.cli("sync")).out.join("\n")).toContain("unchanged");
    expect(server.counts[200]).toBe(gets + 1); // downloaded again, hashed, found the same
    await s.remote.commit({ "files/a.conf": "a=3\n" });
    await s.pack();
    expect((await s.h.cli("sync")).code).toBe(0);
    expect(read(s.dest, "a.conf")).toBe("a=3\n");
  });

  test("a file touched without a change is recognised by its hash and remembered with its new mtime", async () => {
    const s = await setup("zip", "path");
    await s.h.cli("sync");
    const later = new Date(Date.now() + 60_000);
    utimesSync(s.file, later, later);
    expect((await s.h.cli("sync")).out.join("\n")).toContain("unchanged");
    const repos = join(s.h.stateDir, "repos", "disconnected");
    const saved = JSON.parse(readFileSync(join(repos, readdirSync(repos)[0]!, "fetchit-import.json"), "utf8"));
    expect(saved.fingerprint).toContain(`mtimeMs=${statSync(s.file).mtimeMs}`);
  });

  test("http with validators: an unchanged source answers 304 and nothing is downloaded", async () => {
    const s = await setup("zip", "http");
    await s.h.cli("sync");
    const server = servers.at(-1)!;
    await s.h.cli("sync");
    expect(server.counts[304]).toBeGreaterThanOrEqual(1);
  });

  test("a repository directory (e.g. the root of a mounted stick) is followed like a remote", async () => {
    const remote = await createRemote({ "files/a.conf": "dir=1\n" });
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(remote.dir, dest));
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("dir=1\n");
    await remote.commit({ "files/a.conf": "dir=2\n" });
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("dir=2\n");
  });

  test("a repository directory owned by another user (removable media) is read despite git's ownership check", async () => {
    const remote = await createRemote({ "files/a.conf": "stick=1\n" });
    const media = join(tempDir("fetchit-media-"), "stick");
    const copy = async () => {
      rmSync(media, { recursive: true, force: true });
      await run(["cp", "-a", remote.dir, media], "/");
      await run(["chown", "-R", "4242:4242", media], "/");
    };
    await copy();
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(media, dest));
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("stick=1\n");
    await remote.commit({ "files/a.conf": "stick=2\n" });
    await copy();
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("stick=2\n");
  });

  test("a plain directory tree is committed by content: unchanged is unchanged, a removed file is removed", async () => {
    const tree = tempDir("fetchit-tree-");
    const dest = join(tempDir("fetchit-dest-"), "app");
    writeFileSync(join(tree, "README"), "x");
    mkdirSync(join(tree, "files"));
    writeFileSync(join(tree, "files", "a.conf"), "t=1\n");
    writeFileSync(join(tree, "files", "b.conf"), "b\n");
    const h = harness(undefined, disconnectedConfig(tree, dest));
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "b.conf")).toBe("b\n");
    expect((await h.cli("sync")).out.join("\n")).toContain("unchanged");
    rmSync(join(tree, "files", "b.conf"));
    expect((await h.cli("sync")).code).toBe(0);
    expect(existsSync(join(dest, "b.conf"))).toBe(false);
  });
});

describe("disconnected sources: absent media", () => {
  test("absent before the first import: the method waits (not a failure), then applies once the file appears", async () => {
    const remote = await createRemote({ "files/a.conf": "late\n" });
    const file = join(tempDir("fetchit-media-"), "repo.bundle");
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(file, dest));
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(r.out.join("\n")).toContain("skipped");
    expect((await status(h))?.lastError ?? null).toBeNull();
    await packRepo(remote.dir, "bundle", file);
    expect((await h.cli("sync")).code).toBe(0);
    expect(read(dest, "a.conf")).toBe("late\n");
  });

  test("removed after an import: what was applied stays, the state is kept, nothing is deleted", async () => {
    const s = await setup("tar", "path");
    await s.h.cli("sync");
    const applied = (await status(s.h)).appliedCommit;
    rmSync(s.file);
    const r = await s.h.cli("sync");
    expect(r.code).toBe(0);
    expect(read(s.dest, "a.conf")).toBe("a=1\n");
    expect((await status(s.h)).appliedCommit).toBe(applied);
    // Back with new content: applied.
    await s.remote.commit({ "files/a.conf": "a=back\n" });
    await s.pack();
    expect((await s.h.cli("sync")).code).toBe(0);
    expect(read(s.dest, "a.conf")).toBe("a=back\n");
  });

  test("a file that is not a bundle, zip or tar fails with a clear error and keeps the state", async () => {
    const s = await setup("bundle", "path");
    await s.h.cli("sync");
    const applied = (await status(s.h)).appliedCommit;
    writeFileSync(s.file, "just some text\n");
    const r = await s.h.cli("sync");
    expect(r.code).toBe(1);
    const st = await status(s.h);
    expect(st.lastError.message).toContain("not a git bundle, zip, tar or tar.gz file");
    expect(st.appliedCommit).toBe(applied);
    expect(read(s.dest, "a.conf")).toBe("a=1\n");
  });
});
