/**
 * The raw method's health hook: each container the apply created or replaced
 * stays running through the window with no restart, its healthcheck (if any)
 * becomes healthy and never unhealthy; a container whose restart policy lets
 * it finish (Restart: no or on-failure) may exit, with code 0 only. One
 * label-filtered listing per second (container-health.ts).
 */
import type { RawMethod } from "../config/types.ts";
import type { ContainerListEntry } from "../podman/index.ts";
import { watchContainers, type WatchedContainer } from "./container-health.ts";
import { LABEL_KEEP_RUNNING, LABEL_METHOD, LABEL_TARGET } from "./raw.ts";
import type { FileFailure, HealthWindow, MethodContext, Touched } from "./types.ts";

/** The method's containers by name, from one listing. */
async function listed(ctx: MethodContext<RawMethod>): Promise<Map<string, ContainerListEntry>> {
  const labels = [`${LABEL_TARGET}=${ctx.target}`, `${LABEL_METHOD}=raw/${ctx.config.name}`];
  const list = await ctx.podman.listContainers({ all: true, labels });
  return new Map(list.flatMap((c) => c.Names.map((n): [string, ContainerListEntry] => [n.replace(/^\//, ""), c])));
}

export async function rawHealthy(ctx: MethodContext<RawMethod>, touched: Touched[], window: HealthWindow): Promise<FileFailure[]> {
  let pending: Map<string, ContainerListEntry> | undefined = await listed(ctx);
  const watched: WatchedContainer[] = touched.map((t) => ({
    name: t.resource.name,
    file: t.path,
    label: `container ${t.resource.name}`,
    mayExit: pending?.get(t.resource.name)?.Labels[LABEL_KEEP_RUNNING] === "false",
  }));
  const list = async () => {
    const m = pending ?? (await listed(ctx));
    pending = undefined;
    return m;
  };
  return watchContainers(ctx.podman, watched, list, window, ctx.log);
}
