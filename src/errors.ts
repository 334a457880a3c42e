/**
 * The few error classes fetchit uses. Each message names the component and the
 * element it is about (file, field, endpoint), keeps the underlying `cause`, and
 * says whether retrying later can help (`retryable`) and whether the host
 * rather than the commit is at fault (`local`: never "will not be retried").
 */

export interface ErrorOptions {
  cause?: unknown;
  /** True when the same operation may succeed later without any change (network, 5xx, socket gone). */
  retryable?: boolean;
  /**
   * True when this host is at fault, not the commit: a path, a permission, a
   * missing tool, a full disk, a damaged cache. Implies retryable: fixing the
   * host is enough, no new commit is needed.
   */
  local?: boolean;
}

export class FetchitError extends Error {
  readonly retryable: boolean;
  readonly local: boolean;
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.local = opts.local ?? false;
    this.retryable = opts.retryable ?? this.local;
  }
}

/** A problem of this host (disk, permissions, a missing tool): fixed on the host, retried with back-off. */
export class LocalError extends FetchitError {
  constructor(message: string, opts: Omit<ErrorOptions, "local"> = {}) {
    super(message, { ...opts, local: true, retryable: true });
  }
}

/** One problem found in a config file, with the path of the offending key. */
export interface ConfigIssue {
  /** Dotted path such as `targetConfigs[0].raw[1].schedule`; "" for the whole document. */
  path: string;
  message: string;
}

/** The config cannot be used. Carries every issue found, not only the first. */
export class ConfigError extends FetchitError {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file}: ${issues.length} problem(s) in config\n` + issues.map((i) => `  ${formatIssue(i)}`).join("\n"));
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** A git command failed (clone, fetch, ls-remote, diff, cat-file). */
export class GitError extends FetchitError {}

/** The Podman REST API answered with an error or could not be reached. */
export class PodmanApiError extends FetchitError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly endpoint: string,
    opts: ErrorOptions = {},
  ) {
    super(message, opts);
  }
}

/** A method could not apply one file. `path` is the file in the repository. */
export class MethodError extends FetchitError {
  constructor(
    message: string,
    readonly path: string | undefined,
    opts: ErrorOptions = {},
  ) {
    super(path ? `${path}: ${message}` : message, opts);
  }
}

/** Ends the process with a given exit code; only src/main.ts acts on it. */
export class ExitError extends FetchitError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** True when retrying the failed operation later may succeed (local problems included: the host may be fixed). */
export function isRetryable(err: unknown): boolean {
  return (err instanceof FetchitError && err.retryable) || isLocal(err);
}

/** What to do on the host for each errno that means the host, not the commit, is at fault. */
const ERRNO_ADVICE: Record<string, string> = {
  ENOSPC: "the file system is full; free space on it (df -h)",
  EDQUOT: "the disk quota is used up; free space or raise the quota",
  EROFS: "the file system is read-only; remount it read-write or use another path",
  EACCES: "permission denied; check the owner and mode of the path for the user fetchit runs as",
  EPERM: "operation not permitted; check the owner, mode and attributes (chattr) of the path",
  ENOENT: "no such file or directory; create it or correct the path",
  ENOTDIR: "a part of the path is not a directory; correct the path",
  EIO: "input/output error; the disk may be failing (check dmesg)",
  EMFILE: "too many open files; raise the limit (LimitNOFILE= in the unit)",
  ENFILE: "too many open files on the host; raise fs.file-max",
  ENOMEM: "out of memory",
};

/** "ENOSPC" or "EDQUOT" when `err` (or one of its causes) is a full file system, else undefined. */
export function fullDiskErrno(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "EDQUOT") return code;
  }
  return undefined;
}

/**
 * What to fix on this host when `err` (or one of its causes) is a local
 * problem, else undefined: an errno from a file operation or a program that
 * could not start, or a FetchitError marked local.
 */
export function localAdvice(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof FetchitError && e.local) return errorMessage(e);
    const { code, syscall, path } = e as { code?: unknown; syscall?: unknown; path?: unknown };
    if (typeof code !== "string") continue;
    const msg = errorMessage(e);
    if (code === "ENOENT" && (/Executable not found/i.test(msg) || /spawn/i.test(String(syscall ?? "")))) {
      return `program ${typeof path === "string" ? path : "(unknown)"} is not installed or not in PATH; install it`;
    }
    const advice = ERRNO_ADVICE[code];
    const where = [code, path].filter((x): x is string => typeof x === "string" && !msg.includes(x));
    if (advice) return where.length ? `${advice} (${where.join(" ")})` : advice;
  }
  return undefined;
}

/** True when the host, not the commit, is at fault (see {@link localAdvice}). */
export function isLocal(err: unknown): boolean {
  return localAdvice(err) !== undefined;
}

/**
 * Wraps a failed file operation on `path` as a LocalError saying what failed,
 * where and what to do; other errors are returned unchanged.
 */
export function hostFileError(what: string, path: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const advice = typeof code === "string" ? ERRNO_ADVICE[code] : undefined;
  return advice ? new LocalError(`${what} ${path}: ${advice} (${code})`, { cause: err }) : err;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
