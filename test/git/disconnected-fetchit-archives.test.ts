/**
 * Archives made FetchIt's way: its CI runs `cd fetchit && zip -r
 * /tmp/disco/fetchit.zip ../fetchit`, so every entry starts with
 * `../fetchit/`. Entries are joined to the archive's base name and cleaned
 * (FetchIt's rule); what stays inside that directory is the repository, the
 * rest refuses the archive. Made for real with zip and GNU tar (-P keeps the
 * `../`), and crafted with Python for the entries that escape.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { craftArchive, disconnectedConfig, run } from "../support/archives.ts";
import { harness } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";

/** FetchIt's CI command for each format, run from inside the repository directory `fetchit`. */
const MAKERS: Record<string, (out: string) => string[]> = {
  zip: (out) => ["zip", "-q", "-r", "-y", out, "../fetchit"],
  tar: (out) => ["tar", "-P", "-cf", out, "../fetchit"],
  "tar.gz": (out) => ["tar", "-P", "-czf", out, "../fetchit"],
};

describe("archives of ../fetchit are the repository", () => {
  for (const [ext, make] of Object.entries(MAKERS)) {
    test(`${ext}: entries start with ../fetchit/; applied, then a new commit applied too`, async () => {
      const remote = await createRemote({ "files/a.conf": "one\n" });
      const work = tempDir("fetchit-ci-");
      const repo = join(work, "fetchit");
      await run(["cp", "-a", `${remote.dir}/.`, repo], "/");
      const media = tempDir("fetchit-disco-");
      const file = join(media, `fetchit.${ext}`);
      await run(make(file), repo);
      const listing = ext === "zip" ? await run(["unzip", "-Z1", file], "/") : await run(["tar", "-tf", file], "/");
      expect(listing.split("\n").filter(Boolean).every((l) => l.startsWith("../fetchit"))).toBe(true);

      const dest = join(tempDir("fetchit-dest-"), "app");
      const h = harness(undefined, disconnectedConfig(file, dest));
      expect((await h.cli("sync")).code).toBe(0);
      expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("one\n");

      writeFileSync(join(repo, "files", "a.conf"), "two\n");
      await run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "two"], repo);
      await run(["rm", "-f", file], "/");
      await run(make(file), repo);
      expect((await h.cli("sync")).code).toBe(0);
      expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("two\n");
      const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
      expect(st.appliedCommit).toBe((await run(["git", "rev-parse", "HEAD"], repo)).trim());
    }, 60_000);
  }
});

describe("entries that leave the archive's directory refuse it whole", () => {
  const escaping: [string, string][] = [
    ["../fetchit2/evil.txt", 'has a ".." segment that leaves the directory "fetchit"'],
    ["../evil.txt", 'has a ".." segment that leaves the directory "fetchit"'],
    ["../fetchit/../../evil.txt", 'has a ".." segment that leaves the directory "fetchit"'],
  ];
  for (const format of ["zip", "tar"] as const) {
    for (const [entry, says] of escaping) {
      test(`${format}: ${entry}`, async () => {
        const media = tempDir("fetchit-disco-");
        const file = join(media, `fetchit.${format}`);
        await craftArchive(file, format, [["../fetchit/files/a.conf", "ok\n"], [entry, "pwned"]]);
        const dest = join(tempDir("fetchit-dest-"), "app");
        const h = harness(undefined, disconnectedConfig(file, dest));
        expect((await h.cli("sync")).code).toBe(1);
        const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
        expect(st.lastError.message).toContain(`refusing the archive: entry ${JSON.stringify(entry)} ${says}`);
        expect(existsSync(dest)).toBe(false);
        expect(existsSync(join(media, "evil.txt"))).toBe(false);
      });
    }
  }

  test("a plain-tree archive of ../fetchit/ entries (no .git) is committed as the tree inside", async () => {
    const media = tempDir("fetchit-disco-");
    mkdirSync(media, { recursive: true });
    const file = join(media, "fetchit.zip");
    await craftArchive(file, "zip", [["../fetchit/files/a.conf", "plain\n"], ["../fetchit/./files/../files/b.conf", "b\n"]]);
    const dest = join(tempDir("fetchit-dest-"), "app");
    const h = harness(undefined, disconnectedConfig(file, dest));
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("plain\n");
    expect(readFileSync(join(dest, "b.conf"), "utf8")).toBe("b\n");
  });
});
