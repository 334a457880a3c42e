/**
 * FetchIt users' repositories, unchanged: every example config of FetchIt's
 * own repository (containers/fetchit, examples/*.yaml) validates, and each
 * one that can run on this host is synced against a local copy of that
 * repository over file:// with real Podman 4 and git (and Podman 5.4 with
 * FETCHIT_TEST_PODMAN=5). Only URLs and
 * destination directories are pointed here; the content (raw JSON/YAML,
 * kube YAML, files, units) is FetchIt's, byte for byte. The images keep
 * their names and are made locally (see fetchit-upstream.ts).
 * The systemd examples run in the systemd testbed (test/systemd/fetchit-units.test.ts).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/index.ts";
import { ExitError } from "../../src/errors.ts";
import { serveArchives, type ArchiveServer } from "../support/archives.ts";
import { harness, SLEEPER, waitFor } from "../support/fetchit.ts";
import { spawnFetchit } from "../support/process.ts";
import { startSshd } from "../support/sshd.ts";
import { localConfig, makeUpstreamImages, upstreamConfigs, upstreamCopy, upstreamFile, upstreamTree } from "../support/fetchit-upstream.ts";
import { tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";

let podman: TestPodman;
let repoUrl: string;
let archives: ArchiveServer;
const ARCHIVE = join(tempDir("fetchit-upstream-img-"), "httpd.tar");
process.env.GH_PAT = "not-a-real-token"; // podman-secret-raw*.yaml name it (gitAuth.envSecret)

beforeAll(async () => {
  podman = await sharedPodman();
  await podman.reset();
  await makeUpstreamImages(podman);
  // imageLoad-config.yaml loads quay.io/notreal/httpd:latest from an archive, then runs it.
  await podman.cli(["save", "--format", "docker-archive", "-o", ARCHIVE, "quay.io/notreal/httpd:latest"]);
  await podman.cli(["rmi", "quay.io/notreal/httpd:latest"]);
  archives = serveArchives({ "httpd.tar": ARCHIVE });
  repoUrl = await upstreamCopy();
}, 120_000);

afterAll(async () => {
  archives?.stop();
  await podman?.reset();
});

/** An upstream example config, pointed at the local copy; written to a harness. */
async function example(name: string, urls: Record<string, string> = {}) {
  const dest = tempDir("fetchit-upstream-dest-");
  const text = localConfig(await upstreamFile(`examples/${name}`), { repoUrl, dest, urls });
  const h = harness(podman, text);
  return { h, dest, text };
}

async function syncOk(h: ReturnType<typeof harness>, ...args: string[]): Promise<string[]> {
  const r = await h.cli("sync", ...args);
  expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.anything() });
  return r.out;
}

const running = async () => (await podman.cli(["ps", "--format", "{{.Names}}"])).split("\n").filter(Boolean).sort();

test("every FetchIt example config validates", async () => {
  const names = await upstreamConfigs();
  expect(names.length).toBeGreaterThanOrEqual(25);
  const dir = tempDir("fetchit-upstream-cfg-");
  for (const name of names) {
    const file = join(dir, name);
    writeFileSync(file, await upstreamFile(`examples/${name}`), { mode: 0o600 });
    expect({ name, issues: loadConfigFile(file).issues }).toEqual({ name, issues: [] });
  }
});

const RAW = ["cap1", "cap2", "colors1", "colors2"];

for (const name of ["raw-config.yaml", "ci-config.yaml", "config-reload.yaml", "pat-testing-config.yaml", "podman-secret-raw.yaml", "podman-secret-raw-config.yaml"]) {
  test(`${name}: examples/raw runs as FetchIt ran it (cap1, cap2, colors1, colors2)`, async () => {
    await podman.reset();
    const { h } = await example(name);
    await syncOk(h, "--method", "raw");
    expect(await running()).toEqual(RAW);
    const caps = await podman.cli(["container", "inspect", "--format", "{{json .EffectiveCaps}}", "cap2"]);
    expect(caps.trim()).toBe("null"); // CapDrop: ["all"]
    expect(await podman.cli(["container", "inspect", "--format", "{{range .Config.Env}}{{.}} {{end}}", "colors2"])).toContain("APP_COLOR=pink");
    const ports = JSON.parse(await podman.cli(["container", "inspect", "--format", "{{json .HostConfig.PortBindings}}", "colors2"]));
    expect(ports).toEqual({ "8080/tcp": [{ HostIp: expect.stringMatching(/^(|0\.0\.0\.0)$/), HostPort: "9080" }] }); // as the example publishes it (all addresses: "" on Podman 4, 0.0.0.0 on 5)
    expect((await h.cli("sync", "--method", "raw")).code).toBe(0); // unchanged: nothing recreated
    expect(await running()).toEqual(RAW);
  }, 120_000);
}

