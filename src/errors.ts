/**
 * The few error classes fetchit uses. Each message names the component and the
 * element it is about (file, field, endpoint), keeps the underlying `cause`, and
 * says whether retrying later can help (`retryable`).
 */

export interface ErrorOptions {
  cause?: unknown;
  /** True when the same operation may succeed later without any change (network, 5xx, socket gone). */
  retryable?: boolean;
}

export class FetchitError extends Error {
  readonly retryable: boolean;
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.retryable = opts.retryable ?? false;
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

/** True when retrying the failed operation later may succeed. */
export function isRetryable(err: unknown): boolean {
  return err instanceof FetchitError ? err.retryable : false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
