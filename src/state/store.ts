/**
 * The state store: one JSON record per (target, method) under
 * `<stateDir>/state/`. Written atomically (temp file + fsync + rename) and only
 * when something changed; `status` reads it without git or Podman.
 */
import { join } from "node:path";
import { sha256, type HostFs } from "../host/fs.ts";

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

export function createStateStore(fs: HostFs, stateDir: string): StateStore {
  const dir = join(stateDir, "state");
  const parse = (buf: Buffer, file: string): MethodState => {
    try {
      const st = JSON.parse(buf.toString("utf8")) as MethodState;
      if (st.version !== 1 || typeof st.resources !== "object") throw new Error("unknown record version");
      return st;
    } catch (err) {
      throw new Error(`state file ${fs.resolve(file)} is unreadable (${(err as Error).message}); move it away to start that method afresh`);
    }
  };
  return {
    dir,
    async load(key) {
      const file = join(dir, fileName(key));
      const buf = await fs.readFile(file);
      return buf ? parse(buf, file) : emptyState(key);
    },
    async save(state) {
      await fs.writeFileAtomic(join(dir, fileName(state)), JSON.stringify(state, null, 2) + "\n", 0o600);
    },
    async list() {
      const names = (await fs.readDir(dir)).filter((n) => n.endsWith(".json")).sort();
      const out: MethodState[] = [];
      for (const n of names) {
        const buf = await fs.readFile(join(dir, n));
        if (buf) out.push(parse(buf, join(dir, n)));
      }
      return out;
    },
    async remove(key) {
      await fs.remove(join(dir, fileName(key)));
    },
  };
}
