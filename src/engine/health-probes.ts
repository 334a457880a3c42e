/**
 * The two gates of a health block that do not depend on the method: an HTTP
 * URL that must answer 2xx by the end of the window, and a host command run
 * after it (exit 0 = healthy), killed with its process group at its timeout.
 */
import { errorMessage, MethodError } from "../errors.ts";
import type { Exec } from "../host/exec.ts";
import { maskUrl } from "../log.ts";
import { sleep } from "../methods/health-window.ts";

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/**
 * Asks `url` once a second until it answers 2xx (undefined) or `end` has
 * passed (the failure). Each request may take up to 5 s (less near the end).
 * An abort ends it without a verdict (undefined).
 */
export async function probeHttp(url: string, end: number, windowMs: number, signal: AbortSignal): Promise<MethodError | undefined> {
  let last = "no answer";
  for (;;) {
    if (signal.aborted) return undefined;
    const started = Date.now();
    try {
      const timeout = AbortSignal.timeout(Math.min(5000, Math.max(1000, end - started)));
      const res = await fetch(url, { signal: AbortSignal.any([signal, timeout]), redirect: "follow" });
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return undefined;
      last = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
    } catch (err) {
      if (signal.aborted) return undefined;
      last = (err as Error).name === "TimeoutError" ? "no answer within 5s" : errorMessage(err);
    }
    if (Date.now() >= end) {
      return new MethodError(
        `health gate: ${maskUrl(url)} did not answer with a 2xx status within the ${seconds(windowMs)} window (last: ${maskUrl(last)}); check the service, or health.http`,
        undefined,
      );
    }
    await sleep(Math.min(1000 - (Date.now() - started), end - Date.now()), signal);
  }
}

/** coreutils `timeout`'s exit codes when it had to stop the command: 124 after TERM, 137 after KILL. */
const TIMED_OUT = new Set([124, 137]);
const KILL_AFTER_S = 5;

/** Human-readable command for messages. */
export const describeCommand = (command: string | string[]) => maskUrl(Array.isArray(command) ? command.join(" ") : command);

/**
 * Runs the gate command under coreutils `timeout` (own process group, TERM
 * then KILL 5 s later, so nothing it started outlives it). Undefined when it
 * exited 0; else the failure with its exit code and last output lines.
 */
export async function runGateCommand(
  exec: Exec,
  command: string | string[],
  timeoutMs: number,
  env: Record<string, string>,
): Promise<MethodError | undefined> {
  const argv = Array.isArray(command) ? command : ["/bin/sh", "-c", command];
  const started = Date.now();
  let r;
  try {
    r = await exec("timeout", [`--kill-after=${KILL_AFTER_S}s`, `${timeoutMs / 1000}s`, ...argv], {
      env,
      timeoutMs: timeoutMs + (KILL_AFTER_S + 30) * 1000, // backstop should `timeout` itself hang
    });
  } catch (err) {
    return new MethodError(`health gate: could not run command \`${describeCommand(command)}\`: ${errorMessage(err)} (is coreutils' timeout installed?)`, undefined, { cause: err });
  }
  if (r.code === 0) return undefined;
  const tail = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.trim()).slice(-10).join("\n    ").slice(-2000);
  const output = tail ? `; last output lines:\n    ${maskUrl(tail)}` : "; it printed nothing";
  const what =
    TIMED_OUT.has(r.code) && Date.now() - started >= timeoutMs
      ? `did not finish within its ${seconds(timeoutMs)} timeout and was killed`
      : r.code === 127 || r.code === 126
        ? `could not be started (exit code ${r.code}: command not found or not executable)`
        : `exited with code ${r.code}`;
  return new MethodError(`health gate: command \`${describeCommand(command)}\` ${what}${output}`, undefined);
}
