/**
 * Turns the git diff of one method into an ordered plan: removals, then
 * creations, then updates (renames included). Pure: no I/O.
 */
import type { FileChange } from "../git/index.ts";
import type { ManagedResource } from "../state/store.ts";

/** Where a file's content comes from: a git blob at a known path. */
export interface FileRef {
  relPath: string;
  path: string;
  blob: string;
  mode: string;
}

export type Op =
  /** A file disappeared: remove what it managed. `old` is known when the state has no record. */
  | { op: "remove"; relPath: string; previous?: ManagedResource; old?: FileRef }
  /** A new or changed file: make the host match it. `fromRelPath` is set for renames. */
  | { op: "create" | "update"; file: FileRef; previous?: ManagedResource; old?: FileRef; fromRelPath?: string };

const newRef = (c: FileChange): FileRef => ({ relPath: c.relPath!, path: c.path!, blob: c.blob!, mode: c.mode ?? "100644" });
const oldRef = (c: FileChange): FileRef => ({ relPath: c.oldRelPath!, path: c.oldPath!, blob: c.oldBlob!, mode: c.oldMode ?? "100644" });

/**
 * @param changes  diff between the last applied commit and the new head (or the empty tree)
 * @param resources what the state says each file currently manages
 * @param fullTree true when `changes` lists the whole tree (no usable old commit):
 *                 recorded resources whose file is gone are then removed too.
 */
export function planChanges(changes: FileChange[], resources: Record<string, ManagedResource>, fullTree: boolean): Op[] {
  const removes: Op[] = [];
  const creates: Op[] = [];
  const updates: Op[] = [];
  for (const c of changes) {
    if (c.status === "deleted") {
      removes.push({ op: "remove", relPath: c.oldRelPath!, previous: resources[c.oldRelPath!], old: oldRef(c) });
    } else if (c.status === "added") {
      const previous = resources[c.relPath!];
      (previous ? updates : creates).push({ op: previous ? "update" : "create", file: newRef(c), previous });
    } else if (c.status === "modified") {
      updates.push({ op: "update", file: newRef(c), previous: resources[c.relPath!], old: oldRef(c) });
    } else {
      const previous = resources[c.oldRelPath!] ?? resources[c.relPath!];
      updates.push({ op: "update", file: newRef(c), previous, old: oldRef(c), fromRelPath: c.oldRelPath });
    }
  }
  if (fullTree) {
    const present = new Set(changes.map((c) => c.relPath));
    for (const [relPath, previous] of Object.entries(resources)) {
      if (!present.has(relPath)) removes.push({ op: "remove", relPath, previous });
    }
  }
  return [...removes, ...creates, ...updates];
}
