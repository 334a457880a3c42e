/**
 * Damaged records beyond the state store: the config that configReload
 * replaced (and its `.bak`), with `fetchit run` as a real process, and the
 * temp files a write cut short leaves beside a file.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHostFs } from "../../src/host/fs.ts";
import { backupPath, recoverConfigFile, replaceConfigFile } from "../../src/reload/config-file.ts";
import { harness, targetConfig, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";
import { collectingLogger } from "../unit/helpers.ts";

let running: FetchitProcess | undefined;
afterEach(async () => {
  await running?.stop("SIGKILL");
  running = undefined;
});

const fs = createHostFs();

test("fetchit run restores a config a power cut zeroed from the backup configReload kept, with one error naming both", async () => {
  const remote = await createRemote({ "files/a.txt": "a\n" });
  const dest = join(tempDir("fetchit-cfg-"), "out");
  const good = targetConfig(remote.url, `    filetransfer:\n      - name: f\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * * *"\n`);
  const h = harness(undefined, good);
  writeFileSync(backupPath(h.configFile), good);
  writeFileSync(h.configFile, Buffer.alloc(4096)); // the blocks came back zeroed
  running = spawnFetchit(["run", ...h.flags()]);
  await waitFor("applied with the restored config", () => existsSync(join(dest, "a.txt")));
  expect(await running.stop()).toBe(0);
  expect(readFileSync(h.configFile, "utf8")).toBe(good);
  const moved = readdirSync(h.dir).filter((n) => n.startsWith("config.yaml.corrupt-"));
  expect(moved).toHaveLength(1);
  expect(readFileSync(join(h.dir, moved[0]!))).toEqual(Buffer.alloc(4096));
  const errors = running.output().split("\n").filter((l) => l.includes("ERROR"));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toContain(join(h.dir, moved[0]!));
  expect(errors[0]).toContain(backupPath(h.configFile));
});

test("an empty config with no backup still stops the start with the config error (nothing to restore from)", async () => {
  const h = harness(undefined);
  writeFileSync(h.configFile, "");
  const p = spawnFetchit(["run", ...h.flags()]);
  expect(await p.proc.exited).toBe(1);
  expect(p.output()).toContain(h.configFile);
  expect(readdirSync(h.dir).filter((n) => n.includes(".corrupt-"))).toEqual([]);
});

test("a zeroed backup is moved aside and never restored; a zeroed config never overwrites a good backup", async () => {
  const dir = tempDir("fetchit-cfg-");
  const file = join(dir, "config.yaml");
  const good = "targetConfigs: []\n";
  writeFileSync(file, good);
  writeFileSync(backupPath(file), "\0\0\0");
  const log = collectingLogger();
  await recoverConfigFile(fs, file, log);
  expect(existsSync(backupPath(file))).toBe(false);
  expect(readdirSync(dir).filter((n) => n.startsWith("config.yaml.bak.corrupt-"))).toHaveLength(1);
  expect(log.lines.filter((l) => l.level === "error")).toHaveLength(1);
  expect(readFileSync(file, "utf8")).toBe(good);

  await replaceConfigFile(fs, file, "targetConfigs: [] # v2\n");
  expect(readFileSync(backupPath(file), "utf8")).toBe(good);
  writeFileSync(file, ""); // zeroed by a power cut, then a reload replaces it
  await replaceConfigFile(fs, file, "targetConfigs: [] # v3\n");
  expect(readFileSync(backupPath(file), "utf8")).toBe(good);
});

test("a temp file that another (killed) process left beside a file is removed at the next write of it; others stay", async () => {
  const dir = tempDir("fetchit-tmp-");
  const file = join(dir, "a.json");
  const stale = `${file}.fetchit-0badc0de0badc0de.tmp`;
  const unrelated = [`${file}.fetchit-keep.tmp`, join(dir, "b.json.fetchit-0badc0de0badc0de.tmp")];
  for (const f of [stale, ...unrelated]) writeFileSync(f, "half");
  await fs.writeFileAtomic(file, "{}\n");
  expect(readdirSync(dir).sort()).toEqual(["a.json", "a.json.fetchit-keep.tmp", "b.json.fetchit-0badc0de0badc0de.tmp"]);
  writeFileSync(stale, "half");
  expect(await fs.remove(file)).toBe(true); // deleted from the repository: its leftovers go with it
  expect(readdirSync(dir).sort()).toEqual(["a.json.fetchit-keep.tmp", "b.json.fetchit-0badc0de0badc0de.tmp"]);
});

test("leftovers of a killed process under <stateDir>/tmp (a download, an unpacked archive) are removed at the next start; fresh ones stay", async () => {
  const remote = await createRemote({ "files/a.txt": "a\n" });
  const dest = join(tempDir("fetchit-tmp-"), "out");
  const h = harness(undefined, targetConfig(remote.url, `    filetransfer:\n      - name: f\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * *"\n`));
  const tmp = join(h.stateDir, "tmp");
  mkdirSync(join(tmp, "gunzip-0123456789ab"), { recursive: true });
  writeFileSync(join(tmp, "gunzip-0123456789ab", "layer"), Buffer.alloc(1 << 20));
  writeFileSync(join(tmp, "download-0123456789ab"), Buffer.alloc(1 << 20));
  writeFileSync(join(tmp, "download-fresh"), "being written by a concurrent fetchit plan");
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const n of ["gunzip-0123456789ab", "download-0123456789ab"]) utimesSync(join(tmp, n), hourAgo, hourAgo);
  expect((await h.cli("sync")).code).toBe(0);
  expect(readdirSync(tmp)).toEqual(["download-fresh"]);
});
