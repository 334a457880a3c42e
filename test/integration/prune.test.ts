/** The prune task (top-level prune) against the real Podman service: FetchIt's scope "all" and the fetchit-only scope. */
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { buildJobs } from "../../src/engine/jobs.ts";
import { runTask } from "../../src/engine/run-task.ts";
import { hostExec } from "../../src/host/exec.ts";
import { createHostFs } from "../../src/host/fs.ts";
import { createPodmanClient } from "../../src/podman/index.ts";
import { createStateStore } from "../../src/state/store.ts";
import { collectingLogger } from "../unit/helpers.ts";
import { runOk } from "../support/exec.ts";
import { saveArchive, serveArchives } from "../support/archives.ts";
import { harness, ROOT, SLEEPER } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
let seq = 0;

beforeAll(async () => {
  podman = await sharedPodman();
});
beforeEach(() => podman.reset());

const pruneYaml = (keys: string) => `prune:\n${keys}  schedule: "0 3 * * *"\n`;
const lines = async (args: string[]) => (await podman.cli(args)).split("\n").filter(Boolean).sort();
const names = () => lines(["ps", "-a", "--format", "{{.Names}}"]);
const volumes = () => lines(["volume", "ls", "--format", "{{.Name}}"]);
const imageExists = (ref: string) => podman.cli(["image", "exists", ref]).then(() => true, () => false);
const pruneLine = (out: string[]) => out.find((l) => l.includes(" prune/prune ")) ?? `(no prune line in ${JSON.stringify(out)})`;

/** An image of its own (not the test image), used by no container. */
async function unusedImage(): Promise<string> {
  const d = join(tempDir("fetchit-prune-img-"), "rootfs");
  mkdirSync(d);
  writeFileSync(join(d, "blob.bin"), randomBytes(64 * 1024));
  await runOk(["tar", "-C", d, "-cf", `${d}.tar`, "."]);
  const ref = `localhost/fetchit-it/unused-${process.pid}-${++seq}:latest`;
  await podman.cli(["import", `${d}.tar`, ref]);
  return ref;
}

/** A volume holding `kb` kilobytes, used by no container. */
async function filledVolume(name: string, kb: number, labels: string[] = []): Promise<void> {
  await podman.cli(["volume", "create", ...labels.flatMap((l) => ["--label", l]), name]);
  await podman.cli(["run", "--rm", "-v", `${name}:/data`, podman.image, "sh", "-c", `dd if=/dev/zero of=/data/f bs=1024 count=${kb} 2>/dev/null`]);
}

describe("scope all (FetchIt's podman system prune)", () => {
  test("all and volumes remove an unused image, an unused volume and a stopped container; images in use stay", async () => {
    const img = await unusedImage();
    await podman.cli(["run", "-d", "--name", "keeper", podman.image, ...SLEEPER]);
    await podman.cli(["create", "--name", "stopped", podman.image, "true"]);
    await filledVolume("pvol", 256);
    const h = harness(podman, pruneYaml("  all: true\n  volumes: true\n"));
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    const m = /^applied {3}\(global\) prune\/prune @ - \(\d+ changed\) \(removed (\d+) containers, (\d+) pods, (\d+) images, (\d+) volumes, \d+ networks; reclaimed ([\d.]+) (B|kB|MB|GB|TB)\)$/.exec(pruneLine(r.out));
    expect(m).not.toBeNull();
    expect([m![1], m![2], m![4]]).toEqual(["1", "0", "1"]);
    expect(Number(m![3])).toBeGreaterThanOrEqual(1);
    expect(await imageExists(img)).toBe(false);
    expect(await volumes()).toEqual([]);
    expect(await names()).toEqual(["keeper"]);
    expect(await imageExists(podman.image)).toBe(true);
    const st = JSON.parse((await h.cli("status", "--json")).out.join("\n")).methods.find((e: any) => e.kind === "prune");
    expect(st).toMatchObject({ target: "(global)", method: "prune", consecutiveFailures: 0, lastError: null });
    expect(st.appliedAt).not.toBeNull();
  });

  test("logs how many objects of each kind went and the bytes reclaimed", async () => {
    await podman.cli(["create", "--name", "stopped", podman.image, "true"]);
    await filledVolume("logged", 128);
    const stateDir = tempDir("fetchit-prune-state-");
    const log = collectingLogger();
    const fs = createHostFs();
    const deps = { podman: createPodmanClient(podman.socketPath), fs, exec: hostExec, state: createStateStore(fs, stateDir), log };
    const task = buildJobs(parseConfig(pruneYaml("  volumes: true\n"), "t").config!, stateDir, log).tasks[0]!;
    const res = await runTask(task, deps);
    expect(res.status).toBe("applied");
    const pruned = log.lines.find((l) => l.msg === "pruned" && l.level === "info")!;
    expect(pruned.fields).toMatchObject({ containers: 1, volumes: 1, images: 0, pods: 0, target: "(global)", method: "prune/prune" });
    expect(pruned.fields.bytes).toBeGreaterThanOrEqual(128 * 1024);
    expect(pruned.fields.reclaimed).toMatch(/^\d+\.\d (kB|MB)$/);
    expect((await runTask(task, deps)).status).toBe("unchanged"); // nothing left to remove
  });
});

