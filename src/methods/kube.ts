/**
 * kube: each Kubernetes YAML file is played with libpod's kube play. Every
 * pod carries fetchit's labels and a hash of the file (as data) and the play
 * options, so an unchanged file makes no Podman write. A changed file
 * replaces the pods it made (pods renamed inside the file included); a
 * deleted file has its pods removed. Volumes are never removed (as
 * `podman kube down`): a claim whose volume exists reuses it, data intact.
 * Pods are found by exact name in one listing and removed by id; a pod of the
 * same name that fetchit did not create is taken over with a warning, or
 * refused with `adopt: false`. terminationGracePeriodSeconds is honoured as
 * the stop timeout.
 */
import type { KubeMethod } from "../config/types.ts";
import { MethodError, PodmanApiError } from "../errors.ts";
import type { PlayKubeOptions, PlayKubeReport, PodListEntry } from "../podman/index.ts";
import type { ManagedResource } from "../state/store.ts";
import {
  claimNames, injectLabels, isPodOf, kubeHash, LABEL_RUN_ONCE, markRunOnce, markStopTimeout, parseKubeFile, renderKube, stopTimeoutOf,
  type KubeDoc, type KubeFile,
} from "./kube-yaml.ts";
import { checkNetwork, checkUserns, verifyPlay } from "./kube-verify.ts";
import { kubeHealthy } from "./kube-health.ts";
import { LABEL_FILE, LABEL_HASH, LABEL_METHOD, LABEL_OWNER, LABEL_TARGET } from "./raw.ts";
import type { DesiredFile, Method, MethodContext } from "./types.ts";

type Ctx = MethodContext<KubeMethod>;

interface Desired {
  kube: KubeFile;
  hash: string;
  opts: PlayKubeOptions;
}

/** The labels that select this (target, method); add `${LABEL_FILE}=<path>` for one file. */
export function methodLabels(ctx: Ctx): string[] {
  return [`${LABEL_OWNER}=fetchit`, `${LABEL_TARGET}=${ctx.target}`, `${LABEL_METHOD}=kube/${ctx.config.name}`];
}

/** Play options from the method entry; unset options are left out (so they do not change the hash). */
export function playOptions(config: KubeMethod): PlayKubeOptions {
  return {
    ...(config.network ? { network: config.network } : {}),
    ...(config.start === false ? { start: false } : {}),
    ...(config.userns ? { userns: config.userns } : {}),
  };
}

async function desired(ctx: Ctx, file: DesiredFile): Promise<Desired> {
  const kube = parseKubeFile((await file.content()).toString("utf8"), file.path);
  injectLabels(kube, {
    [LABEL_OWNER]: "fetchit",
    [LABEL_TARGET]: ctx.target,
    [LABEL_METHOD]: `kube/${ctx.config.name}`,
    [LABEL_FILE]: file.path,
  });
  markRunOnce(kube);
  const opts = playOptions(ctx.config);
  const hash = kubeHash(kube, opts);
  injectLabels(kube, { [LABEL_HASH]: hash }, false);
  markStopTimeout(kube);
  return { kube, hash, opts };
}

/** Running, or allowed to have finished (restartPolicy Never/OnFailure). */
const isUp = (pod: PodListEntry) => pod.Status === "Running" || pod.Labels[LABEL_RUN_ONCE] === "true";
const names = (r: ManagedResource | undefined) => new Set(r?.name.split(",").filter(Boolean) ?? []);
const isOurs = (ctx: Ctx, p: PodListEntry) =>
  p.Labels[LABEL_OWNER] === "fetchit" && p.Labels[LABEL_TARGET] === ctx.target && p.Labels[LABEL_METHOD] === `kube/${ctx.config.name}`;

