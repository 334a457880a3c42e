/**
 * The quadlet method's health hook: the generated service of every quadlet
 * file the apply placed or changed must stay active through the window
 * (a .volume/.network/.image oneshot stays active after it ran) with
 * NRestarts unchanged (unit-health.ts). For another file (a .kube's YAML, an
 * environment file), the services of the placed quadlet files next to it that
 * name it, which the apply restarted (restart not false).
 */
import { posix } from "node:path";
import type { QuadletMethod } from "../config/types.ts";
import { createSystemctl } from "../host/systemctl.ts";
import { isRoot } from "./quadlet-batch.ts";
import { namesFile, quadletSuffix, serviceOf } from "./quadlet-units.ts";
import type { FileFailure, HealthWindow, MethodContext, Touched } from "./types.ts";
import { watchUnits } from "./unit-health.ts";

export async function quadletHealthy(ctx: MethodContext<QuadletMethod>, touched: Touched[], window: HealthWindow): Promise<FileFailure[]> {
  const units = new Map<string, string>();
  const text = async (path: string) => (await ctx.fs.readFile(path))?.toString("utf8") ?? "";
  for (const t of touched) {
    const dest = t.resource.name;
    if (quadletSuffix(dest) !== undefined) {
      const service = serviceOf(dest, await text(dest));
      if (service && !units.has(service)) units.set(service, t.path);
      continue;
    }
    if (ctx.config.restart === false) continue;
    for (const entry of await ctx.fs.readDir(posix.dirname(dest))) {
      const path = posix.join(posix.dirname(dest), entry);
      if (quadletSuffix(entry) === undefined || !namesFile(await text(path), posix.basename(dest))) continue;
      const service = serviceOf(path, await text(path));
      if (service && !units.has(service)) units.set(service, t.path);
    }
  }
  if (!units.size) return [];
  return watchUnits(createSystemctl(ctx.exec, isRoot(ctx.config) ? "system" : "user"), units, window, ctx.log);
}