describe("scope fetchit (only fetchit's leftovers)", () => {
  const rawConfig = (url: string) =>
    `targetConfigs:\n  - name: t1\n    url: ${url}\n    branch: main\n    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "*/5 * * * * *"\n` +
    pruneYaml("  scope: fetchit\n  volumes: true\n");
  const managedSpec = () => JSON.stringify({ Image: podman.image, Name: "managed", Command: ["true"], Restart: "no" });

  test("removes stopped labelled containers, pods and volumes no state manages; keeps foreign, running and managed ones (volumes of managed files too) and every image", async () => {
    const remote = await createRemote({ "raw/managed.json": managedSpec() });
    const img = await unusedImage();
    await podman.cli(["create", "--name", "orphan", "--label", "owned-by=fetchit", podman.image, "true"]);
    await podman.cli(["run", "--name", "orphan-exited", "--label", "owned-by=fetchit", podman.image, "true"]);
    await filledVolume("ours-but-used", 16, ["owned-by=fetchit"]);
    await podman.cli(["create", "--name", "foreign", "-v", "ours-but-used:/data", podman.image, "true"]); // Podman refuses: kept, no error
    await podman.cli(["run", "-d", "--name", "live", "--label", "owned-by=fetchit", podman.image, ...SLEEPER]);
    await podman.cli(["pod", "create", "--name", "orphan-pod", "--label", "owned-by=fetchit"]);
    await podman.cli(["pod", "create", "--name", "foreign-pod"]);
    await filledVolume("ours", 64, ["owned-by=fetchit"]);
    await filledVolume("theirs", 64);
    const claim = ["owned-by=fetchit", "io.fetchit.target=t1", "io.fetchit.method=raw/apps", "io.fetchit.file=raw/managed.json"];
    await filledVolume("claim-of-managed-file", 16, claim); // like a kube claim: unused while its pod is replayed
    const h = harness(podman, rawConfig(remote.url));
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(pruneLine(r.out)).toMatch(/^applied {3}\(global\) prune\/prune @ - \(4 changed\) \(removed 2 containers, 1 pods, 0 images, 1 volumes, 0 networks; reclaimed [\d.]+ kB\)$/);
    expect((await names()).filter((n) => !n.endsWith("-infra"))).toEqual(["foreign", "live", "managed"]);
    expect(await lines(["pod", "ls", "--format", "{{.Name}}"])).toEqual(["foreign-pod"]);
    expect(await volumes()).toEqual(["claim-of-managed-file", "ours-but-used", "theirs"]);
    expect(await imageExists(img)).toBe(true);
  });

  test("a labelled container newer than its method's last state write may be an apply in flight: kept until that method writes again", async () => {
    const remote = await createRemote({ "raw/managed.json": managedSpec() });
    const h = harness(podman, rawConfig(remote.url));
    expect((await h.cli("sync")).code).toBe(0);
    const labels = ["owned-by=fetchit", "io.fetchit.target=t1", "io.fetchit.method=raw/apps"].flatMap((l) => ["--label", l]);
    await podman.cli(["create", "--name", "late", ...labels, podman.image, "true"]);
    let r = await h.cli("sync");
    expect(pruneLine(r.out)).toStartWith("unchanged");
    expect(await names()).toEqual(["late", "managed"]);
    await remote.commit({ "README.md": "a new commit: raw records its state again\n" });
    r = await h.cli("sync");
    expect(pruneLine(r.out)).toContain("(removed 1 containers,");
    expect(await names()).toEqual(["managed"]);
  });
});

test("the prune-images example loads its images and prunes only fetchit's leftovers", async () => {
  const [app, tools] = [`localhost/fetchit-it/app-${process.pid}`, `localhost/fetchit-it/tools-${process.pid}`];
  const dir = tempDir("fetchit-prune-example-");
  const appFile = join(dir, "app.tar.gz");
  const toolsFile = join(dir, "tools.tar");
  await saveArchive(podman, appFile, `${app}:1.0`, "docker-archive", true);
  await saveArchive(podman, toolsFile, `${tools}:1.0`, "oci-archive");
  const srv = serveArchives({ "app.tar.gz": appFile });
  try {
    const text = readFileSync(join(ROOT, "examples/prune-images-config.yaml"), "utf8")
      .replace(/url: .*/, `url: ${srv.url("app.tar.gz")}`)
      .replace(/imagePath: .*/, `imagePath: ${toolsFile}`);
    await podman.cli(["create", "--name", "leftover", "--label", "owned-by=fetchit", podman.image, "true"]);
    await podman.cli(["create", "--name", "not-ours", podman.image, "true"]);
    const h = harness(podman, text);
    const r = await h.cli("sync");
    expect(r.code).toBe(0);
    expect(r.out.map((l) => l.split(" @ ")[0]!.replace(/ +/g, " "))).toEqual([
      "applied (images) images/app",
      "applied (images) images/tools",
      "applied (global) prune/prune",
    ]);
    expect([await imageExists(`${app}:1.0`), await imageExists(`${tools}:1.0`)]).toEqual([true, true]);
    expect(await names()).toEqual(["not-ours"]);
  } finally {
    srv.stop();
  }
});
