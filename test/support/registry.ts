/**
 * A local image registry for tests: Debian's `docker-registry` (distribution)
 * on the address the test Podman marks insecure (`registryHost`: a loopback
 * port on Podman 4; on Podman 5, a port on the host's address on the
 * testbed's network, so the service inside reaches it), with filesystem
 * storage in a scratch directory. One per process.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupScratchDir, createScratchDir } from "./exec.ts";
import { freePort, sharedPodman } from "./podman.ts";

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
  await serve(dir, host, {});
  return {
    host,
    async push(localImage, name) {
      const ref = `${host}/${/:[^/]*$/.test(name) ? name : `${name}:latest`}`;
      await podman.cli(["push", "--tls-verify=false", localImage, ref]);
      return ref;
    },
  };
}

/** Options of a dedicated registry ({@link startRegistry}). */
export interface RegistryOptions {
  /** Listen address `HOST:PORT`; default a free loopback port (e.g. a Podman 5 testbed's `registryHost` to be reachable inside). */
  host?: string;
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { cert: string; key: string };
  /** htpasswd Basic auth with this one user (bcrypt hash made by Bun, as `htpasswd -B` does). */
  basic?: { username: string; password: string };
}

/** A dedicated registry on its own port (loopback unless `host` is given). */
export interface OwnRegistry {
  host: string;
  /** Its storage root (`docker/registry/v2/...`): tests damage blobs there. */
  dataDir: string;
  /** SIGKILL (the registry is down); `start` brings it back on the same port and storage. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

/** Starts a dedicated `docker-registry` on a free loopback port. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<OwnRegistry> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing (Debian package docker-registry); run \`bash test/support/prepare.sh\``);
  const dir = createScratchDir(PREFIX);
  const host = opts.host ?? `127.0.0.1:${await freePort()}`;
  let proc = await serve(dir, host, opts);
  return {
    host,
    dataDir: join(dir, "data"),
    async kill() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
    async start() {
      proc = await serve(dir, host, opts);
    },
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
      cleanupScratchDir(dir);
    },
  };
}

/** Writes the config into `dir` and starts the registry on `host`; resolves once it answers. */
async function serve(dir: string, host: string, opts: RegistryOptions): Promise<Bun.Subprocess> {
  const config = join(dir, "config.yml");
  const auth = opts.basic ? ["auth:", "  htpasswd:", "    realm: fetchit-test", `    path: ${dir}/htpasswd`] : [];
  if (opts.basic) {
    const hash = await Bun.password.hash(opts.basic.password, { algorithm: "bcrypt", cost: 5 });
    writeFileSync(join(dir, "htpasswd"), `${opts.basic.username}:${hash}\n`);
  }
  const tls = opts.tls ? ["  tls:", `    certificate: ${opts.tls.cert}`, `    key: ${opts.tls.key}`] : [];
  const lines = ["version: 0.1", "log:", "  level: warn", "  accesslog:", "    disabled: true", "storage:", "  filesystem:", `    rootdirectory: ${dir}/data`, "  delete:", "    enabled: true", ...auth, "http:", `  addr: ${host}`, ...tls, ""];
  writeFileSync(config, lines.join("\n"));
  const logFile = join(dir, "registry.log");
  // The config path (inside `dir`) is on its command line: scratch-dir cleanup finds and kills it.
  const proc = Bun.spawn([BINARY, "serve", config], { stdin: "ignore", stdout: Bun.file(logFile), stderr: Bun.file(logFile) });
  proc.unref();
  await waitForRegistry(host, proc, logFile, !!opts.basic, !!opts.tls);
  return proc;
}

async function waitForRegistry(host: string, proc: Bun.Subprocess, logFile: string, auth = false, tls = false): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`docker-registry exited with ${proc.exitCode}: ${readFileSync(logFile, "utf8").trim()}`);
    }
    try {
      const res = await fetch(`${tls ? "https" : "http"}://${host}/v2/`, { signal: AbortSignal.timeout(1000), tls: { rejectUnauthorized: false } } as RequestInit);
      if (res.status === 200 || (auth && res.status === 401)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${host} within 15s`);
    await Bun.sleep(25);
  }
}
