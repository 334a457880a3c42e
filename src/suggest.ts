/**
 * "Did you mean" for unknown keys: the closest allowed key by edit distance
 * (case-insensitive, at most 2 edits) or a prefix near-miss such as
 * `dest` → `destinationDirectory`.
 */

/** Edit distance (insert, delete, substitute) between two strings. */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The allowed key `key` was most likely meant to be, if any is close enough. */
export function didYouMean(key: string, allowed: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  let best: { key: string; score: number } | undefined;
  for (const candidate of allowed) {
    const c = candidate.toLowerCase();
    let score = levenshtein(k, c);
    if (score > 2) {
      const prefix = k.length >= 3 && (c.startsWith(k) || k.startsWith(c));
      if (!prefix) continue;
      score = 3;
    }
    if (!best || score < best.score) best = { key: candidate, score };
  }
  return best?.key;
}
