/**
 * Webhooks (`notify:`) against real local HTTP receivers (Bun.serve): retries
 * with back-off on a receiver failing twice, a hanging receiver timed out and
 * never delaying anything, the bounded queue, and `fetchit run` as a real
 * process sending apply-succeeded, apply-failed (once per failure),
 * drift-repaired and config-reload-rejected with the documented JSON body.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { Webhook } from "../../src/notify/webhook.ts";
import { harness, SLEEPER, targetConfig, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";

interface Received {
  path: string;
  body: Record<string, unknown>;
  auth: string | null;
  at: number;
}

/** /ok answers 204; /flaky 500 twice then 204; /hang never answers; everything is recorded. */
function startReceiver() {
  const got: Received[] = [];
  let flaky = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname;
      got.push({ path, body: (await req.json()) as Record<string, unknown>, auth: req.headers.get("authorization"), at: Date.now() });
      if (path === "/hang") return new Promise<Response>(() => {});
      if (path === "/flaky" && flaky++ < 2) return new Response("down", { status: 500 });
      return new Response(null, { status: 204 });
    },
  });
  return { got, url: (p: string) => `http://127.0.0.1:${server.port}${p}`, at: (p: string) => got.filter((g) => g.path === p), stop: () => server.stop(true) };
}

const lines: string[] = [];
const log = createLogger({ level: "debug", write: (l) => lines.push(l) });

describe("Webhook (one receiver)", () => {
  let rx: ReturnType<typeof startReceiver>;
  beforeAll(() => void (rx = startReceiver()));
  afterAll(() => rx.stop());

  test("a receiver failing twice gets the event on the third attempt, after the back-off", async () => {
    const hook = new Webhook({ url: rx.url("/flaky"), log, retryDelaysMs: [200, 400, 800] });
    const t0 = Date.now();
    hook.send("apply-succeeded", JSON.stringify({ n: 1 }));
    await waitFor("delivered", () => hook.delivered === 1, 10_000);
    const attempts = rx.at("/flaky");
    expect(attempts.length).toBe(3);
    expect(attempts[1]!.at - t0).toBeGreaterThanOrEqual(190);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(390);
    expect(hook.dropped).toBe(0);
  });

  test("a hanging receiver: send returns at once, each attempt times out, the event is dropped with a warning", async () => {
    const hook = new Webhook({ url: rx.url("/hang"), log, retryDelaysMs: [100], timeoutMs: 300 });
    const t0 = performance.now();
    hook.send("apply-failed", JSON.stringify({ n: 2 }));
    expect(performance.now() - t0).toBeLessThan(20);
    await waitFor("dropped", () => hook.dropped === 1, 10_000);
    expect(rx.at("/hang").length).toBe(2);
    expect(lines.some((l) => l.includes("webhook delivery failed; event dropped") && l.includes("no answer within 0.3 s"))).toBe(true);
  });

  test("the queue is bounded: the oldest events go first; close() drops what is left after the grace period", async () => {
    const hook = new Webhook({ url: rx.url("/hang"), log, retryDelaysMs: [], timeoutMs: 5_000, maxQueue: 2 });
    for (let i = 0; i < 5; i++) hook.send("apply-succeeded", JSON.stringify({ i }));
    expect(hook.dropped).toBe(2); // one in flight, two queued, two dropped
    const t0 = Date.now();
    await hook.close(200);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(hook.dropped).toBe(5);
  });

  test("URL credentials never reach the log", async () => {
    const secretUrl = rx.url("/hang").replace("http://", "http://user:s3cret@");
    const hook = new Webhook({ url: secretUrl, log, retryDelaysMs: [], timeoutMs: 100 });
    hook.send("apply-failed", "{}");
    await waitFor("dropped", () => hook.dropped === 1, 5_000);
    expect(lines.join("\n")).not.toContain("s3cret");
  });
});

