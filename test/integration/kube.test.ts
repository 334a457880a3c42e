/** The kube method against the real Podman service and real git repositories. */
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile, parseConfig } from "../../src/config/index.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { runMethod } from "../../src/engine/run-method.ts";
import { hostExec } from "../../src/host/exec.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { silentLogger } from "../../src/log.ts";
import { kube } from "../../src/methods/kube.ts";
import { createPodmanClient, type PodmanClient } from "../../src/podman/index.ts";
import { createStateStore } from "../../src/state/store.ts";
import { harness, ROOT, targetConfig, type Harness } from "../support/fetchit.ts";
import { createRemote, tempDir, type TestRemote } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
/** Per-test timeout: a changed file waits for its pods (stop, play, 1 s settle). */
const T = 60_000;
const SLEEP = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;
const kubeMethod = (extra = "") => `    kube:\n      - name: apps\n        targetPath: kube\n        schedule: "*/5 * * * * *"\n${extra}`;
const claim = (name: string) => `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: ${name}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 10Mi}}\n`;
const pod = (name: string, ctr: string, extra = "", command = SLEEP) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: ${ctr}\n      image: ${podman.image}\n      command: ${command}\n${extra}`;
/** ConfigMap (env) + claim (volume) + pod using both: three documents. */
const app = (greeting: string, podName = "app", ctr = "web") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  GREETING: ${greeting}\n---\n${claim("app-data")}---\n` +
  pod(podName, ctr, "      envFrom: [{configMapRef: {name: app-config}}]\n      volumeMounts: [{name: data, mountPath: /data}]\n  volumes:\n    - name: data\n      persistentVolumeClaim: {claimName: app-data}\n");
