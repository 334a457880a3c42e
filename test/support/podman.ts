/**
 * One real `podman system service` per test process, on an isolated store
 * in a scratch directory (own storage.conf, containers.conf,
 * registries.conf, network), plus a tiny busybox image built from the
 * host's static busybox. Everything is removed when the process exits.
 * With `FETCHIT_TEST_PODMAN=5` the service is Podman 5 in a testbed
 * container instead (podman5.ts), behind the same interface.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, beforeEach, expect } from "bun:test";
import { PodmanApiError } from "../../src/errors.ts";
import { createPodmanClient } from "../../src/podman/index.ts";
import { createScratchDir, runOk, type CleanupCommand } from "./exec.ts";
import { startPodman5, testPodmanVersion } from "./podman5.ts";

/** The shared test Podman service. */
export interface TestPodman {
  /** The API socket to give to createPodmanClient. */
  socketPath: string;
  /**
   * Variables that point a podman process at this store and config
   * (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF;
   * on Podman 5, CONTAINER_HOST); pass them to any child process that runs podman.
   */
  env: Record<string, string>;
  /**
   * Scratch directory holding the store, configs and the service log (on
   * Podman 5: the socket; the directory is shared into the testbed at the same
   * path, so host paths below it work in bind mounts).
   */
  dir: string;
  /** `localhost/fetchit-test/busybox:latest`: sh, sleep, echo, cat, env, httpd, true, … (all busybox applets). */
  image: string;
  /** The default bridge network of this store (own subnet and bridge, DNS off). */
  network: string;
  /**
   * `HOST:PORT` reserved for the test registry, reachable by the service and
   * marked insecure in its registries.conf: `127.0.0.1:PORT` on Podman 4.
   */
  registryHost: string;
  /**
   * Where the host reaches ports that containers publish on 127.0.0.1 (or on
   * all addresses): `127.0.0.1` on Podman 4, the testbed's address on Podman 5.
   */
  publishedHost: string;
  /** Runs the podman CLI against the same store; returns stdout, throws with stderr on failure. */
  cli(args: string[]): Promise<string>;
  /** Removes all containers, pods and volumes (images stay). */
  reset(): Promise<void>;
}

/** Name of the test image. */
export const TEST_IMAGE = "localhost/fetchit-test/busybox:latest";
const PREFIX = "fetchit-podman-";
const NETWORK = "fetchit-test";

let shared: Promise<TestPodman> | undefined;

/** The per-process test service, started on first use. Throws (never skips) when Podman is missing. */
export function sharedPodman(): Promise<TestPodman> {
  shared ??= testPodmanVersion() === 5 ? startPodman5({ prefix: PREFIX, image: TEST_IMAGE, network: NETWORK, freePort }) : start();
  return shared;
}

/**
 * The hooks of a test file that uses the shared service: start it (or take the
 * running one) before the tests and hand it to `use`; before each test, remove
 * every container, pod and volume.
 */
export function withSharedPodman(use: (podman: TestPodman) => void): void {
  let podman: TestPodman | undefined;
  beforeAll(async () => {
    podman = await sharedPodman();
    use(podman);
  }, 60_000);
  beforeEach(async () => {
    await podman?.reset();
  });
}

function requireTools(): string {
  const missing = ["podman", "runc", "conmon", "tar"].filter((t) => !Bun.which(t));
  if (!existsSync("/bin/busybox") || isDynamic("/bin/busybox")) missing.push("busybox-static");
  if (missing.length === 0) return Bun.which("podman")!;
  const what = `missing for the Podman integration tests: ${missing.join(", ")}`;
  if (process.env.CI) throw new Error(`${what} (CI must provide them: run bash test/support/prepare.sh)`);
  throw new Error(`${what}; run \`bash test/support/prepare.sh\` (as root) to install them`);
}

function isDynamic(path: string): boolean {
  return readFileSync(path).subarray(0, 4096).includes("/lib64/ld-linux");
}

