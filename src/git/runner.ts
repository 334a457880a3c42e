/**
 * Runs git commands in one repository with Bun.spawn, with an environment
 * that can never block on a prompt, a stall timeout, an optional trace hook
 * (tests count invocations with it) and failures turned into GitError.
 *
 * Not simple-git: each of its instances and calls runs a task queue, plugins
 * and output parsers in JS, and a compiled fetchit kept that work in its
 * heap and allocator after the first applies: ~8 MB more anonymous memory
 * with 20 targets, ~4 MB with one, and a start-up peak ~25 MB higher
 * (bench/RESULTS.md, scenario 4).
 */
import { GitError } from "../errors.ts";
import { maskUrl } from "../log.ts";
import { hostProblemAdvice, isDamagedMessage } from "./local-failure.ts";

/** Default `GIT_SSH_COMMAND`: never ask for a password or host-key confirmation. */
export const DEFAULT_SSH_COMMAND = "ssh -o BatchMode=yes -o ConnectTimeout=30";

export interface GitRunnerOptions {
  /** Repository directory; must exist. */
  dir: string;
  /** Sets GIT_DIR, so git never searches parent directories for a repository. */
  gitDir?: string;
  /** Kill git when it writes nothing (stdout or stderr) for this long. Default 300 000 ms. */
  timeoutMs?: number;
  /** Value for GIT_SSH_COMMAND; the auth layer sets `-i <key>` etc. here. Default {@link DEFAULT_SSH_COMMAND}. */
  sshCommand?: string;
  /** Extra environment from the auth layer (GIT_CONFIG_*, SSH_ASKPASS…); may hold secrets, never logged. */
  extraEnv?: Record<string, string>;
  /** Called with the (URL-masked) arguments of every git command before it runs. */
  trace?: (args: string[]) => void;
}

/**
 * Runs git in one directory. Every method throws GitError: `local` (and so
 * retryable) when git reports a damaged clone or a host problem, otherwise
 * not retryable (callers re-classify remote failures).
 */
export interface GitRunner {
  /** Runs git and resolves with its stdout; rejects when git exits non-zero. */
  run(args: string[]): Promise<string>;
  /** Like run, but also succeeds with null when git exits non-zero (for probes such as `cat-file -e`). */
  tryRun(args: string[]): Promise<string | null>;
  /**
   * Runs git through Bun.spawn with its stdout as a stream, for output of any
   * size (a blob): read it in chunks, then await `done` (rejects with git's
   * stderr on a non-zero exit). `kill` ends git when the reader stops early.
   */
  stream(args: string[]): GitStream;
  /** Runs git with its stdout written straight into the open file `fd` (no byte passes through fetchit). */
  toFile(args: string[], fd: number): Promise<void>;
}

/** A git command whose stdout is read as it comes. */
export interface GitStream {
  stdout: ReadableStream<Uint8Array>;
  done: Promise<void>;
  kill(): void;
}

/** Ambient GIT_* variables worth keeping (TLS trust set up by the operator); all others are dropped. */
const PASS_THROUGH = new Set(["GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_SSL_NO_VERIFY"]);
/** Non-GIT_ variables never forwarded to git (they can run programs). */
const GUARDED = new Set(["editor", "pager", "prefix", "ssh_askpass", "visual"]);

