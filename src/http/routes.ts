/**
 * The endpoint's routes: GET /healthz, GET /status, GET /metrics, POST /sync.
 * POST /sync needs `Authorization: Bearer TOKEN` when a token is configured
 * (compared in constant time); GETs are open (they reveal no secret).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { statusReport } from "../cli/status.ts";
import { matches, type Runnable } from "../daemon.ts";
import { runId, type RunTracker } from "../engine/metrics.ts";
import { runtimeSnapshot } from "../engine/runtime-file.ts";
import type { HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";
import { createStateStore } from "../state/store.ts";
import { health, type ScheduledJob } from "./health.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";

/** What the routes need of the daemon (src/daemon.ts's Daemon fits). */
export interface DaemonView {
  jobs: Runnable[];
  tasks: Runnable[];
  schedule(): ScheduledJob[];
  runNow(ids: string[]): Promise<void>;
}

export interface RouteDeps {
  daemon: () => DaemonView | undefined;
  tracker: RunTracker;
  fs: HostFs;
  stateDir: string;
  /** Bearer token for POST /sync; undefined = no auth. */
  token?: string;
  log: Logger;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body, null, 2) + "\n", { status, headers: { "content-type": "application/json", ...headers } });

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time check of `Authorization: Bearer …` (hashing first makes the lengths equal). */
export function authorized(header: string | null, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return timingSafeEqual(digest(m?.[1] ?? ""), digest(token)) && m !== null;
}

export async function route(req: Request, d: RouteDeps): Promise<Response> {
  const { pathname } = new URL(req.url);
  const daemon = d.daemon();
  const get = req.method === "GET" || req.method === "HEAD";
  if (pathname === "/healthz" && get) {
    const h = health(daemon?.schedule() ?? null, d.tracker);
    return json(h, h.status === "unhealthy" ? 503 : 200);
  }
  if (pathname === "/status" && get) {
    return json(await statusReport(d.fs, d.stateDir, runtimeSnapshot(d.tracker, daemon?.schedule() ?? [])));
  }
  if (pathname === "/metrics" && get) {
    const states = await createStateStore(d.fs, d.stateDir).list();
    const body = renderMetrics({ jobs: d.tracker.records(), states, rssBytes: process.memoryUsage().rss, startedAtMs: d.tracker.startedAt });
    return new Response(body, { headers: { "content-type": METRICS_CONTENT_TYPE } });
  }
  if (pathname === "/sync" && req.method === "POST") return sync(req, d, daemon);
  if (["/healthz", "/status", "/metrics", "/sync"].includes(pathname)) {
    return json({ error: `${req.method} is not allowed on ${pathname}` }, 405, { allow: pathname === "/sync" ? "POST" : "GET, HEAD" });
  }
  return json({ error: `no such endpoint: ${pathname} (try /healthz, /status, /metrics or POST /sync)` }, 404);
}

/** POST /sync?target=&method=&wait=true: runs the matching jobs now; 202 at once, or 200 with results when waiting. */
async function sync(req: Request, d: RouteDeps, daemon: DaemonView | undefined): Promise<Response> {
  if (d.token && !authorized(req.headers.get("authorization"), d.token)) {
    d.log.warn("POST /sync rejected: missing or wrong bearer token");
    return json({ error: "missing or wrong bearer token (Authorization: Bearer TOKEN)" }, 401, { "www-authenticate": 'Bearer realm="fetchit"' });
  }
  if (!daemon) return json({ error: "the scheduler is not running (starting, reloading or stopping); try again" }, 503);
  const q = new URL(req.url).searchParams;
  const filter = { target: q.get("target") ?? undefined, method: q.get("method") ?? undefined };
  const picked = [...daemon.jobs, ...daemon.tasks].filter((j) => matches(j, filter));
  if (!picked.length) return json({ error: `no method matches${filter.target ? ` target=${filter.target}` : ""}${filter.method ? ` method=${filter.method}` : ""}` }, 404);
  const running = new Set(daemon.schedule().filter((s) => s.running).map((s) => s.id));
  const ids = picked.map((j) => runId(j.key, j.kind));
  const triggered = picked.map((j, i) => ({ id: ids[i]!, target: j.key.target, kind: j.kind, method: j.key.method, alreadyRunning: running.has(ids[i]!) }));
  d.log.info("POST /sync: running now", { jobs: ids.length, ...filter });
  const done = daemon.runNow(ids);
  if (!/^(1|true|yes)$/i.test(q.get("wait") ?? "")) {
    done.catch((err) => d.log.error("POST /sync: run failed", { err }));
    return json({ triggered }, 202);
  }
  await done;
  const results = triggered.map((t) => {
    const r = d.tracker.get(t.id);
    return { ...t, result: r?.lastResult ?? null, fetchedHead: r?.fetchedHead ?? null, error: r?.lastResult === "failed" ? r.lastError : null };
  });
  return json({ results }, 200);
}
