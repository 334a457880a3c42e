/**
 * Shared setup for the git tests: a GitSource on a fresh cache directory whose
 * git invocations are recorded, so tests can count fetches and ls-remotes.
 */
import { createGitSource, type GitSource, type GitSourceOptions } from "../../src/git/index.ts";
import { silentLogger } from "../../src/log.ts";
import { tempDir } from "../support/git.ts";

export interface TracedSource {
  source: GitSource;
  /** Arguments of every git command the source ran, in order. */
  calls: string[][];
  /** How many commands started with `sub` (e.g. "fetch", "ls-remote"). */
  count(sub: string): number;
  cacheDir: string;
}

/** A source for `url` (branch main unless given) with tracing; reuse window 0 unless given. */
export function tracedSource(url: string, opts: Partial<GitSourceOptions> = {}): TracedSource {
  const calls: string[][] = [];
  const cacheDir = opts.cacheDir ?? tempDir("fetchit-cache-");
  const source = createGitSource({
    url,
    branch: "main",
    cacheDir,
    log: silentLogger,
    reuseMs: 0,
    timeoutMs: 30_000,
    ...opts,
    trace: (args) => calls.push(args),
  });
  return { source, calls, cacheDir, count: (sub) => calls.filter((c) => c[0] === sub).length };
}