/** The environment every git command gets: no prompts, English messages, stalled HTTP aborted. */
export function gitEnv(sshCommand: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (value === undefined || GUARDED.has(lower)) continue;
    if (lower.startsWith("git_") && !PASS_THROUGH.has(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: sshCommand,
    GIT_HTTP_LOW_SPEED_LIMIT: "1000",
    GIT_HTTP_LOW_SPEED_TIME: "60",
  };
}

/** Creates a runner for `opts.dir`. */
export function createGitRunner(opts: GitRunnerOptions): GitRunner {
  const env = { ...gitEnv(opts.sshCommand ?? DEFAULT_SSH_COMMAND), ...opts.extraEnv };
  if (opts.gitDir !== undefined) env.GIT_DIR = opts.gitDir;
  const exec = async <T>(args: string[], fn: () => Promise<T>): Promise<T> => {
    const masked = args.map(maskUrl);
    opts.trace?.(masked);
    try {
      return await fn();
    } catch (err) {
      // The cause keeps git's message only, masked.
      const cause = new Error(maskUrl(err instanceof Error ? err.message : String(err)));
      const detail = describeFailure(err);
      // A damaged clone or a host problem (full disk, permissions) is local: never the commit's fault.
      const advice = hostProblemAdvice(detail);
      const local = advice !== undefined || isDamagedMessage(detail);
      throw new GitError(`git ${masked[0] ?? ""}: ${detail}${advice ? ` (${advice})` : ""}`, { cause, local });
    }
  };
  const timeout = opts.timeoutMs ?? 300_000;
  return {
    run: (args) => exec(args, () => spawnGit(args, opts.dir, env, timeout)),
    tryRun: (args) => exec(args, () => spawnGit(args, opts.dir, env, timeout)).catch(() => null),
    stream: (args) => {
      opts.trace?.(args.map(maskUrl));
      return streamGit(args, opts.dir, env);
    },
    toFile: (args, fd) => {
      opts.trace?.(args.map(maskUrl));
      return streamGit(args, opts.dir, env, fd).done;
    },
  };
}

/**
 * {@link GitRunner.stream}: stderr is kept (last 4 KiB) for the error. No
 * time limit: these commands read the local object store (nothing can stall
 * on a network), and a 2 GiB blob onto a slow SD card may take minutes.
 */
function streamGit(args: string[], cwd: string, env: Record<string, string>, fd?: number): GitStream {
  const proc = Bun.spawn(["git", ...args], { cwd, env, stdin: "ignore", stdout: fd ?? "pipe", stderr: "pipe" });
  const done = Promise.all([new Response(proc.stderr).text(), proc.exited]).then(([err, code]) => {
    if (code !== 0) throw new GitError(`git ${args[0] ?? ""}: ${maskUrl(err.trim().slice(-4096)) || `exited with ${code}`}`);
  });
  done.catch(() => {}); // observed by the caller; never an unhandled rejection when it stopped reading early
  return { stdout: proc.stdout as ReadableStream<Uint8Array>, done, kill: () => proc.kill() };
}

/**
 * Runs git with Bun.spawn; rejects with git's stderr on a non-zero exit, and
 * kills git (SIGKILL) when it writes nothing for `stallMs`.
 */
async function spawnGit(args: string[], cwd: string, env: Record<string, string>, stallMs: number): Promise<string> {
  const proc = Bun.spawn(["git", ...args], { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let stalled = false;
  const timer = setTimeout(() => {
    stalled = true;
    proc.kill("SIGKILL");
  }, stallMs);
  try {
    const [out, err, code] = await Promise.all([readAll(proc.stdout, timer), readAll(proc.stderr, timer), proc.exited]);
    if (stalled) throw new Error(`git wrote nothing for ${Math.round(stallMs / 1000)} s and was stopped`);
    // Not the remote's answer: a fetch killed half-way must not fall back to another kind of fetch (fetch.ts).
    if (proc.signalCode) throw new Error(`git was killed by ${proc.signalCode}`);
    if (code !== 0) throw new Error(err.trim() || `git exited with ${code}`);
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** The whole of `stream` as text; each chunk restarts the stall `timer`. */
async function readAll(stream: ReadableStream<Uint8Array>, timer: Timer): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) {
    timer.refresh();
    chunks.push(chunk);
  }
  return chunks.length === 1 ? Buffer.from(chunks[0]!).toString("utf8") : Buffer.concat(chunks).toString("utf8");
}

/** Lines git adds to every remote failure; they say nothing about the cause. */
const BOILERPLATE = /^(please make sure you have the correct access rights|and the repository exists\.?$)/i;

/** The useful part of a git failure: git's stderr on one line, URL-masked. */
export function describeFailure(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !BOILERPLATE.test(l));
  return maskUrl(lines.join("; ") || "failed without a message");
}
