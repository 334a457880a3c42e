/** Delay before retrying after `failures` consecutive transient failures: 10 s doubling, at most 10 min. */
export function backoffMs(failures: number, baseMs = 10_000, maxMs = 600_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}
