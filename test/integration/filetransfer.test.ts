/** The filetransfer method against real git repositories and the real filesystem. */
import { beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { harness, targetConfig, type Harness } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";

const ftMethod = (dest: string, targetPath = "files", extra = "") =>
  `    filetransfer:\n      - name: ft\n        targetPath: ${targetPath}\n        destinationDirectory: ${dest}\n        schedule: "*/5 * * * * *"\n${extra}`;

async function statusOf(h: Harness) {
  return JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
}

describe("filetransfer", () => {
  let remote: TestRemote;
  let dest: string;
  let h: Harness;
  beforeEach(async () => {
    remote = await createRemote({
      "files/a.conf": "a=1\n",
      "files/sub/deeper/b.txt": "bee\n",
      "files/run.sh": "#!/bin/sh\necho hi\n",
      "other/ignored.txt": "no\n",
    });
    dest = join(tempDir("fetchit-dest-"), "etc", "app");
    h = harness(undefined, targetConfig(remote.url, ftMethod(dest)));
  });

  test("copies files with sub-directories into a destination it creates", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");
    expect(readFileSync(join(dest, "sub/deeper/b.txt"), "utf8")).toBe("bee\n");
    expect(existsSync(join(dest, "ignored.txt"))).toBe(false);
    expect(existsSync(join(dest, "other"))).toBe(false);
  });

  test("keeps the executable bit", async () => {
    await remote.git.raw(["update-index", "--chmod=+x", "files/run.sh"]);
    await remote.git.raw(["commit", "-q", "-m", "exec"]);
    expect((await h.cli("sync")).code).toBe(0);
    expect(statSync(join(dest, "run.sh")).mode & 0o777).toBe(0o755);
    expect(statSync(join(dest, "a.conf")).mode & 0o777).toBe(0o644);
  });

  test("modify rewrites, delete removes (and empty directories go too), rename moves", async () => {
    await h.cli("sync");
    await remote.commit({ "files/a.conf": "a=2\n", "files/sub/deeper/b.txt": null });
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=2\n");
    expect(existsSync(join(dest, "sub"))).toBe(false);
    await remote.rename("files/a.conf", "files/conf/a.conf");
    expect((await h.cli("sync")).code).toBe(0);
    expect(existsSync(join(dest, "a.conf"))).toBe(false);
    expect(readFileSync(join(dest, "conf/a.conf"), "utf8")).toBe("a=2\n");
    expect((await statusOf(h)).resources.map((r: any) => r.file).sort()).toEqual(["conf/a.conf", "run.sh"]);
  });

  test("a commit overwrites a file changed on the host; files the commit did not touch are not rewritten", async () => {
    await h.cli("sync");
    writeFileSync(join(dest, "a.conf"), "tampered\n");
    const mtime = statSync(join(dest, "run.sh")).mtimeMs;
    await remote.commit({ "files/a.conf": "a=3\n", "files/new.txt": "n\n" });
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=3\n");
    expect(readFileSync(join(dest, "new.txt"), "utf8")).toBe("n\n");
    expect(statSync(join(dest, "run.sh")).mtimeMs).toBe(mtime);
  });

  test("a symlink in the repository is refused; other files still arrive", async () => {
    await remote.commit({ "files/link": { symlink: "/etc/shadow" }, "files/ok.txt": "ok\n" });
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    expect(existsSync(join(dest, "link"))).toBe(false);
    expect(readFileSync(join(dest, "ok.txt"), "utf8")).toBe("ok\n");
    const st = await statusOf(h);
    expect(st.lastError.message).toContain("files/link: is a symlink in the repository");
  });

  test("writing through a symlink on the host that leads out of the destination is refused", async () => {
    const outside = tempDir("fetchit-outside-");
    mkdirSync(dest, { recursive: true });
    symlinkSync(outside, join(dest, "sub"));
    const r = await h.cli("sync");
    expect(r.code).toBe(1);
    expect(existsSync(join(outside, "deeper/b.txt"))).toBe(false);
    expect((await statusOf(h)).lastError.message).toContain("refusing to write through symlink");
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");
  });

  test("a destinationDirectory that is a file is a clear error", async () => {
    const file = join(tempDir("fetchit-destfile-"), "f");
    writeFileSync(file, "x");
    h.writeConfig(targetConfig(remote.url, ftMethod(file)));
    expect((await h.cli("sync")).code).toBe(1);
    expect((await statusOf(h)).lastError.message).toContain(`destinationDirectory ${file} exists but is a file`);
  });

  test("a single-file targetPath copies just that file", async () => {
    h.writeConfig(targetConfig(remote.url, ftMethod(dest, "files/a.conf")));
    expect((await h.cli("sync")).code).toBe(0);
    expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=1\n");
    expect(existsSync(join(dest, "run.sh"))).toBe(false);
  });

  test("glob narrows the files (FetchIt semantics: * crosses directories)", async () => {
    h.writeConfig(targetConfig(remote.url, ftMethod(dest, "files", '        glob: "*.txt"\n')));
    expect((await h.cli("sync")).code).toBe(0);
    expect(existsSync(join(dest, "sub/deeper/b.txt"))).toBe(true);
    expect(existsSync(join(dest, "a.conf"))).toBe(false);
  });
});
