/**
 * One owner per thing on the host: two methods or targets that would manage
 * the same container, pod, unit, quadlet file or destination file are
 * refused (easy to cause with templates). The one that recorded it first
 * keeps it; the other's file fails once per commit, naming both owners, so
 * they never fight tick after tick.
 */
import { MethodError } from "../errors.ts";
import type { DesiredFile, MethodContext } from "../methods/types.ts";
import type { ManagedResource, MethodState, StateStore } from "../state/store.ts";
import type { MethodJob } from "./run-method.ts";

/** A method's identity in {@link MethodJob.peers}. */
export const peerId = (target: string, kind: string, method: string): string => `${target}\n${kind}\n${method}`;

interface Owner {
  target: string;
  kind: string;
  method: string;
  file: string;
}

/** What a resource name claims: a host path (any method), else a name within its method kind (kube: one per pod). */
function claims(kind: string, r: ManagedResource): string[] {
  if (!r.name) return [];
  const names = kind === "kube" ? r.name.split(",").filter(Boolean) : [r.name];
  return names.map((n) => (n.startsWith("/") ? `path:${n}` : `${kind}:${n}`));
}

const what = (claim: string) => (claim.startsWith("path:") ? `file ${claim.slice(5)}` : `${claim.split(":")[0]} object "${claim.slice(claim.indexOf(":") + 1)}"`);

/** Everything the other methods' records claim (read once per apply, only when an apply has work). */
export async function othersClaims(job: MethodJob, state: StateStore): Promise<Map<string, Owner>> {
  const out = new Map<string, Owner>();
  let records: MethodState[];
  try {
    records = await state.list();
  } catch {
    return out; // a damaged record is handled where it is loaded; no claims from it
  }
  for (const st of records) {
    if (st.target === job.key.target && st.kind === job.kind && st.method === job.key.method) continue;
    if (job.peers && !job.peers.has(peerId(st.target, st.kind, st.method))) continue; // left the config: claims nothing
    for (const [file, r] of Object.entries(st.resources)) for (const c of claims(st.kind, r)) out.set(c, { target: st.target, kind: st.kind, method: st.method, file });
  }
  return out;
}

/** Throws when `file` would manage something another method already manages. */
export async function checkOwnership(job: MethodJob, ctx: MethodContext, file: DesiredFile, others: Map<string, Owner>): Promise<void> {
  if (!others.size) return;
  const mine = await job.impl.identify(ctx as never, file).catch(() => undefined); // a bad file fails in apply, with its own error
  if (!mine) return;
  for (const c of claims(job.kind, mine)) {
    const o = others.get(c);
    if (!o) continue;
    throw new MethodError(
      `would manage ${what(c)}, which target ${o.target} ${o.kind}/${o.method} already manages (${o.file}); one thing has one owner: rename it, or remove it from one of them`,
      file.path,
    );
  }
}
