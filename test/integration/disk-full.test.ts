/**
 * A full disk, for real: a 2 MiB tmpfs (`mount -t tmpfs -o size=2m`) under
 * the state records, a filetransfer destination, a unit directory and the
 * clone directory,
 * filled up, through the compiled binary. Each time: a clear error naming
 * the file and the fix, the old state and old files kept, nothing
 * half-written, retried with back-off (also when the failure itself cannot
 * be recorded), and applied once space is freed, with no new commit.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinary, fetchitBinary, spawnBinary } from "../support/binary.ts";
import { run, runOk } from "../support/exec.ts";
import { waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { SETUP_TIMEOUT } from "../support/systemd.ts";

beforeAll(async () => void (await ensureBinary()), SETUP_TIMEOUT);

/** A 2 MiB tmpfs at `dir` (unmounted with its scratch directory). */
async function smallDisk(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await runOk(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", dir]);
}

/** Fills the file system of `dir` to the last block (the write fails with ENOSPC, leaving it full). */
async function fill(dir: string): Promise<void> {
  const r = await run(["sh", "-c", `head -c 8M /dev/zero > ${join(dir, "filler")}`]);
  expect(r.stderr).toContain("No space left on device");
}
const free = (dir: string) => rmSync(join(dir, "filler"));

function setup(remoteUrl: string, dest: string, schedule = "*/5 * * * *") {
  const cwd = tempDir("fetchit-full-");
  const yaml = `targetConfigs:\n  - name: t1\n    url: ${remoteUrl}\n    branch: main\n    filetransfer:\n      - name: ft\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "${schedule}"\n`;
  writeFileSync(join(cwd, "cfg.yaml"), yaml);
  const flags = ["--config", "cfg.yaml", "--state-dir", "st"];
  return {
    cwd,
    flags,
    sync: async () => {
      const r = await fetchitBinary(["sync", ...flags], { cwd });
      return { code: r.code, output: r.output };
    },
    status: async () => JSON.parse((await fetchitBinary(["status", "--json", "--state-dir", "st"], { cwd })).stdout).methods[0],
    record: () => {
      const dir = join(cwd, "st", "state");
      const names = readdirSync(dir).filter((n) => n !== "filler" && n !== "lost+found");
      return { names, json: names.length === 1 ? JSON.parse(readFileSync(join(dir, names[0]!), "utf8")) : undefined };
    },
  };
}

/** Timestamps (ms) of the log lines containing one of `texts`. */
const times = (output: string, ...texts: string[]) => output.split("\n").filter((l) => texts.some((t) => l.includes(t))).map((l) => Date.parse(l.slice(0, 24)));
/** A failed run: the first is reported in full, the same error again at debug level only. */
const FAILED_RUN = ["the cause is on this host", "still failing with the same error"];

describe("disk full, through the compiled binary", () => {
  test("filetransfer destination: a clear error, the old file kept, no temp file, retryable; applied after space is freed", async () => {
    const remote = await createRemote({ "files/a.txt": "v1\n" });
    const dest = join(tempDir("fetchit-dest-"), "disk");
    await smallDisk(dest);
    const s = setup(remote.url, dest);
    expect(await s.sync()).toMatchObject({ code: 0 });
    const first = await remote.head();
    await fill(dest);
    const big = randomBytes(256 * 1024).toString("hex"); // 512 KiB of text: fits the 2 MiB disk with fetchit's 1 MiB margin once freed
    const head = await remote.commit({ "files/a.txt": big });

    const r = await s.sync();
    expect(r.code).toBe(1);
    // refused before writing: the free space is checked first (a write that still hits ENOSPC says "the file system is full")
    expect(r.output).toContain(`not enough free space for ${join(dest, "a.txt")}: the file is `);
    expect(r.output).toContain("nothing was written and the old file was left in place");
    expect(r.output).toContain("not applied: the cause is on this host, not in the commit");
    expect(r.output).not.toContain("will not be retried");
    expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe("v1\n");
    expect(readdirSync(dest).sort()).toEqual(["a.txt", "filler"]);
    const st = await s.status();
    expect(st).toMatchObject({ appliedCommit: first, lastError: { retryable: true } });
    expect(st.nextRetryAt).not.toBeNull();

    free(dest);
    expect(await s.sync()).toMatchObject({ code: 0 });
    expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe(big);
    expect((await s.status()).appliedCommit).toBe(head);
  });

  test("state records: the record on disk kept as it was, nothing half-written, back-off in memory; saved once space is freed", async () => {
    const remote = await createRemote({ "files/a.txt": "v1\n" });
    const dest = join(tempDir("fetchit-dest-"), "out");
    const s = setup(remote.url, dest, "*/2 * * * * *");
    await smallDisk(join(s.cwd, "st", "state"));
    const daemon = await spawnBinary(["run", ...s.flags], { cwd: s.cwd });
    try {
      const first = await remote.head();
      await waitFor("the first commit recorded", () => s.record().json?.appliedCommit === first, 60_000);
      await fill(join(s.cwd, "st", "state"));
      const before = s.record();
      const head = await remote.commit({ "files/a.txt": "v2\n" });
      await waitFor("two failed saves", () => times(daemon.output(), "cannot save the state record").length >= 2, 90_000);
      const [t1, t2] = times(daemon.output(), "cannot save the state record");
      expect(t2! - t1!).toBeGreaterThanOrEqual(9_000); // back-off (10 s), not the 2 s schedule
      expect(daemon.output()).toContain("the file system is full; free space on it (df -h) (ENOSPC)");
      expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe("v2\n"); // applied; only the record could not be written
      expect(s.record()).toEqual(before); // same file names (no temp file), same content
      free(join(s.cwd, "st", "state"));
      await waitFor("the new commit recorded", () => s.record().json?.appliedCommit === head, 60_000);
      expect(s.record().json.lastError).toBeUndefined();
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });

  test("a systemd unit directory: the unit is not half-written, the host named as the cause", async () => {
    const remote = await createRemote({ "units/x.service": "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n" });
    const units = join(tempDir("fetchit-units-"), "disk");
    await smallDisk(units);
    await fill(units);
    const cwd = tempDir("fetchit-full-");
    const systemd = `    systemd:\n      - name: s\n        targetPath: units\n        root: true\n        unitDirectory: ${units}\n        schedule: "*/5 * * * *"\n`;
    writeFileSync(join(cwd, "cfg.yaml"), `targetConfigs:\n  - name: t1\n    url: ${remote.url}\n    branch: main\n${systemd}`);
    const r = await fetchitBinary(["sync", "--config", "cfg.yaml", "--state-dir", "st"], { cwd });
    expect(r.code).toBe(1);
    expect(r.output).toContain(`cannot write ${join(units, "x.service")}: the file system is full; free space on it (df -h) (ENOSPC)`);
    expect(r.output).toContain("not applied: the cause is on this host, not in the commit");
    expect(readdirSync(units)).toEqual(["filler"]);
  });

  test("the clone directory: fetch fails with a clear error and backs off; applied after space is freed", async () => {
    const remote = await createRemote({ "files/a.txt": "v1\n" });
    const dest = join(tempDir("fetchit-dest-"), "out");
    const s = setup(remote.url, dest, "*/2 * * * * *");
    const repos = join(s.cwd, "st", "repos");
    await smallDisk(repos);
    expect(await s.sync()).toMatchObject({ code: 0 });
    await remote.commit({ "blobs/big.bin": randomBytes(3 * 1024 * 1024), "files/a.txt": "v2\n" }); // does not fit
    const head = await remote.head();
    const daemon = await spawnBinary(["run", ...s.flags, "--log-level", "debug"], { cwd: s.cwd });
    try {
      await waitFor("two failed fetches", () => times(daemon.output(), ...FAILED_RUN).length >= 2, 90_000);
      const [t1, t2] = times(daemon.output(), ...FAILED_RUN);
      expect(t2! - t1!).toBeGreaterThanOrEqual(9_000);
      expect(daemon.output()).toContain("the file system is full; free space on it (df -h)");
      expect(daemon.output()).not.toContain("will not be retried");
      expect(readFileSync(join(dest, "a.txt"), "utf8")).toBe("v1\n");
      await runOk(["mount", "-o", "remount,size=32m", repos]);
      await waitFor("the new commit applied", async () => existsSync(join(dest, "a.txt")) && readFileSync(join(dest, "a.txt"), "utf8") === "v2\n", 90_000);
      await waitFor("the state recorded", async () => (await s.status()).appliedCommit === head, 30_000);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });
});
