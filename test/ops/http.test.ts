/**
 * The HTTP endpoint of a real `fetchit run` process: /healthz (200, 503 while
 * a method's first run hangs on an unresponsive git server, 200 "degraded"
 * once it fails), /status, /metrics (well-formed exposition), POST /sync
 * (runs now; waits with ?wait=true), bearer token (401 missing or wrong), TCP
 * and unix socket, and a non-loopback address without a token refused.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { StatusReport } from "../../src/cli/status.ts";
import { harness, targetConfig, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { freePort } from "../support/podman.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";
import { parseExposition } from "./exposition.ts";

let proc: FetchitProcess | undefined;
afterEach(async () => {
  await proc?.stop();
  proc = undefined;
});

const YEARLY = "0 0 1 1 *"; // runs at start and on POST /sync only
const ftMethod = (dest: string, name = "conf") =>
  `    filetransfer:\n      - name: ${name}\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "${YEARLY}"\n`;
const TOKEN = "s3cret-token-0123456789abcdef";

async function started(args: string[], env: Record<string, string> = {}) {
  proc = spawnFetchit(args, env);
  return proc;
}

const healthy = (base: string, init?: RequestInit) => waitFor("healthz 200", async () => (await fetch(`${base}/healthz`, init).catch(() => null))?.status === 200);

test("TCP on loopback without a token: healthz, status, metrics, POST /sync runs now and applies the new commit", async () => {
  const remote = await createRemote({ "files/a.conf": "a=1\n" });
  const dest = tempDir("fetchit-http-");
  const h = harness(undefined, targetConfig(remote.url, ftMethod(dest)));
  const base = `http://127.0.0.1:${await freePort()}`;
  await started(["run", "--listen", base.slice("http://".length), ...h.flags()]);
  await healthy(base);

  const hz = await fetch(`${base}/healthz`);
  expect(await hz.json()).toEqual({ status: "ok", reasons: [], failing: [], methods: 1 });

  const st = await fetch(`${base}/status`);
  expect(st.headers.get("content-type")).toBe("application/json");
  const status = (await st.json()) as StatusReport;
  expect(Object.keys(status)).toEqual(["stateDir", "daemon", "methods"]);
  expect(status.daemon).toMatchObject({ running: true, pid: proc!.proc.pid });
  expect(status.methods[0]).toMatchObject({ target: "t1", appliedCommit: await remote.head(), lastResult: "applied", running: false });
  const cli = JSON.parse((await h.cli("status", "--json")).out.join("\n")) as StatusReport;
  expect(Object.keys(cli.methods[0]!)).toEqual(Object.keys(status.methods[0]!));

  const metrics = await fetch(`${base}/metrics`);
  expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const samples = parseExposition(await metrics.text());
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const m = { target: "t1", kind: "filetransfer", method: "conf" };
  expect(value("fetchit_method_runs_total", { ...m, result: "applied" })).toBe(1);
  expect(value("fetchit_applied_commit_info", { ...m, commit: await remote.head() })).toBe(1);
  expect(value("fetchit_managed_resources", m)).toBe(1);
  expect(value("fetchit_apply_duration_seconds_count", m)).toBe(1);
  expect(value("fetchit_last_success_timestamp_seconds", m)).toBeGreaterThan(Date.now() / 1000 - 60);
  expect(value("fetchit_process_resident_memory_bytes")).toBeGreaterThan(1_000_000);

  const next = await remote.commit({ "files/a.conf": "a=2\n" }, "bump");
  const sync = await fetch(`${base}/sync?wait=true`, { method: "POST" });
  expect(sync.status).toBe(200);
  expect(await sync.json()).toEqual({
    results: [{ id: "t1/filetransfer/conf", target: "t1", kind: "filetransfer", method: "conf", alreadyRunning: false, result: "applied", fetchedHead: next, error: null }],
  });
  expect(readFileSync(join(dest, "a.conf"), "utf8")).toBe("a=2\n");

  const queued = await fetch(`${base}/sync?method=filetransfer/conf`, { method: "POST" });
  expect(queued.status).toBe(202);
  expect(((await queued.json()) as { triggered: unknown[] }).triggered).toHaveLength(1);
  expect((await fetch(`${base}/sync?target=nope`, { method: "POST" })).status).toBe(404);
  expect((await fetch(`${base}/sync`)).status).toBe(405);
  expect((await fetch(`${base}/nope`)).status).toBe(404);
  expect(await proc!.stop()).toBe(0);
  proc = undefined;
}, 60_000);

test("bearer token from tokenEnv: POST /sync without or with a wrong token is 401, the right one is accepted; the token is never logged", async () => {
  const remote = await createRemote({ "files/a.conf": "a=1\n" });
  const port = await freePort();
  const h = harness(undefined, `${targetConfig(remote.url, ftMethod(tempDir("fetchit-http-")))}listen:\n  address: 127.0.0.1:${port}\n  tokenEnv: FETCHIT_TEST_TOKEN\n`);
  const base = `http://127.0.0.1:${port}`;
  await started(["run", ...h.flags().map((f) => (f === "warn" ? "debug" : f))], { FETCHIT_TEST_TOKEN: TOKEN });
  await healthy(base).catch((err) => {
    throw new Error(`${err.message}\n${proc!.output()}`);
  }); // GETs need no token
  const post = (auth?: string) => fetch(`${base}/sync`, { method: "POST", headers: auth ? { authorization: auth } : {} });
  const missing = await post();
  expect(missing.status).toBe(401);
  expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="fetchit"');
  expect((await post(`Bearer ${TOKEN}x`)).status).toBe(401);
  expect((await post(`Basic ${btoa(`u:${TOKEN}`)}`)).status).toBe(401);
  expect((await post(`Bearer ${TOKEN}`)).status).toBe(202);
  expect((await fetch(`${base}/status`)).status).toBe(200);
  await proc!.stop();
  expect(proc!.output()).toContain("POST /sync rejected: missing or wrong bearer token");
  expect(proc!.output()).not.toContain(TOKEN);
  proc = undefined;
}, 60_000);

test("unix socket: mode 0600, every endpoint, removed at stop", async () => {
  const remote = await createRemote({ "files/a.conf": "a=1\n" });
  const sock = join(tempDir("fetchit-http-sock-"), "http.sock");
  const h = harness(undefined, `${targetConfig(remote.url, ftMethod(tempDir("fetchit-http-")))}listen:\n  address: ${sock}\n`);
  await started(["run", ...h.flags()]);
  const init = { unix: sock } as RequestInit;
  await healthy("http://localhost", init);
  expect(statSync(sock).mode & 0o777).toBe(0o600);
  expect(((await (await fetch("http://localhost/status", init)).json()) as StatusReport).methods).toHaveLength(1);
  parseExposition(await (await fetch("http://localhost/metrics", init)).text());
  expect((await fetch("http://localhost/sync?wait=1", { ...init, method: "POST" })).status).toBe(200);
  expect(await proc!.stop()).toBe(0);
  proc = undefined;
  expect(existsSync(sock)).toBe(false);
}, 60_000);

test("healthz: 503 with the reason while a method's first run hangs; 200 degraded once that run failed", async () => {
  const conns: { end(): void }[] = [];
  const hung = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => void conns.push(s), data() {} } });
  const remote = await createRemote({ "files/a.conf": "a=1\n" });
  const port = await freePort();
  const hungTarget = `  - name: hung\n    url: http://127.0.0.1:${hung.port}/repo.git\n    branch: main\n${ftMethod(tempDir("fetchit-http-"), "stuck")}`;
  const h = harness(undefined, `${targetConfig(remote.url, ftMethod(tempDir("fetchit-http-")))}${hungTarget}`);
  const base = `http://127.0.0.1:${port}`;
  await started(["run", "--listen", `127.0.0.1:${port}`, ...h.flags()]);
  await waitFor("the working method's first run", async () => {
    const r = await fetch(`${base}/healthz`).catch(() => null);
    const reasons = r ? ((await r.json()) as { reasons: string[] }).reasons : [];
    return reasons.length === 1 && reasons[0]!.startsWith("hung/"); // first runs are staggered: either may be the one still running
  });
  const res = await fetch(`${base}/healthz`);
  expect(res.status).toBe(503);
  expect(await res.json()).toEqual({
    status: "unhealthy",
    reasons: ["hung/filetransfer/stuck: has not completed a run since fetchit started (first run in progress)"],
    failing: [],
    methods: 2,
  });
  for (const c of conns) c.end(); // the git server hangs up: the run fails, the tick completed
  hung.stop(true);
  await waitFor("healthz 200", async () => (await fetch(`${base}/healthz`)).status === 200);
  const body = (await (await fetch(`${base}/healthz`)).json()) as { status: string; failing: { id: string; error: string }[] };
  expect(body.status).toBe("degraded");
  expect(body.failing.map((f) => f.id)).toEqual(["hung/filetransfer/stuck"]);
}, 60_000);

test("a non-loopback --listen without a token is refused before anything runs; a busy port is reported", async () => {
  const h = harness(undefined, targetConfig("file:///nonexistent", ftMethod(tempDir("fetchit-http-"))));
  const open = spawnFetchit(["run", "--listen", "0.0.0.0:9", ...h.flags()]);
  expect(await open.proc.exited).toBe(2);
  expect(open.output()).toContain("--listen: 0.0.0.0:9 is not a loopback address, so POST /sync needs a token");
  const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const clash = spawnFetchit(["run", "--listen", `127.0.0.1:${busy.port}`, ...h.flags()]);
  expect(await clash.proc.exited).toBe(1);
  expect(clash.output()).toContain(`listen: cannot listen on 127.0.0.1:${busy.port}`);
  busy.stop(true);
  expect(existsSync(join(h.stateDir, "fetchit.lock"))).toBe(false);
}, 30_000);
