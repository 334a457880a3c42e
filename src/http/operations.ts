/**
 * What `fetchit run` adds for operators: the run tracker (fed by the daemon's
 * run observer), the runtime file behind `fetchit status`, and the HTTP
 * endpoint when an address is set. One instance for the process: it follows
 * the current daemon across config reloads.
 */
import type { Daemon } from "../daemon.ts";
import { RunTracker, runId } from "../engine/metrics.ts";
import { runtimeSnapshot, runtimeWriter } from "../engine/runtime-file.ts";
import type { FetchitConfig } from "../config/types.ts";
import type { HostFs } from "../host/fs.ts";
import type { Logger } from "../log.ts";
import { listenSettings, startHttp, type HttpEndpoint } from "./server.ts";

export interface OperationsInput {
  config: FetchitConfig;
  stateDir: string;
  fs: HostFs;
  log: Logger;
  env: Record<string, string | undefined>;
  /** `fetchit run --listen`: overrides `listen.address`. */
  listen?: string;
  /** The daemon now running (undefined while none is). */
  daemon: () => Daemon | undefined;
}

export interface Operations {
  tracker: RunTracker;
  http?: HttpEndpoint;
  /** Subscribes to a daemon's runs (idempotent); call after each daemon starts. */
  attach(daemon: Daemon): void;
  /** Stops the endpoint and records the stop in the runtime file. */
  stop(): Promise<void>;
}

/** How often the current daemon is re-checked (a reload may replace it) and the runtime file refreshed when changed. */
const REFRESH_MS = 5_000;

export function startOperations(o: OperationsInput): Operations {
  const settings = listenSettings(o.listen, o.config.listen, o.env); // throws before anything starts
  const tracker = new RunTracker();
  const schedule = () => o.daemon()?.schedule() ?? [];
  const writer = runtimeWriter(o.fs, o.stateDir, () => runtimeSnapshot(tracker, schedule()), o.log);
  tracker.onChange = () => writer.touch();
  const attached = new WeakSet<Daemon>();
  const attach = (d: Daemon) => {
    if (attached.has(d)) return;
    attached.add(d);
    for (const j of [...d.jobs, ...d.tasks]) tracker.register(j.key, j.kind);
    d.observe((job, result) => {
      const id = runId(job.key, job.kind);
      tracker.finished(job.key, job.kind, result, d.schedule().find((s) => s.id === id)?.lastStart ?? null);
    });
    writer.touch();
  };
  let last = "";
  const refresh = setInterval(() => {
    const d = o.daemon();
    if (d) attach(d);
    const now = JSON.stringify({ ...runtimeSnapshot(tracker, schedule()), updatedAt: "" });
    if (now !== last) writer.touch();
    last = now;
  }, REFRESH_MS);
  refresh.unref?.();
  const http = settings ? startHttp(settings, { daemon: o.daemon, tracker, fs: o.fs, stateDir: o.stateDir, log: o.log }) : undefined;
  return {
    tracker,
    http,
    attach,
    async stop() {
      clearInterval(refresh);
      await http?.stop();
      const stopped = tracker.records().map((r) => ({ id: r.id, running: false, nextRun: null }));
      await writer.flush(runtimeSnapshot(tracker, stopped, Date.now()));
    },
  };
}
