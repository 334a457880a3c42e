/**
 * `fetchit status`: per (target, method), what the state store says was
 * applied plus what the daemon's runtime file says about runs (last run, its
 * result, fetched head, next run). Works whether or not the daemon runs; the
 * same JSON is served at GET /status.
 */
import { daemonAlive, readRuntime, type RuntimeInfo, type RuntimeJob } from "../engine/runtime-file.ts";
import { createHostFs, type HostFs } from "../host/fs.ts";
import { createStateStore, type MethodState } from "../state/store.ts";
import { defaultStateDir, type Env, type GlobalOptions } from "./options.ts";

export interface StatusOptions extends GlobalOptions {
  json?: boolean;
}

/** The stable JSON shape of `fetchit status --json` (one entry per method or task); fields are only ever added. */
export interface StatusEntry {
  target: string;
  kind: string;
  method: string;
  appliedCommit: string | null;
  appliedSubject: string | null;
  appliedAt: string | null;
  /** Head fetched by the daemon's last run (null: no run recorded, or its fetch failed). */
  fetchedHead: string | null;
  /** When the daemon's last run of this method ended. */
  lastRunAt: string | null;
  /** applied | unchanged | skipped | failed; null when no run is recorded. */
  lastResult: string | null;
  /** Next scheduled run; null when the daemon is not running. */
  nextRunAt: string | null;
  /** A run is in progress now. */
  running: boolean;
  consecutiveFailures: number;
  lastError: { message: string; at: string; commit: string | null; retryable: boolean; files: string[] } | null;
  nextRetryAt: string | null;
  resources: { file: string; name: string; hash: string }[];
  /** A commit that failed its health gate and was rolled back; not applied again until a new commit or `fetchit retry`. */
  quarantined: { commit: string; subject: string | null; reason: string; at: string } | null;
  /** The applied commit failed its gate and could not be rolled back (first apply, or the rollback failed). */
  unhealthy: { commit: string; reason: string; at: string } | null;
  /** A rollback in progress (or interrupted: the next run finishes it). */
  rollingBack: { from: string; to: string; at: string } | null;
  /** Rollbacks this method has done. */
  rollbacks: number;
  /** The fetched head waits for this host's rollout wave (fleets): wave, waves, dueAt. */
  waiting: { wave: number; waves: number; dueAt: string } | null;
}

/** The whole `fetchit status --json` document (also GET /status). */
export interface StatusReport {
  stateDir: string;
  /** The `fetchit run` process that wrote the runtime file; running false when it stopped or died. */
  daemon: { running: boolean; pid: number; startedAt: string; updatedAt: string; stoppedAt: string | null } | null;
  methods: StatusEntry[];
}

export function toStatusEntry(s: MethodState, run?: RuntimeJob, alive = false): StatusEntry {
  const e = s.lastError;
  return {
    target: s.target,
    kind: s.kind,
    method: s.method,
    appliedCommit: s.appliedCommit ?? null,
    appliedSubject: s.appliedSubject ?? null,
    appliedAt: s.appliedAt ?? null,
    fetchedHead: run?.fetchedHead ?? null,
    lastRunAt: run?.lastRunAt ?? null,
    lastResult: run?.lastResult ?? null,
    nextRunAt: alive ? (run?.nextRunAt ?? null) : null,
    running: alive && (run?.running ?? false),
    consecutiveFailures: s.failures,
    lastError: e ? { message: e.message, at: e.at, commit: e.commit ?? null, retryable: e.retryable, files: e.files ?? [] } : null,
    nextRetryAt: s.nextRetryAt ?? null,
    resources: Object.entries(s.resources)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([file, r]) => ({ file, name: r.name, hash: r.hash })),
    quarantined: s.quarantined ? { commit: s.quarantined.commit, subject: s.quarantined.subject ?? null, reason: s.quarantined.reason, at: s.quarantined.at } : null,
    unhealthy: s.unhealthy ? { ...s.unhealthy } : null,
    rollingBack: s.rollingBack ? { ...s.rollingBack } : null,
    rollbacks: s.rollbacks ?? 0,
    waiting: alive && run?.waiting ? { ...run.waiting } : null,
  };
}

