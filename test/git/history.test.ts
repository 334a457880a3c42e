import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { simpleGit } from "simple-git";
import { pinRef } from "../../src/git/index.ts";
import { createRemote } from "../support/git.ts";
import { tracedSource } from "./source-fixture.ts";

/** Runs `git gc --prune=now` in the bare cache, dropping every unreferenced object. */
async function gcNow(dir: string): Promise<void> {
  await simpleGit({ baseDir: dir }).raw(["gc", "--prune=now", "--quiet"]);
}

describe("history and objects", () => {
  test("force push: diff from the pinned old applied commit to the new head", async () => {
    const remote = await createRemote({ "apps/a.yaml": "a1", "apps/b.yaml": "b1" });
    const base = await remote.head();
    const t = tracedSource(remote.url);
    await remote.commit({ "apps/a.yaml": "a2", "apps/c.yaml": "c" });
    const applied = await t.source.fetch();
    await t.source.pin("target/raw/apps", applied);

    await remote.resetHard(base);
    const rewritten = await remote.commit({ "apps/b.yaml": "b2", "apps/d.yaml": "d" }, "divergent");
    expect(await t.source.fetch()).toBe(rewritten);
    await gcNow(t.source.dir);

    expect(await t.source.hasCommit(applied)).toBe(true);
    const changes = await t.source.diff(applied, rewritten, { targetPath: "apps" });
    const summary = changes.map((c) => `${c.status} ${c.relPath ?? c.oldRelPath}`).sort();
    expect(summary).toEqual(["added d.yaml", "deleted c.yaml", "modified a.yaml", "modified b.yaml"]);
    const a = changes.find((c) => c.relPath === "a.yaml")!;
    expect((await t.source.readBlob(a.oldBlob!)).toString()).toBe("a2");
    expect((await t.source.readBlob(a.blob!)).toString()).toBe("a1");
  });

  test("without a pin, gc may drop a commit the branch no longer reaches; unpin removes the ref", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const base = await remote.head();
    const t = tracedSource(remote.url);
    const old = await remote.commit({ "a.txt": "2" });
    await t.source.fetch();
    await t.source.pin("p", old);
    await t.source.unpin("p");
    await t.source.unpin("p"); // absent: no error
    await remote.resetHard(base);
    await remote.commit({ "a.txt": "3" });
    await t.source.fetch();
    await gcNow(t.source.dir);
    expect(await t.source.hasCommit(old)).toBe(false);
  });

  test("pin names become valid, distinct ref names", async () => {
    const check = simpleGit();
    const names = ["raw-app", "target/raw/app", "a b:c", "..x.lock", "target-raw-app", "ä", ""];
    const refs = names.map(pinRef);
    expect(refs[0]).toBe("refs/fetchit/applied/raw-app");
    expect(new Set(refs).size).toBe(names.length);
    for (const ref of refs) await check.raw(["check-ref-format", "--normalize", ref]);
  });

  test("binary blobs are read back byte for byte", async () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const big = randomBytes(3 * 1024 * 1024);
    const crlf = Buffer.from("line\r\nnext\r\n\u0000end");
    const remote = await createRemote({ "bin/every": every, "bin/big": big, "bin/crlf.txt": crlf });
    const t = tracedSource(remote.url);
    const head = await t.source.fetch();
    const files = await t.source.diff(null, head, { targetPath: "bin" });
    const blobOf = (rel: string) => files.find((c) => c.relPath === rel)!.blob!;
    expect((await t.source.readBlob(blobOf("every"))).equals(every)).toBe(true);
    expect((await t.source.readBlob(blobOf("big"))).equals(big)).toBe(true);
    expect((await t.source.readBlob(blobOf("crlf.txt"))).equals(crlf)).toBe(true);
    expect(t.source.readBlob(head)).rejects.toThrow();
  });

  test("commitInfo gives sha, subject and an ISO date; hasCommit knows local commits", async () => {
    const remote = await createRemote({ "a.txt": "1" });
    const sha = await remote.commit({ "a.txt": "2" }, "deploy v2\n\nlonger body");
    const t = tracedSource(remote.url);
    await t.source.fetch();
    const info = await t.source.commitInfo(sha);
    expect(info.sha).toBe(sha);
    expect(info.subject).toBe("deploy v2");
    expect(Number.isNaN(Date.parse(info.date))).toBe(false);
    expect(await t.source.commitInfo(sha.slice(0, 12))).toEqual(info);
    expect(await t.source.hasCommit(sha)).toBe(true);
    expect(await t.source.hasCommit("1".repeat(40))).toBe(false);
    expect(t.source.commitInfo("1".repeat(40))).rejects.toThrow("not found locally");
  });
});