async function start(): Promise<TestPodman> {
  const podman = requireTools();
  // At exit: remove every pod and container first, so no conmon outlives the service.
  const dir = createScratchDir(PREFIX, (d): CleanupCommand[] => [
    { cmd: [podman, "pod", "rm", "-a", "-f", "-t", "0"], env: configEnv(d) },
    { cmd: [podman, "rm", "-a", "-f", "-t", "0"], env: configEnv(d) },
  ]);
  const registryPort = await freePort();
  const env = writeConfig(dir, registryPort);
  const cli = async (args: string[]) => (await runOk([podman, ...args], { env })).trimEnd();
  const socketPath = join(dir, "podman.sock");
  const logFile = join(dir, "service.log");
  const service = Bun.spawn([podman, "system", "service", "--time=0", `unix://${socketPath}`], {
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: Bun.file(logFile),
    stderr: Bun.file(logFile),
  });
  service.unref();
  await waitForService(socketPath, service, logFile);
  await buildImage(dir, cli);
  return {
    socketPath,
    env,
    dir,
    image: TEST_IMAGE,
    network: NETWORK,
    registryHost: `127.0.0.1:${registryPort}`,
    publishedHost: "127.0.0.1",
    cli,
    async reset() {
      // Podman 4.3 races a container its restart policy is bringing back
      // ("could not be stopped … container state improper"): asked again.
      for (let attempt = 1; ; attempt++) {
        try {
          await cli(["pod", "rm", "--all", "--force", "--time", "0"]);
          await cli(["rm", "--all", "--force", "--time", "0"]);
          await cli(["volume", "rm", "--all", "--force"]);
          return;
        } catch (err) {
          if (attempt === 3) throw err;
          await Bun.sleep(500);
        }
      }
    },
  };
}

/** The variables that select this store's config files. */
function configEnv(dir: string) {
  return {
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
    CONTAINERS_CONF: join(dir, "containers.conf"),
    CONTAINERS_REGISTRIES_CONF: join(dir, "registries.conf"),
  };
}

function writeConfig(dir: string, registryPort: number): Record<string, string> {
  const files = configEnv(dir);
  writeFileSync(
    files.CONTAINERS_STORAGE_CONF,
    `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/runroot"\n`,
  );
  writeFileSync(
    files.CONTAINERS_CONF,
    [
      "[containers]",
      'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
      "[engine]",
      'runtime = "runc"',
      `tmp_dir = "${dir}/tmp"`,
      'events_logger = "file"',
      "[network]",
      `network_config_dir = "${dir}/networks"`,
      `default_network = "${NETWORK}"`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    files.CONTAINERS_REGISTRIES_CONF,
    `unqualified-search-registries = []\n\n[[registry]]\nlocation = "127.0.0.1:${registryPort}"\ninsecure = true\n`,
  );
  writeNetwork(join(dir, "networks"));
  return files;
}

/** Own bridge and random subnet so parallel test stores never share addresses or the podman0 bridge. */
function writeNetwork(netDir: string): void {
  mkdirSync(netDir, { recursive: true });
  const rnd = crypto.getRandomValues(new Uint8Array(4));
  const prefix = `10.${200 + (rnd[0]! % 50)}.${rnd[1]!}`;
  const hex = Buffer.from(rnd).toString("hex");
  const net = {
    name: NETWORK,
    id: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex"),
    driver: "bridge",
    network_interface: `ft${hex}`,
    created: new Date().toISOString(),
    subnets: [{ subnet: `${prefix}.0/24`, gateway: `${prefix}.1` }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: false,
    ipam_options: { driver: "host-local" },
  };
  writeFileSync(join(netDir, `${NETWORK}.json`), JSON.stringify(net, null, 2));
}

async function waitForService(socketPath: string, service: Bun.Subprocess, logFile: string): Promise<void> {
  const client = createPodmanClient(socketPath, { timeoutMs: 2000 });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (service.exitCode !== null) {
      throw new Error(`podman system service exited with ${service.exitCode}: ${readFileSync(logFile, "utf8").trim()}`);
    }
    try {
      await client.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`podman system service did not answer within 20s: ${String(err)}`);
      await Bun.sleep(25);
    }
  }
}

/** Imports a rootfs of the host's static busybox with every applet linked in /bin. */
async function buildImage(dir: string, cli: (args: string[]) => Promise<string>): Promise<void> {
  const rootfs = join(dir, "image-rootfs");
  const applets = (await runOk(["/bin/busybox", "--list"])).split("\n").filter((a) => a && a !== "busybox");
  const script = [
    `mkdir -p "$1/bin" "$1/tmp" "$1/etc" "$1/var/www" "$1/root"`,
    `cp /bin/busybox "$1/bin/busybox"`,
    `cd "$1/bin" && for a in ${applets.join(" ")}; do ln -sf busybox "$a"; done`,
    `chmod 1777 "$1/tmp"`,
    `echo 'root:x:0:0:root:/root:/bin/sh' > "$1/etc/passwd"`,
    `echo 'root:x:0:' > "$1/etc/group"`,
    `tar -C "$1" -cf "$1.tar" .`,
  ].join("\n");
  await runOk(["sh", "-ec", script, "sh", rootfs]);
  await cli(["import", "--change", "ENV PATH=/bin", "--change", 'CMD ["/bin/sh"]', `${rootfs}.tar`, TEST_IMAGE]);
}

/** A free TCP port on 127.0.0.1 (closed again; used soon after). */
export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Awaits a promise that must reject with a PodmanApiError, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<PodmanApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PodmanApiError);
  return err as PodmanApiError;
}
