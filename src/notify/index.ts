/**
 * Webhook notifications (`notify:` in the config; FetchIt has none).
 *
 * Public API for other modules:
 * - {@link notifyEvent}(event): send an event to the webhooks of the running
 *   config that want it. Never throws, never waits. The config reload code
 *   calls `notifyEvent({ event: "config-reload-rejected", summary: why })`
 *   when a new config is refused (the old one keeps running).
 * - {@link installNotifier}(config, log): `fetchit run` calls it at start and
 *   after each accepted reload; the previous webhooks finish in the background.
 * - {@link observeRuns}: the daemon observer that turns run results into events.
 */
import { hostname } from "node:os";
import { entryEvents, type NotifyEventName } from "../config/notify.ts";
import type { FetchitConfig } from "../config/types.ts";
import type { RunObserver } from "../daemon.ts";
import type { Logger } from "../log.ts";
import { VERSION } from "../version.ts";
import { RunEvents, type NotifyEvent } from "./events.ts";
import { Webhook, type WebhookOptions } from "./webhook.ts";

export type { NotifyEvent } from "./events.ts";

interface Subscriber {
  events: ReadonlySet<NotifyEventName>;
  hook: Webhook;
}

/** The webhooks of one config. */
export class Notifier {
  readonly subscribers: Subscriber[];

  constructor(
    config: Pick<FetchitConfig, "notify">,
    log: Logger,
    env: Record<string, string | undefined> = process.env,
    tuning: Pick<WebhookOptions, "retryDelaysMs" | "timeoutMs" | "maxQueue"> = {},
  ) {
    this.subscribers = (config.notify ?? []).map((entry, i) => {
      const authorization = entry.authEnv ? env[entry.authEnv] : undefined;
      if (entry.authEnv && !authorization) log.warn(`notify[${i}].authEnv: environment variable ${entry.authEnv} is not set; sending without Authorization`);
      return { events: new Set(entryEvents(entry)), hook: new Webhook({ url: entry.url, authorization, log, ...tuning }) };
    });
  }

  /** Queues `e` for every webhook that wants it. */
  send(e: NotifyEvent): void {
    const body = JSON.stringify({ event: e.event, host: hostname(), target: e.target, method: e.method, commit: e.commit, summary: e.summary, time: new Date().toISOString(), fetchit: VERSION });
    for (const s of this.subscribers) if (s.events.has(e.event)) s.hook.send(e.event, body);
  }

  /** Lets queued deliveries finish for up to `graceMs`, then drops the rest. */
  async close(graceMs?: number): Promise<void> {
    await Promise.all(this.subscribers.map((s) => s.hook.close(graceMs)));
  }
}

let active: Notifier | undefined;

/** Sends `e` to the running config's webhooks (if any). Never throws, never blocks. */
export function notifyEvent(e: NotifyEvent): void {
  try {
    active?.send(e);
  } catch {
    // a notification must never break the caller
  }
}

/** Makes the webhooks of `config` the active ones; the previous ones get a grace period in the background. */
export function installNotifier(config: Pick<FetchitConfig, "notify">, log: Logger, env?: Record<string, string | undefined>): Notifier {
  const previous = active;
  active = new Notifier(config, log, env);
  void previous?.close(10_000);
  return active;
}

/** Removes the active webhooks, letting their queued deliveries finish for up to `graceMs`. */
export async function closeNotifier(graceMs = 3_000): Promise<void> {
  const n = active;
  active = undefined;
  await n?.close(graceMs);
}

/** A daemon observer sending run events through {@link notifyEvent}. */
export function observeRuns(): RunObserver {
  const events = new RunEvents();
  return (job, result) => {
    for (const e of events.events(job, result)) notifyEvent(e);
  };
}
