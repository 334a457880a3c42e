/**
 * Safe rollouts against the real Podman (4.3 here, 5.4 with FETCHIT_TEST_PODMAN=5) and real git:
 * a commit whose container exits at once is rolled back to the last good commit and quarantined,
 * ticks on the quarantined head make no Podman write, a fix clears the quarantine, `fetchit retry`
 * tries the bad commit again, and the operator surfaces say so.
 */
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

/** Podman client calls that only read. */
const READS = new Set(["ping", "version", "imageExists", "inspectImage", "inspectContainer", "listContainers", "listPods", "inspectPod", "volumeExists"]);
const spec = (name: string, v: number, cmd: string[] = SLEEPER) => JSON.stringify({ Image: podman.image, Name: name, Env: { V: String(v) }, Command: cmd });
const EXITS = ["sh", "-c", "echo migrating; exit 3"];
/** The gate's reason names the file, the container, and its exit code or restarts (wording kept loose: the health gate owns it). */
const EXITED = /a\.json.*container a.*(exit\D{0,16}3|restart)/;
const method = (health = "        health:\n          window: 2s\n") =>
  `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/5 * * * * *"\n${health}`;
const inspect = async (name: string) => {
  try {
    const c = JSON.parse(await podman.cli(["container", "inspect", name]))[0];
    return { id: c.Id as string, running: c.State.Running as boolean, env: (c.Config.Env as string[]).find((e) => e.startsWith("V=")) };
  } catch {
    return null;
  }
};
const names = async () => (await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter(Boolean).sort();

/** Engine deps on the test Podman whose client records every write call. */
function engine(yaml: string) {
  const dir = tempDir("fetchit-rb-");
  const writes: string[] = [];
  const real = createPodmanClient(podman.socketPath);
  const counting = new Proxy(real, {
    get: (t, prop: keyof PodmanClient) =>
      typeof t[prop] === "function" ? (...a: unknown[]) => (READS.has(String(prop)) || writes.push(String(prop)), (t[prop] as Function)(...a)) : t[prop],
  });
  const fs = createHostFs();
  const deps: EngineDeps = { podman: counting, fs, exec: hostExec, state: createStateStore(fs, dir), log: silentLogger };
  const config = parseConfig(yaml, "t").config!;
  const run = () => runMethod(buildJobs(config, dir, silentLogger).jobs[0]!, deps);
  const state = async () => (await deps.state.list())[0]!;
  return { run, state, writes };
}

test("a container that exits at once is rolled back (modified, deleted, renamed and added files), its commit quarantined; 10 more ticks make no Podman write; a fix clears the quarantine", async () => {
  const remote = await createRemote({ "raw/a.json": spec("a", 1), "raw/b.json": spec("b", 1), "raw/c.json": spec("c", 1) });
  const e = engine(targetConfig(remote.url, method()));
  expect((await e.run()).status).toBe("applied");
  const good = await remote.head();
  const before = { a: await inspect("a"), b: await inspect("b"), c: await inspect("c") };

  await remote.rename("raw/c.json", "raw/d.json");
  const bad = await remote.commit({ "raw/a.json": spec("a", 2, EXITS), "raw/b.json": null, "raw/e.json": spec("e", 1) }, "migrate a, drop b, add e");
  const r = await e.run();
  expect(r.status).toBe("failed");
  expect(r.rollback).toMatchObject({ outcome: "rolled-back", from: bad, to: good });
  expect(r.rollback!.reason).toMatch(EXITED);
  expect(await names()).toEqual(["a", "b", "c"]);
  expect(await inspect("a")).toMatchObject({ running: true, env: "V=1" });
  expect((await inspect("a"))!.id).not.toBe(before.a!.id); // recreated from G's spec
  expect((await inspect("b"))!.running).toBe(true);
  const st = await e.state();
  expect(st.appliedCommit).toBe(good);
  expect(st.quarantined).toMatchObject({ commit: bad, subject: "migrate a, drop b, add e" });
  expect(st.rollingBack).toBeUndefined();
  expect(Object.keys(st.resources).sort()).toEqual(["a.json", "b.json", "c.json"]);
  expect(st.rollbacks).toBe(1);

  e.writes.length = 0;
  for (let i = 0; i < 10; i++) {
    const t = await e.run();
    expect(t).toMatchObject({ status: "skipped", commit: bad, changed: 0, quarantined: { commit: bad } });
  }
  expect(e.writes).toEqual([]);

  const fix = await remote.commit({ "raw/a.json": spec("a", 3) }, "fix a");
  expect((await e.run()).status).toBe("applied");
  const after = await e.state();
  expect(after.appliedCommit).toBe(fix);
  expect(after.quarantined).toBeUndefined();
  // D = fix over G: C's rename (same container c), delete and add are in it too
  expect(await names()).toEqual(["a", "c", "e"]);
  expect(Object.keys(after.resources).sort()).toEqual(["a.json", "d.json", "e.json"]);
  expect(await inspect("a")).toMatchObject({ running: true, env: "V=3" });
}, 120_000);

test("fetchit sync exits 1 and says why; status --json shows the quarantine; retry tries the commit again", async () => {
  const remote = await createRemote({ "raw/a.json": spec("a", 1) });
  const h = harness(podman, targetConfig(remote.url, method()));
  expect((await h.cli("sync")).code).toBe(0);
  const bad = await remote.commit({ "raw/a.json": spec("a", 2, EXITS) }, "bad migration");
  const sync = await h.cli("sync");
  expect(sync.code).toBe(1);
  expect(sync.out.join("\n")).toMatch(new RegExp(`rolled back ${bad.slice(0, 9)} to [0-9a-f]{9}: .*${EXITED.source}`));
  const status = JSON.parse((await h.cli("status", "--json")).out.join("\n"));
  expect(status.methods[0].quarantined).toMatchObject({ commit: bad, subject: "bad migration" });
  expect(status.methods[0].quarantined.reason).toMatch(EXITED);
  expect((await h.cli("status")).out.join("\n")).toContain(`quarantined ${bad.slice(0, 9)}`);
  const plan = await h.cli("plan", "--json");
  expect(plan.code).toBe(0); // a run would change nothing
  const planned = JSON.parse(plan.out.join("\n")).methods[0];
  expect(planned.quarantined).toMatchObject({ commit: bad, subject: "bad migration" });
  expect(planned.notes.join("\n")).toContain(`head ${bad.slice(0, 9)} is quarantined`);
  const again = await h.cli("sync");
  expect(again.code).toBe(1);
  expect(again.out.join("\n")).toContain("quarantined");

  const retry = await h.cli("retry", "--method", "apps");
  expect(retry.code).toBe(0);
  expect(retry.out.join("\n")).toContain(`cleared the quarantine of ${bad.slice(0, 9)}`);
  expect(JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0].quarantined).toBeNull();
  const retried = await h.cli("sync"); // applied again, fails again, rolled back again
  expect(retried.code).toBe(1);
  expect(retried.out.join("\n")).toContain("rolled back");
  expect(await inspect("a")).toMatchObject({ running: true, env: "V=1" });
}, 120_000);

