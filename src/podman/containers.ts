/**
 * Container calls: create, start, stop, remove, inspect, list. Absence is
 * a value (null/false) where callers treat it as "nothing to do".
 */
import { PodmanApiError } from "../errors.ts";
import { DEFAULT_TIMEOUT_MS, isRetryableFailure, parseJson, retryBusy, type Transport } from "./transport.ts";
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

const seg = encodeURIComponent;

/** Creates (does not start) a container; returns its id and Podman's warnings. */
export async function createContainer(t: Transport, spec: ContainerSpec): Promise<{ id: string; warnings: string[] }> {
  const res = await t.send("POST", "/containers/create", { body: spec });
  const body = parseJson<{ Id: string; Warnings?: string[] | null }>("POST /libpod/containers/create", res);
  return { id: body.Id, warnings: body.Warnings ?? [] };
}

/** Starts a container; one already running (304) is fine. */
export async function startContainer(t: Transport, nameOrId: string): Promise<void> {
  await t.send("POST", `/containers/${seg(nameOrId)}/start`);
}

/** Stops a container; already stopped (304) or missing (404) is fine. */
export async function stopContainer(t: Transport, nameOrId: string, timeoutSeconds?: number): Promise<void> {
  await t.send("POST", `/containers/${seg(nameOrId)}/stop`, {
    query: { timeout: timeoutSeconds },
    allowStatus: [404],
    timeoutMs: DEFAULT_TIMEOUT_MS + (timeoutSeconds ?? 10) * 1000,
  });
}

/** Removes a container: true when removed, false when it did not exist. */
export async function removeContainer(t: Transport, nameOrId: string, opts: RemoveContainerOptions = {}): Promise<boolean> {
  const path = `/containers/${seg(nameOrId)}`;
  const endpoint = `DELETE /libpod/containers/${nameOrId}`;
  return retryBusy(async () => {
    const res = await t.send("DELETE", path, {
      query: { force: opts.force ?? false, v: opts.volumes ?? false, timeout: opts.timeoutSeconds },
      allowStatus: [404],
      timeoutMs: DEFAULT_TIMEOUT_MS + (opts.timeoutSeconds ?? 10) * 1000,
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
  });
}

/** The container's inspect data (labels never null), or null when no such container. */
export async function inspectContainer(t: Transport, nameOrId: string): Promise<ContainerInspect | null> {
  const res = await t.send("GET", `/containers/${seg(nameOrId)}/json`, { allowStatus: [404] });
  if (res.status === 404) return null;
  const c = parseJson<ContainerInspect>(`GET /libpod/containers/${nameOrId}/json`, res);
  return { ...c, Config: { ...c.Config, Labels: c.Config?.Labels ?? {} } };
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
function exactName(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
}
