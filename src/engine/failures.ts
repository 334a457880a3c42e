/**
 * Recording a failed run in its state record, shared by git methods and
 * scheduled tasks: transient errors back off (10 s doubling to 10 min),
 * permanent ones are kept until something changes, and an error identical to
 * the one already recorded is logged at debug only, so it is reported once
 * rather than every tick. A local error (this host: a path, a permission, a
 * missing tool, a full disk) is never the commit's fault: it backs off like a
 * transient one and says to fix the host. When the record itself cannot be
 * saved (a full or read-only state dir), the record on disk stays as it was
 * and the back-off is kept in memory.
 */
import { errorMessage, FetchitError, isLocal, isRetryable, localAdvice } from "../errors.ts";
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
  /** Line for a failure caused by this host; gets the retry time. */
  local?: (retryAt: string | undefined) => string;
}

/** Back-off of records whose failure could not be saved, by record key; in memory only. */
const unsaved = new Map<string, { failures: number; until: number }>();
const recordKey = (st: { target: string; kind: string; method: string }) => `${st.target}\n${st.kind}\n${st.method}`;

/** The error's message, plus what to fix on the host when it is a bare system error (e.g. ENOSPC from a write). */
function describe(err: unknown): string {
  const msg = errorMessage(err);
  if (err instanceof FetchitError) return msg; // ours say what to do already
  const advice = localAdvice(err);
  return advice && !msg.includes(advice) ? `${msg}: ${advice}` : msg;
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
  const local = failures.some((f) => isLocal(f.error));
  const retryable = local || failures.some((f) => isRetryable(f.error));
  const message = failures.map((f) => describe(f.error)).join("; ");
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
  await saveOrRemember(store, st, at, log);
  if (repeated) {
    log.debug("still failing with the same error", { commit: short(commit), consecutiveFailures: st.failures });
    return;
  }
  for (const f of failures) log.error("failed", { file: f.file, err: describe(f.error) });
  const kind = local ? "local" : retryable ? "retryable" : "permanent";
  log.error(finalLine(kind, st.nextRetryAt, commit, advice), { commit: short(commit), failed: failures.length, consecutiveFailures: st.failures });
}

/** The closing line: whose fault it is and what happens next. Only a commit's own error is not retried. */
function finalLine(kind: "local" | "retryable" | "permanent", retryAt: string | undefined, commit: string | undefined, advice: FailureAdvice): string {
  if (kind === "local") return advice.local?.(retryAt) ?? `not applied: the cause is on this host, not in the commit; fix it there (see above); will retry after ${retryAt}`;
  if (kind === "retryable") return advice.retryable?.(retryAt) ?? `not fully applied; will retry after ${retryAt}`;
  if (advice.permanent) return advice.permanent;
  return commit ? "not applied; fix the files above and push a new commit (this commit will not be retried)" : "nothing fetched; fix the cause above (tried again on every run)";
}

/**
 * Saves the failure record; when that fails too (the state dir is full or
 * read-only), keeps the record on disk as it was, remembers the back-off in
 * memory and says so.
 */
async function saveOrRemember(store: StateStore, st: MethodState, at: number, log: Logger): Promise<void> {
  const key = recordKey(st);
  try {
    await store.save(st);
    unsaved.delete(key);
  } catch (err) {
    const failures = Math.max((unsaved.get(key)?.failures ?? 0) + 1, st.failures);
    const until = at + backoffMs(failures);
    unsaved.set(key, { failures, until });
    st.nextRetryAt = new Date(until).toISOString();
    log.error("cannot save the state record; the record on disk stays as it was", { err: describe(err), retryAt: st.nextRetryAt });
  }
}

/** True (and logged at debug) while a transient failure's back-off lasts; `force` (fetchit sync) ignores it. */
export function backingOff(st: MethodState, now: number, force: boolean | undefined, log: Logger): boolean {
  const until = Math.max(st.nextRetryAt ? Date.parse(st.nextRetryAt) : 0, unsaved.get(recordKey(st))?.until ?? 0);
  if (force || now >= until) return false;
  log.debug("backing off after a transient failure", { until: new Date(until).toISOString() });
  return true;
}
