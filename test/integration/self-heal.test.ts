/** Self-heal: containers removed, stopped or replaced out of band come back within one run, with one Podman call when nothing drifted. */
import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import type { EngineDeps } from "../../src/engine/context.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { runMethod } from "../../src/engine/run-method.ts";
import { hostExec } from "../../src/host/exec.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { silentLogger } from "../../src/log.ts";
import { createPodmanClient, type PodmanClient } from "../../src/podman/index.ts";
import { createStateStore } from "../../src/state/store.ts";
import { harness, SLEEPER, targetConfig } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { type TestPodman, withSharedPodman } from "../support/podman.ts";

let podman: TestPodman;
withSharedPodman((p) => void (podman = p));

const spec = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ Image: podman.image, Name: name, Command: SLEEPER, ...extra });
const rawMethod = (extra = "") => `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/5 * * * * *"\n${extra}`;
const state = async (name: string) => {
  try {
    const c = JSON.parse(await podman.cli(["container", "inspect", name]))[0];
    return { id: c.Id as string, running: c.State.Running as boolean, cmd: (c.Config.Cmd ?? []).join(" ") as string };
  } catch {
    return null;
  }
};
const files = () => ({
  "raw/removed.json": spec("removed"),
  "raw/stopped.json": spec("stopped"),
  "raw/replaced.json": spec("replaced"),
  "raw/untouched.json": spec("untouched"),
  "raw/oneshot.json": spec("oneshot", { Command: ["true"], Restart: "no" }),
});

test("removed, stopped and replaced containers are recreated by the next run; one-shot and untouched ones are left alone", async () => {
  const remote = await createRemote(files());
  const h = harness(podman, targetConfig(remote.url, rawMethod()));
  expect((await h.cli("sync")).code).toBe(0);
  const before = { untouched: await state("untouched"), oneshot: await state("oneshot") };
  await podman.cli(["rm", "-f", "removed"]);
  await podman.cli(["stop", "-t", "0", "stopped"]);
  await podman.cli(["rm", "-f", "replaced"]);
  await podman.cli(["run", "-d", "--name", "replaced", podman.image, "sh", "-c", "trap 'exit 0' TERM; sleep 999 & wait"]);
  expect((await h.cli("sync")).code).toBe(0); // one run, no new commit
  for (const name of ["removed", "stopped", "replaced", "untouched"]) expect((await state(name))?.running).toBe(true);
  expect((await state("replaced"))?.cmd).toContain("sleep 3600");
  expect((await state("untouched"))?.id).toBe(before.untouched!.id);
  expect((await state("oneshot"))?.id).toBe(before.oneshot!.id);
});

test("selfHeal: false leaves drift alone", async () => {
  const remote = await createRemote(files());
  const h = harness(podman, targetConfig(remote.url, rawMethod("        selfHeal: false\n")));
  expect((await h.cli("sync")).code).toBe(0);
  await podman.cli(["rm", "-f", "removed"]);
  expect((await h.cli("sync")).code).toBe(0);
  expect(await state("removed")).toBeNull();
});

test("a run with nothing new and nothing drifted makes exactly one Podman call (a label-filtered list)", async () => {
  const remote = await createRemote(files());
  const dir = tempDir("fetchit-heal-");
  const config = parseConfig(targetConfig(remote.url, rawMethod()), "t").config!;
  const calls: string[] = [];
  const real = createPodmanClient(podman.socketPath);
  const counting = new Proxy(real, {
    get: (t, prop: keyof PodmanClient) => (typeof t[prop] === "function" ? (...a: unknown[]) => (calls.push(String(prop)), (t[prop] as Function)(...a)) : t[prop]),
  });
  const fs = createHostFs();
  const deps: EngineDeps = { podman: counting, fs, exec: hostExec, state: createStateStore(fs, dir), log: silentLogger };
  const job = () => buildJobs(config, dir, silentLogger).jobs[0]!;
  expect((await runMethod(job(), deps)).status).toBe("applied");
  calls.length = 0;
  expect((await runMethod(job(), deps)).status).toBe("unchanged");
  expect(calls).toEqual(["listContainers"]);
});