const deployment = (name: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata:\n      labels: {app: ${name}}\n    spec:\n` +
  `      terminationGracePeriodSeconds: 1\n      containers:\n        - name: w\n          image: ${podman.image}\n          command: ${SLEEP}\n`;

interface PodInfo { Id: string; Name: string; Status: string; Labels: Record<string, string>; Networks?: string[]; Containers: { Names: string; Id: string }[] }
async function pods(): Promise<Record<string, PodInfo>> {
  const list = JSON.parse((await podman.cli(["pod", "ps", "--format", "json"])) || "[]") as PodInfo[];
  return Object.fromEntries(list.map((p) => [p.Name, p]));
}
const containers = async () => (await podman.cli(["ps", "-a", "--format", "{{.Names}}"])).split("\n").filter((n) => n && !n.endsWith("-infra")).sort();
const env = async (ctr: string) => (await podman.cli(["exec", ctr, "env"])).split("\n");
const status = async (h: Harness) => JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods[0];
const resources = (st: { resources: { file: string; name: string; hash: string }[] }) => Object.fromEntries(st.resources.map((r) => [r.file, r]));

/** Records every client call; `writes` are the calls that change something. */
function recording(client: PodmanClient, calls: string[], writes: string[]): PodmanClient {
  const reads = new Set(["ping", "version", "imageExists", "inspectImage", "inspectContainer", "listContainers", "listPods", "volumeExists"]);
  return new Proxy(client, {
    get: (t, prop) => (...args: unknown[]) => {
      calls.push(String(prop));
      if (!reads.has(String(prop))) writes.push(String(prop));
      return (t[prop as keyof PodmanClient] as (...a: unknown[]) => unknown)(...args);
    },
  });
}

/** A network with a random subnet, so parallel test stores rarely pick the same one. */
async function ensureNetwork(name: string): Promise<void> {
  const rnd = crypto.getRandomValues(new Uint8Array(2));
  const args = ["network", "create", "--subnet", `10.${150 + (rnd[0]! % 40)}.${rnd[1]}.0/24`, name];
  await podman.cli(args).catch((err: Error) => {
    if (!err.message.includes("already exists")) throw err;
  });
}

beforeAll(async () => {
  podman = await sharedPodman();
  await ensureNetwork("podman-default-kube-network"); // Podman's default for kube play, otherwise created on first use
}, 120_000);
beforeEach(async () => {
  await podman.cli(["pod", "stop", "--all", "--time", "0"]); // removing running pods is seconds slower on Podman 4.3
  await podman.reset();
}, 60_000);

describe("kube", () => {
  let remote: TestRemote;
  let h: Harness;
  beforeEach(async () => {
    remote = await createRemote({ "kube/app.yaml": app("hello"), "kube/worker.yml": deployment("worker"), "kube/notes.txt": "not yaml\n", "README.md": "x\n" });
    h = harness(podman, targetConfig(remote.url, kubeMethod()));
  });

  test("first apply: ConfigMap env, claim volume and labels on the pod; a Deployment; every pod running", async () => {
    expect((await h.cli("sync")).code).toBe(0);
    const p = await pods();
    const worker = Object.keys(p).find((n) => n.startsWith("worker-pod"))!;
    expect(Object.keys(p).sort()).toEqual(["app", worker]);
    expect(p.app!.Status).toBe("Running");
    expect(p[worker]!.Status).toBe("Running");
    expect(p.app!.Labels).toMatchObject({ "owned-by": "fetchit", "io.fetchit.target": "t1", "io.fetchit.method": "kube/apps", "io.fetchit.file": "kube/app.yaml" });
    expect(p.app!.Labels["io.fetchit.spec-hash"]).toMatch(/^[0-9a-f]{32}$/);
    expect(p[worker]!.Labels).toMatchObject({ app: "worker", "io.fetchit.file": "kube/worker.yml" });
    expect(await env("app-web")).toContain("GREETING=hello");
    await podman.cli(["exec", "app-web", "sh", "-c", "echo kept > /data/f"]);
    const vol = JSON.parse(await podman.cli(["volume", "inspect", "app-data"]))[0];
    expect(vol.Labels).toMatchObject({ "owned-by": "fetchit", "io.fetchit.file": "kube/app.yaml" });
    const mounts = JSON.parse(await podman.cli(["container", "inspect", "app-web"]))[0].Mounts;
    expect(mounts).toContainEqual(expect.objectContaining({ Type: "volume", Name: "app-data", Destination: "/data" }));
    expect(Object.keys(resources(await status(h))).sort()).toEqual(["app.yaml", "worker.yml"]);
    expect(resources(await status(h))["worker.yml"]?.name).toBe(worker);
  }, T);

  test("re-applying the same commit (state lost) makes zero Podman write calls; pods and containers are kept", async () => {
    const scratch = tempDir("fetchit-kube-");
    const calls: string[] = [];
    const writes: string[] = [];
    const fs = createHostFs();
    const deps = { podman: recording(createPodmanClient(podman.socketPath), calls, writes), fs, exec: hostExec, state: createStateStore(fs, join(scratch, "state")), log: silentLogger };
    const job = () => buildJobs(parseConfig(targetConfig(remote.url, kubeMethod()), "c.yaml").config!, scratch, silentLogger).jobs[0]!;
    expect((await runMethod(job(), deps)).status).toBe("applied");
    const before = { pods: await pods(), ctrs: await podman.cli(["ps", "-a", "--format", "{{.ID}} {{.Names}}"]) };
    rmSync(join(scratch, "state", "state"), { recursive: true, force: true });
    writes.length = 0;
    expect(await runMethod(job(), deps)).toMatchObject({ status: "applied", changed: 0 });
    expect(writes).toEqual([]);
    expect(await pods()).toEqual(before.pods);
    expect(await podman.cli(["ps", "-a", "--format", "{{.ID}} {{.Names}}"])).toBe(before.ctrs);
    expect((await h.cli("sync")).code).toBe(0);
    expect((await h.cli("sync")).out.join("\n")).toContain("unchanged");
  }, T);

  test("modify replaces the file's pods (data kept); renamed pods and containers leave nothing stale; other files untouched", async () => {
    await h.cli("sync");
    await podman.cli(["exec", "app-web", "sh", "-c", "echo kept > /data/f"]);
    const before = await pods();
    await remote.commit({ "kube/app.yaml": app("bonjour") });
    expect((await h.cli("sync")).code).toBe(0);
    const after = await pods();
    expect(after.app!.Id).not.toBe(before.app!.Id);
    expect(await env("app-web")).toContain("GREETING=bonjour");
    expect(await podman.cli(["exec", "app-web", "cat", "/data/f"])).toBe("kept");
    for (const n of Object.keys(before).filter((n) => n !== "app")) expect(after[n]!.Id).toBe(before[n]!.Id);
    await remote.commit({ "kube/app.yaml": app("bonjour", "app2", "api") });
    expect((await h.cli("sync")).code).toBe(0);
    expect(Object.keys(await pods())).not.toContain("app");
    expect((await containers()).filter((c) => c.startsWith("app"))).toEqual(["app2-api"]);
    expect(resources(await status(h))["app.yaml"]?.name).toBe("app2");
  }, T);

  test("delete removes the pods and keeps the volume; rename keeps one pod per file", async () => {
    await h.cli("sync");
    await remote.commit({ "kube/app.yaml": null });
    expect((await h.cli("sync")).code).toBe(0);
    expect(Object.keys(await pods()).some((n) => n.startsWith("app"))).toBe(false);
    expect((await containers()).some((c) => c.startsWith("app"))).toBe(false);
    expect(await podman.cli(["volume", "ls", "--format", "{{.Name}}"])).toContain("app-data");
    await remote.rename("kube/worker.yml", "kube/sub/worker.yaml");
    expect((await h.cli("sync")).code).toBe(0);
    const workers = Object.values(await pods());
    expect(workers.length).toBe(1);
    expect(workers[0]!.Labels["io.fetchit.file"]).toBe("kube/sub/worker.yaml");
    expect(Object.keys(resources(await status(h)))).toEqual(["sub/worker.yaml"]);
  }, T);

  test("a pod that fails to start fails its file with Podman's message; the state does not advance; other files apply", async () => {
    await h.cli("sync");
    const applied = await remote.head();
    await remote.commit({
      "kube/bad.yaml": pod("bad", "c", "", `["/no/such/binary"]`),
      "kube/crash.yaml": pod("crash", "c", "", `["sh", "-c", "exit 1"]`),
      "kube/good.yaml": pod("good", "c"),
    });
    expect((await h.cli("sync")).code).toBe(1);
    expect((await pods()).good?.Status).toBe("Running");
    const st = await status(h);
    expect(st.appliedCommit).toBe(applied);
    expect(st.lastError.files.sort()).toEqual(["kube/bad.yaml", "kube/crash.yaml"]);
    expect(st.lastError.message).toContain("kube/bad.yaml: pod bad: container bad-c failed to start");
    expect(st.lastError.message).toContain("/no/such/binary");
    expect(st.lastError.message).toMatch(/kube\/crash.yaml: pod crash: container crash-c (exited with code 1|keeps exiting)/);
    expect(st.lastError.retryable).toBe(false);
    await remote.commit({ "kube/bad.yaml": pod("bad", "c"), "kube/crash.yaml": pod("crash", "c") });
    expect((await h.cli("sync")).code).toBe(0);
    expect((await status(h)).appliedCommit).toBe(await remote.head());
    expect((await containers()).filter((c) => /^(bad|crash)/.test(c))).toEqual(["bad-c", "crash-c"]);
  }, T);

  test("a pod name another file of fetchit already uses is refused, not taken over", async () => {
    await h.cli("sync");
    const before = (await pods()).app!.Id;
    await remote.commit({ "kube/dup.yaml": pod("app", "other") });
    expect((await h.cli("sync")).code).toBe(1);
    expect((await status(h)).lastError.message).toContain("kube/dup.yaml: pod app already exists and is managed by fetchit for another file (io.fetchit.file=kube/app.yaml");
    expect((await pods()).app!.Id).toBe(before);
  }, T);
});

describe("kube options and drift", () => {
  test("network puts the pods on that network; start: false creates them without starting", async () => {
    await ensureNetwork("fetchit-kube-net");
    const remote = await createRemote({ "kube/app.yaml": app("hi"), "kube/worker.yaml": deployment("worker") });
    const h = harness(podman, targetConfig(remote.url, kubeMethod("        network: fetchit-kube-net\n        start: false\n")));
    expect((await h.cli("sync")).code).toBe(0);
    for (const p of Object.values(await pods())) {
      expect(p.Status).toBe("Created");
      expect(p.Networks).toEqual(["fetchit-kube-net"]);
    }
    expect(await podman.cli(["ps", "--format", "{{.Names}}"])).toBe(""); // nothing running
  }, T);

  test("userns needs Podman 4.7: refused with a clear message before, played after", async () => {
    const remote = await createRemote({ "kube/a.yaml": pod("a", "c") });
    const h = harness(podman, targetConfig(remote.url, kubeMethod("        userns: host\n")));
    const { version } = await createPodmanClient(podman.socketPath).version();
    const r = await h.cli("sync");
    if (/^4\.[0-6]\./.test(version)) {
      expect(r.code).toBe(1);
      expect((await status(h)).lastError.message).toContain(`kube/a.yaml: userns "host" needs Podman 4.7.0 or later; the kube play API of Podman ${version} ignores it`);
      expect(Object.keys(await pods())).toEqual([]);
    } else {
      expect(r.code).toBe(0);
      expect((await pods()).a?.Status).toBe("Running");
    }
  }, T);

  test("drifted: one list call; pods removed, stopped or replaced out of band", async () => {
    const remote = await createRemote({ "kube/app.yaml": app("hi"), "kube/worker.yaml": deployment("worker"), "kube/once.yaml": pod("once", "c", "  restartPolicy: Never\n", `["true"]`) });
    const h = harness(podman, targetConfig(remote.url, kubeMethod()));
    expect((await h.cli("sync")).code).toBe(0);
    const res = Object.fromEntries(Object.entries(resources(await status(h))).map(([f, r]) => [f, { name: r.name, hash: r.hash }]));
    const calls: string[] = [];
    const writes: string[] = [];
    const config = { name: "apps", schedule: "* * * * *", targetPath: "kube" };
    const ctx = { target: "t1", config, podman: recording(createPodmanClient(podman.socketPath), calls, writes), fs: createHostFs(), exec: hostExec, log: silentLogger, ensureImage: async () => {} };
    expect(await kube.drifted!(ctx, res)).toEqual([]); // the finished run-once pod is not drift
    expect(calls).toEqual(["listPods"]);
    await podman.cli(["pod", "stop", "-t", "0", "app"]);
    expect(await kube.drifted!(ctx, res)).toEqual(["app.yaml"]);
    await podman.cli(["pod", "stop", "-t", "0", res["worker.yaml"]!.name]);
    await podman.cli(["pod", "rm", res["worker.yaml"]!.name]);
    expect((await kube.drifted!(ctx, res)).sort()).toEqual(["app.yaml", "worker.yaml"]);
    expect(await kube.drifted!(ctx, { "once.yaml": { ...res["once.yaml"]!, hash: "0".repeat(32) } })).toEqual(["once.yaml"]);
    expect(writes).toEqual([]);
    expect(kube.selfHealDefault).toBe(true);
  }, T);

  test("the kube example validates and runs: env from its ConfigMap, its claim as a volume", async () => {
    const examples = join(ROOT, "examples");
    expect(loadConfigFile(join(examples, "kube-config.yaml")).issues).toEqual([]);
    const files = Object.fromEntries(readdirSync(join(examples, "repo", "kube")).map((f) => [`kube/${f}`, readFileSync(join(examples, "repo", "kube", f), "utf8")]));
    await podman.cli(["tag", podman.image, "docker.io/library/busybox:latest"]);
    const remote = await createRemote(files);
    const h = harness(podman, readFileSync(join(examples, "kube-config.yaml"), "utf8").replace(/url: .*/, `url: ${remote.url}`));
    expect((await h.cli("sync")).code).toBe(0);
    expect((await pods()).app?.Status).toBe("Running");
    expect(await env("app-web")).toContain("GREETING=hello from kube");
    expect(await podman.cli(["volume", "ls", "--format", "{{.Name}}"])).toContain("app-data");
  }, T);
});