const idOf = (x: { target: string; kind: string; method: string }) => `${x.target}/${x.kind}/${x.method}`;

/** Builds the report from the state store and the runtime file (`runtime` overrides the file: the daemon's own view). */
export async function statusReport(fs: HostFs, stateDir: string, runtime?: RuntimeInfo): Promise<StatusReport> {
  const info = runtime ?? (await readRuntime(fs, stateDir));
  const alive = runtime ? true : daemonAlive(info);
  const runs = new Map((info?.jobs ?? []).map((j) => [j.id, j]));
  const states = await createStateStore(fs, stateDir).list();
  const methods = states.map((s) => toStatusEntry(s, runs.get(idOf(s)), alive));
  const known = new Set(states.map(idOf));
  // Scheduled jobs without a state record yet (never finished a run): shown with what the daemon knows.
  for (const j of alive ? (info?.jobs ?? []) : []) {
    if (!known.has(j.id)) methods.push(toStatusEntry({ version: 1, target: j.target, kind: j.kind, method: j.method, resources: {}, failures: 0 }, j, alive));
  }
  const daemon = info ? { running: alive, pid: info.pid, startedAt: info.startedAt, updatedAt: info.updatedAt, stoppedAt: info.stoppedAt } : null;
  return { stateDir, daemon, methods };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
}

const short = (sha: string | null) => sha?.slice(0, 9) ?? "-";
const time = (iso: string | null) => (iso ? iso.replace(/\.\d+Z$/, "Z") : "-");

export async function statusCommand(opts: StatusOptions, env: Env, print: (line: string) => void): Promise<number> {
  const stateDir = defaultStateDir(opts, env, process.getuid?.() ?? 1000);
  const report = await statusReport(createHostFs(), stateDir);
  if (opts.json) {
    print(JSON.stringify(report, null, 2));
    return 0;
  }
  const d = report.daemon;
  print(d?.running ? `daemon: running (pid ${d.pid}, since ${time(d.startedAt)})` : `daemon: not running${d ? ` (last seen ${time(d.stoppedAt ?? d.updatedAt)})` : ""}`);
  if (!report.methods.length) {
    print(`no state in ${stateDir} yet: no method has run (start with \`fetchit run\` or \`fetchit sync\`)`);
    return 0;
  }
  const rows = [["TARGET", "METHOD", "APPLIED", "SUBJECT", "HEAD", "LAST RUN", "RESULT", "NEXT RUN", "FAILS", "RES", "LAST ERROR"]];
  for (const e of report.methods) {
    rows.push([
      e.target, `${e.kind}/${e.method}`, short(e.appliedCommit), (e.appliedSubject ?? "-").slice(0, 32), short(e.fetchedHead),
      time(e.lastRunAt), e.running ? "running" : (e.lastResult ?? "-"), time(e.nextRunAt), String(e.consecutiveFailures),
      String(e.resources.length), (e.lastError?.message ?? "-").slice(0, 80),
    ]);
  }
  for (const line of table(rows)) print(line);
  for (const e of report.methods) for (const line of rolloutLines(e)) print(line);
  return 0;
}

/** Lines under the table for quarantined, unhealthy and rolling-back methods. */
function rolloutLines(e: StatusEntry): string[] {
  const what = `${e.target} ${e.kind}/${e.method}`;
  const out: string[] = [];
  const q = e.quarantined;
  if (q) out.push(`${what}: quarantined ${short(q.commit)}${q.subject ? ` "${q.subject}"` : ""} at ${time(q.at)}: ${q.reason} (running ${short(e.appliedCommit)}; \`fetchit retry\` tries it again)`);
  if (e.unhealthy) out.push(`${what}: applied but unhealthy ${short(e.unhealthy.commit)} since ${time(e.unhealthy.at)}: ${e.unhealthy.reason}`);
  if (e.waiting) out.push(`${what}: ${short(e.fetchedHead)} waits for wave ${e.waiting.wave} of ${e.waiting.waves}, due at ${time(e.waiting.dueAt)} (\`fetchit sync --now\` applies it now)`);
  if (e.rollingBack) out.push(`${what}: rolling back ${short(e.rollingBack.from)} to ${short(e.rollingBack.to)} (since ${time(e.rollingBack.at)})`);
  return out;
}
