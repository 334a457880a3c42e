/**
 * A damaged clone is the host's problem, never the commit's: lost or corrupt
 * objects, a stale lock of a killed git and a half-finished fetch are
 * recognised, the clone is removed and made again in the same call, and the
 * pins of applied commits come back (fetched by sha) when the remote still
 * has them. Real git, real damage.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { PIN_PREFIX } from "../../src/git/objects.ts";
import { createRemote } from "../support/git.ts";
import { runOk } from "../support/exec.ts";
import { tracedSource } from "./source-fixture.ts";

/** What a lost write or a bad flash leaves: every object gone, refs intact. */
async function loseObjects(dir: string): Promise<void> {
  await rm(join(dir, "objects", "pack"), { recursive: true, force: true });
  for (const d of readdirSync(join(dir, "objects"))) if (/^[0-9a-f]{2}$/.test(d)) await rm(join(dir, "objects", d), { recursive: true, force: true });
}

const inits = (calls: string[][]) => calls.filter((c) => c[0] === "init").length;
const blobOf = async (dir: string, commit: string, path: string) => (await runOk(["git", "-C", dir, "rev-parse", `${commit}:${path}`])).trim();

describe("damaged clone", () => {
  test("objects lost with no new commit: reading the head clones again in the same call; pins come back", async () => {
    const remote = await createRemote({ "a.txt": "one\n" });
    const a = await remote.head();
    const t = tracedSource(remote.url);
    expect(await t.source.fetch()).toBe(a);
    await t.source.pin("t1/raw/old", a);
    const b = await remote.commit({ "a.txt": "two\n" });
    expect(await t.source.fetch()).toBe(b);
    await t.source.pin("t1/raw/new", b);
    const blob = await blobOf(remote.dir, b, "a.txt");
    await loseObjects(t.source.dir);

    expect(await t.source.fetch()).toBe(b); // refs are intact: nothing noticed yet
    expect(await t.source.hasCommit(b)).toBe(true);
    expect(inits(t.calls)).toBe(2);
    expect((await t.source.readBlob(blob)).toString()).toBe("two\n");
    expect(await t.source.hasCommit(a)).toBe(true); // fetched again by sha for its pin
    const pins = (await runOk(["git", "--git-dir", t.source.dir, "for-each-ref", "--format=%(objectname)", PIN_PREFIX])).trim().split("\n");
    expect(pins.sort()).toEqual([a, b].sort());
    expect(existsSync(join(t.source.dir, "shallow"))).toBe(true);
  });

  test("a corrupt loose object: the blob is read correctly after the clone is made again", async () => {
    const remote = await createRemote({ "a.txt": "payload\n" });
    const t = tracedSource(remote.url);
    const head = await t.source.fetch();
    const blob = await blobOf(remote.dir, head, "a.txt");
    const loose = join(t.source.dir, "objects", blob.slice(0, 2), blob.slice(2));
    expect(existsSync(loose)).toBe(true); // a small fetch is unpacked into loose objects
    truncateSync(loose, 5);
    expect((await t.source.readBlob(blob)).toString()).toBe("payload\n");
    expect(inits(t.calls)).toBe(2);
  });

  test("a stale shallow.lock: the next fetch clones again and stays shallow (no silent full fetch)", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const t = tracedSource(remote.url);
    await t.source.fetch();
    writeFileSync(join(t.source.dir, "shallow.lock"), "");
    const next = await remote.commit({ "a.txt": "2" });
    expect(await t.source.fetch()).toBe(next);
    expect(inits(t.calls)).toBe(2);
    expect(t.calls.filter((c) => c[0] === "fetch").every((c) => c.includes("--depth=1"))).toBe(true);
    expect(existsSync(join(t.source.dir, "shallow.lock"))).toBe(false);
  });

  test("a stale ref lock and a stale index.lock: the new commit is fetched", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const t = tracedSource(remote.url);
    await t.source.fetch();
    writeFileSync(join(t.source.dir, "refs", "fetchit", "head.lock"), "");
    writeFileSync(join(t.source.dir, "index.lock"), "");
    const next = await remote.commit({ "a.txt": "2" });
    expect(await t.source.fetch()).toBe(next);
    expect(await t.source.hasCommit(next)).toBe(true);
  });

  test("a git fetch killed with SIGKILL half-way: the next fetch succeeds", async () => {
    const remote = await createRemote({ "big.bin": randomBytes(40 * 1024 * 1024) });
    const head = await remote.head();
    const t = tracedSource(remote.url);
    expect(await t.source.hasCommit(head)).toBe(false); // creates the empty clone, fetches nothing
    const git = Bun.spawn(["git", "--git-dir", t.source.dir, "fetch", "--no-tags", "--depth=1", "--", remote.url, "+refs/heads/main:refs/fetchit/head"], {
      stdout: "ignore",
      stderr: "ignore",
    });
    const lock = join(t.source.dir, "shallow.lock");
    const deadline = Date.now() + 30_000;
    while (!existsSync(lock) && Date.now() < deadline) await Bun.sleep(5);
    git.kill("SIGKILL");
    expect(await git.exited).not.toBe(0);
    expect(existsSync(lock)).toBe(true); // what the killed git left behind
    const other = tracedSource(remote.url, { cacheDir: t.cacheDir });
    expect(await other.source.fetch()).toBe(head);
    const blob = await blobOf(remote.dir, head, "big.bin");
    expect(await other.source.blobSize(blob)).toBe(40 * 1024 * 1024); // the whole 40 MiB blob arrived (read whole only up to 32 MiB)
  });

  test("the remote no longer has a pinned commit: the clone is still made again; that commit is gone", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const first = await remote.head();
    const old = await remote.commit({ "a.txt": "2" });
    const t = tracedSource(remote.url);
    await t.source.fetch();
    await t.source.pin("t1/raw/x", old);
    await remote.resetHard(first); // force push, and the old commit pruned from the remote
    const next = await remote.commit({ "b.txt": "3" });
    await runOk(["git", "-C", remote.dir, "reflog", "expire", "--expire=now", "--all"]);
    await runOk(["git", "-C", remote.dir, "gc", "--prune=now", "--quiet"]);
    expect(await t.source.fetch()).toBe(next);
    await loseObjects(t.source.dir);
    expect(await t.source.hasCommit(next)).toBe(true);
    expect(await t.source.hasCommit(old)).toBe(false);
    expect(statSync(t.source.dir).isDirectory()).toBe(true);
  });
});
