/** How a rollback shows: webhook events, the sd_notify STATUS line, /metrics and sync's line (pure logic). */
import { describe, expect, test } from "bun:test";
import { rollbackNote } from "../../src/cli/sync.ts";
import type { RunResult } from "../../src/engine/run-method.ts";
import { renderMetrics } from "../../src/http/metrics.ts";
import { RunEvents } from "../../src/notify/events.ts";
import { StatusLine } from "../../src/notify/sd-status.ts";
import { emptyState } from "../../src/state/store.ts";
import { parseExposition } from "../ops/exposition.ts";

const job = { key: { target: "t1", kind: "raw", method: "apps" }, kind: "raw" };
const C = "c".repeat(40);
const G = "a".repeat(40);
const reason = "raw/a.json: container a is not running (exited, exit code 3, 0 restart(s))";
const rolledBack: RunResult = {
  status: "failed", commit: C, changed: 2, failures: [{ file: "raw/a.json", error: new Error("container a is not running") }],
  rollback: { outcome: "rolled-back", from: C, to: G, reason },
};
const skippedQuarantined: RunResult = { status: "skipped", commit: C, changed: 0, failures: [], quarantined: { commit: C, reason } };

describe("rollback surfaces", () => {
  test("webhooks: rolled_back once, rollback_failed, nothing for the quarantined ticks after", () => {
    const ev = new RunEvents();
    const [e] = ev.events(job, rolledBack);
    expect(e).toMatchObject({ event: "rolled_back", commit: C, method: "raw/apps" });
    expect(e!.summary).toBe(`commit ccccccccc failed its health gate (${reason}); rolled back to aaaaaaaaa and quarantined`);
    expect(ev.events(job, skippedQuarantined)).toEqual([]);
    const failed = ev.events(job, { ...rolledBack, rollback: { ...rolledBack.rollback!, outcome: "failed" } });
    expect(failed.map((x) => x.event)).toEqual(["rollback_failed"]);
    // without a good commit there is nothing to roll back to: an ordinary apply-failed
    expect(ev.events(job, { ...rolledBack, rollback: { outcome: "not-possible", from: C, reason } }).map((x) => x.event)).toEqual(["apply-failed"]);
  });

  test("STATUS=: a rolled-back method counts as ok and is named with its quarantined commit, also on the skipped ticks after", () => {
    const line = new StatusLine();
    line.record(job, rolledBack, Date.parse("2024-05-01T10:00:00Z"));
    const ids = ["t1/raw/apps"];
    expect(line.render(ids)).toBe("1 method(s): 1 ok, 1 rolled back (t1/raw/apps: ccccccccc quarantined), last tick 10:00:00 UTC");
    const fresh = new StatusLine(); // a restarted daemon sees only the skipped runs
    fresh.record(job, skippedQuarantined, Date.parse("2024-05-01T10:00:05Z"));
    expect(fresh.render(ids)).toContain("1 rolled back (t1/raw/apps: ccccccccc quarantined)");
  });

  test("/metrics: fetchit_rollbacks_total and fetchit_quarantined from the state store", () => {
    const quarantined = { ...emptyState(job.key), rollbacks: 2, quarantined: { commit: C, reason, at: "2024-05-01T10:00:00.000Z" } };
    const clean = emptyState({ ...job.key, method: "other" });
    const samples = parseExposition(renderMetrics({ jobs: [], states: [quarantined, clean], rssBytes: 1, startedAtMs: 0 }));
    const pick = (name: string) => samples.filter((s) => s.name === name).map((s) => [s.labels.method, s.labels.commit, s.value]);
    expect(pick("fetchit_rollbacks_total")).toEqual([["apps", undefined, 2], ["other", undefined, 0]]);
    expect(pick("fetchit_quarantined")).toEqual([["apps", C, 1], ["other", "", 0]]);
  });

  test("sync's note says what was rolled back, to what and why", () => {
    expect(rollbackNote(rolledBack)).toBe(` (rolled back ccccccccc to aaaaaaaaa: ${reason}; it is quarantined until a new commit or \`fetchit retry\`)`);
    expect(rollbackNote(skippedQuarantined)).toContain("head ccccccccc is quarantined");
  });
});
