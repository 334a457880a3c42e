/** The run tracker, the Prometheus exposition, healthz rules, listen addresses and the bearer check (pure logic). */
import { describe, expect, test } from "bun:test";
import { isLocal, listenIssues, parseListen } from "../../src/config/listen.ts";
import type { FetchitConfig } from "../../src/config/types.ts";
import { DURATION_BUCKETS, RunTracker } from "../../src/engine/metrics.ts";
import { health } from "../../src/http/health.ts";
import { escapeLabel, renderMetrics } from "../../src/http/metrics.ts";
import { authorized } from "../../src/http/routes.ts";
import { emptyState } from "../../src/state/store.ts";
import { parseExposition } from "../ops/exposition.ts";

const key = { target: "t1", kind: "raw", method: "apps" };

describe("RunTracker and /metrics", () => {
  test("counts runs by result, observes durations, keeps last success and error", () => {
    let now = 10_000;
    const t = new RunTracker(() => now);
    t.register(key, "raw");
    now = 10_300;
    t.finished(key, "raw", { status: "applied", commit: "a".repeat(40), failures: [] }, 10_000);
    now = 20_000;
    t.finished(key, "raw", { status: "failed", commit: "b".repeat(40), failures: [{ file: "raw/x.json", error: new Error("bad spec") }] }, 18_000);
    t.finished(key, "raw", { status: "skipped", failures: [] }, 20_000);
    const r = t.get("t1/raw/apps")!;
    expect(r.runs).toEqual({ applied: 1, unchanged: 0, skipped: 1, failed: 1 });
    expect(r.durationCount).toBe(2); // skipped runs are not observed
    expect(r.durationSum).toBeCloseTo(2.3);
    expect(r.lastSuccessAt).toBe(10_300);
    expect(r.lastError).toBe("raw/x.json: bad spec");
    expect(r.fetchedHead).toBe("b".repeat(40));
    expect(r.lastResult).toBe("skipped");
  });

  test("the exposition is well-formed, with every documented family and cumulative buckets", () => {
    const t = new RunTracker();
    t.finished(key, "raw", { status: "applied", commit: "a".repeat(40), failures: [] }, Date.now() - 700);
    t.finished({ target: 'we"ird\\name\n', kind: "filetransfer", method: "conf" }, "filetransfer", { status: "unchanged", failures: [] }, Date.now());
    const st = { ...emptyState(key), appliedCommit: "a".repeat(40), resources: { "a.json": { name: "a", hash: "h" }, "b.json": { name: "b", hash: "h" } } };
    const text = renderMetrics({ jobs: t.records(), states: [st], rssBytes: 12_345_678, startedAtMs: t.startedAt });
    const samples = parseExposition(text);
    const names = new Set(samples.map((s) => s.name));
    for (const n of [
      "fetchit_method_runs_total", "fetchit_method_failures_total", "fetchit_apply_duration_seconds_bucket", "fetchit_apply_duration_seconds_sum",
      "fetchit_apply_duration_seconds_count", "fetchit_last_success_timestamp_seconds", "fetchit_applied_commit_info", "fetchit_managed_resources",
      "fetchit_method_consecutive_failures", "fetchit_process_resident_memory_bytes", "fetchit_process_start_time_seconds",
    ]) expect(names.has(n)).toBe(true);
    const one = (name: string, labels: Record<string, string>) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(one("fetchit_method_runs_total", { target: "t1", result: "applied" })!.value).toBe(1);
    expect(one("fetchit_applied_commit_info", { commit: "a".repeat(40) })!.value).toBe(1);
    expect(one("fetchit_managed_resources", { target: "t1" })!.value).toBe(2);
    expect(one("fetchit_process_resident_memory_bytes", {})!.value).toBe(12_345_678);
    expect(one("fetchit_method_runs_total", { target: escapeLabel('we"ird\\name\n'), result: "unchanged" })!.value).toBe(1);
    const buckets = samples.filter((s) => s.name === "fetchit_apply_duration_seconds_bucket" && s.labels.target === "t1");
    expect(buckets.map((b) => b.labels.le)).toEqual([...DURATION_BUCKETS.map(String), "+Inf"]);
    expect(buckets.map((b) => b.value)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]); // 0.7 s: from le=1 on
  });

  test("a malformed line is caught by the checker (it can fail)", () => {
    expect(() => parseExposition("# TYPE x gauge\nx{a=\"b} 1\n")).toThrow("malformed");
    expect(() => parseExposition("y 1\n")).toThrow("no # TYPE");
  });
});

