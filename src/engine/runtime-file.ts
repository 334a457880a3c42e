/**
 * `<stateDir>/runtime.json`: what the running daemon knows beyond the state
 * store (last run, its result, the fetched head, the next run), so `fetchit
 * status` can show it from another process. Written atomically by `fetchit
 * run` after runs (coalesced to at most one write a second), and once more
 * with `stoppedAt` when it stops. Never holds secrets: ids, times, commits and
 * error messages (which never contain credentials).
 */
import type { Waiting } from "./rollout.ts";
import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hostFileError } from "../errors.ts";
import { moveAsideCorrupt, type HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";
import type { RunTracker, RunStatus } from "./metrics.ts";

export interface RuntimeJob {
  id: string;
  target: string;
  kind: string;
  method: string;
  lastRunAt: string | null;
  lastResult: RunStatus | null;
  fetchedHead: string | null;
  nextRunAt: string | null;
  running: boolean;
  /** The fetched head waits for this host's rollout wave. */
  waiting?: Waiting | null;
}

export interface RuntimeInfo {
  version: 1;
  pid: number;
  startedAt: string;
  updatedAt: string;
  /** Set when the daemon stopped cleanly. */
  stoppedAt: string | null;
  jobs: RuntimeJob[];
}

/** What the scheduler tells about each job. */
export interface ScheduleInfo {
  id: string;
  running: boolean;
  nextRun: Date | null;
}

export const runtimeFile = (stateDir: string) => join(stateDir, "runtime.json");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function runtimeSnapshot(tracker: RunTracker, schedule: ScheduleInfo[], stoppedAt: number | null = null): RuntimeInfo {
  const jobs = schedule.map((s): RuntimeJob => {
    const r = tracker.get(s.id);
    const [target = "", kind = "", ...rest] = s.id.split("/");
    return {
      id: s.id, target: r?.key.target ?? target, kind: r?.kind ?? kind, method: r?.key.method ?? rest.join("/"),
      lastRunAt: iso(r?.lastEndedAt ?? null), lastResult: r?.lastResult ?? null, fetchedHead: r?.fetchedHead ?? null,
      nextRunAt: s.nextRun?.toISOString() ?? null, running: s.running, waiting: r?.waiting ?? null,
    };
  });
  const now = new Date().toISOString();
  return { version: 1, pid: process.pid, startedAt: new Date(tracker.startedAt).toISOString(), updatedAt: now, stoppedAt: iso(stoppedAt), jobs };
}

/**
 * Temp file + rename (readers never see half a file), but no fsync: the file
 * is rewritten after every tick and only describes the running process, so it
 * is not worth a flush to disk each time (SD cards and eMMC on edge boxes wear).
 */
async function writeVolatile(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`; // one writer (the lock holder), writes chained: a fixed name leaves no orphans after a kill
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }); // a full disk fails the write part-way: leave no half-written file
    throw err;
  }
}

/** Coalesces writes: at most one a second, always the latest snapshot. */
export function runtimeWriter(fs: HostFs, stateDir: string, snapshot: () => RuntimeInfo, log: Logger) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing = Promise.resolve();
  let failing = false; // reported once until a write succeeds again (a full disk would log every second)
  const write = (info: RuntimeInfo) =>
    (writing = writing
      .then(() => writeVolatile(fs.resolve(runtimeFile(stateDir)), JSON.stringify(info, null, 2) + "\n"))
      .then(
        () => void (failing = false),
        (err) => {
          if (!failing) log.warn("could not write the runtime file (fetchit status will lack last/next run)", { err: hostFileError("cannot write", runtimeFile(stateDir), err) });
          failing = true;
        },
      ));
  return {
    /** Schedules a write within a second. */
    touch(): void {
      timer ??= setTimeout(() => {
        timer = undefined;
        void write(snapshot());
      }, 1000);
    },
    /** Writes now (e.g. the final snapshot with stoppedAt). */
    async flush(info: RuntimeInfo = snapshot()): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await write(info);
    },
  };
}

function parseRuntime(buf: Buffer): RuntimeInfo | null {
  try {
    const info = JSON.parse(buf.toString("utf8")) as RuntimeInfo;
    return info?.version === 1 && Array.isArray(info.jobs) ? info : null;
  } catch {
    return null;
  }
}

/** The runtime file, when present and readable; null otherwise. */
export async function readRuntime(fs: HostFs, stateDir: string): Promise<RuntimeInfo | null> {
  const buf = await fs.readFile(runtimeFile(stateDir)).catch(() => null);
  return buf ? parseRuntime(buf) : null;
}

/**
 * At `run`'s start (under the state dir lock): a runtime file a power cut
 * damaged (it is written without fsync) is moved aside as
 * `runtime.json.corrupt-<UTC time>` with one error; the new one replaces it
 * after the first run. Nothing is lost: it only described the previous process.
 */
export async function setAsideDamagedRuntime(fs: HostFs, stateDir: string, log: Logger): Promise<void> {
  const file = runtimeFile(stateDir);
  const buf = await fs.readFile(file);
  if (!buf || parseRuntime(buf)) return;
  const moved = await moveAsideCorrupt(fs, file);
  if (moved) log.error(`runtime file ${fs.resolve(file)} was damaged, probably by a power cut; moved it to ${fs.resolve(moved)} (it only described the previous run; nothing is lost)`, { file: fs.resolve(moved) });
}

/** True when the process that wrote `info` is still alive and did not record a stop. */
export function daemonAlive(info: RuntimeInfo | null): boolean {
  if (!info || info.stoppedAt) return false;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
