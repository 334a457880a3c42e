/**
 * The health gate after an apply. MINIMAL version from the rollback branch
 * (window wait, raw containers still running, the `command` gate); the gates
 * branch owns this file and replaces it at merge with the per-method hooks.
 */
import type { Logger } from "../log.ts";
import type { Touched } from "../methods/types.ts";
import type { Failure } from "./apply-plan.ts";
import type { EngineDeps } from "./context.ts";
import type { MethodJob } from "./run-method.ts";

/** Waits the window (measured from `since`), runs the method's checks and the command gate. [] = healthy. */
export async function runHealthGate(job: MethodJob, deps: EngineDeps, touched: Touched[], since: number, log: Logger): Promise<Failure[]> {
  const h = job.health;
  if (!h || (h.windowMs === 0 && !h.command) || (!touched.length && !h.command)) return [];
  const out: Failure[] = [];
  const bad = new Map<string, Failure & { final?: boolean }>();
  // Poll the raw containers twice a second through the window: one not running, or restarted, fails.
  do {
    if (job.kind === "raw" && h.windowMs > 0) {
      for (const t of touched) if (!bad.get(t.relPath)?.final) await checkContainer(deps, t, bad);
    }
    await Bun.sleep(Math.max(0, Math.min(500, since + h.windowMs - Date.now())));
  } while (Date.now() < since + h.windowMs);
  out.push(...[...bad.values()].map(({ file, error }) => ({ file, error })));
  if (h.command) {
    const [cmd, ...args] = typeof h.command === "string" ? ["/bin/sh", "-c", h.command] : h.command;
    const r = await deps.exec(cmd!, args, { timeoutMs: h.commandTimeoutMs });
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-5).join("\n");
    if (r.code !== 0) out.push({ file: undefined, error: new Error(`health command exited with code ${r.code}${tail ? `: ${tail}` : ""}`) });
  }
  log.debug("health gate done", { failures: out.length });
  return out;
}

/** Not running: final. Running after restarts: recorded, but a later look may catch it exited (with its exit code). */
async function checkContainer(deps: EngineDeps, t: Touched, bad: Map<string, Failure & { final?: boolean }>): Promise<void> {
  const c = await deps.podman.inspectContainer(t.resource.name);
  const restarts = (c as { RestartCount?: number } | null)?.RestartCount ?? 0;
  if (!c) bad.set(t.relPath, { file: t.path, error: new Error(`container ${t.resource.name} is gone`), final: true });
  else if (!c.State.Running) {
    bad.set(t.relPath, { file: t.path, error: new Error(`container ${t.resource.name} is not running (${c.State.Status}, exit code ${c.State.ExitCode}, ${restarts} restart(s))`), final: true });
  } else if (restarts > 0) {
    bad.set(t.relPath, { file: t.path, error: new Error(`container ${t.resource.name} restarted ${restarts} time(s)`) });
  }
}
