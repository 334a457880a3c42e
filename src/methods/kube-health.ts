/**
 * The kube method's health hook: every container (infra excluded) of every
 * pod the apply played stays running through the window with no restart; a
 * pod with restartPolicy Never or OnFailure may finish, exit code 0 only.
 * Liveness probes are Podman healthchecks, judged like raw's. One
 * label-filtered container listing per second (containers carry their pod's
 * labels); a pod with start: false is not watched.
 */
import type { KubeMethod } from "../config/types.ts";
import { MethodError } from "../errors.ts";
import type { ContainerListEntry } from "../podman/index.ts";
import { watchContainers, type WatchedContainer } from "./container-health.ts";
import { methodLabels } from "./kube.ts";
import { LABEL_RUN_ONCE } from "./kube-yaml.ts";
import type { FileFailure, HealthWindow, MethodContext, Touched } from "./types.ts";

type Ctx = MethodContext<KubeMethod>;

/** The non-infra containers of `pods`, by name, from one listing. */
async function listed(ctx: Ctx, pods: Map<string, string>): Promise<Map<string, ContainerListEntry>> {
  const list = await ctx.podman.listContainers({ all: true, labels: methodLabels(ctx) });
  const ours = list.filter((c) => !c.IsInfra && c.PodName !== undefined && pods.has(c.PodName));
  return new Map(ours.flatMap((c) => c.Names.map((n): [string, ContainerListEntry] => [n.replace(/^\//, ""), c])));
}

export async function kubeHealthy(ctx: Ctx, touched: Touched[], window: HealthWindow): Promise<FileFailure[]> {
  if (ctx.config.start === false) return [];
  const pods = new Map<string, string>(); // pod name → repository file
  for (const t of touched) for (const pod of t.resource.name.split(",").filter(Boolean)) pods.set(pod, t.path);
  if (!pods.size) return [];
  let pending: Map<string, ContainerListEntry> | undefined = await listed(ctx, pods);
  const present = new Set([...pending.values()].map((c) => c.PodName));
  const gone = [...pods].filter(([pod]) => !present.has(pod));
  if (gone.length) {
    return gone.map(([pod, file]) => ({ file, error: new MethodError(`health gate: pod ${pod} has no containers left (removed during the window?)`, file) }));
  }
  const watched: WatchedContainer[] = [...pending].map(([name, c]) => ({
    name,
    file: pods.get(c.PodName!)!,
    label: `pod ${c.PodName}: container ${name}`,
    mayExit: c.Labels[LABEL_RUN_ONCE] === "true",
  }));
  const list = async () => {
    const m = pending ?? (await listed(ctx, pods));
    pending = undefined;
    return m;
  };
  return watchContainers(ctx.podman, watched, list, window, ctx.log);
}
