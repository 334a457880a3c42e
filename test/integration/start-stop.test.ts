/**
 * Signals from the first instant: `fetchit run` as a real process, stopped
 * (SIGTERM or SIGINT) at random moments of its start-up while it has a new
 * commit to apply, many times. Every stop ends with exit 0, the lock free,
 * and state that agrees with the host; a final sync converges with nothing
 * duplicated.
 */
import { afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, SLEEPER, targetConfig } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";
import { spawnFetchit, type FetchitProcess } from "../support/process.ts";
import { handlersInstalled, readRecords } from "./power-cut-support.ts";

let podman: TestPodman;
let running: FetchitProcess | undefined;
beforeAll(async () => {
  podman = await sharedPodman();
  await podman.reset();
}, 120_000);
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
