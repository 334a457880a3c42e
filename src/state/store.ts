/**
 * The state store: one JSON record per (target, method) under
 * `<stateDir>/state/`. Written atomically (temp file + fsync + rename + fsync
 * of the directory) and only when something changed; `status` reads it
 * without git or Podman. A record a power cut damaged (empty, truncated,
 * unparsable) is moved aside as `<name>.corrupt-<UTC time>` with one error
 * logged, and that method starts afresh (a re-apply from scratch changes
 * nothing on an unchanged host); the other methods are not affected.
 */
import { join } from "node:path";
import { moveAsideCorrupt, sha256, type HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";

/** What one file of the repository made on the host. */
export interface ManagedResource {
  /** Container name, destination path, unit name: what to remove when the file goes. */
  name: string;
  /** Hash of what was applied (container spec hash, file content hash). */
  hash: string;
}

export interface LastError {
  message: string;
  at: string;
  /** The commit whose apply failed (absent for fetch errors). */
  commit?: string;
  retryable: boolean;
  /** Files that failed, repo-relative. */
  files?: string[];
}

export interface MethodState {
  version: 1;
  target: string;
  kind: string;
  method: string;
  appliedCommit?: string;
  appliedAt?: string;
  /** Subject line of the applied commit, for `fetchit status`. */
  appliedSubject?: string;
  /** Keyed by the file path relative to targetPath. */
  resources: Record<string, ManagedResource>;
  lastError?: LastError;
  /** Consecutive failed runs; 0 after a success. */
  failures: number;
  /** Do not retry before this time (transient errors back off exponentially). */
  nextRetryAt?: string;
  /** The method entry as last applied, so its resources can be removed after it leaves the config. */
  config?: Record<string, unknown>;
  /** A commit that failed its health gate and was rolled back: never re-applied until a new head or `fetchit retry`. */
  quarantined?: Quarantine;
  /** Written before a rollback starts, cleared when it ends: a restart finishes it (crash safety). */
  rollingBack?: { from: string; to: string; at: string };
  /** The applied commit failed its gate and could not be rolled back (first apply, or the rollback failed too). */
  unhealthy?: { commit: string; reason: string; at: string };
  /** Rollbacks done by this method so far (fetchit_rollbacks_total). */
  rollbacks?: number;
  /** `fetchit retry` was run: the next head is applied even when another host quarantined it (refs/fetchit/quarantine/<sha>). */
  releaseRemote?: boolean;
  /** sha256 of the template context (facts, labels, values) the applied `.tmpl` files were rendered with. */
  contextHash?: string;
  /** A head applied despite another host's quarantine ref (after `fetchit retry`): not blocked again. */
  released?: string;
}

export interface Quarantine {
  commit: string;
  subject?: string;
  /** Why its gate failed: file, container or unit, exit code, last log lines. */
  reason: string;
  at: string;
}

export interface MethodKey {
  target: string;
  kind: string;
  method: string;
}

export interface StateStore {
  readonly dir: string;
  load(key: MethodKey): Promise<MethodState>;
  save(state: MethodState): Promise<void>;
  list(): Promise<MethodState[]>;
  /** Removes a record (used when a method is removed from the config). */
  remove(key: MethodKey): Promise<void>;
}

function fileName(key: MethodKey): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60);
  const id = sha256(`${key.target}\n${key.kind}\n${key.method}`).slice(0, 10);
  return `${safe(key.target)}--${key.kind}--${safe(key.method)}--${id}.json`;
}

export function emptyState(key: MethodKey): MethodState {
  return { version: 1, ...key, resources: {}, failures: 0 };
}

/** The record in `buf`, or why it is damaged. */
export function parseRecord(buf: Buffer): MethodState | { damaged: string } {
  if (!buf.length) return { damaged: "empty file" };
  try {
    const st = JSON.parse(buf.toString("utf8")) as MethodState;
    if (typeof st !== "object" || st === null || st.version !== 1) return { damaged: "not a version 1 record" };
    if (typeof st.resources !== "object" || st.resources === null || typeof st.target !== "string") return { damaged: "fields missing" };
    return st;
  } catch (err) {
    return { damaged: (err as Error).message };
  }
}

/**
 * With `log` (the processes that run methods: run, sync, plan), a damaged
 * record is moved aside and logged once. Without it (status, the HTTP
 * endpoint: readers only), a damaged record reads as absent and stays put.
 */
export function createStateStore(fs: HostFs, stateDir: string, log?: Logger): StateStore {
  const dir = join(stateDir, "state");
  /** The record in `file`, or null when it is missing or damaged. */
  const read = async (file: string): Promise<MethodState | null> => {
    const buf = await fs.readFile(file);
    if (!buf) return null;
    const rec = parseRecord(buf);
    if (!("damaged" in rec)) return rec;
    if (!log) return null;
    const moved = await moveAsideCorrupt(fs, file);
    if (moved) {
      log.error(`state file ${fs.resolve(file)} was damaged (${rec.damaged}), probably by a power cut; moved it to ${fs.resolve(moved)} and that method starts afresh (re-applying its files changes nothing that is already in place)`, { file: fs.resolve(moved) });
    }
    return null;
  };
  return {
    dir,
    async load(key) {
      return (await read(join(dir, fileName(key)))) ?? emptyState(key);
    },
    async save(state) {
      await fs.writeFileAtomic(join(dir, fileName(state)), JSON.stringify(state, null, 2) + "\n", 0o600);
    },
    async list() {
      const names = (await fs.readDir(dir)).filter((n) => n.endsWith(".json")).sort();
      const out: MethodState[] = [];
      for (const n of names) {
        const st = await read(join(dir, n));
        if (st) out.push(st);
      }
      return out;
    },
    async remove(key) {
      await fs.remove(join(dir, fileName(key)));
    },
  };
}