describe("fetchit run sends its events", () => {
  let rx: ReturnType<typeof startReceiver>;
  let podman: TestPodman;
  let running: FetchitProcess | undefined;
  beforeAll(async () => {
    rx = startReceiver();
    podman = await sharedPodman();
    await podman.reset();
  });
  afterEach(async () => {
    await running?.stop("SIGKILL");
    running = undefined;
  });
  afterAll(() => rx.stop());

  const notify = (auth = true) =>
    `notify:\n  - url: ${rx.url("/ok")}\n${auth ? "    authEnv: HOOK_AUTH\n" : ""}  - url: ${rx.url("/hang")}\n  - url: ${rx.url("/flaky")}\n    events: [apply-succeeded]\n`;

  test("filetransfer: apply-succeeded (with auth, retried to the flaky one), a hanging hook blocks nothing, apply-failed once, config-reload-rejected", async () => {
    const remote = await createRemote({ "files/a.txt": "a\n" });
    const dest = join(tempDir("fetchit-hook-dest-"), "out");
    const methods = `    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * * *"\n`;
    const h = harness(undefined, targetConfig(remote.url, methods, notify()));
    const flags = h.flags().map((f) => (f === "warn" ? "debug" : f));
    const secret = "Bearer hook-secret-123";
    const t0 = Date.now();
    running = spawnFetchit(["run", ...flags], { HOOK_AUTH: secret });
    await waitFor("first apply", () => existsSync(join(dest, "a.txt")), 15_000);
    expect(Date.now() - t0).toBeLessThan(10_000); // the hanging hook did not hold the apply
    const ok = (await waitFor("apply-succeeded at /ok", () => rx.at("/ok").find((g) => g.body.event === "apply-succeeded")))!;
    expect(ok.body).toMatchObject({ event: "apply-succeeded", host: hostname(), target: "t1", method: "filetransfer/files", commit: await remote.head() });
    expect(String(ok.body.summary)).toContain("applied");
    expect(ok.auth).toBe(secret);
    expect(rx.at("/hang")[0]?.auth).toBeNull(); // the header goes only where authEnv is set

    // a second commit is applied while the hanging hook still holds its first event
    await remote.commit({ "files/b.txt": "b\n" });
    await waitFor("second apply", () => existsSync(join(dest, "b.txt")), 10_000);

    // a failing commit: the destination has a file where the repository has a directory
    writeFileSync(join(dest, "bad"), "a file on the host\n");
    const badCommit = await remote.commit({ "files/bad/x.txt": "x\n" });
    const failed = (await waitFor("apply-failed", () => rx.at("/ok").find((g) => g.body.event === "apply-failed")))!;
    expect(failed.body).toMatchObject({ target: "t1", method: "filetransfer/files", commit: badCommit });
    expect(String(failed.body.summary)).toContain("files/bad/x.txt");
    await Bun.sleep(3_000); // three more ticks fail the same way: still one event
    expect(rx.at("/ok").filter((g) => g.body.event === "apply-failed").length).toBe(1);
    expect(rx.at("/flaky").every((g) => g.body.event === "apply-succeeded")).toBe(true);

    // an invalid config on SIGHUP
    h.writeConfig(targetConfig(remote.url, methods.replace("schedule", "shedule"), notify()));
    running.proc.kill("SIGHUP");
    const rejected = (await waitFor("config-reload-rejected", () => rx.at("/ok").find((g) => g.body.event === "config-reload-rejected")))!;
    expect(String(rejected.body.summary)).toContain("shedule");

    // a valid reload that only changes the webhooks: the new list is used from then on
    const only = `notify:\n  - url: ${rx.url("/ok2")}\n    events: [apply-succeeded]\n`;
    h.writeConfig(targetConfig(remote.url, methods, only));
    running.proc.kill("SIGHUP");
    await waitFor("config reloaded", () => running!.output().includes("config reloaded"), 10_000);
    const fixed = await remote.commit({ "files/bad/x.txt": null, "files/c.txt": "c\n" });
    const viaNew = (await waitFor("apply-succeeded at /ok2", () => rx.at("/ok2").find((g) => g.body.commit === fixed)))!;
    expect(viaNew.body.event).toBe("apply-succeeded");
    expect(rx.at("/ok").some((g) => g.body.commit === fixed)).toBe(false);

    // the flaky hook got the first apply-succeeded after 2 failures (1 s and 5 s back-off)
    await waitFor("flaky delivered", () => rx.at("/flaky").length >= 3, 15_000);
    expect(await running.stop()).toBe(0);
    expect(running.output()).not.toContain("hook-secret-123");
    running = undefined;
  }, 60_000);

  test("raw: a container removed out of band is recreated and drift-repaired is sent", async () => {
    const spec = JSON.stringify({ Image: podman.image, Name: "hook-app", Command: SLEEPER });
    const remote = await createRemote({ "raw/app.json": spec });
    const methods = `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/2 * * * * *"\n`;
    const h = harness(podman, targetConfig(remote.url, methods, notify(false)));
    mkdirSync(h.stateDir, { recursive: true });
    running = spawnFetchit(["run", ...h.flags()], podman.env);
    await waitFor("apply-succeeded", () => rx.at("/ok").find((g) => g.body.method === "raw/apps" && g.body.event === "apply-succeeded"));
    await podman.cli(["rm", "-f", "-t", "0", "hook-app"]);
    const drift = (await waitFor("drift-repaired", () => rx.at("/ok").find((g) => g.body.event === "drift-repaired"), 20_000))!;
    expect(drift.body).toMatchObject({ target: "t1", method: "raw/apps", commit: await remote.head() });
    expect(String(drift.body.summary)).toContain("1 resource(s) recreated");
    expect(await running.stop()).toBe(0);
    running = undefined;
    await podman.reset();
  }, 60_000);
});
