/**
 * Keeping the state dir bounded: each source remembers the digests it
 * imported (`fetchit-oci-imports.json` in its bare repository, with their
 * layer digests); beyond the most recent ones, a digest's tree ref is dropped
 * unless it is the head or pinned as applied (rollback needs it). Blobs that
 * no kept digest of any source names are removed from the shared store once
 * they are a few minutes old (never a download in flight).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gitAt } from "../git/disconnected-import.ts";
import { HEAD_REF } from "../git/index.ts";
import { commitOf, digestRef } from "./tree.ts";

export interface ImportRecord {
  digest: string;
  layers: string[];
}

const FILE = "fetchit-oci-imports.json";
/** Digests kept per source besides the head and the applied ones (a tag moved back finds its tree). */
export const KEEP_RECENT = 10;

function readRecords(repo: string): ImportRecord[] {
  try {
    const v = JSON.parse(readFileSync(join(repo, FILE), "utf8")) as unknown;
    return Array.isArray(v) ? (v as ImportRecord[]).filter((r) => typeof r?.digest === "string" && Array.isArray(r.layers)) : [];
  } catch {
    return [];
  }
}

async function writeRecords(repo: string, records: ImportRecord[]): Promise<void> {
  await writeFile(join(repo, `${FILE}.tmp`), JSON.stringify(records) + "\n");
  await rename(join(repo, `${FILE}.tmp`), join(repo, FILE));
}

/** Records an import, then drops the trees of old digests that are neither the head nor applied. */
export async function recordImport(repo: string, rec: ImportRecord, keep = KEEP_RECENT): Promise<void> {
  const records = [...readRecords(repo).filter((r) => r.digest !== rec.digest), rec];
  const protectedCommits = new Set(
    (await gitAt(repo, ["for-each-ref", "--format=%(objectname)", "refs/fetchit/applied/", HEAD_REF]).catch(() => "")).split("\n").filter(Boolean),
  );
  const kept: ImportRecord[] = [];
  for (const [i, r] of records.entries()) {
    const commit = await commitOf(repo, r.digest);
    if (!commit) continue;
    if (i >= records.length - keep || protectedCommits.has(commit)) kept.push(r);
    else await gitAt(repo, ["update-ref", "-d", digestRef(r.digest)]);
  }
  await writeRecords(repo, kept);
}

/** Removes blobs of `store` (…/blobs) that no kept digest under `reposDir` names and that are older than `minAgeMs`. */
export async function pruneBlobs(reposDir: string, blobDir: string, minAgeMs = 10 * 60_000, now = Date.now()): Promise<number> {
  if (!existsSync(reposDir) || !existsSync(blobDir)) return 0;
  const keep = new Set<string>();
  for (const name of readdirSync(reposDir)) {
    for (const r of readRecords(join(reposDir, name))) for (const l of r.layers) keep.add(l.slice(l.indexOf(":") + 1));
  }
  let removed = 0;
  for (const hex of readdirSync(blobDir)) {
    const path = join(blobDir, hex);
    if (keep.has(hex) || now - statSync(path).mtimeMs < minAgeMs) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}
