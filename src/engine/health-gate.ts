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
  const wait = since + h.windowMs - Date.now();
  if (wait > 0) await Bun.sleep(wait);
  const out: Failure[] = [];
  if (job.kind === "raw" && h.windowMs > 0) {
    for (const t of touched) {
      const c = await deps.podman.inspectContainer(t.resource.name);
      if (!c) out.push({ file: t.path, error: new Error(`container ${t.resource.name} is gone`) });
      else if (!c.State.Running) out.push({ file: t.path, error: new Error(`container ${t.resource.name} is ${c.State.Status} (exit code ${c.State.ExitCode})`) });
    }
  }
  if (h.command) {
    const [cmd, ...args] = typeof h.command === "string" ? ["/bin/sh", "-c", h.command] : h.command;
    const r = await deps.exec(cmd!, args, { timeoutMs: h.commandTimeoutMs });
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-5).join("\n");
    if (r.code !== 0) out.push({ file: undefined, error: new Error(`health command exited with code ${r.code}${tail ? `: ${tail}` : ""}`) });
  }
  log.debug("health gate done", { failures: out.length });
  return out;
}
