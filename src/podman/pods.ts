/**
 * Pod calls for the kube method: play a Kubernetes YAML, list and remove
 * pods, and check whether a named volume (a PersistentVolumeClaim) or
 * network exists.
 * Checked against Podman 4.3 and 5: the play report has the same shape in
 * both (5 adds fields), and a 4.3 server silently ignores query parameters
 * it does not know (`replace`, `userns`).
 *
 * Identity (see containers.ts): pods are removed by full id only; volumes,
 * which have no id, are checked by exact name (Podman 5 resolves a volume
 * name by unique name prefix too).
 */
import { PodmanApiError } from "../errors.ts";
import { assertFullId, exactName } from "./containers.ts";
import { PULL_TIMEOUT_MS } from "./images.ts";
import { DEFAULT_TIMEOUT_MS, isRetryableFailure, parseJson, POOL_QUEUE_MS, retryBusy, type Transport, vanished } from "./transport.ts";
import type { PlayKubeReport, PodListEntry } from "./types.ts";

/** Options of a kube play (query parameters of `POST /libpod/play/kube`). */
export interface PlayKubeOptions {
  /** Network name or mode for every pod. Default: Podman's (`podman-default-kube-network`). */
  network?: string;
  /** false: create the pods without starting them. Default true. */
  start?: boolean;
  /** User namespace mode for the pods. Honoured by Podman 4.7 and later only; older servers ignore it. */
  userns?: string;
  /** Request timeout; play pulls missing images. Default 10 minutes. */
  timeoutMs?: number;
}

/** Filters of a pod listing. */
export interface ListPodsOptions {
  /** `key=value` or `key`; a pod must carry all of them. */
  labels?: string[];
  /** Exact pod names (anchored, not libpod's default regex match); any of them. */
  names?: string[];
}

/** Options of a pod removal. */
export interface RemovePodOptions {
  /** Seconds between SIGTERM and SIGKILL for every container (a pod's terminationGracePeriodSeconds). Default: each container's own stop timeout. */
  timeoutSeconds?: number;
  /** Stop first, then remove (fast on Podman 4.3); false: one forced removal (fast on Podman 5). Default true. */
  stopFirst?: boolean;
}

const seg = encodeURIComponent;

/** Plays `yaml` (one or more documents); the report lists each pod with its container errors. */
export async function playKube(t: Transport, yaml: string, opts: PlayKubeOptions = {}): Promise<PlayKubeReport> {
  const res = await t.send("POST", "/play/kube", {
    query: { network: opts.network, start: opts.start, userns: opts.userns },
    body: yaml,
    headers: { "content-type": "application/yaml" },
    timeoutMs: opts.timeoutMs ?? PULL_TIMEOUT_MS,
  });
  const report = parseJson<PlayKubeReport | undefined>("POST /libpod/play/kube", res);
  return { Pods: report?.Pods ?? [], Volumes: report?.Volumes ?? [] };
}

/** Lists pods (all states) carrying every given label; labels and containers never null. */
export async function listPods(t: Transport, opts: ListPodsOptions = {}): Promise<PodListEntry[]> {
  const f: Record<string, string[]> = {};
  if (opts.labels?.length) f.label = opts.labels;
  if (opts.names?.length) f.name = opts.names.map(exactName);
  const filters = Object.keys(f).length ? JSON.stringify(f) : undefined;
  const res = await t.send("GET", "/pods/json", { query: { filters } });
  const list = parseJson<PodListEntry[] | null>("GET /libpod/pods/json", res);
  return (list ?? []).map((p) => ({ ...p, Labels: p.Labels ?? {}, Containers: p.Containers ?? [] }));
}

/** The pod named exactly `name`, or null (never an id or id prefix). */
export async function findPod(t: Transport, name: string): Promise<PodListEntry | null> {
  return (await listPods(t, { names: [name] })).find((p) => p.Name === name) ?? null;
}

/**
 * Stops, then removes a pod (by full id) with its containers: true when
 * removed, false when it did not exist. Volumes are never removed. (Stopping
 * first: a forced removal of a running pod takes seconds longer on Podman
 * 4.3.) Containers get their own stop timeout unless `timeoutSeconds` is given.
 */
export async function removePod(t: Transport, id: string, opts: RemovePodOptions = {}): Promise<boolean> {
  assertFullId(id, "remove pod");
  const { timeoutSeconds, stopFirst = true } = opts;
  const wait = DEFAULT_TIMEOUT_MS + POOL_QUEUE_MS + (timeoutSeconds ?? 60) * 1000;
  if (stopFirst || timeoutSeconds !== undefined) {
    const stop = await t.send("POST", `/pods/${id}/stop`, { query: { t: timeoutSeconds }, allowStatus: [404], timeoutMs: wait }).catch((err: unknown) => {
      if (vanished(err)) return { status: 404 };
      throw err;
    });
    if (stop.status === 404) return false;
  }
  const endpoint = `DELETE /libpod/pods/${id.slice(0, 12)}`;
  return retryBusy(async () => {
    const res = await t.send("DELETE", `/pods/${id}`, { query: { force: true }, allowStatus: [404], timeoutMs: wait });
    if (res.status === 404) return false;
    const report = parseJson<{ Err?: unknown } | null | undefined>(endpoint, res);
    if (report && typeof report.Err === "string" && report.Err) {
      throw new PodmanApiError(`${endpoint}: ${report.Err}`, res.status, endpoint, { retryable: isRetryableFailure(500, report.Err) });
    }
    return true;
  }).catch((err: unknown) => {
    if (vanished(err)) return false;
    throw err;
  });
}

/** true when a volume named exactly `name` exists (an anchored name filter, the returned names checked). */
export async function volumeExists(t: Transport, name: string): Promise<boolean> {
  const res = await t.send("GET", "/volumes/json", { query: { filters: JSON.stringify({ name: [exactName(name)] }) } });
  const list = parseJson<{ Name: string }[] | null>("GET /libpod/volumes/json", res);
  return (list ?? []).some((v) => v.Name === name);
}

/** true when a network named exactly `name` exists (Podman resolves a network name as an id prefix too). */
export async function networkExists(t: Transport, name: string): Promise<boolean> {
  const res = await t.send("GET", "/networks/json", { query: { filters: JSON.stringify({ name: [exactName(name)] }) } });
  const list = parseJson<{ name?: string; Name?: string }[] | null>("GET /libpod/networks/json", res);
  return (list ?? []).some((n) => (n.name ?? n.Name) === name);
}

/**
 * Removes the volume named exactly `name`, never forced (Podman refuses one in
 * use): true when removed, false when no such volume. Volumes have no id, so
 * the name is checked exactly right before the removal.
 */
export async function removeVolume(t: Transport, name: string): Promise<boolean> {
  if (!(await volumeExists(t, name))) return false;
  return (await t.send("DELETE", `/volumes/${seg(name)}`, { allowStatus: [404] })).status !== 404;
}
