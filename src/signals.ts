/**
 * Stop and reload requests from the first instant: src/main.ts installs the
 * SIGTERM, SIGINT and SIGHUP handlers before any module with work in it is
 * loaded, so a stop during start-up (config download, lock, removed-method
 * check, the first runs) is never the default action (exit 143) but a clean
 * stop: what is in flight finishes and saves its state, then exit 0.
 * Commands read the requests here; only main.ts exits the process.
 */

const stopping = new AbortController();
let hangups = 0;
const hangupListeners = new Set<() => void>();
let installed = false;

/** Aborted at the first SIGTERM or SIGINT (its reason is the signal's name). */
export const stopRequested: AbortSignal = stopping.signal;

/** SIGHUPs received so far (a command compares counts to see one that came before it listened). */
export const hangupCount = (): number => hangups;

/** Calls `fn` on each SIGHUP from now on; returns the function that stops it. */
export function onHangup(fn: () => void): () => void {
  hangupListeners.add(fn);
  return () => hangupListeners.delete(fn);
}

/** For tests and callers without the process handlers: a stop asked for in-process. */
export function requestStop(reason = "stop requested"): void {
  if (!stopping.signal.aborted) stopping.abort(reason);
}

/**
 * Installs the handlers (once). With `graceful` (the commands that apply:
 * run, sync), the first SIGTERM/SIGINT asks for a clean stop and a second one
 * calls `exitNow` with 128 + the signal number (the operator insists: state
 * already written stays, writes are atomic), and SIGHUP goes to the
 * `onHangup` listeners. Other commands exit at the first of the three.
 */
export function installSignalHandlers(graceful: boolean, exitNow: (code: number, signal: NodeJS.Signals) => void): void {
  if (installed) return;
  installed = true;
  for (const [sig, num] of [["SIGTERM", 15], ["SIGINT", 2]] as const) {
    process.on(sig, () => {
      if (!graceful || stopping.signal.aborted) return exitNow(128 + num, sig);
      stopping.abort(sig);
    });
  }
  process.on("SIGHUP", () => {
    if (!graceful) return exitNow(129, "SIGHUP");
    hangups++;
    for (const fn of hangupListeners) fn();
  });
}
