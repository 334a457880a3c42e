import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { imageEntryName } from "../../src/config/index.ts";
import {
  decodeFingerprint, encodeFingerprint, mountPointOf, probeFile, resolveImagePath, SourceUnavailable, uncompressed, type Fingerprint,
} from "../../src/tasks/image-source.ts";
import { tempDir } from "./helpers.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

describe("fingerprints", () => {
  test("round-trip through the state hash, quotes and dates included", () => {
    const fp: Fingerprint = { sha256: "ab".repeat(32), etag: 'W/"x y&z"', lastModified: "Wed, 01 May 2024 12:00:00 GMT" };
    expect(decodeFingerprint(encodeFingerprint(fp))).toEqual(fp);
    const file: Fingerprint = { sha256: "cd".repeat(32), size: 10, mtimeMs: 1714564800123.5 };
    expect(decodeFingerprint(encodeFingerprint(file))).toEqual(file);
    expect(decodeFingerprint("something else")).toBeUndefined();
  });

  test("entry names default to the file name of url or imagePath", () => {
    expect(imageEntryName({ url: "https://h/path/app.tar.gz?token=1" })).toBe("app.tar.gz");
    expect(imageEntryName({ imagePath: "/media/usb/tools.tar" })).toBe("tools.tar");
    expect(imageEntryName({ name: "mine", url: "https://h/app.tar" })).toBe("mine");
  });
});

describe("imagePath and device", () => {
  const mounts = [
    "overlay / overlay rw 0 0",
    "/dev/sdb1 /media/usb\\040stick vfat rw 0 0",
    "/dev/mapper/x /srv ext4 rw 0 0",
  ].join("\n");

  test("the mount point of a device, escapes decoded and symlinks resolved", () => {
    expect(mountPointOf("/dev/sdb1", mounts)).toBe("/media/usb stick");
    const real = (p: string) => (p === "/dev/disk/by-label/DATA" ? "/dev/dm-0" : p === "/dev/mapper/x" ? "/dev/dm-0" : p);
    expect(mountPointOf("/dev/disk/by-label/DATA", mounts, real)).toBe("/srv");
    expect(mountPointOf("/dev/sdc1", mounts)).toBeUndefined();
  });

  test("absolute paths are used as they are; relative ones under the device's mount point", () => {
    expect(resolveImagePath("/opt/a.tar", "/dev/sdc1", () => "")).toBe("/opt/a.tar");
    expect(resolveImagePath("images/a.tar", "/dev/sdb1", () => mounts)).toBe("/media/usb stick/images/a.tar");
    expect(() => resolveImagePath("images/a.tar", "/dev/sdc1", () => mounts)).toThrow(SourceUnavailable);
    expect(() => resolveImagePath("images/a.tar", "/dev/sdc1", () => mounts)).toThrow("device /dev/sdc1 is not mounted (fetchit does not mount devices");
  });
});

describe("probeFile", () => {
  test("missing is unavailable; new content is new; same size+mtime is the same without hashing; touched same content is the same", async () => {
    const f = join(tmp.dir, "a.tar");
    expect(await probeFile(f, {})).toEqual({ kind: "unavailable", reason: `${f} does not exist` });
    writeFileSync(f, "version one");
    const first = await probeFile(f, {});
    if (first.kind !== "new") throw new Error(`expected new, got ${first.kind}`);
    expect(first).toMatchObject({ file: f, temp: false, fp: { size: 11 } });
    const loaded = { ...first.fp, sha256: "not-the-real-hash" }; // proves the quick path does not hash
    expect(await probeFile(f, { loaded })).toEqual({ kind: "same", as: "loaded", fp: loaded });
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    const touched = await probeFile(f, { loaded: first.fp });
    expect(touched).toMatchObject({ kind: "same", as: "loaded", fp: { sha256: first.fp.sha256 } });
    expect(touched.kind === "same" && touched.fp.mtimeMs).not.toBe(first.fp.mtimeMs);
  });

  test("content that failed before is recognised as such", async () => {
    const f = join(tmp.dir, "bad.tar");
    writeFileSync(f, "broken");
    const p = await probeFile(f, {});
    if (p.kind !== "new") throw new Error("expected new");
    expect(await probeFile(f, { failed: p.fp })).toEqual({ kind: "same", as: "failed", fp: p.fp });
  });
});

describe("uncompressed", () => {
  test("plain archives are used in place; gzip ones are unpacked to a temp file removed by cleanup", async () => {
    const plain = join(tmp.dir, "p.tar");
    writeFileSync(plain, "plain tar bytes");
    const p = await uncompressed(plain, join(tmp.dir, "tmp"));
    expect(p.file).toBe(plain);
    const gz = join(tmp.dir, "g.tar.gz");
    writeFileSync(gz, Bun.gzipSync(Buffer.from("inner tar bytes")));
    const g = await uncompressed(gz, join(tmp.dir, "tmp"));
    expect(readFileSync(g.file, "utf8")).toBe("inner tar bytes");
    await g.cleanup();
    expect(await Bun.file(g.file).exists()).toBe(false);
  });

  test("a broken gzip file is a clear, permanent error and leaves no temp file", async () => {
    const gz = join(tmp.dir, "b.tar.gz");
    writeFileSync(gz, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from("garbage")]));
    const err = await uncompressed(gz, join(tmp.dir, "tmp")).catch((e) => e);
    expect(err.message).toStartWith("not a valid gzip file:");
    expect(err.retryable).toBe(false);
    expect(Array.from(new Bun.Glob("*").scanSync(join(tmp.dir, "tmp")))).toEqual([]);
  });
});
