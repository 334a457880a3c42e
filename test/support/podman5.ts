/**
 * The test Podman on Podman 5 (`FETCHIT_TEST_PODMAN=5`): a Podman 5.4 API
 * service in a privileged container (test/support/podman5-testbed.sh, image
 * built once from Debian trixie and cached), one per test process, removed
 * when the process ends. Same contract as the Podman 4 service of podman.ts:
 *
 * - `socketPath`: the testbed's API socket, on a host directory.
 * - `cli(args)`: the host's podman as a remote client
 *   (`podman --url unix://SOCKET ...`); a few commands that a remote client
 *   cannot run, or that must report the server rather than the client, run as
 *   `podman exec TESTBED podman ...` instead (see {@link INNER}).
 * - `dir`: the scratch directory, bind-mounted into the testbed at the same
 *   path, so host paths below it work in bind mounts of inner containers.
 * - `image`, `network`: the same names as on Podman 4, in the inner store.
 * - `registryHost`: the host's address on the testbed's network (the bridge
 *   gateway) and a free port, marked insecure inside; the registry of
 *   registry.ts binds there, so it is reachable from inside.
 * - `publishedHost`: the testbed's address. Ports that inner containers
 *   publish on 127.0.0.1 (or on all addresses) are reachable there from the
 *   host, as they are at 127.0.0.1 on a real host.
 *
 * The first start builds the testbed image (about a minute: debootstrap), which
 * can outlast a 60 s beforeAll; build it first with
 * `bash test/support/podman5-testbed.sh build` (.ci/run does). No systemd runs
 * in the testbed, so, as on the Podman 4 test store, healthchecks never fire.
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { createPodmanClient } from "../../src/podman/index.ts";
import { createScratchDir, run, runOk, type CleanupCommand } from "./exec.ts";
import type { TestPodman } from "./podman.ts";

/** The testbed recipe: build, start, stop (see its header). */
export const TESTBED_SCRIPT = join(import.meta.dir, "podman5-testbed.sh");
const LABEL_DIR = "io.fetchit.test-dir";

/**
 * Subcommands run by the inner podman (`podman exec TESTBED podman ...`)
 * instead of the host's 4.x podman as a remote client:
 * - `version`, so that `{{.Client.Version}}` is the Podman under test (5.x);
 * - `push`: a 4.x remote client cannot parse a 5.x server's push stream
 *   ("failed to parse push results stream, unexpected input: { }");
 * - `events`: the 4.x remote client panics decoding 5.x events;
 * - `mount`, `unmount`, `umount`, `unshare`: not available remotely.
 * Checked as working remotely against 5.4: run, create, start, stop, restart,
 * rm, ps, inspect, container/image exists, exec, logs, cp, port, wait, tag,
 * rmi, save, load, import, commit, build, images, image prune, pod
 * create/ps/inspect/rm, kube play/down, play kube (--down), generate kube,
 * volume create/ls/inspect/rm/prune, network create/ls/inspect/rm, system
 * df/prune, info, healthcheck run.
 * Host paths in the arguments of inner commands resolve only below `dir`
 * (shared at the same path).
 */
const INNER = new Set(["version", "push", "events", "mount", "unmount", "umount", "unshare"]);
const GROUPS = new Set(["container", "image", "system"]); // `image push` is `push`
const runsInside = (args: string[]) => INNER.has((GROUPS.has(args[0] ?? "") ? args[1] : args[0]) ?? "");

export interface Podman5Options {
  /** Scratch-dir prefix (shared with the Podman 4 service: one sweep for both). */
  prefix: string;
  /** Test image name imported into the inner store. */
  image: string;
  /** The inner default network (set in the testbed's containers.conf). */
  network: string;
  freePort(): Promise<number>;
}

export async function startPodman5(opts: Podman5Options): Promise<TestPodman> {
  const podman = Bun.which("podman");
  if (!podman) throw new Error("podman is missing (the Podman 5 testbed runs in the host's podman); run `bash test/support/prepare.sh`");
  const name = (dir: string) => `fetchit-p5-${basename(dir).slice(opts.prefix.length)}`;
  // At exit (watchdog or sweep): removing the testbed ends every inner container with it.
  const dir = createScratchDir(opts.prefix, (d): CleanupCommand[] => [{ cmd: [podman, "rm", "-f", "-t", "0", name(d)] }]);
  const testbed = name(dir);
  await sweepOrphans(podman);
  const script = async (...args: string[]) => {
    const res = await run(["bash", TESTBED_SCRIPT, ...args]);
    if (res.code !== 0) throw new Error(`podman5-testbed.sh ${args[0]} failed (${res.code}): ${res.stderr.trim()}`);
    return res.stdout.trim();
  };
  const gateway = await script("gateway");
  const registryHost = `${gateway}:${await opts.freePort()}`;
  const socketPath = await script(
    "start", testbed,
    "--run-dir", join(dir, "run"),
    "--insecure-registry", registryHost,
    "--share", dir,
    "--image", opts.image,
    "--", "--label", `${LABEL_DIR}=${dir}`,
  );
  const publishedHost = await script("ip", testbed);
  await createPodmanClient(socketPath, { timeoutMs: 5000 }).ping();
  const remote = [podman, "--url", `unix://${socketPath}`];
  const inner = [podman, "exec", testbed, "podman"];
  const cli = async (args: string[]) =>
    (await runOk([...(runsInside(args) ? inner : remote), ...args], { env: { CONTAINER_HOST: undefined } })).trimEnd();
  // The inner default network is named in the testbed's containers.conf; it must be ours.
  await cli(["network", "exists", opts.network]);
  return {
    socketPath,
    // A podman child process given this env is a remote client of the testbed.
    env: { CONTAINER_HOST: `unix://${socketPath}` },
    dir,
    image: opts.image,
    network: opts.network,
    registryHost,
    publishedHost,
    cli,
    async reset() {
      await cli(["pod", "rm", "--all", "--force", "--time", "0"]);
      await cli(["rm", "--all", "--force", "--time", "0"]);
      await cli(["volume", "rm", "--all", "--force"]);
    },
  };
}

/** Testbeds whose scratch directory is gone (owner and watchdog killed, dir swept) are removed. */
async function sweepOrphans(podman: string): Promise<void> {
  const res = await run([podman, "ps", "-a", "--filter", `label=${LABEL_DIR}`, "--format", `{{.Names}} {{index .Labels "${LABEL_DIR}"}}`]);
  for (const line of res.stdout.split("\n")) {
    const [testbed, dir] = line.split(" ");
    if (testbed && dir && !existsSync(join(dir, "owner.pid"))) await run([podman, "rm", "-f", "-t", "0", testbed]);
  }
}

/** The Podman major version the tests run against: `FETCHIT_TEST_PODMAN` (4, the host's podman, by default; or 5). */
export function testPodmanVersion(): 4 | 5 {
  const v = process.env.FETCHIT_TEST_PODMAN?.trim() || "4";
  if (v !== "4" && v !== "5") throw new Error(`FETCHIT_TEST_PODMAN=${v}: expected 4 (the host's podman) or 5 (the Podman 5 testbed)`);
  return Number(v) as 4 | 5;
}
