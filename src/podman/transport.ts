/**
 * HTTP over the Podman unix socket (Bun fetch with `unix`), with one place
 * that turns every failure into a PodmanApiError naming the endpoint, the
 * status and Podman's own message, and deciding whether a retry may help.
 */
import { existsSync } from "node:fs";
import { PodmanApiError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { socketHint } from "./socket.ts";
import type { RawResponse, RequestOptions } from "./types.ts";

/** API prefix; v4.0.0 routes are served by Podman 4 and 5 alike. */
export const API_PREFIX = "/v4.0.0/libpod";
/** Default request timeout. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Extra time for stops and removals: Podman's API service runs them in one
 * worker pool of 3 × CPU cores (`podman --max-workers`; 6 on a 2-core host),
 * so with many in flight (fetchit's 64, other clients') one can wait there
 * for several stop timeouts before its own begins.
 */
export const POOL_QUEUE_MS = 180_000;

/** Sends requests to one socket; `path` is relative to `/libpod`, e.g. `/containers/json`. */
export interface Transport {
  readonly socketPath: string;
  send(method: string, path: string, opts?: RequestOptions): Promise<RawResponse>;
}

/** Options of {@link createTransport}. */
export interface TransportOptions {
  /** Debug lines per request (method, path, status, ms). Default: none. */
  log?: Logger;
  /** Timeout for requests that set none. Default 30 s. */
  timeoutMs?: number;
}

/** Creates the transport for `socketPath`. Nothing is contacted until the first request. */
export function createTransport(socketPath: string, opts: TransportOptions = {}): Transport {
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    socketPath,
    async send(method, path, req = {}) {
      const endpoint = `${method} /libpod${displayPath(path)}`;
      const timeoutMs = req.timeoutMs ?? defaultTimeout;
      const url = `http://d${API_PREFIX}${path}${queryString(req.query)}`;
      const { body, headers } = encodeBody(req.body, req.headers);
      const started = performance.now();
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, { method, body, headers, unix: socketPath, signal: AbortSignal.timeout(timeoutMs) });
        text = await res.text();
      } catch (err) {
        throw connectionError(endpoint, socketPath, timeoutMs, err);
      }
      opts.log?.debug("podman api", { endpoint, status: res.status, ms: Math.round(performance.now() - started) });
      if (res.status >= 400 && !req.allowStatus?.includes(res.status)) {
        throw statusError(endpoint, res.status, res.statusText, text);
      }
      return { status: res.status, headers: res.headers, text };
    },
  };
}

/** The path with name segments decoded, for messages. */
function displayPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function queryString(query: RequestOptions["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

function encodeBody(
  body: unknown,
  extra: Record<string, string> | undefined,
): { body: RequestInit["body"]; headers: Record<string, string> } {
  const headers: Record<string, string> = { ...extra };
  if (body === undefined) return { body: undefined, headers };
  const raw =
    typeof body === "string" ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    body instanceof Blob ||
    body instanceof ReadableStream;
  if (raw) return { body: body as RequestInit["body"], headers };
  headers["content-type"] ??= "application/json";
  return { body: JSON.stringify(body), headers };
}

/** Parses a JSON response body; undefined for an empty one. Bad JSON is a (retryable) PodmanApiError. */
export function parseJson<T>(endpoint: string, res: RawResponse): T {
  if (!res.text.trim()) return undefined as T;
  try {
    return JSON.parse(res.text) as T;
  } catch (err) {
    const msg = `${endpoint}: ${res.status}: response is not JSON: ${res.text.slice(0, 200)}`;
    throw new PodmanApiError(msg, res.status, endpoint, { cause: err, retryable: true });
  }
}

/** Podman's own message from a libpod error body `{cause, message, response}`, else the trimmed text. */
export function podmanMessage(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") {
      const { message, cause } = parsed as { message?: unknown; cause?: unknown };
      if (typeof message === "string" && message) return message;
      if (typeof cause === "string" && cause) return cause;
    }
  } catch {
    // not JSON: use the text itself
  }
  const trimmed = text.trim();
  return trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed;
}

const TRANSIENT = /connection refused|connection reset|timeout|timed out|temporar|try again|database is locked|i\/o error|unexpected EOF|too many requests|service unavailable|no route to host|network is unreachable/i;
const USER_ERROR = /no such|yaml|unmarshal|pars(e|ing)|syntax|not known|not found|unknown|invalid|already (in use|exists)|is not valid|must |cannot |can't |unauthorized|denied|forbidden|not supported|requires |conflict|malformed|unable to find|bad request/i;

/**
 * Whether retrying later may help: connection-level and 502/503/504/408/429
 * always; other 4xx never; 500 unless Podman's message reads like bad input
 * (unknown image, invalid spec, name in use) — a transient cause such as
 * "connection refused" to a registry wins over that.
 */
export function isRetryableFailure(status: number | undefined, message: string): boolean {
  if (status === undefined) return true;
  if ([408, 429, 502, 503, 504].includes(status)) return true;
  if (status < 500) return false;
  if (TRANSIENT.test(message)) return true;
  return !USER_ERROR.test(message);
}

/**
 * Runs a removal again (up to 3 tries, 0.5 s then 1 s apart) when Podman
 * answers "device or resource busy": Podman 4.3 sometimes cannot unmount the
 * shm of a container that is restarting (crash loop) on the first try, and
 * can a moment later. Anything else is thrown at once.
 */
export async function retryBusy<T>(fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= tries || !(err instanceof PodmanApiError) || !/device or resource busy/i.test(err.message)) throw err;
      await Bun.sleep(500 * attempt);
    }
  }
}

/**
 * True when Podman says the object is gone: it answers 500, not 404, when a
 * pod or container vanished between fetchit's lookup and the call (removed
 * by someone else, or by its own `--rm`). For a stop or a removal that is
 * the wanted end state, never a failure of the commit.
 */
export function vanished(err: unknown): boolean {
  return err instanceof PodmanApiError && (err.status === 404 || err.status === 500) && VANISHED.test(err.message);
}
const VANISHED = /no such (pod|container)\b|no (pod|container) with (name or )?id \S+ found/i;

function statusError(endpoint: string, status: number, statusText: string, text: string): PodmanApiError {
  const msg = podmanMessage(text);
  const line = `${endpoint}: ${status}${statusText ? ` ${statusText}` : ""}${msg ? `: ${msg}` : ""}`;
  return new PodmanApiError(line, status, endpoint, { retryable: isRetryableFailure(status, msg) });
}

function connectionError(endpoint: string, socketPath: string, timeoutMs: number, err: unknown): PodmanApiError {
  const e = err as { name?: string; code?: string; message?: string };
  let msg: string;
  if (e.name === "TimeoutError" || e.name === "AbortError") {
    msg = `no answer from Podman at ${socketPath} within ${timeoutMs / 1000}s`;
  } else if (!existsSync(socketPath)) {
    msg = `Podman socket ${socketPath} does not exist; is the Podman API service running? ${socketHint()}`;
  } else if (e.code === "ECONNREFUSED") {
    msg = `cannot connect to Podman socket ${socketPath} (connection refused); ${socketHint()}`;
  } else {
    msg = `cannot reach Podman at ${socketPath}: ${e.code ?? e.name ?? "error"}: ${e.message ?? String(err)}`;
  }
  return new PodmanApiError(`${endpoint}: ${msg}`, undefined, endpoint, { cause: err, retryable: true });
}
