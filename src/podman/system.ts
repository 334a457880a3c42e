/**
 * System-level calls for fetchit's scheduled tasks: `system/prune` (FetchIt's
 * prune) and `images/load` (the image loader). Prune reports are normalised across
 * Podman 4 (errors marshalled as `{}`) and Podman 5 (errors as strings).
 */
import { PodmanApiError } from "../errors.ts";
import { parseJson, type Transport } from "./transport.ts";
import type { PruneItem, SystemPruneReport } from "./types.ts";

/** Options of a system prune (`POST /libpod/system/prune`). */
export interface SystemPruneOptions {
  /** Also remove every unused image, not only dangling ones. Default false. */
  all?: boolean;
  /** Also remove unused volumes. Default false. */
  volumes?: boolean;
  /** Podman filters, e.g. `{ label: ["owned-by=fetchit"] }` (applies to containers and images, not pods). */
  filters?: Record<string, string[]>;
}

/** Options of an image load. */
export interface LoadImageOptions {
  /** Default 10 minutes: archives can be large. */
  timeoutMs?: number;
}

/** Default timeout of a system prune or image load. */
export const SYSTEM_TIMEOUT_MS = 10 * 60_000;

interface RawPruneItem {
  Id?: string;
  Name?: string;
  Size?: number;
  Err?: unknown;
  Error?: unknown;
}

interface RawSystemPrune {
  PodPruneReport?: RawPruneItem[] | null;
  ContainerPruneReports?: RawPruneItem[] | null;
  ImagePruneReports?: RawPruneItem[] | null;
  NetworkPruneReports?: RawPruneItem[] | null;
  VolumePruneReports?: RawPruneItem[] | null;
  ReclaimedSpace?: number;
}

const filtersParam = (f?: Record<string, string[]>) => (f && Object.keys(f).length ? JSON.stringify(f) : undefined);

/** Podman 5 sends the error text; Podman 4 marshals a Go error as `{}` (no text). */
function itemError(v: unknown): string | undefined {
  if (typeof v === "string") return v || undefined;
  if (v && typeof v === "object") {
    const m = (v as { message?: unknown }).message;
    return typeof m === "string" && m ? m : "failed (Podman gave no reason)";
  }
  return undefined;
}

/** One report list, normalised (null → []). */
export function pruneItems(list: RawPruneItem[] | null | undefined): PruneItem[] {
  return (list ?? []).map((r) => {
    const error = itemError(r.Err ?? r.Error);
    return { id: r.Id ?? r.Name ?? "", size: r.Size ?? 0, ...(error ? { error } : {}) };
  });
}

/** Removes unused pods, containers, networks and images (and volumes); the report of what went. */
export async function systemPrune(t: Transport, opts: SystemPruneOptions = {}): Promise<SystemPruneReport> {
  const endpoint = "POST /libpod/system/prune";
  const res = await t.send("POST", "/system/prune", {
    query: { all: opts.all ?? false, volumes: opts.volumes ?? false, filters: filtersParam(opts.filters) },
    timeoutMs: SYSTEM_TIMEOUT_MS,
  });
  const raw = parseJson<RawSystemPrune | null>(endpoint, res) ?? {};
  const report = {
    pods: pruneItems(raw.PodPruneReport),
    containers: pruneItems(raw.ContainerPruneReports),
    images: pruneItems(raw.ImagePruneReports),
    networks: pruneItems(raw.NetworkPruneReports),
    volumes: pruneItems(raw.VolumePruneReports),
  };
  const sum = Object.values(report).reduce((n, items) => n + items.reduce((m, i) => m + i.size, 0), 0);
  return { ...report, reclaimedBytes: raw.ReclaimedSpace ?? sum };
}

/** Podman's load errors that may pass by themselves; anything else means the archive is bad. */
const LOAD_TRANSIENT = /no space left|database is locked|resource temporarily unavailable|too many open files/i;

/**
 * Loads a docker-archive or oci-archive tar (`body` is streamed, never
 * buffered here) and returns the loaded names (`repo:tag`, or `sha256:<id>`
 * for an untagged image). A 500 is the archive's fault, so it is permanent
 * unless Podman's message says otherwise.
 */
export async function loadImage(t: Transport, body: Blob | ReadableStream<Uint8Array>, opts: LoadImageOptions = {}): Promise<string[]> {
  const endpoint = "POST /libpod/images/load";
  try {
    const res = await t.send("POST", "/images/load", {
      body,
      headers: { "content-type": "application/x-tar" },
      timeoutMs: opts.timeoutMs ?? SYSTEM_TIMEOUT_MS,
    });
    return parseJson<{ Names?: string[] | null } | null>(endpoint, res)?.Names ?? [];
  } catch (err) {
    if (!(err instanceof PodmanApiError) || err.status !== 500) throw err;
    throw new PodmanApiError(err.message, err.status, endpoint, { cause: err, retryable: LOAD_TRANSIENT.test(err.message) });
  }
}
