/**
 * What one apply of the systemd method touched (noted by apply/remove, keyed
 * on the per-apply MethodContext) and the once-per-apply work done with it in
 * `finish`: enable (--no-reload), ONE daemon-reload, load check, start or
 * restart, then watch each started unit settle; a unit that fails is reported
 * against its file with the last lines of its journal.
 */
import type { SystemdMethod } from "../config/types.ts";
import { MethodError } from "../errors.ts";
import { createSystemctl, describeState, startFailed, type Systemctl, type UnitState } from "../host/systemctl.ts";
import type { FileFailure, MethodContext } from "./types.ts";
import { planUnit } from "./systemd-units.ts";

type Ctx = MethodContext<SystemdMethod>;

export interface TouchedUnit {
  /** Repository paths of the files of this unit in this apply (main file first). */
  files: string[];
  /** The unit file or a drop-in differs from what was applied before: restart it (with restart: true). */
  changed: boolean;
  /** The unit file itself (not only drop-ins) is in this apply. */
  hasMain: boolean;
  /** The unit file was not on the host before this apply: start it, nothing to restart. */
  created: boolean;
}

export interface Batch {
  sc: Systemctl;
  unitDir: string;
  touched: Map<string, TouchedUnit>;
  /** Units whose main file was deleted in this apply (already disabled and stopped). */
  removed: Set<string>;
  /** Something changed on disk: the manager must reload. */
  reload: boolean;
  /** Destination → repository path of the files applied so far (two files must not share a destination). */
  dests: Map<string, string>;
  /** Repository paths of files that are neither units nor drop-ins (warned about once, in finish). */
  skipped: string[];
}

const batches = new WeakMap<object, Batch>();

export function startBatch(ctx: Ctx, unitDir: string): Batch {
  const b: Batch = { sc: createSystemctl(ctx.exec, ctx.config.root ? "system" : "user"), unitDir, touched: new Map(), removed: new Set(), reload: false, dests: new Map(), skipped: [] };
  batches.set(ctx, b);
  return b;
}

export const batchOf = (ctx: Ctx): Batch | undefined => batches.get(ctx);

/** Notes that `file` (repository path) of `unit` was applied; `dropIn` files go after the main file. */
export function touch(b: Batch, unit: string, file: string, changed: boolean, dropIn: boolean, created = false): void {
  const t = b.touched.get(unit) ?? { files: [], changed: false, hasMain: false, created: false };
  t.created ||= created;
  if (dropIn) t.files.push(file);
  else t.files.unshift(file);
  t.hasMain ||= !dropIn;
  if (!dropIn) b.removed.delete(unit); // deleted under one path and added under another in the same commit
  t.changed ||= changed;
  b.touched.set(unit, t);
}

/** The failure message of a unit that did not come up, with its journal tail when readable. */
async function unitFailure(sc: Systemctl, unit: string, what: string, s: UnitState | undefined, cause?: unknown): Promise<MethodError> {
  const lines = await sc.journalTail(unit, 15);
  const state = s ? `: ${describeState(s)}` : "";
  const journal = lines.length
    ? `; last journal lines:\n    ${lines.join("\n    ")}`
    : `; no journal lines readable (see journalctl ${sc.scope === "user" ? "--user-unit" : "-u"} ${unit})`;
  const detail = cause instanceof Error ? `; ${cause.message}` : "";
  return new MethodError(`unit ${unit} ${what}${state}${detail}${journal}`, undefined, { cause });
}

/** The once-per-apply systemctl work; returns the failures of units, against their first file. */
export async function finishBatch(ctx: Ctx, b: Batch): Promise<FileFailure[]> {
  if (b.skipped.length) {
    const files = b.skipped.sort().join(", ");
    ctx.log.warn(`skipped files that are neither unit files nor drop-ins (a drop-in goes in a directory named after its unit, e.g. foo.service.d/10-override.conf; exclude other files with glob): ${files}`, { files });
  }
  const failures: FileFailure[] = [];
  const fail = (unit: string, error: unknown) => failures.push({ file: b.touched.get(unit)?.files[0] ?? unit, error });
  const units = [...b.touched.keys()].filter((u) => !b.removed.has(u));
  const plans = new Map(units.map((u) => [u, planUnit(u, b.touched.get(u)!, ctx.config)]));

  for (const u of units) {
    if (!plans.get(u)!.enable) continue;
    await b.sc.enable([u], { reload: false }).catch((err) => {
      fail(u, err);
      plans.delete(u);
    });
  }
  // Also after a crash between writing a file and reloading: systemd says the file changed on disk.
  const stale = async () => (await Promise.all(units.map((u) => b.sc.state(u).then((s) => s.needDaemonReload)))).some(Boolean);
  if (b.reload || (await stale())) {
    await b.sc.daemonReload();
    ctx.log.info("systemd reloaded", { manager: b.sc.scope, units: units.length, removed: b.removed.size });
  }

  const started: string[] = [];
  await Promise.all(
    units.map(async (u) => {
      const s = await b.sc.state(u);
      const plan = plans.get(u);
      if (s.loadState !== "loaded") {
        plans.delete(u);
        if (s.loadState === "not-found" && b.touched.get(u)!.hasMain) {
          return fail(u, new MethodError(`unit ${u} was placed in ${b.unitDir} but systemd does not see it after daemon-reload; is that directory in the ${b.sc.scope} manager's unit search path (systemd-analyze${b.sc.scope === "user" ? " --user" : ""} unit-paths)?`, undefined));
        }
        if (s.loadState === "not-found" && plan?.action !== "start" && plan?.action !== "restart") return;
        return fail(u, await unitFailure(b.sc, u, `could not be loaded by systemd (LoadState=${s.loadState || "unknown"})`, undefined));
      }
      if (!plan || plan.action === "none") return;
      if (plan.action === "start" && (s.activeState === "active" || s.activeState === "reloading")) return;
      // A unit a timer, socket or path unit activates is left to it: not started now, restarted only while running.
      if (s.triggeredBy && (plan.action === "start" || s.activeState !== "active")) return;
      try {
        await (plan.action === "restart" ? b.sc.restart([u]) : b.sc.start([u]));
        ctx.log.info(plan.action === "restart" ? "unit restarted" : "unit started", { unit: u });
        started.push(u);
      } catch (err) {
        fail(u, await unitFailure(b.sc, u, `failed to ${plan.action}`, await b.sc.state(u).catch(() => undefined), err));
      }
    }),
  );
  await Promise.all(
    started.map(async (u) => {
      const s = await b.sc.waitSettled(u);
      if (startFailed(s)) fail(u, await unitFailure(b.sc, u, "failed to start", s));
      else ctx.log.debug("unit settled", { unit: u, state: describeState(s), pid: s.mainPid });
    }),
  );
  return failures;
}
