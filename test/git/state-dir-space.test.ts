/**
 * A state directory too small for what passes through it, for real: an
 * 8 MiB tmpfs (`mount -t tmpfs -o size=8m`) holds the downloads, the
 * unpacked archives and the imported repository; a real HTTP server
 * (Bun.serve) sends 16 MiB with and without Content-Length; real tar
 * archives and git. Each refusal names the source (no credentials, no
 * query), the size and the free space, leaves no temp file, is local
 * (retried with back-off, never remembered as a bad archive), and the same
 * source applies once the file system is made bigger.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FetchitError } from "../../src/errors.ts";
import { probeUrl } from "../../src/tasks/image-source.ts";
import { disconnectedConfig, run, tempLeftovers } from "../support/archives.ts";
import { bigFile } from "../support/big-files.ts";
import { harness, type Harness } from "../support/fetchit.ts";
import { tempDir } from "../support/git.ts";

const MiB = 1024 * 1024;
const mounts: string[] = [];
const servers: { stop(force?: boolean): void }[] = [];
afterAll(async () => {
  servers.forEach((s) => s.stop(true));
  for (const m of mounts.reverse()) await run(["umount", m], "/").catch(() => undefined);
});

/** An 8 MiB tmpfs at `dir` (created). */
async function smallDisk(dir: string, size = "8m"): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error("this test mounts a tmpfs and needs root (run the tests as root, as CI does)");
  mkdirSync(dir, { recursive: true });
  await run(["mount", "-t", "tmpfs", "-o", `size=${size},mode=0755`, "fetchit-state", dir], "/");
  mounts.push(dir);
  return dir;
}

const grow = (dir: string) => run(["mount", "-o", "remount,size=64m", dir], "/");

/** Serves `/file` (with Content-Length) and `/stream` (chunked, 64 KiB pieces; `onPiece` may pause it) for the bytes of `path`. */
function serve(path: string, onPiece: (sent: number) => Promise<void> | void = () => {}) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const name = new URL(req.url).pathname;
      if (name.endsWith("/file")) return new Response(Bun.file(path));
      const data = readFileSync(path);
      let sent = 0;
      const body = new ReadableStream({
        async pull(c) {
          if (sent >= data.length) return c.close();
          await onPiece(sent);
          c.enqueue(data.subarray(sent, sent + 64 * 1024));
          sent += 64 * 1024;
        },
      });
      return new Response(body);
    },
  });
  servers.push(server);
  return (name: string) => `http://admin:s3cret@127.0.0.1:${server.port}/media/${name}?token=hunter2`;
}

async function rejection(p: Promise<unknown>): Promise<FetchitError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof FetchitError)) throw new Error(`expected a FetchitError, got ${String(err)}`);
  return err;
}

function expectNoSecrets(message: string) {
  expect(message).not.toContain("s3cret");
  expect(message).not.toContain("hunter2");
}