/** The existing pods that applying `d` affects, from one unfiltered pod listing. */
function classify(ctx: Ctx, d: Desired, path: string, pods: PodListEntry[], previous?: ManagedResource) {
  const prev = names(previous);
  const mine = pods.filter((p) => isOurs(ctx, p) && p.Labels[LABEL_FILE] === path);
  const stale = pods.filter((p) => isOurs(ctx, p) && p.Labels[LABEL_FILE] !== path && prev.has(p.Name));
  const clashing = pods.filter((p) => !mine.includes(p) && !stale.includes(p) && isPodOf(d.kube, p.Name));
  const taken = clashing.find((p) => p.Labels[LABEL_OWNER] === "fetchit");
  if (taken) {
    const by = [LABEL_FILE, LABEL_TARGET, LABEL_METHOD].map((k) => `${k}=${taken.Labels[k] ?? "?"}`).join(", ");
    throw new MethodError(`pod ${taken.Name} already exists and is managed by fetchit for another file (${by}); pod names must be unique`, path);
  }
  return { mine, stale, foreign: clashing, prev };
}

function upToDate(d: Desired, c: ReturnType<typeof classify>, previous: ManagedResource | undefined, missingClaims: number): boolean {
  if (c.stale.length || c.foreign.length || missingClaims) return false;
  if (c.mine.length < d.kube.workloads) return false;
  if (previous?.hash === d.hash && [...c.prev].some((n) => !c.mine.some((m) => m.Name === n))) return false;
  const start = d.opts.start !== false;
  return c.mine.every((m) => m.Labels[LABEL_HASH] === d.hash && (!start || isUp(m)));
}

/** Claims whose volume already exists: left out of the play so the volume (and its data) is reused. */
async function existingClaims(ctx: Ctx, kube: KubeFile): Promise<Set<KubeDoc>> {
  const out = new Set<KubeDoc>();
  for (const doc of kube.docs) {
    if (doc.kind === "PersistentVolumeClaim" && (await ctx.podman.volumeExists(doc.name))) out.add(doc);
  }
  return out;
}

/** Removes pods by id (never by name: Podman would match an id prefix once the name is gone), each with its grace period. */
async function removePods(ctx: Ctx, pods: PodListEntry[], why: string, file: string): Promise<void> {
  await Promise.all(
    pods.map(async (pod) => {
      if (await ctx.podman.removePod(pod.Id, stopTimeoutOf(pod.Labels))) ctx.log.info(why, { pod: pod.Name, file });
    }),
  );
}

/** `pod web (containers web-app, web-db)`: how a take-over names what it replaces. */
const describePod = (p: PodListEntry) =>
  `pod ${p.Name} (containers ${p.Containers.filter((c) => c.Id !== p.InfraId).map((c) => c.Names).join(", ") || "none"}, id ${p.Id.slice(0, 12)})`;

/** Same-named pods fetchit did not create: refused with `adopt: false`, else taken over with a warning each. */
function takeOver(ctx: Ctx, foreign: PodListEntry[], path: string): void {
  if (!foreign.length) return;
  if (ctx.config.adopt === false) {
    throw new MethodError(
      `${foreign.map(describePod).join("; ")}: not created by fetchit; this method has adopt: false, so it is left alone. Remove or rename it, or set adopt: true to let fetchit replace it`,
      path,
    );
  }
  for (const pod of foreign) ctx.log.warn(`taking over ${describePod(pod)}: it was not created by fetchit and is replaced`, { pod: pod.Name, file: path });
}

/** Wraps a Podman failure as a failure of `path`, keeping whether a retry may help. */
async function onFile<T>(path: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PodmanApiError) throw new MethodError(`${what}: ${err.message}`, path, { cause: err, retryable: err.retryable });
    throw err;
  }
}

async function replace(ctx: Ctx, file: DesiredFile, d: Desired, c: ReturnType<typeof classify>, skip: Set<KubeDoc>): Promise<string[]> {
  await checkUserns(ctx.podman, d.opts, file.path);
  await checkNetwork(ctx.podman, d.opts, file.path);
  takeOver(ctx, c.foreign, file.path);
  await removePods(ctx, c.stale, "removed pod of the file's previous content", file.path);
  await removePods(ctx, c.mine, "removed pod to replace it", file.path);
  await removePods(ctx, c.foreign, "removed pod with a name this file uses", file.path);
  if (d.kube.workloads === 0 && claimNames(d.kube).length === skip.size) {
    if (!claimNames(d.kube).length) ctx.log.warn("no Pod, Deployment or PersistentVolumeClaim in the file: nothing to play", { file: file.path });
    return [];
  }
  const heavy = ctx.limitHeavy ?? (<T>(fn: () => Promise<T>) => fn());
  const report = await heavy(() => play(ctx, d, skip));
  return verifyPlay(ctx.podman, report, [...methodLabels(ctx), `${LABEL_FILE}=${file.path}`], d.opts, file.path);
}

