/**
 * Archive bombs and big entries, with real archives: zip bombs crafted with
 * Python's zipfile (1 MB → 1 GB, a zip lying about its size, overlapping
 * entries), a tar.gz bomb made by tar and gzip, a 64 MiB deflated entry
 * streamed through the extractor, and the limits set in the config.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { extractArchive } from "../../src/git/archive.ts";
import { parseSize } from "../../src/git/archive-limits.ts";
import { disconnectedConfig, run, tempLeftovers } from "../support/archives.ts";
import { bigFile, craftBomb } from "../support/big-files.ts";
import { harness } from "../support/fetchit.ts";
import { tempDir } from "../support/git.ts";

const MiB = 1024 * 1024;

/** Bytes under `dir` (du), to show how much a refused archive wrote. */
async function bytesUnder(dir: string): Promise<number> {
  return Number((await run(["du", "-sb", dir], "/")).split("\t")[0]);
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest("hex");
}

function scratch(): { dir: string; dest: string } {
  const dir = tempDir("fetchit-bomb-");
  const dest = join(dir, "out");
  mkdirSync(dest);
  return { dir, dest };
}

describe("zip bombs are refused with the entry named, before or while writing", () => {
  test("1 MB that expands to 1 GB: refused on its declared ratio, nothing written", async () => {
    const { dir, dest } = scratch();
    const file = join(dir, "bomb.zip");
    await craftBomb(file, "ratio", 1024);
    expect(statSync(file).size).toBeLessThan(2 * MiB);
    const err = await extractArchive(file, "zip", dest, "bomb.zip").catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^bomb\.zip: refusing the archive: entry "files\/zeros\.bin" expands \d+:1 \(.* to 1\.0 GiB\), over maxCompressionRatio 200:1; nothing was imported\. If the archive is genuine, raise maxCompressionRatio/);
    expect(readdirSync(dest)).toEqual([]);
  }, 120_000);

  test("a zip whose headers declare 1000 bytes for 64 MiB of data is stopped where the declaration ends", async () => {
    const { dir, dest } = scratch();
    const file = join(dir, "liar.zip");
    await craftBomb(file, "liar", 64);
    const err = await extractArchive(file, "zip", dest, "liar.zip").catch((e: Error) => e);
    expect((err as Error).message).toContain("files/zeros.bin inflates past its declared size of 1000 bytes (a zip bomb?)");
    expect(await bytesUnder(dest)).toBeLessThan(MiB);
  }, 120_000);

  test("entries sharing one piece of data (overlapping entries) are refused", async () => {
    const { dir, dest } = scratch();
    const file = join(dir, "overlap.zip");
    await craftBomb(file, "overlap");
    const err = await extractArchive(file, "zip", dest, "overlap.zip").catch((e: Error) => e);
    expect((err as Error).message).toContain('overlap.zip: refusing the archive: the data of entries "files/k0.bin" and "files/k1.bin" overlap (a zip bomb trick)');
    expect(readdirSync(dest)).toEqual([]);
  });

  test("maxExtractedSize: the declared total is checked first", async () => {
    const { dir, dest } = scratch();
    const src = join(dir, "src");
    mkdirSync(src);
    for (const n of ["a", "b", "c"]) await bigFile(join(src, `${n}.bin`), 2 * MiB);
    const file = join(dir, "three.tar");
    await run(["tar", "-cf", file, "."], src);
    const err = await extractArchive(file, "tar", dest, "three.tar", { limits: { maxBytes: 5 * MiB, maxRatio: 200 } }).catch((e: Error) => e);
    expect((err as Error).message).toContain("three.tar: refusing the archive: its files would expand to 6.0 MiB, over maxExtractedSize 5.0 MiB");
    expect(readdirSync(dest)).toEqual([]);
  });
});

test("a 64 MiB deflated zip entry and a 64 MiB tar entry (random bytes) are extracted byte for byte", async () => {
  const { dir } = scratch();
  const src = join(dir, "src");
  mkdirSync(join(src, "files"), { recursive: true });
  await bigFile(join(src, "files", "model.bin"), 64 * MiB, "random");
  const want = await sha256File(join(src, "files", "model.bin"));
  await run(["zip", "-q", "-r", join(dir, "big.zip"), "."], src);
  await run(["tar", "-cf", join(dir, "big.tar"), "."], src);
  for (const kind of ["zip", "tar"] as const) {
    const dest = join(dir, `out-${kind}`);
    mkdirSync(dest);
    await extractArchive(join(dir, `big.${kind}`), kind, dest, `big.${kind}`);
    expect(await sha256File(join(dest, "files", "model.bin"))).toBe(want);
  }
}, 180_000);

describe("through fetchit sync, with the limits from the config", () => {
  test("a tar.gz bomb (1 GiB of zeros) is refused while decompressing; nothing applied, no temp files left", async () => {
    const { dir } = scratch();
    const src = join(dir, "src");
    mkdirSync(join(src, "files"), { recursive: true });
    await bigFile(join(src, "files", "zeros.bin"), 1024 * MiB, "sparse");
    const file = join(dir, "bomb.tar.gz");
    await run(["sh", "-c", `tar -cf - . | gzip -1 > '${file}'`], src);
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(file, dest));
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st.lastError.message).toContain(`disconnected source ${file}: refusing the archive: it decompresses more than 200:1`);
    expect(existsSync(dest)).toBe(false);
    expect(tempLeftovers(h.stateDir)).toEqual([]);
  }, 180_000);

  test("maxCompressionRatio and maxExtractedSize are taken from the target", async () => {
    const { dir } = scratch();
    const file = join(dir, "zeros.zip");
    await craftBomb(file, "ratio", 8); // 8 MiB of zeros: about 1000:1
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(file, dest));
    expect((await h.cli("sync")).code).toBe(1);
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st.lastError.message).toContain('entry "files/zeros.bin" expands');

    h.writeConfig(disconnectedConfig(file, dest, '    maxCompressionRatio: 2000\n    maxExtractedSize: "4M"\n'));
    expect((await h.cli("sync")).code).toBe(1);
    const st2 = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st2.lastError.message).toContain("its files would expand to 8.0 MiB, over maxExtractedSize 4.0 MiB");

    h.writeConfig(disconnectedConfig(file, dest, '    maxCompressionRatio: 2000\n    maxExtractedSize: "9M"\n'));
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "zeros.bin")).length).toBe(8 * MiB);
  }, 120_000);
});

test("parseSize reads the sizes people write", () => {
  expect(parseSize("8G")).toBe(8 * 1024 ** 3);
  expect(parseSize("500M")).toBe(500 * MiB);
  expect(parseSize("512MiB")).toBe(512 * MiB);
  expect(parseSize("1.5k")).toBe(1536);
  expect(parseSize("1073741824")).toBe(1073741824);
  expect(parseSize("lots")).toBeUndefined();
});