describe("a download into a state dir too small for it", () => {
  test("Content-Length over the free space: refused before the first byte, local, nothing left", async () => {
    const src = join(tempDir("fetchit-src-"), "big.tar");
    await bigFile(src, 16 * MiB, "random");
    const tmp = join(await smallDisk(tempDir("fetchit-state-")), "tmp");
    const url = serve(src)("file");
    const err = await rejection(probeUrl(url, {}, tmp));
    expect(err.local).toBe(true);
    expect(err.message).toMatch(/^image archive http:\/\/127\.0\.0\.1:\d+\/media\/file\?…: the download is 16\.0 MiB \(Content-Length\), [78]\.\d MiB is free in .*\/tmp and fetchit keeps 1\.2 MiB spare; nothing was downloaded\. Free space on that file system/);
    expectNoSecrets(err.message);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);

  test("no Content-Length: stopped before the margin is eaten, the partial file removed", async () => {
    const src = join(tempDir("fetchit-src-"), "big.tar");
    await bigFile(src, 16 * MiB, "random");
    const tmp = join(await smallDisk(tempDir("fetchit-state-")), "tmp");
    const err = await rejection(probeUrl(serve(src)("stream"), {}, tmp));
    expect(err.local).toBe(true);
    expect(err.message).toMatch(/^image archive http:\/\/127\.0\.0\.1:\d+\/media\/stream\?…: stopped after [67]\.\d MiB, the file system being nearly full \(fetchit keeps 1\.\d MiB spare\), \d\.\d MiB is free in .*\/tmp; the partial download was removed/);
    expectNoSecrets(err.message);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);

  test("another writer fills the file system during the download (ENOSPC): a clear local error, the partial file removed", async () => {
    const src = join(tempDir("fetchit-src-"), "big.tar");
    await bigFile(src, 4 * MiB, "random");
    const disk = await smallDisk(tempDir("fetchit-state-"));
    const tmp = join(disk, "tmp");
    const url = serve(src, async (sent) => {
      if (sent === MiB) await run(["sh", "-c", `head -c 16M /dev/zero > '${join(disk, "filler")}' 2>/dev/null || true`], "/");
    })("stream");
    const err = await rejection(probeUrl(url, {}, tmp));
    expect(err.local).toBe(true);
    // ENOSPC from the write, or (when a slow machine lets the filler land
    // between two pieces) the check that stops before the margin is used.
    const full = /: (the file system filled up after [\d.]+ (bytes|KiB|MiB) \(ENOSPC\)|stopped after [\d.]+ (bytes|KiB|MiB), the file system being nearly full \(fetchit keeps [\d.]+ (bytes|KiB|MiB) spare\)), \d+(\.\d)? (bytes|KiB|MiB) is free in .*\/tmp; the partial download was removed/;
    expect(err.message).toMatch(full);
    expectNoSecrets(err.message);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);
});

/** A harness whose state dir is an 8 MiB tmpfs. */
async function smallStateHarness(config: string): Promise<Harness> {
  const h = harness(undefined, config);
  await smallDisk(h.stateDir);
  return h;
}

async function lastError(h: Harness) {
  return JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0].lastError;
}

/** A tar of `files/model.bin` with `bytes` random bytes. */
async function modelTar(bytes: number): Promise<{ tar: string; src: string }> {
  const src = tempDir("fetchit-tree-");
  mkdirSync(join(src, "files"));
  await bigFile(join(src, "files", "model.bin"), bytes, "random");
  writeFileSync(join(src, "files", "small.txt"), "small\n");
  const tar = join(tempDir("fetchit-media-"), "models.tar");
  await run(["tar", "-cf", tar, "."], src);
  return { tar, src };
}

/**
 * `fetchit sync` of the disconnected `source` into `dest`, the state dir on
 * the small tmpfs: it fails with a retryable (host) error and leaves no temp
 * file. Returns the harness and the error's message.
 */
async function refusedRetryable(source: string, dest: string): Promise<{ h: Harness; message: string }> {
  const h = await smallStateHarness(disconnectedConfig(source, dest));
  expect((await h.cli("sync")).code).toBe(1);
  const e = await lastError(h);
  expect(e.retryable).toBe(true);
  expect(tempLeftovers(h.stateDir)).toEqual([]);
  return { h, message: e.message };
}

/** The tmpfs grows; the next sync applies. */
async function appliedOnceGrown(h: Harness): Promise<void> {
  await grow(h.stateDir);
  expect((await h.cli("sync")).code).toBe(0);
}

describe("fetchit sync with the state dir on a small file system", () => {
  test("an http archive larger than the state dir: refused, local and retried; applied once there is room", async () => {
    const { tar, src } = await modelTar(12 * MiB);
    const dest = join(tempDir("fetchit-dest-"), "models");
    const { h, message } = await refusedRetryable(serve(tar)("file"), dest);
    expect(message).toMatch(/^disconnected source http:\/\/127\.0\.0\.1:\d+\/media\/file\?token=hunter2: http:\/\/127\.0\.0\.1:\d+\/media\/file\?…: the download is 12\.0 MiB/);

    await appliedOnceGrown(h);
    expect(readFileSync(join(dest, "model.bin")).equals(readFileSync(join(src, "files", "model.bin")))).toBe(true);
  }, 120_000);

  test("a tar on the host that unpacks to more than the state dir holds: refused before unpacking, local; applied once there is room", async () => {
    const { tar } = await modelTar(12 * MiB);
    const dest = join(tempDir("fetchit-dest-"), "models");
    const { h, message } = await refusedRetryable(tar, dest);
    expect(message).toMatch(
      new RegExp(`^disconnected source ${tar}: not enough free space to unpack the archive: its files would expand to 12\\.0 MiB, over the [78]\\.\\d MiB free in ${h.stateDir}/tmp/extract-\\w+ \\(less fetchit's margin of 1\\.\\d MiB\\); nothing was imported\\. Free space on that file system`),
    );

    await appliedOnceGrown(h);
    expect(readFileSync(join(dest, "small.txt"), "utf8")).toBe("small\n");
  }, 120_000);

  test("unpacked, but no room left to import it into git: git's full disk is a local error, not a bad archive", async () => {
    const { tar } = await modelTar(5 * MiB);
    const dest = join(tempDir("fetchit-dest-"), "models");
    const { h, message } = await refusedRetryable(tar, dest);
    expect(message).toMatch(new RegExp(`^disconnected source ${tar}: git add: fatal: .* write error\\. Out of diskspace \\(the file system is full; free space on it \\(df -h\\)\\)$`));
    const repo = join(h.stateDir, "repos", "disconnected");
    expect((await run(["find", repo, "-name", "tmp_*"], "/")).trim()).toBe(""); // git's half-written pack is not left on the full disk

    await appliedOnceGrown(h);
    expect(readFileSync(join(dest, "small.txt"), "utf8")).toBe("small\n");
  }, 120_000);
});
