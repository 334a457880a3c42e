/**
 * The systemd method's health hook: every unit whose file or drop-in the
 * apply changed, and that the method starts (enable or restart set; not a
 * template, not one a timer/socket/path activates), must stay active through
 * the window with NRestarts unchanged (unit-health.ts).
 */
import type { SystemdMethod } from "../config/types.ts";
import { createSystemctl, isTemplateUnit } from "../host/systemctl.ts";
import { unitOfPlaced } from "./systemd-units.ts";
import type { FileFailure, HealthWindow, MethodContext, Touched } from "./types.ts";
import { watchUnits } from "./unit-health.ts";

export async function systemdHealthy(ctx: MethodContext<SystemdMethod>, touched: Touched[], window: HealthWindow): Promise<FileFailure[]> {
  if (!ctx.config.enable && !ctx.config.restart) return []; // files only placed: nothing was started
  const units = new Map<string, string>();
  for (const t of touched) {
    const { unit } = unitOfPlaced(t.resource.name);
    if (!isTemplateUnit(unit) && !units.has(unit)) units.set(unit, t.path);
  }
  if (!units.size) return [];
  return watchUnits(createSystemctl(ctx.exec, ctx.config.root ? "system" : "user"), units, window, ctx.log);
}
