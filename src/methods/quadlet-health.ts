/**
 * The quadlet method's health hook: the generated service of every quadlet
 * file the apply placed or changed must stay active through the window
 * (a .volume/.network/.image oneshot stays active after it ran) with
 * NRestarts unchanged (unit-health.ts). Other files (a .kube's YAML) are not
 * watched themselves.
 */
import type { QuadletMethod } from "../config/types.ts";
import { createSystemctl } from "../host/systemctl.ts";
import { isRoot } from "./quadlet-batch.ts";
import { quadletSuffix, serviceOf } from "./quadlet-units.ts";
import type { FileFailure, HealthWindow, MethodContext, Touched } from "./types.ts";
import { watchUnits } from "./unit-health.ts";

export async function quadletHealthy(ctx: MethodContext<QuadletMethod>, touched: Touched[], window: HealthWindow): Promise<FileFailure[]> {
  const units = new Map<string, string>();
  for (const t of touched) {
    const dest = t.resource.name;
    if (quadletSuffix(dest) === undefined) continue;
    const service = serviceOf(dest, (await ctx.fs.readFile(dest))?.toString("utf8") ?? "");
    if (service && !units.has(service)) units.set(service, t.path);
  }
  if (!units.size) return [];
  return watchUnits(createSystemctl(ctx.exec, isRoot(ctx.config) ? "system" : "user"), units, window, ctx.log);
}
