/**
 * What `fetchit run` attaches to a daemon for the outside world: webhooks
 * for run events, systemd's STATUS= line after each run, and the systemd
 * watchdog fed by the scheduler's heartbeat.
 */
import type { FetchitConfig } from "../config/types.ts";
import type { Daemon } from "../daemon.ts";
import { sdNotify } from "../host/notify.ts";
import { SchedulerHeartbeat, startWatchdog } from "../host/watchdog.ts";
import type { Logger } from "../log.ts";
import { installNotifier, observeRuns } from "./index.ts";
import { StatusLine } from "./sd-status.ts";

type Env = Record<string, string | undefined>;

/** Webhooks of `config` (made the active ones), run events to them, and STATUS= after each run when under systemd. */
export function attachRunHooks(daemon: Daemon, config: FetchitConfig, env: Env, log: Logger): void {
  installNotifier(config, log, env);
  daemon.observe(observeRuns());
  if (!env.NOTIFY_SOCKET) return;
  const status = new StatusLine();
  daemon.observe((job, result) => {
    status.record(job, result);
    sdNotify(`STATUS=${status.render(daemon.schedule().map((j) => j.id))}`, env);
  });
}

/** The systemd watchdog for whichever daemon `current()` returns (a no-op unless WatchdogSec= is set). */
export function startDaemonWatchdog(current: () => Daemon | undefined, env: Env, log: Logger): () => void {
  const heartbeat = new SchedulerHeartbeat();
  return startWatchdog({
    env,
    log,
    healthy: () => {
      const d = current();
      return d ? heartbeat.check(d, d.schedule()) : undefined;
    },
  });
}
