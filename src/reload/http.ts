/**
 * Downloads a config over HTTP(S) for configReload and $FETCHIT_CONFIG_URL.
 * Better than FetchIt: only a 200 answer is a config (FetchIt wrote error
 * pages as the config), with a timeout and a size limit. Credentials come
 * from the top-level gitAuth as in FetchIt (`pat`: `Authorization: token
 * <pat>`; username + password: basic) and never appear in a log line or error.
 */
import type { GitAuth } from "../config/types.ts";
import { errorMessage } from "../errors.ts";
import { httpAuthHeaders, stripUserinfo } from "../git/index.ts";

/** Largest config accepted (a config is a few KiB; an error page or a wrong URL may be huge). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Default for {@link DownloadOptions.timeoutMs}. */
export const DOWNLOAD_TIMEOUT_MS = 30_000;

export interface DownloadOptions {
  /** Credentials (the top-level gitAuth); none for the initial download, as in FetchIt. */
  auth?: GitAuth;
  /** Process environment, for gitAuth.envSecret. */
  env?: Record<string, string | undefined>;
  /** Give up after this long. Default {@link DOWNLOAD_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Aborts the download (fetchit stopping). */
  signal?: AbortSignal;
}

/** A download that gave no usable text; `message` is safe to log (no credentials). */
export class DownloadError extends Error {
  override name = "DownloadError";
}

/**
 * HTTP headers for a gitAuth block, as FetchIt's configReload sends them: the
 * token (the variable named by envSecret, else pat) as `Authorization: token
 * …`; otherwise basic auth from username + password or from the URL's
 * userinfo, exactly as git gets it (src/git/auth.ts).
 * @throws DownloadError when envSecret names an unset variable.
 */
export function authHeaders(url: string, auth: GitAuth | undefined, env: Record<string, string | undefined> = {}): Record<string, string> {
  if (auth?.envSecret && !env[auth.envSecret]) {
    throw new DownloadError(`gitAuth.envSecret: the environment variable ${auth.envSecret} is not set (or empty) in fetchit's environment; set it or use gitAuth.pat`);
  }
  const token = auth?.envSecret ? env[auth.envSecret] : auth?.pat;
  if (token) return { Authorization: `token ${token}` };
  try {
    return httpAuthHeaders(url, auth, env);
  } catch (err) {
    throw new DownloadError(errorMessage(err));
  }
}

/** GETs `url` and returns its text; throws DownloadError saying why (status, timeout, size, network). */
export async function downloadConfig(url: string, opts: DownloadOptions = {}): Promise<string> {
  const where = stripUserinfo(url);
  const timeoutMs = opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS;
  const headers = authHeaders(url, opts.auth, opts.env);
  let res: Response;
  try {
    // userinfo goes into the header (authHeaders), never into the request line
    res = await fetch(where, { headers, signal: anySignal(AbortSignal.timeout(timeoutMs), opts.signal), redirect: "follow" });
  } catch (err) {
    const why = err instanceof Error && err.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : errorMessage(err);
    throw new DownloadError(`cannot download the config from ${where}: ${why}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    const hint = res.status === 401 || res.status === 403 ? "; check gitAuth (pat, envSecret or username/password)" : "";
    throw new DownloadError(`config URL ${where} answered HTTP ${res.status} ${res.statusText}, not 200${hint}`);
  }
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > MAX_CONFIG_BYTES) {
    await res.body?.cancel().catch(() => {});
    throw new DownloadError(`config at ${where} is ${length} bytes, more than the ${MAX_CONFIG_BYTES} accepted; is the URL right?`);
  }
  return readLimited(res, where);
}

const anySignal = (timeout: AbortSignal, stop?: AbortSignal) => (stop ? AbortSignal.any([timeout, stop]) : timeout);

async function readLimited(res: Response, where: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_CONFIG_BYTES) throw new DownloadError(`config at ${where} is more than ${MAX_CONFIG_BYTES} bytes; is the URL right?`);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof DownloadError) throw err;
    throw new DownloadError(`download of the config from ${where} broke off: ${errorMessage(err)}`);
  }
  return Buffer.concat(chunks).toString("utf8");
}