test("glob-config.yaml: only the *.json files of examples/raw", async () => {
  await podman.reset();
  const { h } = await example("glob-config.yaml");
  await syncOk(h);
  expect(await running()).toEqual(["cap1", "colors1"]);
}, 120_000);

test("full-suite.yaml and full-suite-with-skew.yaml: raw and filetransfer (prune last; systemd in the testbed; ansible planned)", async () => {
  for (const name of ["full-suite.yaml", "full-suite-with-skew.yaml"]) {
    await podman.reset();
    const { h, dest } = await example(name);
    for (const m of ["raw", "filetransfer"]) await syncOk(h, "--method", m);
    expect(await running()).toEqual(RAW);
    expect(readFileSync(join(dest, "0", "hello.txt"), "utf8")).toBe(await upstreamFile("examples/filetransfer/hello.txt"));
  }
}, 180_000);

test("the filetransfer examples copy examples/filetransfer (glob hello.txt where they say so)", async () => {
  const hello = await upstreamFile("examples/filetransfer/hello.txt");
  const another = await upstreamFile("examples/filetransfer/anotherfile.txt");
  for (const [name, files] of [
    ["filetransfer-config.yaml", { "hello.txt": hello, "anotherfile.txt": another }],
    ["ci-filetransfer-config.yaml", { "hello.txt": hello, "anotherfile.txt": another }],
    ["filetransfer-config-single-file.yaml", { "hello.txt": hello }],
  ] as const) {
    const { h, dest } = await example(name);
    await syncOk(h);
    const got = Object.fromEntries(Object.keys(files).map((f) => [f, readFileSync(join(dest, "0", f), "utf8")]));
    expect({ name, got }).toEqual({ name, got: files });
    if (!("anotherfile.txt" in files)) expect(() => readFileSync(join(dest, "0", "anotherfile.txt"))).toThrow();
  }
}, 120_000);

test("readme-config.yaml: hello.txt copied and examples/raw running", async () => {
  await podman.reset();
  const { h, dest } = await example("readme-config.yaml");
  await syncOk(h);
  expect(readFileSync(join(dest, "0", "hello.txt"), "utf8")).toBe(await upstreamFile("examples/filetransfer/hello.txt"));
  expect(await running()).toEqual(RAW);
}, 120_000);

test("kube-play-config.yaml and pat-testing-kube.yaml: examples/kube's pods run (PVC, ConfigMap envFrom, a pod named colors_pod)", async () => {
  for (const name of ["kube-play-config.yaml", "pat-testing-kube.yaml"]) {
    await podman.reset();
    const { h } = await example(name);
    await syncOk(h);
    const pods = (await podman.cli(["pod", "ps", "--format", "{{.Name}} {{.Status}}"])).split("\n").filter(Boolean).sort();
    expect({ name, pods }).toEqual({ name, pods: ["colors_pod Running", "nginx-pod Running"] });
    expect(await podman.cli(["volume", "ls", "--format", "{{.Name}}"])).toContain("task-pv-claim");
    const env = await podman.cli(["container", "inspect", "--format", "{{range .Config.Env}}{{.}} {{end}}", "colors_pod-colors-kubeplay"]);
    expect(env).toContain("APP_COLOR=blue");
    expect((await h.cli("sync")).code).toBe(0);
  }
}, 180_000);

test("imageLoad-config.yaml: the image is loaded from its archive, then examples/imageLoad runs it", async () => {
  await podman.reset();
  const { h } = await example("imageLoad-config.yaml", { "http://localhost:8080/httpd.tar": archives.url("httpd.tar") });
  await syncOk(h, "--method", "httpd-ex");
  await syncOk(h, "--method", "raw");
  expect(await running()).toEqual(["local"]);
  expect(await podman.cli(["container", "inspect", "--format", "{{.ImageName}}", "local"])).toBe("quay.io/notreal/httpd:latest");
}, 120_000);

