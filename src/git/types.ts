/**
 * Contract of the git module: what the engine sees of one target's repository.
 * Everything is read from git objects at exact commits, never from a work tree.
 */

/** Which files of a commit a method looks at. */
export interface PathFilter {
  /** Directory or single file inside the repository; "" or "." = the root. Leading "./" and trailing "/" are ignored. */
  targetPath: string;
  /** FetchIt glob matched against `relPath` (`*` also matches `/`). Absent = everything. */
  glob?: string;
  /** Plain suffixes matched against `relPath`, e.g. [".yaml", ".yml"]. Absent or empty = every file. */
  extensions?: string[];
}

export type ChangeStatus = "added" | "modified" | "deleted" | "renamed";

/**
 * One file that differs between two commits. Paths are repo-relative with `/`.
 * - added: path, relPath, blob, mode
 * - deleted: oldPath, oldRelPath, oldBlob, oldMode
 * - modified: both sides (same path); mode may differ (file ↔ symlink)
 * - renamed: both sides; blob may differ too (rename + edit) — compare blobs
 */
export interface FileChange {
  status: ChangeStatus;
  /** New path, repo-relative. */
  path?: string;
  oldPath?: string;
  /** New path relative to targetPath; for a single-file targetPath, its basename. */
  relPath?: string;
  oldRelPath?: string;
  /** Blob sha of the new content; read it with {@link GitSource.readBlob}. */
  blob?: string;
  oldBlob?: string;
  /** Git file mode: "100644", "100755" (executable) or "120000" (symlink; blob = link target). */
  mode?: string;
  oldMode?: string;
}

/** Subject and committer date of one commit. */
export interface CommitInfo {
  sha: string;
  /** First line of the message. */
  subject: string;
  /** Committer date, strict ISO 8601 (e.g. 2024-05-04T18:19:15+02:00). */
  date: string;
}

/** The local cache (bare clone) of one (url, branch). */
export interface GitSource {
  /** URL with any `user:password@` removed; safe to log. */
  readonly url: string;
  readonly branch: string;
  /** The bare repository directory under cacheDir. */
  readonly dir: string;
  /**
   * Makes the branch head available locally and returns its sha. Costs one
   * `git ls-remote` when nothing is new; concurrent calls and calls within
   * `reuseMs` share one result.
   * @throws GitError — `retryable` false when the branch does not exist or access is denied.
   */
  fetch(): Promise<string>;
  /** Drops the reused fetch result, so the next fetch asks the remote (a webhook announced a push). */
  forget(): void;
  /** Changes between `from` (null = empty tree) and `to` under the filter. Both commits must be local. */
  diff(from: string | null, to: string, filter: PathFilter): Promise<FileChange[]>;
  /** True when `path` ("" or "." = root) exists in `commit` (a file or directory). */
  pathExists(commit: string, path: string): Promise<boolean>;
  /** Exact bytes of a blob read whole; refused past `maxBytes` (default 32 MiB, see objects.ts MAX_WHOLE_BLOB). */
  readBlob(sha: string, maxBytes?: number): Promise<Buffer>;
  /** Size in bytes of a blob, without reading it. */
  blobSize(sha: string): Promise<number>;
  /** The bytes of a blob in chunks, never whole in memory (for files of any size). */
  streamBlob(sha: string): AsyncIterable<Uint8Array>;
  /** Writes a blob into the open file `fd` at its current offset (git writes it; no byte passes through fetchit's memory). */
  copyBlobTo(sha: string, fd: number): Promise<void>;
  commitInfo(sha: string): Promise<CommitInfo>;
  /** True when the commit is in the local object store. */
  hasCommit(sha: string): Promise<boolean>;
  /** Keeps `sha` in the object store under `refs/fetchit/applied/<name>` (survives force pushes). */
  pin(name: string, sha: string): Promise<void>;
  /** Removes a pin made by {@link pin}; no-op when absent. */
  unpin(name: string): Promise<void>;
  /** Commits other hosts quarantined (refs/fetchit/quarantine/<sha>), as of the last fetch; git remotes only. */
  quarantinedRemotely?(): ReadonlySet<string>;
  /** Pushes refs/fetchit/quarantine/<commit> (needs push rights); git remotes only, not disconnected or OCI sources. */
  reportQuarantine?(commit: string, message: string): Promise<void>;
  /** The message of another host's quarantine ref ("" when gone). */
  quarantineNote?(commit: string): Promise<string>;
}
