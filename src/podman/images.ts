/**
 * Image calls: exists, inspect, and pull (a JSON-lines stream whose
 * failures arrive as an `error` line after a 200 status).
 */
import { PodmanApiError } from "../errors.ts";
import { isRetryableFailure, parseJson, type Transport } from "./transport.ts";
import type { ImageInspect, RawResponse } from "./types.ts";

/** Default timeout of an image pull: registries can be slow and images large. */
export const PULL_TIMEOUT_MS = 10 * 60_000;

/** Options of an image pull. */
export interface PullOptions {
  /** false allows plain HTTP / self-signed registries. Default: registries.conf decides. */
  tlsVerify?: boolean;
  /** Default 10 minutes. */
  timeoutMs?: number;
}

const seg = encodeURIComponent;

/** true when `ref` is in local storage. */
export async function imageExists(t: Transport, ref: string): Promise<boolean> {
  const res = await t.send("GET", `/images/${seg(ref)}/exists`, { allowStatus: [404] });
  return res.status !== 404;
}

/** The image's inspect data, or null when it is not in local storage. */
export async function inspectImage(t: Transport, ref: string): Promise<ImageInspect | null> {
  const res = await t.send("GET", `/images/${seg(ref)}/json`, { allowStatus: [404] });
  if (res.status === 404) return null;
  const img = parseJson<ImageInspect>(`GET /libpod/images/${ref}/json`, res);
  return { ...img, RepoTags: img.RepoTags ?? [] };
}

/** Pulls `ref` (libpod's default policy "always") and returns the image id. Errors name the image. */
export async function pullImage(t: Transport, ref: string, opts: PullOptions = {}): Promise<string> {
  const endpoint = "POST /libpod/images/pull";
  let res: RawResponse;
  try {
    res = await t.send("POST", "/images/pull", {
      query: { reference: ref, tlsVerify: opts.tlsVerify },
      timeoutMs: opts.timeoutMs ?? PULL_TIMEOUT_MS,
    });
  } catch (err) {
    if (!(err instanceof PodmanApiError)) throw err;
    throw new PodmanApiError(`${err.message} (pulling image ${ref})`, err.status, endpoint, {
      cause: err,
      retryable: err.retryable,
    });
  }
  const { id, errors } = readPullStream(res.text);
  if (errors.length > 0 || !id) {
    const msg = errors.length > 0 ? errors.join("; ") : "the service reported no image id";
    throw new PodmanApiError(`${endpoint}: pulling image ${ref} failed: ${msg}`, res.status, endpoint, {
      retryable: isRetryableFailure(500, msg),
    });
  }
  return id;
}

/** Lines are `{"stream": …}` progress, `{"error": …}`, and finally `{"id": …, "images": […]}`. */
function readPullStream(text: string): { id: string | undefined; errors: string[] } {
  let id: string | undefined;
  const errors: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let rec: { error?: unknown; id?: unknown; images?: unknown };
    try {
      rec = JSON.parse(line);
    } catch {
      continue; // progress noise that is not JSON
    }
    if (typeof rec.error === "string" && rec.error) errors.push(rec.error.trim());
    if (typeof rec.id === "string" && rec.id) id = rec.id;
    else if (Array.isArray(rec.images) && typeof rec.images[0] === "string") id = rec.images[0];
  }
  return { id, errors };
}
