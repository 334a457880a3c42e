/**
 * Which run results are worth a webhook, as events: a new commit applied, a
 * failure (once per distinct failure, not on every retry of the same one),
 * drift repaired, a rollback (or a failed one). Pure apart from the per-job memory of the last failure.
 */
import type { NotifyEventName } from "../config/notify.ts";
import type { Runnable } from "../daemon.ts";
import type { RunResult } from "../engine/run-method.ts";
import { errorMessage } from "../errors.ts";
import { maskUrl } from "../log.ts";
import { IMAGES_TARGET, PRUNE_TARGET } from "../tasks/types.ts";

/** What the JSON body says, besides host, time and version. */
export interface NotifyEvent {
  event: NotifyEventName;
  /** Target name; "(global)"/"(images)" for tasks; absent for config events. */
  target?: string;
  /** `kind/name`, e.g. `raw/web`. */
  method?: string;
  /** Full commit sha, when there is one. */
  commit?: string;
  /** One line for a human. */
  summary: string;
}

const short = (sha?: string) => sha?.slice(0, 9);

/** One line describing the failures of a run: the first one, and how many more. */
export function failureSummary(result: RunResult): string {
  const [first, ...rest] = result.failures;
  if (!first) return "failed";
  const where = first.file ? `${first.file}: ` : "";
  const more = rest.length ? ` (and ${rest.length} more failure(s))` : "";
  return maskUrl(`${where}${errorMessage(first.error).split("\n")[0]}${more}`);
}

/** Turns run results into events; remembers each job's last failure so a failure repeating on every retry is sent once. */
export class RunEvents {
  private lastFailure = new Map<string, string>();

  events(job: Runnable, result: RunResult): NotifyEvent[] {
    const id = `${job.key.target}/${job.kind}/${job.key.method}`;
    const base = { target: job.key.target, method: `${job.kind}/${job.key.method}`, commit: result.commit };
    const out: NotifyEvent[] = [];
    const rb = result.rollback;
    if (rb && rb.outcome !== "not-possible") {
      this.lastFailure.delete(id);
      const what = `commit ${short(rb.from)} failed its health gate (${maskUrl(rb.reason.split("\n")[0]!)})`;
      return rb.outcome === "rolled-back"
        ? [{ ...base, event: "rolled_back", summary: `${what}; rolled back to ${short(rb.to)} and quarantined` }]
        : [{ ...base, event: "rollback_failed", summary: `${what}; rolling back to ${short(rb.to)} failed too; left as it is` }];
    }
    if (result.status === "failed") {
      const summary = failureSummary(result);
      const signature = `${result.commit ?? ""}\n${summary}`;
      if (this.lastFailure.get(id) !== signature) out.push({ ...base, event: "apply-failed", summary });
      this.lastFailure.set(id, signature);
      return out;
    }
    if (result.status !== "skipped") this.lastFailure.delete(id);
    // tasks (prune, image loaders, podmanAutoUpdate) have no commit; of their successes only a loaded image is news
    const isTask = job.key.target === PRUNE_TARGET || job.key.target === IMAGES_TARGET;
    if (result.status === "applied" && (!isTask || job.kind === "images")) {
      const what = isTask ? "image loaded" : `commit ${short(result.commit)} applied`;
      out.push({ ...base, event: "apply-succeeded", summary: `${what}; ${result.changed} change(s) on the host` });
    } else if (!isTask && result.changed > 0 && (result.status === "unchanged" || result.status === "skipped")) {
      out.push({ ...base, event: "drift-repaired", summary: `${result.changed} resource(s) recreated from commit ${short(result.commit)}` });
    }
    return out;
  }
}
