/**
 * Volume snapshots (`snapshotVolumes: true`, raw and kube): before an apply
 * replaces or removes a container or pod, the named volumes it mounts are
 * exported into `<stateDir>/snapshots/<volume>/<ms>-<commit>.tar` (the
 * libpod API where the server has volume export, else `podman volume
 * export`); a rollback of that commit imports them back. The last
 * `keepSnapshots` (default 3) are kept per volume. An export is refused when
 * the free space is less than the volume's size.
 */
import { dirname, join } from "node:path";
import { rename } from "node:fs/promises";
import { errorMessage, MethodError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ManagedResource } from "../state/store.ts";
import type { Failure } from "./apply-plan.ts";
import type { EngineDeps } from "./context.ts";
import type { Op } from "./plan.ts";
import type { MethodJob } from "./run-method.ts";

const enc = encodeURIComponent;
const tag = (commit: string) => commit.slice(0, 12);
const root = (deps: EngineDeps) => join(dirname(deps.state.dir), "snapshots");
const enabled = (job: MethodJob) => job.config.snapshotVolumes === true && (job.kind === "raw" || job.kind === "kube");

/** Exports the volumes of everything `ops` replaces or removes, tagged with the commit being applied. Throws when one cannot be saved. */
export async function takeSnapshots(job: MethodJob, deps: EngineDeps, ops: Op[], commit: string, log: Logger): Promise<void> {
  if (!enabled(job)) return;
  const names = new Set<string>();
  for (const op of ops) if (op.op !== "create" && op.previous) for (const v of await volumesOf(job, deps, op.previous)) names.add(v);
  const keep = typeof job.config.keepSnapshots === "number" ? job.config.keepSnapshots : 3;
  for (const v of names) await snapshot(job, deps, v, commit, keep, log);
}

/**
 * Imports the snapshots taken before `bad` was applied. The bad version's containers or pods that
 * mount such a volume (maybe crash-looping: a restart policy would start them again) are removed
 * first; the rollback's plan recreates them from G. Other running users are stopped; their ids are
 * returned so {@link restartStopped} starts them again afterwards.
 */
export async function restoreSnapshots(job: MethodJob, deps: EngineDeps, bad: string, ops: Op[], log: Logger): Promise<{ failures: Failure[]; stopped: string[] }> {
  const out = { failures: [] as Failure[], stopped: [] as string[] };
  if (!enabled(job)) return out;
  const found = new Map<string, string>();
  for (const dir of await deps.fs.readDir(root(deps))) {
    const file = (await deps.fs.readDir(join(root(deps), dir))).filter((f) => f.endsWith(`-${tag(bad)}.tar`)).sort().at(-1);
    if (file) found.set(decodeURIComponent(dir), deps.fs.resolve(join(root(deps), dir, file)));
  }
  if (!found.size) return out;
  try {
    for (const op of ops) {
      if (op.op === "create" || !op.previous || !(await volumesOf(job, deps, op.previous)).some((v) => found.has(v))) continue;
      // Looked up by exact name, removed by id (a name could also be another object's id prefix).
      if (job.kind === "kube") {
        for (const name of op.previous.name.split(",").filter(Boolean)) {
          const pod = await deps.podman.findPod(name);
          if (pod) await deps.podman.removePod(pod.Id, 5);
        }
      } else {
        const c = await deps.podman.findContainer(op.previous.name);
        if (c) await deps.podman.removeContainer(c.Id, { force: true, timeoutSeconds: 5 });
      }
    }
  } catch (error) {
    out.failures.push({ file: undefined, error });
    return out;
  }
  for (const [volume, path] of found) {
    try {
      const users = await deps.podman.request<{ Id: string }[] | null>("GET", "/containers/json", { query: { filters: JSON.stringify({ volume: [volume] }) } });
      for (const c of users ?? []) {
        await deps.podman.stopContainer(c.Id, 5);
        out.stopped.push(c.Id);
      }
      if (!(await deps.podman.importVolume(volume, path))) await podmanCli(deps, ["volume", "import", volume, path]);
      log.warn("volume restored from the snapshot taken before the rolled-back commit", { volume, snapshot: path });
    } catch (error) {
      out.failures.push({ file: undefined, error: new MethodError(`restoring volume ${volume} from ${path}: ${errorMessage(error)}`, undefined) });
    }
  }
  return out;
}

