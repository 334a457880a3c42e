/**
 * Disconnected sources: hostile archives are refused before anything is
 * written (crafted with Python's zipfile/tarfile), and a device source is
 * read from its real mount point in /proc/mounts (a tmpfs mounted by the
 * test, its source name standing in for the device).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { extractArchive } from "../../src/git/archive.ts";
import { craftArchive, disconnectedConfig, packRepo, run } from "../support/archives.ts";
import { harness } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";

type Entries = [string, string | { symlink: string }][];

const HOSTILE: { name: string; entries: Entries; says: string }[] = [
  { name: "a ../ entry", entries: [["files/ok.txt", "ok"], ["../evil.txt", "pwned"]], says: 'entry "../evil.txt" has a ".." segment' },
  { name: "a nested ../ entry", entries: [["files/../../evil.txt", "pwned"]], says: "would escape the extraction directory" },
  { name: "an absolute path", entries: [["/tmp/fetchit-evil.txt", "pwned"]], says: "is an absolute path" },
  { name: "a symlink to an absolute path", entries: [["files/link", { symlink: "/etc" }]], says: 'symbolic link to "/etc", outside the extraction directory' },
  { name: "a symlink climbing out", entries: [["files/link", { symlink: "../../.." }]], says: "outside the extraction directory" },
  { name: "a file written through an inner symlink", entries: [["files/d", { symlink: "." }], ["files/d/x", "y"]], says: 'would be written through the symbolic link "files/d"' },
];

describe("ordinary archives are extracted faithfully", () => {
  const long = `deep/${"d".repeat(60)}/${"e".repeat(60)}/file-with-a-long-name.txt`;
  const cases: [string, (src: string, file: string) => string[]][] = [
    ["zip -ry", (_src, file) => ["zip", "-q", "-r", "-y", file, "."]],
    ["GNU tar", (_src, file) => ["tar", "--format=gnu", "-cf", file, "."]],
    ["pax tar", (_src, file) => ["tar", "--format=pax", "-cf", file, "."]],
  ];
  for (const [tool, cmd] of cases) {
    test(`${tool}: nested long paths, executable bits and in-tree symbolic links`, async () => {
      const src = tempDir("fetchit-src-");
      mkdirSync(join(src, long, ".."), { recursive: true });
      writeFileSync(join(src, long), "long\n");
      writeFileSync(join(src, "run.sh"), "#!/bin/sh\n");
      chmodSync(join(src, "run.sh"), 0o755);
      writeFileSync(join(src, "a.txt"), "a\n");
      symlinkSync("a.txt", join(src, "link"));
      symlinkSync("deep", join(src, "ldir"));
      const file = join(tempDir("fetchit-arch-"), "x.archive");
      await run(cmd(src, file), src);
      const dest = tempDir("fetchit-out-");
      await extractArchive(file, tool.startsWith("zip") ? "zip" : "tar", dest, "test archive");
      expect(readFileSync(join(dest, long), "utf8")).toBe("long\n");
      expect(statSync(join(dest, "run.sh")).mode & 0o777).toBe(0o755);
      expect(statSync(join(dest, "a.txt")).mode & 0o777).toBe(0o644);
      expect(readlinkSync(join(dest, "link"))).toBe("a.txt");
      expect(readlinkSync(join(dest, "ldir"))).toBe("deep");
    });
  }
});

test("repeated tar entries: the last one wins, also over a symbolic link of the same name", async () => {
  const dir = tempDir("fetchit-dup-");
  const file = join(dir, "dup.tar");
  await craftArchive(file, "tar", [["f/a", "1"], ["f/l", { symlink: "a" }], ["f/a", "2"], ["f/l", "plain"]]);
  const dest = join(dir, "out");
  mkdirSync(dest);
  await extractArchive(file, "tar", dest, "dup archive");
  expect(readFileSync(join(dest, "f/a"), "utf8")).toBe("2");
  expect(lstatSync(join(dest, "f/l")).isFile()).toBe(true);
  expect(readFileSync(join(dest, "f/l"), "utf8")).toBe("plain");
});

describe("hostile archives are refused whole", () => {
  for (const format of ["zip", "tar"] as const) {
    for (const c of HOSTILE) {
      test(`${format} with ${c.name}`, async () => {
        const dir = tempDir("fetchit-hostile-");
        const file = join(dir, `evil.${format}`);
        const dest = join(dir, "out");
        mkdirSync(dest);
        await craftArchive(file, format, c.entries);
        const err = await extractArchive(file, format, dest, "test archive").catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toContain(c.says);
        expect((err as Error).message).toContain("nothing was extracted");
        expect(readdirSync(dest)).toEqual([]);
        expect(existsSync(join(dir, "evil.txt"))).toBe(false);
      });
    }
  }

  test("through fetchit sync: the error names the entry, nothing is applied, the state stays", async () => {
    const remote = await createRemote({ "files/a.conf": "good\n" });
    const media = tempDir("fetchit-media-");
    const file = join(media, "repo.zip");
    await packRepo(remote.dir, "zip", file);
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(file, dest));
    expect((await h.cli("sync")).code).toBe(0);
    await craftArchive(file, "zip", [["files/a.conf", "evil\n"], ["../../../../../../tmp/fetchit-zip-slip.txt", "pwned"]]);
    expect((await h.cli("sync")).code).toBe(1);
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st.lastError.message).toContain(`disconnected source ${file}: refusing the archive: entry "../../../../../../tmp/fetchit-zip-slip.txt"`);
    expect(st.appliedCommit).toBe(await remote.head());
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("good\n");
    expect(existsSync("/tmp/fetchit-zip-slip.txt")).toBe(false);
  });
});

describe("device sources", () => {
  const mounts: string[] = [];
  afterAll(async () => {
    for (const m of mounts) await run(["umount", m], "/").catch(() => undefined);
  });

  test("waits while the device is not mounted, imports from its mount point once it is, keeps it when unmounted", async () => {
    if (process.getuid?.() !== 0) throw new Error("this test mounts a tmpfs and needs root (run the tests as root, as CI does)");
    const device = `fetchit-test-dev-${process.pid}-${Date.now()}`;
    const remote = await createRemote({ "files/a.conf": "from usb\n" });
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig("exports/repo.bundle", dest, `    device: ${device}\n`));
    const waiting = await h.cli("sync");
    expect(waiting.code).toBe(0);
    expect(waiting.out.join("\n")).toContain("skipped");
    expect(existsSync(dest)).toBe(false);

    const mnt = tempDir("fetchit-mnt-");
    await run(["mount", "-t", "tmpfs", device, mnt], "/");
    mounts.push(mnt);
    mkdirSync(join(mnt, "exports"));
    await packRepo(remote.dir, "bundle", join(mnt, "exports", "repo.bundle"));
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("from usb\n");

    await run(["umount", mnt], "/");
    mounts.pop();
    const gone = await h.cli("sync");
    expect(gone.code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("from usb\n");
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
    expect(st.appliedCommit).toBe(await remote.head());
    expect(st.lastError).toBeNull();
  });

  test("device without url: its mount point is the repository (FetchIt's USB mode)", async () => {
    if (process.getuid?.() !== 0) throw new Error("this test mounts a tmpfs and needs root (run the tests as root, as CI does)");
    const device = `fetchit-test-repo-${process.pid}-${Date.now()}`;
    const remote = await createRemote({ "files/a.conf": "repo on the stick\n" });
    const mnt = tempDir("fetchit-mnt-");
    await run(["mount", "-t", "tmpfs", device, mnt], "/");
    mounts.push(mnt);
    await run(["cp", "-a", `${remote.dir}/.`, mnt], "/");
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig("", dest, `    device: ${device}\n`).replace("    url: \n", ""));
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("repo on the stick\n");
  });
});
