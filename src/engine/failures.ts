/**
 * Recording a failed run in its state record, shared by git methods and
 * scheduled tasks: transient errors back off (10 s doubling to 10 min),
 * permanent ones are kept until something changes, and an error identical to
 * the one already recorded is logged at debug only, so it is reported once
 * rather than every tick.
 */
import { errorMessage, isRetryable } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { MethodState, StateStore } from "../state/store.ts";
import type { Failure } from "./apply-plan.ts";
import { backoffMs } from "./backoff.ts";

/** How the final error line reads; the defaults are the git methods' wording. */
export interface FailureAdvice {
  /** Line for a transient failure; gets the retry time. */
  retryable?: (retryAt: string | undefined) => string;
  /** Line for a permanent failure. */
  permanent?: string;
}

const short = (sha?: string) => sha?.slice(0, 9);

/**
 * Records `failures` in `st` (consecutive count, last error, next retry for
 * transient errors), saves it, and logs each failure unless the same error
 * was already recorded for the same `commit`.
 */
export async function recordFailure(
  store: StateStore,
  st: MethodState,
  failures: Failure[],
  commit: string | undefined,
  at: number,
  log: Logger,
  advice: FailureAdvice = {},
): Promise<void> {
  const retryable = failures.some((f) => isRetryable(f.error));
  const message = failures.map((f) => errorMessage(f.error)).join("; ");
  const repeated = st.lastError?.message === message && st.lastError.commit === commit;
  st.failures += 1;
  st.lastError = {
    message,
    at: new Date(at).toISOString(),
    ...(commit ? { commit } : {}),
    retryable,
    files: failures.flatMap((f) => (f.file ? [f.file] : [])),
  };
  if (retryable) st.nextRetryAt = new Date(at + backoffMs(st.failures)).toISOString();
  else delete st.nextRetryAt;
  await store.save(st);
  if (repeated) {
    log.debug("still failing with the same error", { commit: short(commit), consecutiveFailures: st.failures });
    return;
  }
  for (const f of failures) log.error("failed", { file: f.file, err: f.error });
  log.error(
    retryable
      ? (advice.retryable?.(st.nextRetryAt) ?? `not fully applied; will retry after ${st.nextRetryAt}`)
      : (advice.permanent ?? "not applied; fix the files above and push a new commit (this commit will not be retried)"),
    { commit: short(commit), failed: failures.length, consecutiveFailures: st.failures },
  );
}

/** True (and logged at debug) while a transient failure's back-off lasts; `force` (fetchit sync) ignores it. */
export function backingOff(st: MethodState, now: number, force: boolean | undefined, log: Logger): boolean {
  if (force || !st.nextRetryAt || now >= Date.parse(st.nextRetryAt)) return false;
  log.debug("backing off after a transient failure", { until: st.nextRetryAt });
  return true;
}
