/**
 * systemd's STATUS= line (shown by `systemctl status fetchit`): after each
 * run, one line summing up every scheduled method and task, e.g.
 * `12 methods: 11 ok, 1 failing (web/raw/app: image not found), last tick 10:02:03`;
 * a method that rolled back counts as ok (its last good commit runs) and is
 * named: `1 rolled back (web/raw/app: 1a2b3c4d5 quarantined)`.
 */
import type { Runnable } from "../daemon.ts";
import type { RunResult } from "../engine/run-method.ts";
import { failureSummary } from "./events.ts";

const id = (job: Runnable) => `${job.key.target}/${job.kind}/${job.key.method}`;
const MAX_REASON = 80;

/** Remembers the last result of each job and renders the status line. */
export class StatusLine {
  private last = new Map<string, { result: RunResult; at: number }>();

  record(job: Runnable, result: RunResult, at = Date.now()): void {
    // a skipped run (back-off, or a permanent failure waiting for a new commit) keeps the previous verdict
    if (result.status === "skipped" && this.last.has(id(job))) return void (this.last.get(id(job))!.at = at);
    this.last.set(id(job), { result, at });
  }

  /** The line for the jobs scheduled now (`current`: their ids); results of jobs no longer scheduled are forgotten. */
  render(current: string[]): string {
    for (const k of this.last.keys()) if (!current.includes(k)) this.last.delete(k);
    let ok = 0;
    const failing: string[] = [];
    const quarantined: string[] = [];
    let lastAt = 0;
    for (const [k, { result, at }] of this.last) {
      lastAt = Math.max(lastAt, at);
      const q = result.quarantined?.commit ?? (result.rollback?.outcome === "rolled-back" ? result.rollback.from : undefined);
      if (q) quarantined.push(`${k}: ${q.slice(0, 9)}`);
      if (q) ok++; // rolled back: the last good commit runs
      else if (result.status === "failed" || (result.status === "skipped" && result.failures.length)) failing.push(k + ": " + failureSummary(result));
      else ok++;
    }
    const pending = current.length - this.last.size;
    const parts = [`${ok} ok`];
    if (failing.length) {
      const first = failing[0]!.length > MAX_REASON ? failing[0]!.slice(0, MAX_REASON - 1) + "…" : failing[0]!;
      parts.push(`${failing.length} failing (${first}${failing.length > 1 ? ", …" : ""})`);
    }
    if (quarantined.length) parts.push(`${quarantined.length} rolled back (${quarantined[0]} quarantined${quarantined.length > 1 ? ", …" : ""})`);
    if (pending > 0) parts.push(`${pending} not run yet`);
    const tick = lastAt ? `, last tick ${new Date(lastAt).toISOString().slice(11, 19)} UTC` : "";
    return `${current.length} method(s): ${parts.join(", ")}${tick}`;
  }
}
