/**
 * `fetchit status`: the documented JSON shape from the state store alone (no
 * daemon), then with a running `fetchit run` process (last run, result,
 * fetched head, next run from its runtime file), then after it stopped.
 * Real git remotes and filetransfer; no Podman needed.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { StatusReport } from "../../src/cli/status.ts";
import { harness, targetConfig, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";

const ENTRY_KEYS = [
  "target", "kind", "method", "appliedCommit", "appliedSubject", "appliedAt", "fetchedHead", "lastRunAt", "lastResult", "nextRunAt", "running",
  "consecutiveFailures", "lastError", "nextRetryAt", "resources", "quarantined", "unhealthy", "rollingBack", "rollbacks", "waiting",
];

const ftMethod = (dest: string, schedule = "*/2 * * * * *") =>
  `    filetransfer:\n      - name: conf\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "${schedule}"\n`;

let proc: FetchitProcess | undefined;
afterEach(async () => {
  await proc?.stop();
  proc = undefined;
});

const statusJson = async (h: ReturnType<typeof harness>) => {
  const r = await h.cli("status", "--json");
  expect(r.code).toBe(0);
  return JSON.parse(r.out.join("\n")) as StatusReport;
};

test("without a daemon: applied commit and subject, failures, resources; run fields null", async () => {
  const remote = await createRemote({ "files/a.conf": "a=1\n", "files/b.conf": "b=1\n" });
  const dest = tempDir("fetchit-status-");
  const h = harness(undefined, `${targetConfig(remote.url, ftMethod(dest))}  - name: broken\n    url: file://${join(dest, "missing")}\n    branch: main\n${ftMethod(join(dest, "x"))}`);
  expect((await h.cli("status")).out).toEqual(["daemon: not running", `no state in ${h.stateDir} yet: no method has run (start with \`fetchit run\` or \`fetchit sync\`)`]);
  const head = await remote.commit({ "files/c.conf": "c=1\n" }, "add c");
  expect((await h.cli("sync")).code).toBe(1); // the broken target fails
  const report = await statusJson(h);
  expect(Object.keys(report)).toEqual(["stateDir", "daemon", "methods"]);
  expect(report.daemon).toBeNull();
  const byTarget = Object.fromEntries(report.methods.map((m) => [m.target, m]));
  expect(Object.keys(byTarget.t1!)).toEqual(ENTRY_KEYS);
  expect(byTarget.t1).toMatchObject({
    kind: "filetransfer", method: "conf", appliedCommit: head, appliedSubject: "add c", fetchedHead: null, lastRunAt: null, lastResult: null,
    nextRunAt: null, running: false, consecutiveFailures: 0, lastError: null, nextRetryAt: null,
  });
  expect(byTarget.t1!.resources.map((r) => r.file)).toEqual(["a.conf", "b.conf", "c.conf"]);
  expect(byTarget.t1!.resources[0]!.name).toBe(join(dest, "a.conf"));
  expect(byTarget.broken).toMatchObject({ appliedCommit: null, consecutiveFailures: 1, resources: [] });
  expect(byTarget.broken!.lastError!.message).toContain("missing");
  const text = (await h.cli("status")).out;
  expect(text[1]).toMatch(/^TARGET\s+METHOD\s+APPLIED\s+SUBJECT\s+HEAD\s+LAST RUN\s+RESULT\s+NEXT RUN\s+FAILS\s+RES\s+LAST ERROR$/);
  expect(text.find((l) => l.startsWith("t1 "))).toContain(`${head.slice(0, 9)}  add c`);
});

test("with a running daemon: last run, result, fetched head and next run; after it stops: daemon not running, no next run", async () => {
  const remote = await createRemote({ "files/a.conf": "a=1\n" });
  const dest = tempDir("fetchit-status-");
  const h = harness(undefined, targetConfig(remote.url, ftMethod(dest)));
  proc = spawnFetchit(["run", ...h.flags()]);
  const runtime = join(h.stateDir, "runtime.json");
  await waitFor("the runtime file with a finished run", () => existsSync(runtime) && JSON.parse(readFileSync(runtime, "utf8")).jobs[0]?.lastRunAt);
  let report = await statusJson(h);
  expect(report.daemon).toMatchObject({ running: true, pid: proc.proc.pid, stoppedAt: null });
  const m = report.methods[0]!;
  expect(Object.keys(m)).toEqual(ENTRY_KEYS);
  expect(m).toMatchObject({ target: "t1", appliedCommit: await remote.head(), fetchedHead: await remote.head(), consecutiveFailures: 0 });
  expect(["applied", "unchanged"]).toContain(m.lastResult!);
  expect(Date.parse(m.nextRunAt!)).toBeGreaterThan(Date.parse(m.lastRunAt!));
  expect(Date.parse(m.nextRunAt!) - Date.now()).toBeLessThan(5_000);

  // A new commit: the daemon applies it and the fetched head follows.
  const next = await remote.commit({ "files/a.conf": "a=2\n" }, "bump a");
  await waitFor("the new head in status", async () => (await statusJson(h)).methods[0]!.fetchedHead === next);
  expect((await statusJson(h)).methods[0]).toMatchObject({ appliedCommit: next, appliedSubject: "bump a" });
  const text = (await h.cli("status")).out;
  expect(text[0]).toStartWith(`daemon: running (pid ${proc.proc.pid}`);

  expect(await proc.stop()).toBe(0);
  proc = undefined;
  report = await statusJson(h);
  expect(report.daemon!.running).toBe(false);
  expect(report.daemon!.stoppedAt).not.toBeNull();
  expect(report.methods[0]).toMatchObject({ nextRunAt: null, running: false, fetchedHead: next });
  expect(report.methods[0]!.lastRunAt).not.toBeNull();
  expect((await h.cli("status")).out[0]).toStartWith("daemon: not running (last seen ");
}, 60_000);
