/**
 * Signals from the first instant: `fetchit run` as a real process, stopped
 * (SIGTERM or SIGINT, some rounds after a SIGHUP) at random moments of its
 * start-up while it has a new commit to apply, many times. Every stop ends with exit 0, the lock free,
 * and state that agrees with the host; a final sync converges with nothing
 * duplicated.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, SLEEPER, targetConfig } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { withSharedPodman, type TestPodman } from "../support/podman.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";
import { handlersInstalled, readRecords } from "./power-cut-support.ts";

let podman: TestPodman;
let running: FetchitProcess | undefined;
withSharedPodman((p) => (podman = p));
afterEach(async () => {
  await running?.stop("SIGKILL");
  running = undefined;
});

const ROUNDS = 12;

test(`a stop at a random moment of start-up (${ROUNDS} times) ends with exit 0 and saved state that matches the host`, async () => {
  const spec = (v: number) => JSON.stringify({ Image: podman.image, Name: "early-app", Env: { V: String(v) }, Command: SLEEPER });
  const remote = await createRemote({ "raw/app.json": spec(0), "files/v.txt": "0\n" });
  const dest = join(tempDir("fetchit-early-"), "out");
  const methods =
    `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "* * * * * *"\n` +
    `    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * * *"\n`;
  const h = harness(podman, targetConfig(remote.url, methods));
  const handlerDelays: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const head = await remote.commit({ "raw/app.json": spec(round), "files/v.txt": `${round}\n` });
    const spawnedAt = Date.now();
    running = spawnFetchit(["run", ...h.flags()], podman.env);
    await handlersInstalled(running.proc.pid);
    handlerDelays.push(Date.now() - spawnedAt);
    // the handlers are in before any work: no lock taken yet (the old code installed them after the first runs began)
    expect(existsSync(join(h.stateDir, "fetchit.lock"))).toBe(false);
    // from "just after the handlers" to "the first apply is well under way"
    await Bun.sleep(round === 1 ? 0 : Math.floor(Math.random() * 3000));
    if (round % 3 === 0) {
      running.proc.kill("SIGHUP"); // a reload asked for during start-up (its default action would end the process: 129)
      await Bun.sleep(Math.floor(Math.random() * 1000));
    }
    const code = await running.stop(round % 2 ? "SIGTERM" : "SIGINT", 60_000);
    expect({ round, code, output: running.output() }).toEqual({ round, code: 0, output: expect.any(String) });
    running = undefined;
    expect(existsSync(join(h.stateDir, "fetchit.lock"))).toBe(false);
    const stateFiles = existsSync(join(h.stateDir, "state")) ? readdirSync(join(h.stateDir, "state")) : [];
    expect(stateFiles.filter((n) => n.includes(".tmp") || n.includes(".corrupt-"))).toEqual([]);
    // what the state says was applied is on the host
    const records = readRecords(h.stateDir);
    const raw = records.find((r) => r.kind === "raw");
    if (raw?.appliedCommit === head) {
      const c = JSON.parse(await podman.cli(["container", "inspect", "early-app"]))[0];
      expect(c.Config.Env).toContain(`V=${round}`);
    }
    const files = records.find((r) => r.kind === "filetransfer");
    if (files?.appliedCommit === head) expect(readFileSync(join(dest, "v.txt"), "utf8")).toBe(`${round}\n`);
  }
  console.log(`signal handlers in ${Math.min(...handlerDelays)}..${Math.max(...handlerDelays)} ms after spawn`);
  const { code } = await h.cli("sync");
  expect(code).toBe(0);
  expect((await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter(Boolean)).toEqual(["early-app"]);
  expect(readFileSync(join(dest, "v.txt"), "utf8")).toBe(`${ROUNDS}\n`);
}, 600_000);

test("fetchit sync stopped at random moments: never killed mid-run (exit 0, or its result once the runs in flight finished)", async () => {
  const spec = (v: number) => JSON.stringify({ Image: podman.image, Name: "early-sync", Env: { V: String(v) }, Command: SLEEPER });
  const remote = await createRemote({ "raw/app.json": spec(0) });
  const h = harness(podman, targetConfig(remote.url, `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "* * * * *"\n`));
  for (let round = 1; round <= 6; round++) {
    const head = await remote.commit({ "raw/app.json": spec(round) });
    const p = spawnFetchit(["sync", ...h.flags()], podman.env);
    await handlersInstalled(p.proc.pid);
    await Bun.sleep(Math.floor(Math.random() * 2500));
    const code = await p.stop("SIGTERM", 60_000);
    expect({ round, code, output: p.output() }).toEqual({ round, code: 0, output: expect.any(String) });
    expect(existsSync(join(h.stateDir, "fetchit.lock"))).toBe(false);
    const raw = readRecords(h.stateDir).find((r) => r.kind === "raw");
    if (raw?.appliedCommit === head) expect(JSON.parse(await podman.cli(["container", "inspect", "early-sync"]))[0].Config.Env).toContain(`V=${round}`);
  }
  expect((await h.cli("sync")).code).toBe(0);
  expect((await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter(Boolean)).toEqual(["early-sync"]);
}, 600_000);

test("a run that hangs (a git server that never answers): the first SIGTERM waits for it, a second one stops at once; plan stops at the first", async () => {
  const hung = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
  try {
    const h = harness(undefined, targetConfig(`http://127.0.0.1:${hung.port}/repo.git`, `    filetransfer:\n      - name: f\n        targetPath: files\n        destinationDirectory: /tmp/fetchit-never\n        schedule: "* * * * *"\n`));
    running = spawnFetchit(["run", ...h.flags()]);
    await handlersInstalled(running.proc.pid);
    await Bun.sleep(2000); // the first run is waiting on the server
    running.proc.kill("SIGTERM");
    await Bun.sleep(1500);
    expect(running.proc.exitCode).toBeNull(); // still waiting for the run in flight
    const code = await running.stop("SIGTERM", 10_000);
    expect(code).toBe(143);
    expect(running.output()).toContain("SIGTERM again: stopping at once");
    running = undefined;

    const plan = spawnFetchit(["plan", ...h.flags()]);
    await handlersInstalled(plan.proc.pid);
    await Bun.sleep(1500);
    const started = Date.now();
    expect(await plan.stop("SIGTERM", 10_000)).toBe(143);
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    hung.stop(true);
  }
}, 120_000);
