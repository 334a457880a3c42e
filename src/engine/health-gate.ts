/**
 * The health gate of one apply (docs/health.md): from the apply's last change,
 * watch what it created or replaced for the window (the method's `healthy`
 * hook) while the http probe, if any, waits for a 2xx; then run the command
 * gate. The first failure ends the watch early. [] = healthy.
 */
import { maskUrl, type Logger } from "../log.ts";
import type { Touched } from "../methods/index.ts";
import type { Failure } from "./apply-plan.ts";
import { methodContext, type EngineDeps } from "./context.ts";
import { sleep } from "../methods/health-window.ts";
import { describeCommand, probeHttp, runGateCommand } from "./health-probes.ts";
import type { MethodJob } from "./run-method.ts";

/** Waits the window (measured from `since`, the apply's last change), runs the method's healthy() hook and the command/http gates. [] = healthy. */
export async function runHealthGate(job: MethodJob, deps: EngineDeps, touched: Touched[], since: number, log: Logger): Promise<Failure[]> {
  const h = job.health;
  if (!h) return [];
  const probes = h.command !== undefined || h.http !== undefined;
  const watch = h.windowMs > 0 && touched.length > 0 && job.impl.healthy !== undefined;
  if (!watch && !probes) return [];
  const end = since + h.windowMs;
  const started = Date.now();
  log.info("health gate: watching what the apply changed", {
    window: `${h.windowMs / 1000}s`,
    watched: watch ? touched.length : 0,
    ...(h.http ? { http: maskUrl(h.http) } : {}),
    ...(h.command !== undefined ? { command: describeCommand(h.command) } : {}),
  });
  const abort = new AbortController();
  const ctx = methodContext(deps, job.key.target, job.config, log);
  const watching = (async (): Promise<Failure[]> => {
    if (!watch) return sleep(end - Date.now(), abort.signal).then(() => []);
    try {
      return await job.impl.healthy!(ctx, touched, { windowMs: h.windowMs, since, signal: abort.signal });
    } catch (error) {
      return [{ file: undefined, error }];
    }
  })().then((f) => {
    if (f.length) abort.abort(); // no need to wait for the http probe or the rest of the window
    return f;
  });
  const http = h.http ? probeHttp(h.http, end, h.windowMs, abort.signal) : Promise.resolve(undefined);
  const [watched, httpFailure] = await Promise.all([watching, http]);
  const failures: Failure[] = [...watched, ...(httpFailure ? [{ file: undefined, error: httpFailure }] : [])];
  if (!failures.length && h.command !== undefined) {
    await sleep(end - Date.now()); // the command runs once the window has passed
    const env = { FETCHIT_TARGET: job.key.target, FETCHIT_METHOD: `${job.kind}/${job.key.method}` };
    const err = await runGateCommand(deps.exec, h.command, h.commandTimeoutMs, env);
    if (err) failures.push({ file: undefined, error: err });
  }
  const ms = Date.now() - started;
  if (failures.length) log.warn("health gate failed", { failed: failures.length, ms });
  else log.info("health gate passed", { ms });
  return failures;
}
