/**
 * The libpod calls fetchit makes (FetchIt's container.go, raw.go helpers),
 * each one request over the transport. Absence is a value (null/false),
 * every other failure a PodmanApiError.
 */
import { PodmanApiError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { createTransport, isRetryableFailure, DEFAULT_TIMEOUT_MS, type Transport } from "./transport.ts";
import type {
  ContainerInspect,
  ContainerListEntry,
  ContainerSpec,
  ImageInspect,
  RawResponse,
  RequestOptions,
  VersionInfo,
} from "./types.ts";

/** Default timeout of an image pull: registries can be slow and images large. */
export const PULL_TIMEOUT_MS = 10 * 60_000;

/** Filters of {@link PodmanClient.listContainers}. */
export interface ListContainersOptions {
  /** Include stopped containers. Default false (running only), as in libpod. */
  all?: boolean;
  /** `key=value` or `key`; a container must carry all of them. */
  labels?: string[];
  /** Exact container names (anchored, not libpod's default regex match); any of them. */
  names?: string[];
}

/** Options of {@link PodmanClient.pullImage}. */
export interface PullOptions {
  /** false allows plain HTTP / self-signed registries. Default: registries.conf decides. */
  tlsVerify?: boolean;
  /** Default 10 minutes. */
  timeoutMs?: number;
}

/** A typed libpod client bound to one socket. */
export interface PodmanClient {
  readonly socketPath: string;
  /** Resolves when the service answers `_ping`. */
  ping(): Promise<void>;
  version(): Promise<VersionInfo>;
  imageExists(ref: string): Promise<boolean>;
  /** Pulls `ref` (policy always) and returns the image id; errors name the image. */
  pullImage(ref: string, opts?: PullOptions): Promise<string>;
  /** null when the image is not in local storage. */
  inspectImage(ref: string): Promise<ImageInspect | null>;
  createContainer(spec: ContainerSpec): Promise<{ id: string; warnings: string[] }>;
  /** Starting a running container is not an error. */
  startContainer(nameOrId: string): Promise<void>;
  /** Stopped or missing containers are fine. `timeoutSeconds` before SIGKILL (Podman default 10). */
  stopContainer(nameOrId: string, timeoutSeconds?: number): Promise<void>;
  /** true when removed, false when it did not exist. `volumes` also removes anonymous volumes. */
  removeContainer(nameOrId: string, opts?: { force?: boolean; volumes?: boolean }): Promise<boolean>;
  /** null when no such container. */
  inspectContainer(nameOrId: string): Promise<ContainerInspect | null>;
  listContainers(opts?: ListContainersOptions): Promise<ContainerListEntry[]>;
  /**
   * Any libpod call, JSON in and out; `path` is relative to `/libpod`
   * (e.g. `/play/kube`). Returns undefined for an empty body.
   */
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  /** Like request, but returns status, headers and text unparsed. */
  requestRaw(method: string, path: string, opts?: RequestOptions): Promise<RawResponse>;
}

/** Options of {@link createPodmanClient}. */
export interface PodmanClientOptions {
  /** Debug line per request. Default: none. */
  log?: Logger;
  /** Default request timeout in ms. Default 30 000. */
  timeoutMs?: number;
}

const seg = encodeURIComponent;

/** Creates a client for the Podman API at `socketPath`; nothing is contacted until the first call. */
export function createPodmanClient(socketPath: string, opts: PodmanClientOptions = {}): PodmanClient {
  const t: Transport = createTransport(socketPath, opts);
  const json = async <T>(method: string, path: string, req?: RequestOptions): Promise<T> =>
    parseJson<T>(`${method} /libpod${path}`, await t.send(method, path, req));

  return {
    socketPath,
    async ping() {
      await t.send("GET", "/_ping");
    },
    async version() {
      const v = await json<VersionBody>("GET", "/version");
      const engine = v.Components?.find((c) => c.Name === "Podman Engine");
      return { version: v.Version, apiVersion: engine?.Details?.APIVersion ?? v.ApiVersion };
    },
    async imageExists(ref) {
      const res = await t.send("GET", `/images/${seg(ref)}/exists`, { allowStatus: [404] });
      return res.status !== 404;
    },
    pullImage: (ref, pullOpts) => pull(t, ref, pullOpts),
    async inspectImage(ref) {
      const res = await t.send("GET", `/images/${seg(ref)}/json`, { allowStatus: [404] });
      if (res.status === 404) return null;
      const img = parseJson<ImageInspect>(`GET /libpod/images/${ref}/json`, res);
      return { ...img, RepoTags: img.RepoTags ?? [] };
    },
    async createContainer(spec) {
      const res = await json<{ Id: string; Warnings?: string[] | null }>("POST", "/containers/create", { body: spec });
      return { id: res.Id, warnings: res.Warnings ?? [] };
    },
    async startContainer(nameOrId) {
      await t.send("POST", `/containers/${seg(nameOrId)}/start`);
    },
    async stopContainer(nameOrId, timeoutSeconds) {
      await t.send("POST", `/containers/${seg(nameOrId)}/stop`, {
        query: { timeout: timeoutSeconds },
        allowStatus: [404],
        timeoutMs: DEFAULT_TIMEOUT_MS + (timeoutSeconds ?? 10) * 1000,
      });
    },
    async removeContainer(nameOrId, rmOpts = {}) {
      const path = `/containers/${seg(nameOrId)}`;
      const res = await t.send("DELETE", path, {
        query: { force: rmOpts.force ?? false, v: rmOpts.volumes ?? false },
        allowStatus: [404],
        timeoutMs: DEFAULT_TIMEOUT_MS + 15_000,
      });
      if (res.status === 404) return false;
      const reports = res.text.trim() ? parseJson<{ Err?: string }[] | null>(`DELETE /libpod${path}`, res) : null;
      const failed = Array.isArray(reports) ? reports.find((r) => r.Err) : undefined;
      if (failed?.Err) {
        throw new PodmanApiError(`DELETE /libpod${path}: ${failed.Err}`, res.status, `DELETE /libpod${path}`, {
          retryable: isRetryableFailure(500, failed.Err),
        });
      }
      return true;
    },
    async inspectContainer(nameOrId) {
      const path = `/containers/${seg(nameOrId)}/json`;
      const res = await t.send("GET", path, { allowStatus: [404] });
      if (res.status === 404) return null;
      const c = parseJson<ContainerInspect>(`GET /libpod${path}`, res);
      return { ...c, Config: { ...c.Config, Labels: c.Config?.Labels ?? {} } };
    },
    async listContainers(listOpts = {}) {
      const filters: Record<string, string[]> = {};
      if (listOpts.labels?.length) filters.label = listOpts.labels;
      if (listOpts.names?.length) filters.name = listOpts.names.map(exactName);
      const list = await json<ContainerListEntry[] | null>("GET", "/containers/json", {
        query: { all: listOpts.all ?? false, filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined },
      });
      return (list ?? []).map((c) => ({ ...c, Names: c.Names ?? [], Labels: c.Labels ?? {} }));
    },
    request: <T>(method: string, path: string, req?: RequestOptions) => json<T>(method, path, req),
    requestRaw: (method, path, req) => t.send(method, path, req),
  };
}

interface VersionBody {
  Version: string;
  ApiVersion: string;
  Components?: { Name: string; Details?: { APIVersion?: string } }[];
}

/** libpod's name filter is a regex match; anchor and escape for an exact name. */
function exactName(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
}

function parseJson<T>(endpoint: string, res: RawResponse): T {
  if (!res.text.trim()) return undefined as T;
  try {
    return JSON.parse(res.text) as T;
  } catch (err) {
    throw new PodmanApiError(`${endpoint}: ${res.status}: response is not JSON: ${res.text.slice(0, 200)}`, res.status, endpoint, {
      cause: err,
      retryable: true,
    });
  }
}

/** Pull streams JSON lines; a failure arrives as an `error` line after a 200 status. */
async function pull(t: Transport, ref: string, opts: PullOptions = {}): Promise<string> {
  const endpoint = "POST /libpod/images/pull";
  let res: RawResponse;
  try {
    res = await t.send("POST", "/images/pull", {
      query: { reference: ref, tlsVerify: opts.tlsVerify },
      timeoutMs: opts.timeoutMs ?? PULL_TIMEOUT_MS,
    });
  } catch (err) {
    if (!(err instanceof PodmanApiError)) throw err;
    throw new PodmanApiError(`${err.message} (pulling image ${ref})`, err.status, endpoint, { cause: err, retryable: err.retryable });
  }
  let id: string | undefined;
  const errors: string[] = [];
  for (const line of res.text.split("\n")) {
    if (!line.trim()) continue;
    let rec: { error?: string; id?: string; images?: string[] };
    try {
      rec = JSON.parse(line);
    } catch {
      continue; // progress noise that is not JSON
    }
    if (rec.error) errors.push(rec.error.trim());
    if (rec.id) id = rec.id;
    else if (rec.images?.[0]) id = rec.images[0];
  }
  if (errors.length > 0 || !id) {
    const msg = errors.length > 0 ? errors.join("; ") : "the service reported no image id";
    throw new PodmanApiError(`${endpoint}: pulling image ${ref} failed: ${msg}`, res.status, endpoint, {
      retryable: isRetryableFailure(500, msg),
    });
  }
  return id;
}
