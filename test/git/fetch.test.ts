import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { simpleGit } from "simple-git";
import { GitError } from "../../src/errors.ts";
import { repoDirFor, toFetchUrl } from "../../src/git/index.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { tracedSource } from "./source-fixture.ts";

async function isShallow(dir: string): Promise<boolean> {
  return existsSync(join(dir, "shallow"));
}

describe("fetch", () => {
  test("first fetch makes a bare clone keyed by url and branch and returns the head", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    await remote.commit({ "a.txt": "2" });
    const t = tracedSource(remote.url);
    expect(await t.source.fetch()).toBe(await remote.head());
    expect(t.source.dir).toBe(repoDirFor(t.cacheDir, remote.url, "main"));
    expect(basename(t.source.dir)).toMatch(/^[0-9a-f]{16}$/);
    expect(dirname(t.source.dir)).toBe(t.cacheDir);
    expect(existsSync(join(t.source.dir, "HEAD"))).toBe(true);
    expect(existsSync(join(t.source.dir, "config"))).toBe(true);
    expect(await readFile(join(t.source.dir, "origin.txt"), "utf8")).toContain(`url=${remote.url}\nbranch=main\n`);
    expect(await isShallow(t.source.dir)).toBe(true);
    expect(t.count("fetch")).toBe(1);
  });

  test("no new commit: one ls-remote and no git fetch", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const t = tracedSource(remote.url);
    const first = await t.source.fetch();
    expect(await t.source.fetch()).toBe(first);
    expect(await t.source.fetch()).toBe(first);
    expect(t.count("ls-remote")).toBe(3);
    expect(t.count("fetch")).toBe(1);
    const next = await remote.commit({ "a.txt": "2" });
    expect(await t.source.fetch()).toBe(next);
    expect(t.count("fetch")).toBe(2);
  });

  test("a result younger than reuseMs is returned without asking the remote", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const t = tracedSource(remote.url, { reuseMs: 60_000 });
    const first = await t.source.fetch();
    await remote.commit({ "a.txt": "2" });
    expect(await t.source.fetch()).toBe(first);
    expect(t.count("ls-remote")).toBe(1);
  });

  test("forget() drops the reused result: the next fetch asks the remote and sees the push", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const t = tracedSource(remote.url, { reuseMs: 60_000 });
    await t.source.fetch();
    const next = await remote.commit({ "a.txt": "2" });
    t.source.forget();
    expect(await t.source.fetch()).toBe(next);
    expect(t.count("ls-remote")).toBe(2);
  });

  test("concurrent calls, also from two sources of the same url and branch, run one fetch", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const a = tracedSource(remote.url);
    const b = tracedSource(remote.url, { cacheDir: a.cacheDir });
    const [probe, ...shas] = await Promise.all([
      b.source.hasCommit("0".repeat(40)),
      a.source.fetch(),
      a.source.fetch(),
      b.source.fetch(),
      a.source.fetch(),
    ]);
    expect(probe).toBe(false);
    expect(new Set(shas)).toEqual(new Set([await remote.head()]));
    expect(a.count("init") + b.count("init")).toBe(1);
    expect(a.count("ls-remote") + b.count("ls-remote")).toBe(1);
    expect(a.count("fetch") + b.count("fetch")).toBe(1);
  });

  test("same basename, different URLs or branches: different directories", async () => {
    const origin = await createRemote({ "a.txt": "1" });
    await origin.branch("dev");
    const devHead = await origin.commit({ "a.txt": "dev" });
    const [x, y] = [join(tempDir(), "app"), join(tempDir(), "app.git")];
    await simpleGit().raw(["clone", "--quiet", "--branch", "main", origin.dir, x]);
    await simpleGit().raw(["clone", "--quiet", "--bare", origin.dir, y]);
    const cacheDir = tempDir("fetchit-cache-");
    const sx = tracedSource(x, { cacheDir }).source;
    const sy = tracedSource(y, { cacheDir, branch: "dev" }).source;
    const sz = tracedSource(x, { cacheDir, branch: "dev" }).source;
    expect(new Set([sx.dir, sy.dir, sz.dir]).size).toBe(3);
    expect(await sx.fetch()).not.toBe(devHead);
    expect(await sy.fetch()).toBe(devHead);
    expect(repoDirFor("/c", "https://github.com/a/app", "main")).not.toBe(repoDirFor("/c", "https://github.com/b/app.git", "main"));
  });

  test("plain paths are fetched through file:// so the clone stays shallow", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    await remote.commit({ "a.txt": "2" });
    expect(toFetchUrl(remote.dir)).toBe(`file://${remote.dir}`);
    expect(toFetchUrl("git@github.com:containers/fetchit")).toBe("git@github.com:containers/fetchit");
    const t = tracedSource(remote.dir);
    expect(await t.source.fetch()).toBe(await remote.head());
    expect(await isShallow(t.source.dir)).toBe(true);
  });

  test("a missing branch is a non-retryable GitError naming url and branch", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const t = tracedSource(remote.url, { branch: "no-such-branch" });
    const err = await t.source.fetch().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).retryable).toBe(false);
    expect((err as GitError).message).toContain('"no-such-branch"');
    expect((err as GitError).message).toContain(remote.url);
  });

  test("an unreachable server is retryable; a missing repository is not", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = server.port;
    await server.stop(true);
    const down = await tracedSource(`http://user:pw@127.0.0.1:${port}/repo.git`).source.fetch().catch((e: unknown) => e);
    expect(down).toBeInstanceOf(GitError);
    expect((down as GitError).retryable).toBe(true);
    expect((down as GitError).message).toContain(`http://127.0.0.1:${port}/repo.git`);
    expect((down as GitError).message).not.toContain("pw");
    const missing = await tracedSource(`file://${tempDir()}/nothing`).source.fetch().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(GitError);
    expect((missing as GitError).retryable).toBe(false);
  });

  test("follows a force push of the branch", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const base = await remote.head();
    await remote.commit({ "a.txt": "2" });
    const t = tracedSource(remote.url);
    await t.source.fetch();
    await remote.resetHard(base);
    const rewritten = await remote.commit({ "a.txt": "3" });
    expect(await t.source.fetch()).toBe(rewritten);
  });

  test("a cache directory holding garbage is recreated", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const t = tracedSource(remote.url);
    await mkdir(join(t.source.dir, "objects"), { recursive: true });
    await writeFile(join(t.source.dir, "HEAD"), "garbage");
    expect(await t.source.fetch()).toBe(await remote.head());
  });

  test("a cache directory deleted while running is recreated", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const t = tracedSource(remote.url);
    await t.source.fetch();
    await rm(t.source.dir, { recursive: true, force: true });
    expect(await t.source.fetch()).toBe(await remote.head());
    expect(await t.source.hasCommit(await remote.head())).toBe(true);
  });
});
