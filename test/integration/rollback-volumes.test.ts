/**
 * snapshotVolumes against the real Podman (4.3 here, 5.4 with FETCHIT_TEST_PODMAN=5; neither API has
 * volume export, so the `podman volume export/import` fallback runs: on Podman 5 with the testbed's
 * own podman, as it would on that host) and real git: data written by v1 and damaged by v2 is
 * restored when v2 is rolled back; the last keepSnapshots are kept; too little free space (a real
 * 1 MiB tmpfs) refuses the apply before anything is replaced.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import type { EngineDeps } from "../../src/engine/context.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { runMethod } from "../../src/engine/run-method.ts";
import { hostExec, type Exec } from "../../src/host/exec.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { silentLogger } from "../../src/log.ts";
import { createPodmanClient } from "../../src/podman/index.ts";
import { createStateStore } from "../../src/state/store.ts";
import { targetConfig } from "../support/fetchit.ts";
import { runOk } from "../support/exec.ts";
import { createRemote } from "../support/git.ts";
import { testPodmanVersion } from "../support/podman5.ts";
import { type TestPodman, withSharedPodman } from "../support/podman.ts";

let podman: TestPodman;
withSharedPodman((p) => void (podman = p));
const mounts: string[] = [];
afterEach(async () => {
  for (const m of mounts.splice(0)) await runOk(["umount", "-l", m]);
});

const KEEP_RUNNING = "trap 'exit 0' TERM; sleep 3600 & wait";
const db = (script: string) => JSON.stringify({ Image: podman.image, Name: "db", Volumes: [{ name: "appdata", dest: "/data" }], Command: ["sh", "-c", script] });
const V1 = `test -e /data/db || echo v1-data > /data/db; ${KEEP_RUNNING}`;

/** How the host's tools reach the test store: the podman CLI with the store's env, or inside the Podman 5 testbed. */
async function hostTools(): Promise<Exec> {
  if (testPodmanVersion() !== 5) return (cmd, args, opts) => hostExec(cmd, args, { ...opts, env: { ...podman.env, ...opts?.env } });
  const testbed = (await runOk(["podman", "ps", "-q", "--filter", `label=io.fetchit.test-dir=${podman.dir}`], { env: { CONTAINER_HOST: undefined } })).trim();
  return (cmd, args, opts) => (cmd === "podman" || cmd === "du" ? hostExec("podman", ["exec", testbed, ...(cmd === "podman" ? ["podman"] : [cmd]), ...args], { ...opts, env: { CONTAINER_HOST: undefined } }) : hostExec(cmd, args, opts));
}

/** The engine on the test Podman; the state dir below podman.dir (shared with the Podman 5 testbed at the same path). */
async function engine(methodYaml: string, stateDir = join(podman.dir, `snap-${Date.now()}`)) {
  mkdirSync(stateDir, { recursive: true });
  const exec = await hostTools();
  const fs = createHostFs();
  const deps: EngineDeps = { podman: createPodmanClient(podman.socketPath), fs, exec, state: createStateStore(fs, stateDir), log: silentLogger };
  return (url: string) => {
    const config = parseConfig(targetConfig(url, `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "@every 1h"\n${methodYaml}`), "t").config!;
    return { run: () => runMethod(buildJobs(config, stateDir, silentLogger).jobs[0]!, deps), snapshots: () => readdirSync(join(stateDir, "snapshots", "appdata")).sort(), stateDir };
  };
}
const dbFile = () => podman.cli(["run", "--rm", "-v", "appdata:/data", podman.image, "cat", "/data/db"]);
const dbId = async () => JSON.parse(await podman.cli(["container", "inspect", "db"]))[0].Id as string;

test("a volume written by v1 and damaged by v2's migration is restored when v2 is rolled back", async () => {
  const remote = await createRemote({ "raw/db.json": db(V1) });
  const e = (await engine("        snapshotVolumes: true\n        health:\n          window: 2s\n"))(remote.url);
  expect((await e.run()).status).toBe("applied");
  expect(await dbFile()).toBe("v1-data");
  const bad = await remote.commit({ "raw/db.json": db("echo v2-migrated > /data/db; exit 3") }, "v2 with a migration");
  const r = await e.run();
  expect(r.rollback?.outcome).toBe("rolled-back");
  expect(e.snapshots()).toEqual([expect.stringMatching(new RegExp(`^\\d+-${bad.slice(0, 12)}\\.tar$`))]);
  expect(await dbFile()).toBe("v1-data");
  const c = JSON.parse(await podman.cli(["container", "inspect", "db"]))[0];
  expect(c.State.Running).toBe(true);
}, 120_000);