describe("healthz rules", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const job = (over: Partial<{ running: boolean; nextRun: Date | null; lastStart: number }> = {}) => ({ id: "t1/raw/apps", running: false, nextRun: new Date(now + 5000), ...over });
  test("no scheduler: unhealthy", () => expect(health(null, new RunTracker()).status).toBe("unhealthy"));
  test("never completed since start: unhealthy with the reason", () => {
    const h = health([job({ running: true, lastStart: now - 1000 })], new RunTracker(), now);
    expect(h.status).toBe("unhealthy");
    expect(h.reasons[0]).toContain("has not completed a run since fetchit started (first run in progress)");
  });
  test("completed: ok; failed last run: degraded (200) with the error", () => {
    const t = new RunTracker();
    t.finished(key, "raw", { status: "unchanged", failures: [] }, now - 10);
    expect(health([job()], t, now).status).toBe("ok");
    t.finished(key, "raw", { status: "failed", failures: [{ file: undefined, error: new Error("git unreachable") }] }, now - 10);
    expect(health([job()], t, now)).toMatchObject({ status: "degraded", failing: [{ id: "t1/raw/apps", error: "git unreachable" }] });
  });
  test("a run in flight past the threshold, or an overdue schedule: unhealthy", () => {
    const t = new RunTracker();
    t.finished(key, "raw", { status: "applied", failures: [] }, now - 10);
    expect(health([job({ running: true, lastStart: now - 20 * 60_000 })], t, now).reasons[0]).toContain("in progress for 1200 s (stuck?)");
    expect(health([job({ nextRun: new Date(now - 120_000) })], t, now).reasons[0]).toContain("did not start");
  });
});

describe("listen addresses and tokens", () => {
  test("parses HOST:PORT, [v6]:PORT and socket paths; rejects the rest", () => {
    expect(parseListen("127.0.0.1:9464")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 9464 });
    expect(parseListen("[::1]:80")).toEqual({ kind: "tcp", host: "::1", port: 80 });
    expect(parseListen("/run/fetchit.sock")).toEqual({ kind: "unix", path: "/run/fetchit.sock" });
    expect(parseListen("9464")).toContain("neither HOST:PORT");
    expect(parseListen("0.0.0.0:70000")).toContain("out of range");
    expect(isLocal({ kind: "tcp", host: "127.0.0.2", port: 1 })).toBe(true);
    expect(isLocal({ kind: "tcp", host: "0.0.0.0", port: 1 })).toBe(false);
  });
  test("a non-loopback address needs a token; a short token is refused", () => {
    const cfg = (listen: unknown) => ({ targetConfigs: [], listen }) as unknown as FetchitConfig;
    expect(listenIssues(cfg({ address: "0.0.0.0:9464" }))[0]!.path).toBe("listen.token");
    expect(listenIssues(cfg({ address: "0.0.0.0:9464", tokenEnv: "T" }))).toEqual([]);
    expect(listenIssues(cfg({ address: "127.0.0.1:9464", token: "short" }))[0]!.message).toContain("too short");
    expect(listenIssues(cfg({ address: "/run/x.sock" }))).toEqual([]);
  });
  test("bearer check: exact token only", () => {
    const token = "0123456789abcdef0123";
    expect(authorized(`Bearer ${token}`, token)).toBe(true);
    expect(authorized(`bearer ${token}`, token)).toBe(true);
    expect(authorized(`Bearer ${token}x`, token)).toBe(false);
    expect(authorized(token, token)).toBe(false);
    expect(authorized(null, token)).toBe(false);
    expect(authorized("Bearer ", token)).toBe(false);
  });
});