/**
 * Plays the file without the claims in `skip`, and without ConfigMaps when no
 * pod uses them (Podman refuses those alone). Once more when a claimed volume
 * appeared meanwhile (another file claiming it, played at the same time):
 * Podman 4.3 refuses to create a volume that exists.
 */
async function play(ctx: Ctx, d: Desired, skip: Set<KubeDoc>, retried = false): Promise<PlayKubeReport> {
  const unused = d.kube.workloads ? [] : d.kube.docs.filter((doc) => doc.kind === "ConfigMap");
  try {
    return await ctx.podman.playKube(renderKube(d.kube, new Set([...skip, ...unused])), d.opts);
  } catch (err) {
    if (retried || !(err instanceof PodmanApiError) || !/volume .* already exists/.test(err.message)) throw err;
    return play(ctx, d, await existingClaims(ctx, d.kube), true);
  }
}

/** Repository paths whose pods belong to `relPath` (targetPath is a directory, or the file itself). */
function repoPaths(targetPath: string, relPath: string): string[] {
  const dir = targetPath === "." || targetPath === "" ? "" : targetPath.replace(/\/+$/, "") + "/";
  return targetPath.split("/").pop() === relPath ? [dir + relPath, targetPath] : [dir + relPath];
}

/**
 * The kube method. ManagedResource: `name` = the file's pod names, comma-separated
 * (empty for a file with only claims), `hash` = the hash label its pods carry.
 */
export const kube: Method<KubeMethod> = {
  kind: "kube",
  usesPodman: true,
  extensions: [".yaml", ".yml"],
  selfHealDefault: true,
  healthy: kubeHealthy,
  boundsHeavyWork: true,

  async identify(ctx, file) {
    const d = await desired(ctx, file);
    return { name: d.kube.podNames.join(","), hash: d.hash };
  },

  async apply(ctx, file, previous) {
    const d = await desired(ctx, file);
    return onFile(file.path, "kube play", async () => {
      const c = classify(ctx, d, file.path, await ctx.podman.listPods(), previous);
      const skip = await existingClaims(ctx, d.kube);
      if (upToDate(d, c, previous, claimNames(d.kube).length - skip.size)) {
        ctx.log.debug("pods already match the file", { file: file.path });
        return { resource: { name: c.mine.map((m) => m.Name).sort().join(","), hash: d.hash }, changed: false };
      }
      const pods = await replace(ctx, file, d, c, skip);
      ctx.log.info(c.mine.length ? "pods replaced" : "pods created", { file: file.path, pods: pods.join(",") || "(none)" });
      return { resource: { name: pods.join(","), hash: d.hash }, changed: true };
    });
  },

  async remove(ctx, previous, relPath) {
    const prev = names(previous);
    const paths = repoPaths(ctx.config.targetPath, relPath);
    await onFile(relPath, "kube down", async () => {
      const pods = await ctx.podman.listPods({ labels: methodLabels(ctx) });
      const gone = pods.filter((pod) => prev.has(pod.Name) || paths.includes(pod.Labels[LABEL_FILE] ?? ""));
      await removePods(ctx, gone, "pod removed (its volumes are kept)", relPath);
    });
  },

  async takeovers(ctx, resource) {
    const wanted = names(resource);
    return (await ctx.podman.listPods()).filter((p) => wanted.has(p.Name) && p.Labels[LABEL_OWNER] !== "fetchit").map(describePod);
  },

  async drifted(ctx, resources) {
    const pods = new Map((await ctx.podman.listPods({ labels: methodLabels(ctx) })).map((pod) => [pod.Name, pod]));
    const start = ctx.config.start !== false;
    return Object.entries(resources)
      .filter(([, r]) =>
        [...names(r)].some((n) => {
          const pod = pods.get(n);
          return !pod || pod.Labels[LABEL_HASH] !== r.hash || (start && !isUp(pod));
        }),
      )
      .map(([rel]) => rel);
  },
};
