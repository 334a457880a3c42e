/**
 * Process helpers for tests: run a command and collect its output
 * (Bun.spawn), exit hooks, and scratch directories whose processes are
 * killed and whose mounts are dropped on cleanup.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Options of {@link run}. */
export interface RunOptions {
  /** Extra variables, merged over process.env. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to stdin, which is then closed. Default: no stdin. */
  input?: string | Uint8Array;
}

/** Output and exit code of a finished command. */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs `cmd` to completion; never throws for a non-zero exit (see {@link runOk}). */
export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdin: opts.input === undefined ? "ignore" : new Blob([opts.input]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

/** Runs `cmd` and returns stdout; throws with the command and its stderr on a non-zero exit. */
export async function runOk(cmd: string[], opts: RunOptions = {}): Promise<string> {
  const res = await run(cmd, opts);
  if (res.code !== 0) {
    throw new Error(`${cmd.join(" ")} exited with ${res.code}: ${res.stderr.trim() || res.stdout.trim()}`);
  }
  return res.stdout;
}

const exitHooks: (() => void)[] = [];

/**
 * Runs `fn` synchronously when the process emits "exit", newest first.
 * Note: `bun test` emits no "exit" event; scratch directories are therefore
 * also guarded by a watchdog process (see {@link createScratchDir}).
 */
export function onExit(fn: () => void): void {
  if (exitHooks.push(fn) > 1) return;
  process.on("exit", () => {
    for (const hook of exitHooks.splice(0).reverse()) {
      try {
        hook();
      } catch (err) {
        process.stderr.write(`test cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  });
}

/** True when `pid` runs (a zombie, exited but not yet reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/s.test(stat);
  } catch {
    return false;
  }
}

/** Pids other than this process whose command line contains `text`. */
export function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text)) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** SIGTERM, then SIGKILL whatever still runs after `graceMs`; returns when all are gone. Synchronous. */
export function killSync(pids: number[], graceMs = 3000): void {
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) Bun.sleepSync(20);
  if (!pids.some(isAlive)) return;
  signal("SIGKILL");
  const hard = Date.now() + 2000;
  while (pids.some(isAlive) && Date.now() < hard) Bun.sleepSync(20);
}

/** A command run before a scratch directory is deleted, e.g. to remove containers. */
export interface CleanupCommand {
  cmd: string[];
  env?: Record<string, string>;
}

/**
 * Creates `/tmp/<prefix>XXXXXX`, owned by this process. When the process
 * ends (normally, under `bun test` which emits no "exit" event, by a signal
 * or by SIGKILL) the commands from `before(dir)` run, every process whose
 * command line mentions the directory is killed, mounts below it are
 * dropped and it is deleted. A watchdog in its own session (this file run
 * as a script) does that; an exit hook does it at once where "exit" fires.
 * Directories left by dead owners are swept first.
 */
export function createScratchDir(prefix: string, before: (dir: string) => CleanupCommand[] = () => []): string {
  sweepStaleDirs(prefix);
  // Short fixed base: unix socket paths inside must stay under 108 bytes.
  const dir = mkdtempSync(join("/tmp", prefix));
  writeFileSync(join(dir, "cleanup.json"), JSON.stringify(before(dir)));
  writeFileSync(join(dir, "owner.pid"), String(process.pid));
  onExit(() => cleanupScratchDir(dir));
  const guard = Bun.spawn(["setsid", process.execPath, import.meta.path, "--guard", String(process.pid), dir], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  guard.unref();
  return dir;
}

/** Runs the directory's cleanup commands, kills what mentions it, unmounts, deletes. Synchronous. */
export function cleanupScratchDir(dir: string): void {
  if (!existsSync(dir)) return;
  let before: CleanupCommand[] = [];
  try {
    before = JSON.parse(readFileSync(join(dir, "cleanup.json"), "utf8")) as CleanupCommand[];
  } catch {
    // nothing recorded
  }
  for (const c of before) {
    Bun.spawnSync(c.cmd, { env: { ...process.env, ...c.env }, stdout: "ignore", stderr: "ignore" });
  }
  killSync(pidsMentioning(dir));
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((mp): mp is string => mp !== undefined && (mp === dir || mp.startsWith(dir + "/")))
    .sort((a, b) => b.length - a.length);
  for (const mp of mounts) Bun.spawnSync(["umount", "-l", mp]);
  rmSync(dir, { recursive: true, force: true });
}

/** Cleans `/tmp/<prefix>*` directories whose owner process is gone (its watchdog was killed too). */
export function sweepStaleDirs(prefix: string): void {
  for (const name of readdirSync("/tmp")) {
    if (!name.startsWith(prefix)) continue;
    const dir = join("/tmp", name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, "owner.pid"), "utf8"));
    } catch {
      continue; // being created right now, or not ours
    }
    if (!isAlive(owner)) cleanupScratchDir(dir);
  }
}

// Watchdog: `bun exec.ts --guard <ownerPid> <dir>` cleans `dir` once the owner is gone.
if (import.meta.main && process.argv[2] === "--guard") {
  const owner = Number(process.argv[3]);
  const dir = process.argv[4]!;
  while (isAlive(owner) && existsSync(dir)) await Bun.sleep(100);
  cleanupScratchDir(dir);
  process.exit(0);
}
