/**
 * One webhook: a bounded queue of JSON bodies POSTed in order by a single
 * worker, each attempt with a timeout, retried with back-off, then dropped
 * with a warning. `send` only enqueues: a slow, failing or hanging receiver
 * never delays an apply. The Authorization value (from an env var) and URL
 * credentials never reach a log line.
 */
import { maskUrl, type Logger } from "../log.ts";

export interface WebhookOptions {
  url: string;
  /** Authorization header value, or none. */
  authorization?: string;
  log: Logger;
  /** Waits before the 2nd, 3rd… attempt; default 1 s, 5 s, 30 s (4 attempts in all). */
  retryDelaysMs?: readonly number[];
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Bodies waiting; beyond it the oldest is dropped with a warning. Default 100. */
  maxQueue?: number;
}

export const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000] as const;

/** A delivery that failed for good is logged; this tells why one attempt failed. */
async function attempt(url: string, body: string, headers: Record<string, string>, timeoutMs: number, abort: AbortSignal): Promise<string | undefined> {
  try {
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), abort]);
    const res = await fetch(url, { method: "POST", body, headers, signal, redirect: "manual" });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
  } catch (err) {
    const e = err as Error;
    return e.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : e.name === "AbortError" ? "aborted at shutdown" : e.message;
  }
}

export class Webhook {
  private queue: { body: string; event: string }[] = [];
  private worker: Promise<void> | undefined;
  private abort = new AbortController();
  private wake: (() => void) | undefined;
  /** Deliveries that succeeded / were dropped (for tests and the log). */
  delivered = 0;
  dropped = 0;

  constructor(private opts: WebhookOptions) {}

  /** Queues `body` (JSON text) for delivery; returns at once. */
  send(event: string, body: string): void {
    if (this.abort.signal.aborted) return;
    const max = this.opts.maxQueue ?? 100;
    if (this.queue.length >= max) {
      const old = this.queue.shift();
      this.dropped++;
      this.opts.log.warn("webhook queue full; dropping the oldest event", { url: maskUrl(this.opts.url), event: old?.event, queued: max });
    }
    this.queue.push({ body, event });
    this.worker ??= this.drain().finally(() => (this.worker = undefined));
  }

  /** Waits up to `graceMs` for queued deliveries (no new retries start after it), then aborts the rest. */
  async close(graceMs = 3_000): Promise<void> {
    const timer = setTimeout(() => this.stop(), graceMs);
    await this.worker;
    clearTimeout(timer);
    this.stop();
  }

  private stop(): void {
    this.abort.abort();
    this.wake?.();
    if (this.queue.length) this.opts.log.warn("fetchit is stopping; webhook events not delivered", { url: maskUrl(this.opts.url), events: this.queue.length });
    this.dropped += this.queue.length;
    this.queue = [];
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) await this.deliver(next.event, next.body);
  }

  private async deliver(event: string, body: string): Promise<void> {
    const { url, log } = this.opts;
    const delays = this.opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "fetchit" };
    if (this.opts.authorization) headers.authorization = this.opts.authorization;
    for (let i = 0; ; i++) {
      const problem = await attempt(url, body, headers, this.opts.timeoutMs ?? 10_000, this.abort.signal);
      if (!problem) {
        this.delivered++;
        log.debug("webhook delivered", { url: maskUrl(url), event, attempts: i + 1 });
        return;
      }
      const delay = delays[i];
      if (delay === undefined || this.abort.signal.aborted) {
        this.dropped++;
        log.warn("webhook delivery failed; event dropped", { url: maskUrl(url), event, attempts: i + 1, err: problem });
        return;
      }
      log.debug("webhook delivery failed; retrying", { url: maskUrl(url), event, attempt: i + 1, retryInMs: delay, err: problem });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => (clearTimeout(t), resolve());
      });
      this.wake = undefined;
    }
  }
}
