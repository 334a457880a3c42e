/**
 * Small helpers the methods' health hooks share: an abortable sleep and the
 * once-a-second sampling loop over a health window (types.ts HealthWindow).
 */
import type { FileFailure, HealthWindow } from "./types.ts";

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** How often a health hook samples what it watches. */
export const SAMPLE_MS = 1000;

/**
 * Calls `sample(final)` once a second until the window ends (`final` is true
 * for the last call, at or after the end) and returns the first non-empty
 * result, or [] when the window passed clean or was aborted.
 */
export async function sampleWindow(window: HealthWindow, sample: (final: boolean) => Promise<FileFailure[]>): Promise<FileFailure[]> {
  const end = window.since + window.windowMs;
  for (;;) {
    const started = Date.now();
    const final = started >= end;
    const failures = await sample(final);
    if (failures.length || final || window.signal?.aborted) return failures;
    await sleep(Math.min(SAMPLE_MS - (Date.now() - started), end - Date.now()), window.signal);
    if (window.signal?.aborted) return [];
  }
}
