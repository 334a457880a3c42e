/**
 * Shared by the benchmark scenarios: the compiled binary (built when stale),
 * fetchit as a child process, a counting proxy in front of the Podman API
 * socket, a `git` wrapper on PATH that counts git processes, /proc readers
 * (RSS, CPU), an sd_notify receiver, and result tables. Benchmarks use the
 * project's test support (real Podman service, real git repositories and
 * smart-HTTP server); nothing here is mocked.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "../test/support/git.ts";

export const ROOT = join(import.meta.dir, "..");
export const RESULTS = join(import.meta.dir, "results");

/** One measured number. `target` is the goal from the issue, `ok` whether it is met. */
export interface Row {
  what: string;
  value: number;
  unit: string;
  target?: string;
  ok?: boolean;
}

export interface ScenarioResult {
  scenario: string;
  rows: Row[];
  /** Whatever else the scenario wants in its JSON (samples, parameters). */
  detail?: Record<string, unknown>;
}

export interface BenchOptions {
  /** Small sizes so the whole suite finishes in a few minutes. */
  quick: boolean;
}

let built: Promise<string> | undefined;

/** The compiled binary for this machine, built with `bun build.ts` when missing or older than src/ (checked once a run). */
export function ensureBinary(): Promise<string> {
  built ??= buildIfStale();
  return built;
}

async function buildIfStale(): Promise<string> {
  const target = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
  const bin = join(ROOT, "dist", `fetchit-${target}`);
  const newest = (d: string): number =>
    readdirSync(d, { withFileTypes: true }).reduce((t, e) => Math.max(t, e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs), 0);
  if (existsSync(bin) && statSync(bin).mtimeMs >= Math.max(newest(join(ROOT, "src")), statSync(join(ROOT, "package.json")).mtimeMs)) return bin;
  console.error(`building ${bin} …`);
  const p = Bun.spawnSync([process.execPath, "build.ts", target], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (p.exitCode !== 0 || !existsSync(bin)) throw new Error(`bun build.ts ${target} failed (exit ${p.exitCode})`);
  return bin;
}

/** Kernel clock ticks a second (/proc/<pid>/stat unit); 100 on Linux unless the kernel says otherwise. */
const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** CPU time of `pid` in ms: its own (user+system) and that of its waited-for children (git). */
export function cpuMs(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  // fields 14-17 of stat, counted after "pid (comm) ": index 11..14
  return { self: ((f[11]! + f[12]!) * 1000) / CLK_TCK, children: ((f[13]! + f[14]!) * 1000) / CLK_TCK };
}

/**
 * Memory of `pid` in KB: RSS and its parts (RssAnon: anonymous, RssFile:
 * pages of the executable and other files, clean and droppable), the peak
 * RSS since start (VmHWM), and Private_Dirty from smaps_rollup (anonymous
 * and written private file pages: what the process really costs).
 */
export interface MemorySample {
  rssKb: number;
  anonKb: number;
  fileKb: number;
  hwmKb: number;
  privateDirtyKb: number;
}

export function memorySample(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  return { rssKb: kb(status, "VmRSS"), anonKb: kb(status, "RssAnon"), fileKb: kb(status, "RssFile"), hwmKb: kb(status, "VmHWM"), privateDirtyKb: kb(rollup, "Private_Dirty") };
}

export const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : NaN;
}
export const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/** A running `fetchit` binary. */
export interface Agent {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  stderr(): string;
  stop(): Promise<number>;
}