test("the first apply cannot roll back: it stays applied, marked unhealthy, and is not recreated every tick", async () => {
  // Restart: no, so no crash loop is left behind (a one-shot must exit 0 to be healthy)
  const remote = await createRemote({ "raw/a.json": JSON.stringify({ ...JSON.parse(spec("a", 1, EXITS)), Restart: "no" }) });
  const e = engine(targetConfig(remote.url, method()));
  const r = await e.run();
  expect(r.status).toBe("failed");
  expect(r.rollback?.outcome).toBe("not-possible");
  const st = await e.state();
  expect(st.appliedCommit).toBe(await remote.head());
  expect(st.unhealthy?.reason).toMatch(EXITED);
  e.writes.length = 0;
  expect((await e.run()).status).toBe("unchanged");
  expect(e.writes).toEqual([]);
}, 60_000);

test("when the good commit fails its gate too: rollback failed, reported once, never looped", async () => {
  const remote = await createRemote({ "raw/a.json": spec("a", 1) });
  const flag = `${tempDir("fetchit-rb-flag-")}/broken`;
  // The gate passes until the flag exists: then both C and G fail.
  const e = engine(targetConfig(remote.url, method(`        health:\n          window: 0\n          command: "test ! -e ${flag}"\n`)));
  expect((await e.run()).status).toBe("applied");
  const good = await remote.head();
  await Bun.write(flag, "");
  await remote.commit({ "raw/a.json": spec("a", 2) });
  const r = await e.run();
  expect(r.rollback).toMatchObject({ outcome: "failed", to: good });
  const st = await e.state();
  expect(st.appliedCommit).toBe(good);
  expect(st.unhealthy?.reason).toContain("rollback to");
  expect(st.rollingBack).toBeUndefined();
  e.writes.length = 0;
  for (let i = 0; i < 3; i++) expect((await e.run()).status).toBe("skipped");
  expect(e.writes).toEqual([]);
}, 60_000);
