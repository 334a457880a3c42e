/**
 * fetchit's own image (packaging/container/): built by build.sh from a base
 * made locally (image-base.ts), run with FetchIt's systemd unit arguments
 * (fetchit-volume at /opt, the config directory at /opt/mount, the Podman
 * socket at /run/podman/podman.sock) against the real test Podman: the raw
 * example applied, `podman logs` saying so, a clean exit on stop;
 * $FETCHIT_CONFIG instead of the file; amd64 and arm64 images in one
 * manifest list, built without emulation.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, runOk } from "../support/exec.ts";
import { ROOT, waitFor } from "../support/fetchit.ts";
import { createRemote, tempDir } from "../support/git.ts";
import { sharedPodman, type TestPodman } from "../support/podman.ts";
import { ensureBinary } from "../support/systemd.ts";
import { localBase } from "./image-base.ts";

const IMAGE = "localhost/fetchit-test/fetchit:latest";
const BUILD = join(ROOT, "packaging/container/build.sh");
let podman: TestPodman;
let binary: string;

/** build.sh with the test store's podman; returns its output. */
async function build(env: Record<string, string>): Promise<string> {
  const r = await run(["bash", BUILD, IMAGE], { cwd: ROOT, env: { ...podman.env, ...env } });
  if (r.code !== 0) throw new Error(`build.sh failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return r.stdout.trim();
}

/** The raw example (examples/raw-config.yaml + examples/repo/raw) with its repository inside the mounted config directory. */
async function configDir(): Promise<string> {
  const files = Object.fromEntries(["hello.json", "web.yaml"].map((f) => [`raw/${f}`, readFileSync(join(ROOT, "examples/repo/raw", f), "utf8")]));
  const remote = await createRemote(files);
  const dir = tempDir("fetchit-mount-");
  cpSync(remote.dir, join(dir, "repo"), { recursive: true });
  writeFileSync(join(dir, "config.yaml"), readFileSync(join(ROOT, "examples/raw-config.yaml"), "utf8").replace(/url: .*/, "url: file:///opt/mount/repo"));
  return dir;
}

const running = async () => (await podman.cli(["ps", "--format", "{{.Names}}"])).split("\n").filter(Boolean).sort();

beforeAll(async () => {
  podman = await sharedPodman();
  await podman.reset();
  binary = await ensureBinary();
  await podman.cli(["tag", podman.image, "docker.io/library/busybox:latest"]);
}, 600_000);

describe("fetchit's container image", () => {
  test("FetchIt's unit arguments: the raw example applied, logged, and a clean exit on stop", async () => {
    await podman.reset();
    const base = await localBase(podman, "amd64", binary);
    expect(await build({ ARCHES: "amd64", BASE: base })).toBe(IMAGE);
    const mount = await configDir();
    // FetchIt's systemd/fetchit-root.service, with only the image name changed (and no systemd %t cidfile).
    await podman.cli([
      "run", "--cgroups=no-conmon", "--security-opt", "label=disable", "--replace", "--label", "io.containers.autoupdate=registry",
      "-d", "--name", "fetchit", "-v", "fetchit-volume:/opt", "-v", `${mount}:/opt/mount`, "-v", `${podman.socketPath}:/run/podman/podman.sock`, `${IMAGE}-amd64`,
    ]);
    await waitFor("the example's containers", async () => JSON.stringify(await running()) === JSON.stringify(["fetchit", "hello", "web"]), 90_000);
    // fetchit logs to stderr, which `podman logs` replays on its stderr.
    const logs = () => run(["podman", "logs", "fetchit"], { env: podman.env }).then((r) => r.stdout + r.stderr);
    await waitFor("'commit applied' in podman logs", async () => (await logs()).includes("commit applied"), 60_000);
    expect(await logs()).toContain("container created and started");
    expect(await logs()).toContain("edge-config");
    const started = Date.now();
    await podman.cli(["stop", "-t", "30", "fetchit"]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await podman.cli(["inspect", "--format", "{{.State.ExitCode}}", "fetchit"])).trim()).toBe("0");
    // The state went to FetchIt's volume.
    const volume = (await podman.cli(["volume", "inspect", "--format", "{{.Mountpoint}}", "fetchit-volume"])).trim();
    expect(existsSync(join(volume, "fetchit", "state"))).toBe(true);
    await podman.cli(["rm", "-f", "fetchit"]);
  }, 600_000);

  test("$FETCHIT_CONFIG (the YAML text) instead of the file; `sync` through the entrypoint", async () => {
    await podman.reset();
    const mount = await configDir();
    const text = readFileSync(join(mount, "config.yaml"), "utf8");
    writeFileSync(join(mount, "config.yaml"), "not: [valid\n");
    const r = await run(["podman", "run", "--rm", "--security-opt", "label=disable", "-e", `FETCHIT_CONFIG=${text}`, "-v", `${mount}:/opt/mount`, "-v", `${podman.socketPath}:/run/podman/podman.sock`, `${IMAGE}-amd64`, "sync"], { env: podman.env });
    expect(r.code).toBe(0);
    expect(await running()).toEqual(["hello", "web"]);
  }, 300_000);

  test("amd64 and arm64 images in one manifest list, built without emulation", async () => {
    const arm = join(ROOT, "dist/fetchit-linux-arm64");
    if (!existsSync(arm) || statSync(arm).mtimeMs < statSync(binary).mtimeMs) await runOk([process.execPath, "build.ts", "linux-arm64"], { cwd: ROOT });
    const env = { BASE_AMD64: await localBase(podman, "amd64", binary), BASE_ARM64: await localBase(podman, "arm64", binary) };
    expect(await build(env)).toBe(IMAGE);
    const list = JSON.parse(await podman.cli(["manifest", "inspect", IMAGE])) as { manifests: { platform: { architecture: string; os: string } }[] };
    expect(list.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    const mnt = (await podman.cli(["image", "mount", `${IMAGE}-arm64`])).trim();
    try {
      const elf = readFileSync(join(mnt, "usr/local/bin/fetchit")).subarray(0, 20);
      expect(elf.readUInt16LE(18)).toBe(0xb7); // EM_AARCH64
    } finally {
      await podman.cli(["image", "unmount", `${IMAGE}-arm64`]);
    }
  }, 600_000);
});