test("examples/single-raw (no config of its own names it) runs with a raw target", async () => {
  await podman.reset();
  const h = harness(podman, `targetConfigs:\n- url: ${repoUrl}\n  raw:\n  - name: single\n    targetPath: examples/single-raw\n    schedule: "*/1 * * * *"\n  branch: main\n`);
  await syncOk(h);
  expect(await running()).toEqual(["welcome"]);
}, 120_000);

test("gitsign-verify-config.yaml: not run (gitsign needs the network), and sync says why", async () => {
  const { h } = await example("gitsign-verify-config.yaml");
  const err = await h.cli("sync").then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ExitError);
  expect((err as ExitError).exitCode).toBe(2);
  expect((err as ExitError).message).toContain("gitsignVerify: gitsign (Sigstore/Rekor) verification is not supported");
});

test("config-url.yaml: `fetchit run` loads config-reload.yaml from its configURL, then runs examples/raw", async () => {
  await podman.reset();
  const reloaded = localConfig(await upstreamFile("examples/config-reload.yaml"), { repoUrl });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(reloaded) });
  try {
    const remoteUrl = "https://raw.githubusercontent.com/containers/fetchit/main/examples/config-reload.yaml";
    const { h } = await example("config-url.yaml", { [remoteUrl]: `http://127.0.0.1:${server.port}/examples/config-reload.yaml` });
    const proc = spawnFetchit(["run", ...h.flags()], podman.env);
    try {
      await waitFor("examples/raw running", async () => (await running()).length === 4, 150_000);
      expect(await running()).toEqual(RAW);
    } finally {
      expect(await proc.stop()).toBe(0);
    }
  } finally {
    server.stop(true);
  }
}, 180_000);

test("ssh-config.yaml: filetransfer over ssh with `sshKeyFile: id_rsa` from ~/.ssh of the user running fetchit", async () => {
  const sshd = await startSshd();
  try {
    const home = tempDir("fetchit-upstream-home-");
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    copyFileSync(sshd.clientKey, join(home, ".ssh", "id_rsa"));
    copyFileSync(sshd.knownHosts, join(home, ".ssh", "known_hosts"));
    const { h, dest } = await example("ssh-config.yaml");
    h.writeConfig(readFileSync(h.configFile, "utf8").replace(repoUrl, sshd.url(repoUrl.slice("file://".length))));
    const proc = spawnFetchit(["sync", ...h.flags()], { HOME: home });
    const code = await proc.proc.exited;
    expect({ code, out: code ? proc.output() : "" }).toEqual({ code: 0, out: "" });
    expect(readFileSync(join(dest, "0", "hello.txt"), "utf8")).toBe(await upstreamFile("examples/filetransfer/hello.txt"));
  } finally {
    await sshd.close();
  }
}, 120_000);

test("ansible.yaml: planned from examples/ansible (its playbook installs zsh from the internet, so it is not run here)", async () => {
  const { h } = await example("ansible.yaml");
  const r = await h.cli("plan");
  expect(r.code).toBe(2);
  expect(r.out.join("\n")).toContain("examples/ansible/playbook.yaml");
  expect(await upstreamTree("examples/ansible")).toEqual(["examples/ansible/playbook.yaml"]);
});

test("clean-config.yaml and full-suite.yaml: prune (all, volumes) runs; images in use stay", async () => {
  await podman.reset();
  await podman.cli(["run", "-d", "--name", "keeper", podman.image, ...SLEEPER]); // keeps the test image (in use) for later test files
  for (const name of ["clean-config.yaml", "full-suite.yaml"]) {
    const { h } = await example(name);
    const out = await syncOk(h, "--method", "prune");
    // clean-config removes the upstream images no container uses; full-suite's run after it finds nothing left
    expect(out.join("\n")).toMatch(name === "clean-config.yaml" ? /^applied +\(global\) prune\/prune .*[1-9]\d* images/ : /^unchanged +\(global\) prune\/prune/);
  }
  expect(await podman.cli(["image", "exists", podman.image])).toBe("");
}, 120_000);
