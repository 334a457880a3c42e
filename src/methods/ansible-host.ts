/**
 * Running one playbook with the host's ansible-playbook: inventory `localhost,`,
 * connection local (no ssh), no terminal and no stdin (nothing can prompt),
 * under coreutils `timeout`, which runs ansible-playbook in its own process
 * group and signals the whole group (forked workers and module processes
 * included) when the time is up: TERM, then KILL 10 s later.
 */
import type { Exec } from "../host/exec.ts";

/** What one ansible-playbook run produced, wherever it ran. */
export interface PlaybookRun {
  /** Exit code of ansible-playbook (meaningless when timedOut). */
  code: number;
  /** Standard output then standard error (merged by the terminal in container mode). */
  output: string;
  timedOut: boolean;
  /** Wall time in ms. */
  ms: number;
}

/**
 * Environment for every run, host or container: plain text in the default
 * callback's format (what ansible-output.ts reads, even if an ansible.cfg picks
 * another callback), JSON results on one line, no cows, no retry files, no
 * interpreter-discovery warning, and never a password prompt.
 */
export const ANSIBLE_ENV: Record<string, string> = {
  ANSIBLE_STDOUT_CALLBACK: "default",
  ANSIBLE_CALLBACK_RESULT_FORMAT: "json",
  ANSIBLE_NOCOLOR: "1",
  ANSIBLE_FORCE_COLOR: "0",
  ANSIBLE_NOCOWS: "1",
  ANSIBLE_RETRY_FILES_ENABLED: "False",
  ANSIBLE_PYTHON_INTERPRETER: "auto_silent",
  ANSIBLE_ASK_PASS: "False",
  ANSIBLE_BECOME_ASK_PASS: "False",
  ANSIBLE_ASK_VAULT_PASS: "False",
  PYTHONUNBUFFERED: "1",
};

/** Seconds between TERM and KILL when a playbook runs out of time. */
export const KILL_AFTER_SECONDS = 10;
/** `timeout`'s exit codes: 124 after TERM, 128+9 when KILL was needed. */
const TIMEOUT_CODES = new Set([124, 137]);

export type Detection = { found: true; version: string } | { found: false; reason: string };

/**
 * Whether ansible-playbook can run on this host (looked up in PATH, or in
 * `env.PATH` when given). Never throws.
 */
export async function detectAnsible(exec: Exec, env?: Record<string, string | undefined>): Promise<Detection> {
  try {
    const r = await exec("ansible-playbook", ["--version"], { env: { ...env, ...ANSIBLE_ENV }, timeoutMs: 60_000 });
    if (r.code !== 0) {
      const why = (r.stderr || r.stdout).trim().split("\n").slice(-1)[0] ?? "";
      return { found: false, reason: `\`ansible-playbook --version\` exited with code ${r.code}${why ? `: ${why}` : ""}` };
    }
    const version = /ansible-playbook \[?(?:core )?([\w.+-]+)/.exec(r.stdout)?.[1] ?? "unknown";
    return { found: true, version };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { found: false, reason: code === "ENOENT" ? "ansible-playbook is not in PATH" : String(err) };
  }
}

export interface HostRunOptions {
  /** Directory holding the playbook (the working directory of the run). */
  dir: string;
  /** Playbook path relative to `dir`. */
  playbook: string;
  timeoutSeconds: number;
  /** Extra environment (tests narrow PATH). */
  env?: Record<string, string | undefined>;
}

/** Runs the playbook against this host and waits for it (or for the timeout). */
export async function runOnHost(exec: Exec, opts: HostRunOptions): Promise<PlaybookRun> {
  const args = [
    `--kill-after=${KILL_AFTER_SECONDS}s`, `${opts.timeoutSeconds}s`,
    "ansible-playbook", "-i", "localhost,", "-c", "local", "--", opts.playbook,
  ];
  const start = Date.now();
  // The exec timeout is only a backstop should `timeout` itself hang.
  const backstopMs = (opts.timeoutSeconds + KILL_AFTER_SECONDS + 30) * 1000;
  const r = await exec("timeout", args, { cwd: opts.dir, env: { ...opts.env, ...ANSIBLE_ENV }, timeoutMs: backstopMs });
  const ms = Date.now() - start;
  const timedOut = TIMEOUT_CODES.has(r.code) && ms >= opts.timeoutSeconds * 1000;
  const output = [r.stdout, r.stderr].filter((s) => s.trim()).join("\n");
  return { code: r.code, output, timedOut, ms };
}
