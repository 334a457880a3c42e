/**
 * Big files with the compiled binary: a 300 MiB file through filetransfer,
 * from a real git repository and from a real tar on a disconnected source,
 * with the peak RSS (VmHWM from /proc/PID/status) held to the idle run's
 * plus 32 MiB; and a real tmpfs smaller than the file, where the write is
 * refused with the file, its size and the free space named, and the old
 * file stays.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { disconnectedConfig, run } from "../support/archives.ts";
import { bigFile, peakRss, type PeakRun } from "../support/big-files.ts";
import { harness, targetConfig } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { ensureBinary } from "../support/systemd.ts";

const MiB = 1024 * 1024;
const BIG = 300 * MiB;
/** The goal: peak RSS at most idle + 32 MiB whatever the file's size. */
const BUDGET_KB = 32 * 1024;

let binary = "";
beforeAll(async () => {
  binary = await ensureBinary();
}, 300_000);

const ftConfig = (url: string, dest: string) =>
  targetConfig(url, `    filetransfer:\n      - name: ft\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "@hourly"\n`);

/** `fetchit sync` of the compiled binary under `config`, with its own state dir, measured. */
async function syncMeasured(config: string): Promise<PeakRun> {
  const dir = tempDir("fetchit-big-");
  writeFileSync(join(dir, "config.yaml"), config);
  const r = await peakRss([binary, "sync", "--config", join(dir, "config.yaml"), "--state-dir", join(dir, "state"), "--log-level", "warn"]);
  console.log(`sync: exit ${r.code}, peak RSS ${(r.peakKb / 1024).toFixed(1)} MiB, ${(r.ms / 1000).toFixed(1)} s`);
  return r;
}

/** Peak RSS of the same binary applying one small file: the "idle" the budget is counted from. */
let idleKb = 0;
async function idle(): Promise<number> {
  if (idleKb) return idleKb;
  const remote = await createRemote({ "files/small.txt": "small\n" });
  const r = await syncMeasured(ftConfig(`file://${remote.dir}`, join(tempDir("fetchit-dest-"), "small")));
  expect(r.code).toBe(0);
  return (idleKb = r.peakKb);
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  return (await run(["sh", "-c", `cmp -s '${a}' '${b}' && echo same || echo differ`], "/")).trim() === "same";
}

describe("300 MiB through filetransfer, compiled binary", () => {
  test("from git: written whole, peak RSS within idle + 32 MiB; an identical file on disk is left alone", async () => {
    const base = await idle();
    const remote = await createRemote({ "files/small.txt": "small\n" });
    await bigFile(join(remote.dir, "files", "model.bin"), BIG);
    await remote.commit({}, "big file");
    const dest = join(tempDir("fetchit-dest-"), "models");
    const config = ftConfig(`file://${remote.dir}`, dest);
    const r = await syncMeasured(config);
    expect(r.code).toBe(0);
    expect(statSync(join(dest, "model.bin")).size).toBe(BIG);
    expect(await sameBytes(join(dest, "model.bin"), join(remote.dir, "files", "model.bin"))).toBe(true);
    expect(r.peakKb - base).toBeLessThanOrEqual(BUDGET_KB);
    expect(readdirSync(dest).filter((n) => n.includes(".fetchit-"))).toEqual([]);

    // A fresh state dir over the same destination: the file on disk is compared (size, then its git blob id, read once), not rewritten.
    const inode = statSync(join(dest, "model.bin")).ino;
    const again = await syncMeasured(config);
    expect(again.code).toBe(0);
    expect(statSync(join(dest, "model.bin")).ino).toBe(inode);
    expect(again.peakKb - base).toBeLessThanOrEqual(BUDGET_KB);
  }, 300_000);

  test("from a tar on a disconnected source: the same budget", async () => {
    const base = await idle();
    const src = tempDir("fetchit-tree-");
    mkdirSync(join(src, "files"));
    await bigFile(join(src, "files", "model.bin"), BIG);
    const tar = join(tempDir("fetchit-media-"), "models.tar");
    await run(["tar", "-cf", tar, "."], src);
    const dest = join(tempDir("fetchit-dest-"), "models");
    const r = await syncMeasured(disconnectedConfig(tar, dest));
    expect(r.code).toBe(0);
    expect(await sameBytes(join(dest, "model.bin"), join(src, "files", "model.bin"))).toBe(true);
    expect(r.peakKb - base).toBeLessThanOrEqual(BUDGET_KB);
  }, 300_000);
});

describe("a destination smaller than the file (a real tmpfs)", () => {
  const mounts: string[] = [];
  afterAll(async () => {
    for (const m of mounts) await run(["umount", m], "/").catch(() => undefined);
  });

  test("refused before writing, naming the file, its size and the free space; the old file stays", async () => {
    if (process.getuid?.() !== 0) throw new Error("this test mounts a tmpfs and needs root (run the tests as root, as CI does)");
    const mnt = tempDir("fetchit-tmpfs-");
    await run(["mount", "-t", "tmpfs", "-o", "size=16m", "fetchit-small", mnt], "/");
    mounts.push(mnt);
    const remote = await createRemote({ "files/model.bin": "version 1\n" });
    const dest = join(mnt, "models");
    const h = harness(undefined, ftConfig(`file://${remote.dir}`, dest));
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "model.bin"), "utf8")).toBe("version 1\n");

    await bigFile(join(remote.dir, "files", "model.bin"), 40 * MiB);
    await remote.commit({}, "bigger model");
    expect((await h.cli("sync")).code).toBe(1);
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st.lastError.message).toMatch(
      new RegExp(`^files/model\\.bin: not enough free space for ${dest}/model\\.bin: the file is 40\\.0 MiB, 1[56]\\.\\d MiB is free there and fetchit keeps .* spare; nothing was written and the old file was left in place`),
    );
    expect(readFileSync(join(dest, "model.bin"), "utf8")).toBe("version 1\n");
    expect(readdirSync(dest)).toEqual(["model.bin"]);
    expect(existsSync(join(mnt, "models"))).toBe(true);
  }, 120_000);
});
