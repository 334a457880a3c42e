/**
 * A local image registry for tests: Debian's `docker-registry` (distribution)
 * on the address the test Podman marks insecure (`registryHost`: a loopback
 * port on Podman 4; on Podman 5, a port on the host's address on the
 * testbed's network, so the service inside reaches it), with filesystem
 * storage in a scratch directory. One per process.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createScratchDir } from "./exec.ts";
import { sharedPodman } from "./podman.ts";

/** The shared test registry. */
export interface TestRegistry {
  /** The test Podman's `registryHost` (plain HTTP); `127.0.0.1:PORT` on Podman 4. */
  host: string;
  /**
   * Pushes `localImage` (from the test Podman store) as `host/name` and
   * returns that full reference; `name` without a tag gets `:latest`.
   */
  push(localImage: string, name: string): Promise<string>;
}

const BINARY = "/usr/bin/docker-registry";
const PREFIX = "fetchit-registry-";
let shared: Promise<TestRegistry> | undefined;

/** The per-process test registry, started on first use (starts the test Podman too). */
export function sharedRegistry(): Promise<TestRegistry> {
  shared ??= start();
  return shared;
}

async function start(): Promise<TestRegistry> {
  if (!existsSync(BINARY)) {
    const what = `${BINARY} is missing (Debian package docker-registry)`;
    throw new Error(process.env.CI ? `${what}; CI must install it` : `${what}; run \`bash test/support/prepare.sh\``);
  }
  const podman = await sharedPodman();
  const dir = createScratchDir(PREFIX);
  const host = podman.registryHost;
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${dir}/data`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${host}`,
      "",
    ].join("\n"),
  );
  const logFile = join(dir, "registry.log");
  // The config path (inside `dir`) is on its command line: scratch-dir cleanup finds and kills it.
  const proc = Bun.spawn([BINARY, "serve", config], {
    stdin: "ignore",
    stdout: Bun.file(logFile),
    stderr: Bun.file(logFile),
  });
  proc.unref();
  await waitForRegistry(host, proc, logFile);
  return {
    host,
    async push(localImage, name) {
      const ref = `${host}/${/:[^/]*$/.test(name) ? name : `${name}:latest`}`;
      await podman.cli(["push", "--tls-verify=false", localImage, ref]);
      return ref;
    },
  };
}

async function waitForRegistry(host: string, proc: Bun.Subprocess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`docker-registry exited with ${proc.exitCode}: ${readFileSync(logFile, "utf8").trim()}`);
    }
    try {
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${host} within 15s`);
    await Bun.sleep(25);
  }
}
