/**
 * Which of fetchit's own objects (labelled owned-by=fetchit) the fetchit-only
 * prune scope may remove: idle ones that no state record manages. Pure.
 *
 * Managed means: its name is a resource name of a record (raw: container
 * names; kube: comma-separated pod names), or its io.fetchit.target/method/
 * file labels point at a file a record still lists (kube volumes, which
 * survive their pod being replayed). An apply in progress creates objects
 * before its record lists them, so an object attributed to a configured
 * method and newer than that method's last state write is left alone too.
 */
import { LABEL_FILE, LABEL_METHOD, LABEL_TARGET } from "../methods/raw.ts";
import type { MethodState } from "../state/store.ts";
import { IMAGES_TARGET, PRUNE_TARGET } from "./types.ts";

/** A container, pod or volume that may be fetchit's. */
export interface OwnedObject {
  /** What the removal acts on: the full id (containers, pods), the name (volumes have no id). */
  id: string;
  name: string;
  /** Podman's state/status in any case ("exited", "Running"); "unused" for volumes Podman will refuse if in use. */
  state: string;
  /** Creation time in ms (NaN when unknown: then it is never taken for stale). */
  created: number;
  labels: Record<string, string>;
}

/** States in which nothing runs; anything else (running, paused, stopping, degraded) is kept. */
const IDLE = new Set(["created", "configured", "exited", "stopped", "dead", "error", "unused"]);

/** `target\nkind/method`: how configured methods, records and object labels are matched. */
export const methodRef = (target: string, kindSlashMethod: string) => `${target}\n${kindSlashMethod}`;

/** Last write of a record: the later of its applied time and its last error, or undefined. */
function lastWrite(r: MethodState): number | undefined {
  const times = [r.appliedAt, r.lastError?.at].map((t) => (t ? Date.parse(t) : NaN)).filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : undefined;
}

/** Whether the record lists the repository file `file` (resources are keyed relative to targetPath). */
const listsFile = (r: MethodState, file: string) => Object.keys(r.resources).some((rel) => file === rel || file.endsWith(`/${rel}`));

/** Selects the objects safe to remove; `configured` holds methodRef keys of the configured git methods. */
export function selectOrphans(objects: OwnedObject[], records: MethodState[], configured: ReadonlySet<string>): OwnedObject[] {
  const methodRecords = records.filter((r) => r.target !== PRUNE_TARGET && r.target !== IMAGES_TARGET);
  const names = new Set(methodRecords.flatMap((r) => Object.values(r.resources).flatMap((res) => res.name.split(",").map((n) => n.trim()))));
  const byRef = new Map(methodRecords.map((r) => [methodRef(r.target, `${r.kind}/${r.method}`), r]));
  const keep = (o: OwnedObject): boolean => {
    if (names.has(o.name)) return true;
    const ref = methodRef(o.labels[LABEL_TARGET] ?? "", o.labels[LABEL_METHOD] ?? "");
    const rec = byRef.get(ref);
    const file = o.labels[LABEL_FILE];
    if (rec && file && listsFile(rec, file)) return true;
    if (!configured.has(ref)) return false;
    const last = rec ? lastWrite(rec) : undefined;
    return last === undefined || !(o.created < last);
  };
  return objects.filter((o) => IDLE.has(o.state.toLowerCase()) && !keep(o));
}