export function spawnAgent(bin: string, args: string[], env: Record<string, string | undefined> = {}): Agent {
  const proc = Bun.spawn([bin, ...args], { env: { ...process.env, FETCHIT_CONFIG: undefined, ...env }, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let err = "";
  void (async () => {
    for await (const c of proc.stderr) err = (err + new TextDecoder().decode(c)).slice(-20_000);
  })();
  return {
    proc,
    stderr: () => err,
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      const code = await proc.exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A `git` first on PATH that logs each invocation's subcommand, then runs the real git. */
export function gitCounter(): { env: Record<string, string>; count(): Record<string, number>; reset(): void } {
  const real = Bun.which("git");
  if (!real) throw new Error("git is missing; run `bash test/support/prepare.sh`");
  const dir = tempDir("fetchit-bench-git-");
  const log = join(dir, "calls.log");
  writeFileSync(log, "");
  // the subcommand is the first argument that is not an option (simple-git passes -c key=value first)
  const script = `#!/bin/sh\nsub=""\nskip=0\nfor a in "$@"; do\n  if [ $skip = 1 ]; then skip=0; continue; fi\n  case "$a" in -c|-C) skip=1 ;; -*) ;; *) sub=$a; break ;; esac\ndone\necho "$sub" >>"${log}"\nexec ${real} "$@"\n`;
  writeFileSync(join(dir, "git"), script, { mode: 0o755 });
  return {
    env: { PATH: `${dir}:${process.env.PATH}` },
    count() {
      const out: Record<string, number> = {};
      for (const l of readFileSync(log, "utf8").split("\n").filter(Boolean)) out[l] = (out[l] ?? 0) + 1;
      return out;
    },
    reset: () => writeFileSync(log, ""),
  };
}

/** A unix-socket proxy in front of the Podman API that counts requests (GET vs writes, by endpoint). */
export function podmanProxy(realSocket: string) {
  const socket = join(tempDir("fetchit-bench-pm-"), "podman.sock");
  let calls: string[] = [];
  const server = Bun.serve({
    unix: socket,
    async fetch(req) {
      const url = new URL(req.url);
      calls.push(`${req.method} ${url.pathname.replace(/^\/v[\d.]+/, "")}`);
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const res = await fetch(`http://d${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body, unix: realSocket, decompress: false } as RequestInit);
      return new Response(res.body, { status: res.status, headers: res.headers });
    },
  });
  return {
    socket,
    calls: () => calls,
    reset: () => void (calls = []),
    stop: () => server.stop(true),
  };
}

/** A unix datagram receiver for NOTIFY_SOCKET (python3: Bun has no datagram sockets); `messages` carry ms timestamps. */
export async function notifyReceiver() {
  if (!Bun.which("python3")) throw new Error("python3 is missing (sd_notify receiver)");
  const sock = join(tempDir("fetchit-bench-sdn-"), "n.sock");
  const code = `import socket,sys,time\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound",flush=True)\nwhile True:\n    m=s.recv(4096).decode().replace("\\n","|")\n    print("%d %s"%(int(time.time()*1000),m),flush=True)\n`;
  const proc = Bun.spawn(["python3", "-c", code, sock], { stdout: "pipe", stderr: "inherit" });
  const messages: { at: number; text: string }[] = [];
  let bound = false;
  void (async () => {
    for await (const c of proc.stdout)
      for (const l of new TextDecoder().decode(c).split("\n").filter(Boolean)) {
        if (l === "bound") bound = true;
        else messages.push({ at: Number(l.slice(0, l.indexOf(" "))), text: l.slice(l.indexOf(" ") + 1) });
      }
  })();
  await waitUntil("notify receiver", () => bound, 10_000);
  return { sock, messages, stop: () => proc.kill() };
}

type Falsy = undefined | null | false | 0 | "";
export async function waitUntil<T>(what: string, check: () => Promise<T | Falsy> | T | Falsy, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** Machine description for the results. */
export function machine(): Record<string, unknown> {
  const text = (cmd: string[]) => Bun.spawnSync(cmd).stdout.toString().trim();
  const os = /PRETTY_NAME="([^"]+)"/.exec(existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "")?.[1];
  return {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os,
    kernel: text(["uname", "-r"]),
    podman: text(["podman", "--version"]),
    git: text(["git", "--version"]),
    bun: Bun.version,
  };
}

export function printTable(r: ScenarioResult): void {
  console.log(`\n### ${r.scenario}\n\n| what | value | target | met |\n|---|---|---|---|`);
  for (const row of r.rows) {
    const v = Number.isInteger(row.value) ? String(row.value) : row.value.toFixed(row.value < 10 ? 2 : 1);
    console.log(`| ${row.what} | ${v} ${row.unit} | ${row.target ?? ""} | ${row.ok === undefined ? "" : row.ok ? "yes" : "NO"} |`);
  }
}

export function writeResult(file: string, data: unknown): string {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, file);
  writeFileSync(path, JSON.stringify(data, null, 2) + "\n");
  return path;
}
