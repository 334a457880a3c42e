/**
 * Container calls: create, start, stop, remove, inspect, list. Absence is
 * a value (null/false) where callers treat it as "nothing to do".
 *
 * Identity: Podman resolves a name-or-id path segment by exact name, then
 * full id, then UNIQUE ID PREFIX, so `/containers/db/stop` stops an unrelated
 * container whose id starts with "db" when no container is named "db". Names
 * are therefore only ever looked up with {@link findContainer} (an anchored
 * name filter, the returned names checked); everything that acts (start,
 * stop, remove, inspect) takes a full 64-hex id and refuses anything else.
 */
import { PodmanApiError } from "../errors.ts";
import { DEFAULT_TIMEOUT_MS, isRetryableFailure, parseJson, POOL_QUEUE_MS, retryBusy, type Transport, vanished } from "./transport.ts";
import type { ContainerInspect, ContainerListEntry, ContainerSpec } from "./types.ts";

/** Options of a container removal. */
export interface RemoveContainerOptions {
  /** Stop a running container first. Default false (removing a running one fails). */
  force?: boolean;
  /** Also remove its anonymous volumes. Default false. */
  volumes?: boolean;
  /** With force: seconds before SIGKILL. Default: the container's stop timeout (10 s). */
  timeoutSeconds?: number;
}

/** Filters of a container listing. */
export interface ListContainersOptions {
  /** Include stopped containers. Default false (running only), as in libpod. */
  all?: boolean;
  /** `key=value` or `key`; a container must carry all of them. */
  labels?: string[];
  /** Exact container names (anchored, not libpod's default regex match); any of them. */
  names?: string[];
  /** Containers of these pods (names or ids); any of them. */
  pods?: string[];
}

/** Throws unless `id` is a full container id (64 hex): a name or a short id could resolve to another container. */
export function assertFullId(id: string, what: string): void {
  if (!/^[0-9a-f]{64}$/.test(id)) {
    throw new Error(`${what}: "${id}" is not a full id; fetchit acts on Podman objects by id only (look names up with findContainer/findPod first)`);
  }
}

/** Creates (does not start) a container; returns its id and Podman's warnings. */
export async function createContainer(t: Transport, spec: ContainerSpec): Promise<{ id: string; warnings: string[] }> {
  const res = await t.send("POST", "/containers/create", { body: spec });
  const body = parseJson<{ Id: string; Warnings?: string[] | null }>("POST /libpod/containers/create", res);
  return { id: body.Id, warnings: body.Warnings ?? [] };
}

/** Starts a container by id; one already running (304) is fine. */
export async function startContainer(t: Transport, id: string): Promise<void> {
  assertFullId(id, "start container");
  await t.send("POST", `/containers/${id}/start`);
}

/**
 * Stops a container by id; already stopped (304) or missing (404) is fine.
 * Without `timeoutSeconds` Podman waits the container's own stop timeout
 * (give it anyway when known: it also bounds the HTTP request).
 */
export async function stopContainer(t: Transport, id: string, timeoutSeconds?: number): Promise<void> {
  assertFullId(id, "stop container");
  await t.send("POST", `/containers/${id}/stop`, {
    query: { timeout: timeoutSeconds },
    allowStatus: [404],
    timeoutMs: DEFAULT_TIMEOUT_MS + POOL_QUEUE_MS + (timeoutSeconds ?? 10) * 1000,
  }).catch((err: unknown) => {
    if (!vanished(err)) throw err;
  });
}

/** Removes a container by id: true when removed, false when it did not exist. */
export async function removeContainer(t: Transport, id: string, opts: RemoveContainerOptions = {}): Promise<boolean> {
  assertFullId(id, "remove container");
  const path = `/containers/${id}`;
  const endpoint = `DELETE /libpod/containers/${id.slice(0, 12)}`;
  return retryBusy(async () => {
    const res = await t.send("DELETE", path, {
      query: { force: opts.force ?? false, v: opts.volumes ?? false, timeout: opts.timeoutSeconds },
      allowStatus: [404],
      timeoutMs: DEFAULT_TIMEOUT_MS + POOL_QUEUE_MS + (opts.timeoutSeconds ?? 10) * 1000,
    });
    if (res.status === 404) return false;
    // Podman 4+ answers 200 with one report per container; a report may carry an error.
    const reports = parseJson<{ Err?: unknown }[] | null | undefined>(endpoint, res);
    const failed = Array.isArray(reports) ? reports.find((r) => typeof r.Err === "string" && r.Err) : undefined;
    if (failed) {
      const msg = String(failed.Err);
      throw new PodmanApiError(`${endpoint}: ${msg}`, res.status, endpoint, { retryable: isRetryableFailure(500, msg) });
    }
    return true;
  }).catch((err: unknown) => {
    if (vanished(err)) return false;
    throw err;
  });
}

/** The container's inspect data by id (labels never null), or null when no such container. */
export async function inspectContainer(t: Transport, id: string): Promise<ContainerInspect | null> {
  assertFullId(id, "inspect container");
  const res = await t.send("GET", `/containers/${id}/json`, { allowStatus: [404] });
  if (res.status === 404) return null;
  const c = parseJson<ContainerInspect>(`GET /libpod/containers/${id.slice(0, 12)}/json`, res);
  return c.Id === id ? { ...c, Config: { ...c.Config, Labels: c.Config?.Labels ?? {} } } : null;
}

/**
 * The container named exactly `name` (inspect data), or null: an anchored
 * name filter, the returned names checked, then an inspect by id. Never
 * matches an id or id prefix.
 */
export async function findContainer(t: Transport, name: string): Promise<ContainerInspect | null> {
  const hit = (await listContainers(t, { all: true, names: [name] })).find((c) => c.Names.some((n) => n.replace(/^\//, "") === name));
  if (!hit) return null;
  const c = await inspectContainer(t, hit.Id);
  return c && c.Name.replace(/^\//, "") === name ? c : null;
}

/** Lists containers matching all given filters (names and labels never null). */
export async function listContainers(t: Transport, opts: ListContainersOptions = {}): Promise<ContainerListEntry[]> {
  const filters: Record<string, string[]> = {};
  if (opts.labels?.length) filters.label = opts.labels;
  if (opts.names?.length) filters.name = opts.names.map(exactName);
  if (opts.pods?.length) filters.pod = opts.pods;
  const res = await t.send("GET", "/containers/json", {
    query: { all: opts.all ?? false, filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined },
  });
  const list = parseJson<ContainerListEntry[] | null>("GET /libpod/containers/json", res);
  return (list ?? []).map((c) => ({ ...c, Names: c.Names ?? [], Labels: c.Labels ?? {} }));
}

/** libpod's name filter is a regex match; anchor and escape for an exact name. */
export function exactName(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
}
