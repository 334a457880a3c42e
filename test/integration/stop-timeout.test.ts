/**
 * Updates bounded by the slowest stop (issue 15): raw `StopTimeout` and kube
 * `terminationGracePeriodSeconds` are the stop timeouts Podman waits for a
 * process that ignores SIGTERM, and replacements wait on their stops side by
 * side (the wide pool) while creates stay in the small one. Runs on Podman 4
 * and 5. Timings have wide margins: the machine is shared.
 */
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import type { EngineDeps } from "../../src/engine/context.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { runMethod } from "../../src/engine/run-method.ts";
import { hostExec } from "../../src/host/exec.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { silentLogger } from "../../src/log.ts";
import { createPodmanClient } from "../../src/podman/index.ts";
import { createStateStore } from "../../src/state/store.ts";
import { harness, targetConfig } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { type TestPodman, withSharedPodman } from "../support/podman.ts";

let podman: TestPodman;
withSharedPodman((p) => void (podman = p));

const T = 120_000;
/** Ignores SIGTERM: only the stop timeout's SIGKILL ends it. */
const STUBBORN = ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"];
const rawMethod = `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "@hourly"\n`;
const kubeMethod = `    kube:\n      - name: apps\n        targetPath: kube\n        schedule: "@hourly"\n`;
const rawSpec = (name: string, env: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Image: podman.image, Name: name, Command: STUBBORN, Env: { V: env }, ...extra });

/**
 * A command that ignores SIGTERM and tells when it got it: on SIGTERM it
 * writes the time to /out/term-$V, and it writes the time to /out/last-$V
 * five times a second until SIGKILL ends it. last - term = the stop timeout Podman
 * used (±1 s: whole seconds), whatever else a removal costs on a busy host.
 */
const WITNESS = ["sh", "-c", "trap 'date +%s > /out/term-$V' TERM; while true; do date +%s > /out/last-$V; sleep 0.2; done"];
/** A host directory the witness writes to (below the test store's dir: shared with the Podman 5 testbed at the same path). */
function witnessDir(name: string): { dir: string; waited: (v: string) => number } {
  const dir = join(podman.dir, `witness-${name}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const num = (f: string) => Number(readFileSync(join(dir, f), "utf8").trim());
  return { dir, waited: (v) => num(`last-${v}`) - num(`term-${v}`) };
}
const kubePod = (name: string, env: string, grace: number, dir: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  terminationGracePeriodSeconds: ${grace}\n  containers:\n    - name: c\n      image: ${podman.image}\n` +
  `      command: ${JSON.stringify(WITNESS)}\n      env: [{name: V, value: "${env}"}]\n      volumeMounts: [{name: out, mountPath: /out}]\n` +
  `  volumes:\n    - name: out\n      hostPath: {path: ${dir}, type: Directory}\n`;

test("raw StopTimeout reaches Podman and is the time a replacement waits for a container that ignores SIGTERM", async () => {
  const w = witnessDir("raw");
  const s = (v: string) => rawSpec("stubborn", v, { StopTimeout: 2, Command: WITNESS, Mounts: [{ type: "bind", source: w.dir, destination: "/out" }] });
  const remote = await createRemote({ "raw/s.json": s("1") });
  const h = harness(podman, targetConfig(remote.url, rawMethod));
  expect((await h.cli("sync")).code).toBe(0);
  expect(JSON.parse(await podman.cli(["container", "inspect", "stubborn"]))[0].Config.StopTimeout).toBe(2);
  await remote.commit({ "raw/s.json": s("2") });
  expect((await h.cli("sync")).code).toBe(0);
  expect(w.waited("1")).toBeGreaterThanOrEqual(1); // it got SIGTERM and was given time …
  expect(w.waited("1")).toBeLessThanOrEqual(4); // … 2 s, not Podman's default 10 s
}, T);

test("kube terminationGracePeriodSeconds is the stop timeout when fetchit replaces the pod", async () => {
  const w = witnessDir("kube");
  const remote = await createRemote({ "kube/p.yaml": kubePod("graceful", "1", 2, w.dir) });
  const h = harness(podman, targetConfig(remote.url, kubeMethod));
  expect((await h.cli("sync")).code).toBe(0);
  await remote.commit({ "kube/p.yaml": kubePod("graceful", "2", 2, w.dir) });
  expect((await h.cli("sync")).code).toBe(0);
  expect(w.waited("1")).toBeGreaterThanOrEqual(1);
  expect(w.waited("1")).toBeLessThanOrEqual(4); // Podman 4.3's play ignores the field (10 s): fetchit passes it
}, T);

test("replacements wait on their stops side by side, not in the small create pool", async () => {
  const n = 6;
  const stop = 6;
  const files = (v: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`raw/c${i}.json`, rawSpec(`slow-${i}`, v, { StopTimeout: stop })]));
  const remote = await createRemote(files("1"));
  const dir = tempDir("fetchit-stops-");
  const config = parseConfig(targetConfig(remote.url, rawMethod), "t").config!;
  const fs = createHostFs();
  // One create at a time: without the wide pool, the six stops would run one after another (36 s).
  const deps: EngineDeps = { podman: createPodmanClient(podman.socketPath), fs, exec: hostExec, state: createStateStore(fs, dir), log: silentLogger, concurrency: 1 };
  const job = () => buildJobs(config, dir, silentLogger).jobs[0]!;
  expect((await runMethod(job(), deps)).status).toBe("applied");
  await remote.commit(files("2"));
  const t = performance.now();
  expect((await runMethod(job(), deps)).status).toBe("applied");
  const secs = (performance.now() - t) / 1000;
  expect(secs).toBeGreaterThanOrEqual(stop);
  expect(secs).toBeLessThan(3 * stop); // one stop timeout plus six creates; serial stops would take 6 × 6 s
  const envs = await podman.cli(["ps", "--filter", "name=^slow-", "--format", "{{.Names}}"]);
  expect(envs.split("\n").filter(Boolean).length).toBe(n);
}, T);