test("keepSnapshots: only the last N snapshots of a volume are kept", async () => {
  const remote = await createRemote({ "raw/db.json": db(V1) });
  const e = (await engine("        snapshotVolumes: true\n        keepSnapshots: 2\n"))(remote.url);
  expect((await e.run()).status).toBe("applied");
  const commits: string[] = [];
  for (let i = 2; i <= 4; i++) {
    commits.push(await remote.commit({ "raw/db.json": db(`echo v${i} >> /data/log; ${V1}`) }));
    expect((await e.run()).status).toBe("applied");
  }
  expect(e.snapshots().map((f) => f.replace(/^\d+-/, ""))).toEqual(commits.slice(1).map((c) => `${c.slice(0, 12)}.tar`));
}, 120_000);

test("less free space than the volume holds: the apply is refused with a clear error and nothing is replaced", async () => {
  const stateDir = join(podman.dir, `snap-small-${Date.now()}`);
  const snapDir = join(stateDir, "snapshots");
  mkdirSync(snapDir, { recursive: true });
  await runOk(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", snapDir]);
  mounts.push(snapDir);
  const remote = await createRemote({ "raw/db.json": db(`head -c 3000000 /dev/zero > /data/big; ${V1}`) });
  const e = (await engine("        snapshotVolumes: true\n", stateDir))(remote.url);
  expect((await e.run()).status).toBe("applied");
  const before = await dbId();
  await remote.commit({ "raw/db.json": db(`echo v2 > /data/x; ${V1}`) });
  const r = await e.run();
  expect(r.status).toBe("failed");
  const msg = String((r.failures[0]!.error as Error).message);
  expect(msg).toMatch(/snapshotVolumes: volume appdata holds \d+ bytes but .* has only \d+ free; nothing was replaced/);
  expect(await dbId()).toBe(before);
}, 120_000);

const pod = (script: string) => `apiVersion: v1
kind: Pod
metadata:
  name: kdb
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${podman.image}
      command: ["sh", "-c", ${JSON.stringify(script)}]
      volumeMounts:
        - name: data
          mountPath: /data
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: kdata
`;

test("kube: the volume of a pod's container is snapshotted before the pod is replaced and restored on rollback", async () => {
  const remote = await createRemote({ "kube/db.yaml": pod(`test -e /data/db || echo v1-data > /data/db; ${KEEP_RUNNING}`) });
  const flag = join(podman.dir, `kube-gate-${Date.now()}`);
  const dir = join(podman.dir, `snap-kube-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const exec = await hostTools();
  const fs = createHostFs();
  const deps: EngineDeps = { podman: createPodmanClient(podman.socketPath), fs, exec, state: createStateStore(fs, dir), log: silentLogger };
  // The gate command fails once (for the bad commit), on the host.
  const methods = `    kube:\n      - name: pods\n        targetPath: kube\n        schedule: "@every 1h"\n        snapshotVolumes: true\n        health:\n          window: 0\n          command: "if [ -e ${flag} ]; then rm -f ${flag}; exit 1; fi"\n`;
  const run = () => runMethod(buildJobs(parseConfig(targetConfig(remote.url, methods), "t").config!, dir, silentLogger).jobs[0]!, { ...deps, exec: (c, a, o) => (c === "/bin/sh" ? hostExec(c, a, o) : exec(c, a, o)) });
  expect((await run()).status).toBe("applied");
  const read = () => podman.cli(["run", "--rm", "-v", "kdata:/data", podman.image, "cat", "/data/db"]);
  expect(await read()).toBe("v1-data");
  await Bun.write(flag, "");
  await remote.commit({ "kube/db.yaml": pod(`echo v2-migrated > /data/db; ${KEEP_RUNNING}`) });
  const r = await run();
  expect(r.rollback?.outcome).toBe("rolled-back");
  expect(readdirSync(join(dir, "snapshots", "kdata"))).toHaveLength(1);
  expect(await read()).toBe("v1-data");
}, 180_000);
