/**
 * The fetchit-only prune scope (`prune.scope: fetchit`): removes the
 * containers, pods and (with `volumes`) volumes labelled owned-by=fetchit that
 * prune-select.ts picks. Nothing is forced: a pod that started meanwhile, or a
 * volume some container still uses, makes Podman refuse and is kept. Images
 * are never removed here: they carry no owner. Containers and pods are
 * removed by id; volumes (no id) by a name checked exactly just before.
 */
import { errorMessage, PodmanApiError } from "../errors.ts";
import { LABEL_OWNER } from "../methods/raw.ts";
import type { PodmanClient, PruneItem, SystemPruneReport } from "../podman/index.ts";
import type { MethodState } from "../state/store.ts";
import { selectOrphans, type OwnedObject } from "./prune-select.ts";

/** The label every object fetchit creates carries. */
export const OWNER_FILTER = `${LABEL_OWNER}=fetchit`;

const filters = JSON.stringify({ label: [OWNER_FILTER] });
const seg = encodeURIComponent;

interface PodEntry {
  Id: string;
  Name: string;
  Status: string;
  Created?: string;
  Labels?: Record<string, string> | null;
}

interface VolumeEntry {
  Name: string;
  CreatedAt?: string;
  Labels?: Record<string, string> | null;
}

/** Containers labelled owned-by=fetchit, running or not; pod members (infra included) go with their pod. */
async function ownedContainers(podman: PodmanClient): Promise<OwnedObject[]> {
  const list = (await podman.listContainers({ all: true, labels: [OWNER_FILTER] })).filter((c) => !c.Pod);
  return list.map((c) => ({ id: c.Id, name: c.Names[0] ?? c.Id, state: c.State, created: Date.parse(c.Created ?? ""), labels: c.Labels }));
}

/** Pods labelled owned-by=fetchit (the generic call: the creation time is needed). */
async function ownedPods(podman: PodmanClient): Promise<OwnedObject[]> {
  const list = (await podman.request<PodEntry[] | null>("GET", "/pods/json", { query: { filters } })) ?? [];
  return list.map((p) => ({ id: p.Id, name: p.Name, state: p.Status, created: Date.parse(p.Created ?? ""), labels: p.Labels ?? {} }));
}

/** Volumes labelled owned-by=fetchit; whether one is in use is Podman's call at removal. */
async function ownedVolumes(podman: PodmanClient): Promise<OwnedObject[]> {
  const list = (await podman.request<VolumeEntry[] | null>("GET", "/volumes/json", { query: { filters } })) ?? [];
  return list.map((v) => ({ id: v.Name, name: v.Name, state: "unused", created: Date.parse(v.CreatedAt ?? ""), labels: v.Labels ?? {} }));
}

/** Sizes of volumes by name (from `system/df`); empty when Podman cannot tell. */
async function volumeSizes(podman: PodmanClient): Promise<Map<string, number>> {
  try {
    const df = await podman.request<{ Volumes?: { VolumeName: string; Size?: number }[] | null }>("GET", "/system/df");
    return new Map((df?.Volumes ?? []).map((v) => [v.VolumeName, v.Size ?? 0]));
  } catch {
    return new Map();
  }
}

type Removal = "removed" | "refused";

/** Removes each object (`remove` gets its id: the name for volumes); a refusal drops it from the report, other errors become the item's error. */
async function removeEach(objects: OwnedObject[], remove: (id: string) => Promise<Removal>, size = (_: string) => 0): Promise<PruneItem[]> {
  const items: PruneItem[] = [];
  for (const o of objects) {
    try {
      if ((await remove(o.id)) === "removed") items.push({ id: o.name, size: size(o.name) });
    } catch (err) {
      items.push({ id: o.name, size: 0, error: errorMessage(err) });
    }
  }
  return items;
}

/** Never forced: gone already (false) or busy meanwhile (409, in use, running) is a refusal, not an error. */
async function unlessBusy(remove: () => Promise<boolean>): Promise<Removal> {
  try {
    return (await remove()) ? "removed" : "refused";
  } catch (err) {
    if (err instanceof PodmanApiError && (err.status === 409 || /is being used|in use|running/i.test(err.message))) return "refused";
    throw err;
  }
}

/** DELETE of a pod (by id) without force; true when it was removed. */
const deleteIdle = (podman: PodmanClient, path: string) => async () => (await podman.requestRaw("DELETE", path, { allowStatus: [404] })).status !== 404;

/** Prunes fetchit's own leftovers; `configured` holds methodRef keys of the configured git methods. */
export async function pruneOwned(podman: PodmanClient, records: MethodState[], configured: ReadonlySet<string>, volumes: boolean): Promise<SystemPruneReport> {
  const pick = (objs: OwnedObject[]) => selectOrphans(objs, records, configured);
  const containers = await removeEach(pick(await ownedContainers(podman)), (id) => unlessBusy(() => podman.removeContainer(id, { volumes })));
  const pods = await removeEach(pick(await ownedPods(podman)), (id) => unlessBusy(deleteIdle(podman, `/pods/${seg(id)}`)));
  let vols: PruneItem[] = [];
  const candidates = volumes ? pick(await ownedVolumes(podman)) : [];
  if (candidates.length) {
    const sizes = await volumeSizes(podman);
    vols = await removeEach(candidates, (n) => unlessBusy(() => podman.removeVolume(n)), (n) => sizes.get(n) ?? 0);
  }
  const reclaimedBytes = vols.reduce((n, v) => n + v.size, 0);
  return { containers, pods, images: [], networks: [], volumes: vols, reclaimedBytes };
}
