/**
 * The state dir lock with real processes: a flock the kernel drops when its
 * holder dies. A stale file (dead PID, a PID now naming another live process,
 * garbage) never blocks; two live processes still exclude each other.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lockStateDir } from "../../src/state/lock.ts";
import { waitFor } from "../support/fetchit.ts";
import { tempDir } from "../support/git.ts";

const holders: { kill(sig?: number | NodeJS.Signals): void; exited: Promise<number> }[] = [];
afterEach(async () => {
  for (const h of holders.splice(0)) {
    h.kill("SIGKILL");
    await h.exited;
  }
});

async function holdLock(stateDir: string) {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "hold-lock.ts"), stateDir], { stdout: "pipe", stderr: "inherit" });
  holders.push(proc);
  let out = "";
  const reader = proc.stdout.getReader();
  while (!out.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`hold-lock exited early: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc };
}

const refused = (stateDir: string) => {
  try {
    lockStateDir(stateDir, "fetchit sync").release();
    return "";
  } catch (err) {
    return (err as Error).message;
  }
};

test("a lock file naming a live, unrelated process (PID reused after a reboot) or holding garbage never blocks a start", () => {
  const dir = tempDir("fetchit-lock-");
  for (const content of ["1\n", `${process.ppid}\n`, "", "\0\0\0\0", "not a pid"]) {
    writeFileSync(join(dir, "fetchit.lock"), content);
    const lock = lockStateDir(dir, "fetchit run");
    expect(readFileSync(join(dir, "fetchit.lock"), "utf8")).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(join(dir, "fetchit.lock"))).toBe(false);
  }
});

test("two live processes exclude each other; kill -9 of the holder frees the lock at once", async () => {
  const dir = tempDir("fetchit-lock-");
  const { proc } = await holdLock(dir);
  expect(refused(dir)).toContain(`another fetchit (pid ${proc.pid}) is using the state dir ${dir}`);
  // the holder's PID file says nothing about who holds it: rewriting it changes nothing
  writeFileSync(join(dir, "fetchit.lock"), "999999\n");
  expect(refused(dir)).toContain("another fetchit (pid 999999)");
  proc.kill("SIGKILL");
  await proc.exited;
  expect(existsSync(join(dir, "fetchit.lock"))).toBe(true); // left behind, as after a power cut
  expect(refused(dir)).toBe("");
});

test("the lock's fd is close-on-exec: a child (git, podman, ansible) never inherits it and keeps it after fetchit died", () => {
  const dir = tempDir("fetchit-lock-");
  const lock = lockStateDir(dir, "fetchit run");
  try {
    const fds = readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === join(dir, "fetchit.lock");
      } catch {
        return false;
      }
    });
    expect(fds.length).toBe(1);
    const flags = Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fds[0]}`, "utf8"))![1]!, 8);
    expect(flags & 0o2000000).toBe(0o2000000);
  } finally {
    lock.release();
  }
});

test("the lock is taken again and again by alternating processes without a stale refusal", async () => {
  const dir = tempDir("fetchit-lock-");
  for (let i = 0; i < 3; i++) {
    const { proc } = await holdLock(dir);
    expect(refused(dir)).toContain(`pid ${proc.pid}`);
    proc.kill(i % 2 ? "SIGTERM" : "SIGKILL");
    await proc.exited;
    await waitFor("lock free", () => refused(dir) === "", 5000);
  }
});

test("processes racing for the lock never hold it at once (a releaser unlinks the file: a racer that locked the old inode retries)", async () => {
  const dir = tempDir("fetchit-lock-");
  const racers = Array.from({ length: 4 }, () => Bun.spawn([process.execPath, join(import.meta.dir, "contend-lock.ts"), dir, "4000"], { stdout: "pipe", stderr: "inherit" }));
  const results = await Promise.all(racers.map(async (p) => JSON.parse(await new Response(p.stdout).text()) as { held: number; overlaps: number }));
  expect(results.reduce((n, r) => n + r.overlaps, 0)).toBe(0);
  expect(results.filter((r) => r.held > 0).length).toBeGreaterThan(1); // they did take turns
  console.log(`lock taken ${results.map((r) => r.held).join(" + ")} times, no overlap`);
}, 60_000);
