/**
 * Limits against archive bombs, checked before any byte is written and again
 * while writing (declared sizes are never trusted): the total extracted size
 * (`maxExtractedSize`, default the free space where extraction happens minus
 * a margin), the compression ratio of each entry (`maxCompressionRatio`,
 * default 200:1, for entries that expand past 1 MiB) and zip entries whose
 * data overlap (the trick of non-recursive zip bombs).
 */
import { GitError } from "../errors.ts";
import { formatBytes, freeSpace, spaceMargin, STATE_DIR_FULL_ADVICE } from "../host/fs-stream.ts";
import type { ArchiveEntry } from "./archive-entries.ts";

export interface ArchiveLimits {
  /** Most bytes all entries may expand to; undefined = free space of the extraction file system minus a margin. */
  maxBytes?: number;
  /** Most an entry may expand over its stored size (200 = 200:1). */
  maxRatio: number;
}

export const DEFAULT_MAX_RATIO = 200;

/** Entries that expand to less than this are never refused for their ratio (small files of zeros compress well). */
export const RATIO_FLOOR = 1024 * 1024;

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `"8G"`, `"500M"`, `"512MiB"`, `"1.5G"`, `"1073741824"` → bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m?.[1]) return undefined;
  const n = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? "").toUpperCase()] ?? 1));
  return n > 0 ? n : undefined;
}

/** A target's configured limits (`maxExtractedSize`, `maxCompressionRatio`). */
export function archiveLimits(t: { maxExtractedSize?: string; maxCompressionRatio?: number }): ArchiveLimits {
  return { maxBytes: t.maxExtractedSize === undefined ? undefined : parseSize(t.maxExtractedSize), maxRatio: t.maxCompressionRatio ?? DEFAULT_MAX_RATIO };
}

const refuse = (archive: string, why: string, what: string) =>
  new GitError(`${archive}: refusing the archive: ${why}; nothing was imported. ${what}`, { retryable: false });

const RAISE_SIZE = "If the archive is genuine, raise maxExtractedSize on the target";
const RAISE_RATIO = "If the archive is genuine, raise maxCompressionRatio on the target";
const FREE_UP = `${STATE_DIR_FULL_ADVICE}; the archive is tried again with back-off`;

/** What limits an extraction: the bytes allowed, why (for messages), and whether that is the free space (then the host is short, not the archive at fault). */
export interface SizeLimit {
  max: number;
  why: string;
  full: boolean;
}

/**
 * A refusal for the size limit: the archive's fault (over maxExtractedSize,
 * never retried for the same archive) or the host's (over the free space:
 * local, retried with back-off once space is freed).
 */
export function refuseSize(archive: string, why: string, size: SizeLimit): GitError {
  if (!size.full) return refuse(archive, why, RAISE_SIZE);
  return new GitError(`${archive}: not enough free space to unpack the archive: ${why}; nothing was imported. ${FREE_UP}`, { local: true });
}

/** A refusal for the ratio limit, with what to do. */
export const refuseRatio = (archive: string, why: string) => refuse(archive, why, RAISE_RATIO);

/** The effective size limit at `dir` (where extraction writes): the configured one, capped by its free space minus a margin. */
export async function sizeLimit(dir: string, limits: ArchiveLimits): Promise<SizeLimit> {
  const free = await freeSpace(dir);
  const room = Math.max(0, free - spaceMargin(free));
  if (limits.maxBytes !== undefined && limits.maxBytes <= room) return { max: limits.maxBytes, why: `maxExtractedSize ${formatBytes(limits.maxBytes)}`, full: false };
  return { max: room, why: `the ${formatBytes(free)} free in ${dir} (less fetchit's margin of ${formatBytes(free - room)})`, full: true };
}

/** The checks that need no extraction: declared ratios, declared total, overlapping zip data. */
export function precheck(archive: string, entries: ArchiveEntry[], limits: ArchiveLimits, size: SizeLimit): void {
  let total = 0;
  for (const e of entries) {
    if (e.type !== "file") continue;
    checkRatio(archive, e, e.size, limits.maxRatio);
    total += e.size;
  }
  if (total > size.max) throw refuseSize(archive, `its files would expand to ${formatBytes(total)}, over ${size.why}`, size);
  const spans = entries.filter((e) => e.type === "file" && e.stored > 0).map((e) => ({ e, span: e.span })).sort((a, b) => a.span[0] - b.span[0]);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!;
    const cur = spans[i]!;
    if (cur.span[0] < prev.span[1]) {
      throw refuse(archive, `the data of entries ${JSON.stringify(prev.e.path)} and ${JSON.stringify(cur.e.path)} overlap (a zip bomb trick)`, "Rebuild it with an ordinary zip tool");
    }
  }
}

/** Refuses an entry that expanded (or declares it will expand) more than `maxRatio` times its stored size. */
export function checkRatio(archive: string, e: ArchiveEntry, expanded: number, maxRatio: number): void {
  if (expanded <= RATIO_FLOOR) return;
  const ratio = expanded / Math.max(e.stored, 1);
  if (ratio > maxRatio) {
    throw refuseRatio(archive, `entry ${JSON.stringify(e.path)} expands ${Math.round(ratio)}:1 (${formatBytes(e.stored)} to ${formatBytes(expanded)}), over maxCompressionRatio ${maxRatio}:1`);
  }
}

/** Counts the bytes actually written, across entries; refuses past the limit, naming the entry. */
export function byteCounter(archive: string, size: SizeLimit) {
  let total = 0;
  return (entry: string, n: number) => {
    total += n;
    if (total > size.max) throw refuseSize(archive, `extracting ${JSON.stringify(entry)} took it past ${size.why} (${formatBytes(total)} written)`, size);
  };
}