/** Starts the containers {@link restoreSnapshots} stopped that still exist (not replaced by the rollback). */
export async function restartStopped(deps: EngineDeps, ids: string[]): Promise<void> {
  for (const id of ids) if (await deps.podman.inspectContainer(id)) await deps.podman.startContainer(id);
}

/** Named volumes mounted by a raw container or by the containers of kube pods ("a,b"); looked up by exact name, read by id. */
async function volumesOf(job: MethodJob, deps: EngineDeps, res: ManagedResource): Promise<string[]> {
  const ids: string[] = [];
  for (const name of res.name.split(",").filter(Boolean)) {
    if (job.kind === "kube") {
      const pod = await deps.podman.findPod(name).catch(() => null);
      const p = pod ? await deps.podman.request<{ Containers?: { Id: string }[] }>("GET", `/pods/${pod.Id}/json`).catch(() => undefined) : undefined;
      ids.push(...(p?.Containers ?? []).map((c) => c.Id));
    } else {
      const c = await deps.podman.findContainer(name).catch(() => null);
      if (c) ids.push(c.Id);
    }
  }
  const out = new Set<string>();
  for (const id of ids) {
    const info = await deps.podman.request<{ Mounts?: { Type: string; Name?: string }[] }>("GET", `/containers/${id}/json`).catch(() => undefined);
    for (const m of info?.Mounts ?? []) if (m.Type === "volume" && m.Name) out.add(m.Name);
  }
  return [...out];
}

async function snapshot(job: MethodJob, deps: EngineDeps, volume: string, commit: string, keep: number, log: Logger): Promise<void> {
  const info = await deps.podman.inspectVolume(volume);
  if (!info) return;
  const dir = join(root(deps), enc(volume));
  await deps.fs.mkdirp(dir, 0o700);
  // Applied again after a crash or a retry: the first snapshot (the data before this commit ever ran) is the one to keep.
  if ((await deps.fs.readDir(dir)).some((f) => f.endsWith(`-${tag(commit)}.tar`))) return;
  const where = deps.fs.resolve(dir);
  const [size, free] = [await bytes(deps, "du", ["-sb", info.Mountpoint]), await bytes(deps, "df", ["-B1", "--output=avail", where])];
  if (size !== undefined && free !== undefined && free < size) {
    throw new MethodError(
      `snapshotVolumes: volume ${volume} holds ${size} bytes but ${where} has only ${free} free; nothing was replaced. Free some space, or set snapshotVolumes: false on ${job.kind} "${job.key.method}"`,
      undefined,
    );
  }
  const file = join(where, `${Date.now()}-${tag(commit)}.tar`);
  const part = `${file}.part`;
  if (!(await deps.podman.exportVolume(volume, part))) await podmanCli(deps, ["volume", "export", volume, "--output", part]);
  await rename(part, file); // a snapshot cut short by a crash never has the .tar name
  log.info("volume snapshot taken", { volume, snapshot: file, bytes: size });
  const all = (await deps.fs.readDir(dir)).filter((f) => f.endsWith(".tar")).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await deps.fs.remove(join(dir, old));
}

/** The first number a `du`/`df` prints (df: after its header); undefined when the tool fails (the space check is then skipped). */
async function bytes(deps: EngineDeps, cmd: string, args: string[]): Promise<number | undefined> {
  const r = await deps.exec(cmd, args).catch(() => undefined);
  const n = r?.code === 0 ? /(\d+)/.exec(r.stdout.split("\n").filter((l) => /^\s*\d/.test(l))[0] ?? "")?.[1] : undefined;
  return n === undefined ? undefined : Number(n);
}

async function podmanCli(deps: EngineDeps, args: string[]): Promise<void> {
  const r = await deps.exec("podman", args, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new MethodError(`podman ${args.slice(0, 2).join(" ")} failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" ")}`, undefined);
}
