/**
 * The podmanAutoUpdate task: Podman's own podman-auto-update.timer enabled
 * and started for the system manager (`root: true`) and/or the manager of
 * the user fetchit runs as (`user: true`), with systemctl on the host. With
 * `schedule`, a drop-in `podman-auto-update.timer.d/fetchit-schedule.conf`
 * sets OnCalendar= (a maintenance window); without it, fetchit's drop-in is
 * removed. Idempotent: runs at start and hourly, and changes something only
 * when the timer is not enabled and active or the drop-in differs.
 * FetchIt enabled the timer (and the service) once from a helper container
 * and left the schedule alone.
 */
import { join } from "node:path";
import type { PodmanAutoUpdate } from "../config/types.ts";
import { FetchitError } from "../errors.ts";
import { createSystemctl, defaultUnitDirectory, describeState, type SystemdScope } from "../host/systemctl.ts";
import { PRUNE_TARGET, type Task, type TaskContext, type TaskOutcome } from "./types.ts";

export const AUTO_UPDATE_TIMER = "podman-auto-update.timer";
/** fetchit's drop-in, relative to the unit directory. */
export const SCHEDULE_DROP_IN = `${AUTO_UPDATE_TIMER}.d/fetchit-schedule.conf`;

/** The drop-in text for an OnCalendar= expression (the empty assignment drops the vendor's schedule). */
export function scheduleDropIn(expr: string): string {
  return `# Written by fetchit from podmanAutoUpdate.schedule in its config; edit the config, not this file.\n[Timer]\nOnCalendar=\nOnCalendar=${expr}\n`;
}

export function createAutoUpdateTask(cfg: PodmanAutoUpdate): Task {
  return {
    kind: "podmanAutoUpdate",
    id: `${PRUNE_TARGET}/podmanAutoUpdate/podmanAutoUpdate`,
    key: { target: PRUNE_TARGET, kind: "podmanAutoUpdate", method: "podmanAutoUpdate" },
    schedule: "@hourly",
    run: (ctx) => runAutoUpdate(cfg, ctx),
  };
}

async function runAutoUpdate(cfg: PodmanAutoUpdate, ctx: TaskContext): Promise<TaskOutcome> {
  const scopes: SystemdScope[] = [...(cfg.root ? (["system"] as const) : []), ...(cfg.user ? (["user"] as const) : [])];
  const notes: string[] = [];
  for (const scope of scopes) {
    const note = await ensureTimer(scope, cfg.schedule, ctx);
    if (note) notes.push(note);
  }
  if (!notes.length) return { status: "unchanged", changed: 0 };
  return { status: "applied", changed: notes.length, note: notes.join("; ") };
}

/** Makes one manager's timer match; returns what changed, or undefined when it already matched. */
async function ensureTimer(scope: SystemdScope, schedule: string | undefined, ctx: TaskContext): Promise<string | undefined> {
  const key = scope === "system" ? "podmanAutoUpdate.root" : "podmanAutoUpdate.user";
  const who = scope === "system" ? "the system manager" : "this user's manager (systemctl --user)";
  const sc = createSystemctl(ctx.deps.exec, scope);
  const fs = ctx.deps.fs;
  const log = ctx.log.child({ manager: scope });
  const initial = await sc.state(AUTO_UPDATE_TIMER);
  if (initial.loadState === "not-found") {
    throw new FetchitError(`${key}: ${AUTO_UPDATE_TIMER} is not installed for ${who}; install Podman (it ships the timer) or remove ${key} from the config`);
  }
  const dropIn = join(defaultUnitDirectory(scope), SCHEDULE_DROP_IN);
  const want = schedule === undefined ? null : scheduleDropIn(schedule);
  const have = await fs.readFile(dropIn);
  let dropInChanged = false;
  if (want !== null && have?.toString() !== want) {
    const problem = await sc.calendarProblem(schedule!);
    if (problem) throw new FetchitError(`podmanAutoUpdate.schedule: ${JSON.stringify(schedule)} is not a systemd OnCalendar= expression (${problem}); see systemd.time(7), e.g. "Sun *-*-* 03:00"`);
    await fs.writeFileAtomic(dropIn, want, 0o644);
    log.info("auto-update schedule set", { dropIn, schedule });
    dropInChanged = true;
  } else if (want === null && have !== null) {
    await fs.remove(dropIn);
    await fs.removeEmptyDir(join(defaultUnitDirectory(scope), `${AUTO_UPDATE_TIMER}.d`));
    log.info("auto-update schedule drop-in removed (no schedule in the config)", { dropIn });
    dropInChanged = true;
  }
  if (dropInChanged) await sc.daemonReload();
  const enabled = await sc.isEnabled(AUTO_UPDATE_TIMER);
  const state = dropInChanged ? await sc.state(AUTO_UPDATE_TIMER) : initial;
  const changes: string[] = [];
  if (enabled !== "enabled" || state.activeState !== "active") {
    await sc.enable([AUTO_UPDATE_TIMER], { now: true });
    changes.push("enabled and started");
  } else if (dropInChanged) {
    await sc.restart([AUTO_UPDATE_TIMER]);
  }
  if (dropInChanged) changes.push(schedule === undefined ? "schedule drop-in removed" : `schedule ${schedule}`);
  if (!changes.length) return undefined;
  const after = await sc.state(AUTO_UPDATE_TIMER);
  if (after.activeState !== "active") {
    const journal = await sc.journalTail(AUTO_UPDATE_TIMER, 10);
    throw new FetchitError(`${key}: ${AUTO_UPDATE_TIMER} is ${describeState(after)} after enabling it${journal.length ? `; last journal lines:\n    ${journal.join("\n    ")}` : ""}`);
  }
  log.info(`${AUTO_UPDATE_TIMER} ${changes.join(", ")}`);
  return `${scope}: ${AUTO_UPDATE_TIMER} ${changes.join(", ")}`;
}
