/**
 * What "healthy" means for a systemd unit an apply started or restarted
 * (systemd and quadlet methods; docs/health.md): active through the window (a
 * oneshot may have finished, with Result=success), never failed, never in
 * auto-restart, NRestarts unchanged. One `systemctl show` for all units per
 * second; the journal is read only for a unit that failed.
 */
import { MethodError } from "../errors.ts";
import { describeState, type Systemctl, type UnitHealthState } from "../host/systemctl.ts";
import type { Logger } from "../log.ts";
import { sampleWindow } from "./health-window.ts";
import type { FileFailure, HealthWindow } from "./types.ts";

/** Why `now` (compared with `first`, the first sample of the window) is unhealthy, or undefined. Pure. */
export function judgeUnit(now: UnitHealthState, first: UnitHealthState | undefined, final: boolean): string | undefined {
  const u = `unit ${now.unit}`;
  if (now.activeState === "failed") return `${u} failed (${describeState(now)})`;
  if (now.subState === "auto-restart") return `${u} crashed and is waiting to be restarted (${describeState(now)})`;
  if (first && now.nRestarts > first.nRestarts) return `${u} restarted ${now.nRestarts - first.nRestarts} time(s) during the window (NRestarts=${now.nRestarts})`;
  if (now.activeState === "inactive") {
    if (now.type === "oneshot" && (now.result === "success" || now.result === "")) return undefined;
    return `${u} stopped (${describeState(now)})${now.type === "oneshot" ? "" : "; it should stay active"}`;
  }
  if (final && now.activeState !== "active") return `${u} is still ${now.activeState} at the end of the window (${describeState(now)})`;
  return undefined;
}

/**
 * Watches `units` (unit → repository file) until the window ends; returns the
 * failures of the first sample that finds any, with journal lines. Units a
 * timer, socket or path unit activates are left out (the apply did not start them).
 */
export async function watchUnits(sc: Systemctl, units: Map<string, string>, window: HealthWindow, log: Logger): Promise<FileFailure[]> {
  const first = new Map<string, UnitHealthState>();
  const names = [...units.keys()];
  return sampleWindow(window, async (final) => {
    const failures: FileFailure[] = [];
    for (const s of await sc.healthStates(names)) {
      if (!first.has(s.unit)) {
        first.set(s.unit, s);
        if (s.triggeredBy) log.debug("health gate: unit is activated by another unit; not watched", { unit: s.unit, by: s.triggeredBy });
      }
      if (first.get(s.unit)!.triggeredBy) continue;
      const why = judgeUnit(s, first.get(s.unit), final);
      if (!why) continue;
      const file = units.get(s.unit)!;
      const lines = await sc.journalTail(s.unit, 10);
      const journal = lines.length ? `; last journal lines:\n    ${lines.join("\n    ")}` : "";
      failures.push({ file, error: new MethodError(`health gate: ${why}${journal}`, file) });
    }
    return failures;
  });
}
