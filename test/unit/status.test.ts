import { describe, expect, test } from "bun:test";
import { toStatusEntry } from "../../src/cli/status.ts";
import { emptyState } from "../../src/state/store.ts";

describe("toStatusEntry", () => {
  test("a fresh record maps to nulls and empty lists", () => {
    expect(toStatusEntry(emptyState({ target: "t1", kind: "raw", method: "apps" }))).toEqual({
      target: "t1", kind: "raw", method: "apps",
      appliedCommit: null, appliedSubject: null, appliedAt: null,
      fetchedHead: null, lastRunAt: null, lastResult: null, nextRunAt: null, running: false,
      consecutiveFailures: 0, lastError: null, nextRetryAt: null, resources: [],
      quarantined: null, unhealthy: null, rollingBack: null, rollbacks: 0, waiting: null,
    });
  });

  test("a full record keeps every field; resources become a list with the file", () => {
    const entry = toStatusEntry({
      version: 1, target: "t1", kind: "filetransfer", method: "conf",
      appliedCommit: "c".repeat(40), appliedAt: "2024-05-01T12:00:00.000Z", appliedSubject: "tweak conf",
      resources: { "a.conf": { name: "/etc/app/a.conf", hash: "h1" }, "sub/b.conf": { name: "/etc/app/sub/b.conf", hash: "h2" } },
      lastError: { message: "disk full", at: "2024-05-01T12:05:00.000Z", commit: "d".repeat(40), retryable: true, files: ["files/x.conf"] },
      failures: 4, nextRetryAt: "2024-05-01T12:07:00.000Z",
    });
    expect(entry).toEqual({
      target: "t1", kind: "filetransfer", method: "conf",
      appliedCommit: "c".repeat(40), appliedSubject: "tweak conf", appliedAt: "2024-05-01T12:00:00.000Z",
      fetchedHead: null, lastRunAt: null, lastResult: null, nextRunAt: null, running: false,
      consecutiveFailures: 4,
      lastError: { message: "disk full", at: "2024-05-01T12:05:00.000Z", commit: "d".repeat(40), retryable: true, files: ["files/x.conf"] },
      nextRetryAt: "2024-05-01T12:07:00.000Z",
      resources: [
        { file: "a.conf", name: "/etc/app/a.conf", hash: "h1" },
        { file: "sub/b.conf", name: "/etc/app/sub/b.conf", hash: "h2" },
      ],
      quarantined: null, unhealthy: null, rollingBack: null, rollbacks: 0, waiting: null,
    });
  });

  test("a quarantined commit: commit, subject, reason and time; rollbacks counted", () => {
    const st = {
      ...emptyState({ target: "t", kind: "raw", method: "m" }), rollbacks: 2,
      quarantined: { commit: "b".repeat(40), subject: "bad", reason: "raw/a.json: container a is exited (exit code 3)", at: "2024-01-01T00:00:00.000Z" },
    };
    const e = toStatusEntry(st);
    expect(e.quarantined).toEqual({ commit: "b".repeat(40), subject: "bad", reason: "raw/a.json: container a is exited (exit code 3)", at: "2024-01-01T00:00:00.000Z" });
    expect(e.rollbacks).toBe(2);
  });

  test("a fetch error (no commit, no files) gets commit null and files []", () => {
    const st = { ...emptyState({ target: "t", kind: "raw", method: "m" }), failures: 1, lastError: { message: "unreachable", at: "2024-01-01T00:00:00.000Z", retryable: true } };
    expect(toStatusEntry(st).lastError).toEqual({ message: "unreachable", at: "2024-01-01T00:00:00.000Z", commit: null, retryable: true, files: [] });
  });

  test("the entry is plain JSON: every key present, even when null", () => {
    const json = JSON.parse(JSON.stringify(toStatusEntry(emptyState({ target: "t", kind: "raw", method: "m" }))));
    expect(Object.keys(json)).toEqual([
      "target", "kind", "method", "appliedCommit", "appliedSubject", "appliedAt", "fetchedHead", "lastRunAt", "lastResult", "nextRunAt", "running", "consecutiveFailures", "lastError", "nextRetryAt", "resources", "quarantined", "unhealthy", "rollingBack", "rollbacks", "waiting",
    ]);
  });
});
