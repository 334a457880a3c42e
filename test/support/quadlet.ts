/**
 * A real systemd 257 with Podman 5.4 inside for the quadlet method's tests
 * (test/support/quadlet-testbed.sh): the same handle as the systemd testbed
 * (systemd.ts: exec, systemctl, writeFile, scratch dir shared at the same
 * path, dist/ at DIST_INSIDE), plus what quadlet tests look at: the testbed's
 * address (ports inner containers publish are reachable there from the host),
 * and fetchit run inside against a config.
 *
 * The inner stores (root and tester's) hold the busybox test image
 * {@link QUADLET_IMAGE} (all applets, /www/index.html "hello from busybox"),
 * so quadlet's default pull policy never pulls. Build the image first with
 * `bash test/support/quadlet-testbed.sh build` (.ci/run does): the first
 * build takes about a minute.
 */
import { join } from "node:path";
import { runOk, type RunResult } from "./exec.ts";
import { DIST_INSIDE, startSystemdTestbed, TESTER, type SystemdTestbed } from "./systemd.ts";

export const QUADLET_TESTBED_SCRIPT = join(import.meta.dir, "quadlet-testbed.sh");
export const QUADLET_IMAGE = "localhost/fetchit-test/busybox:latest";
/** The compiled fetchit inside the testbed. */
export const FETCHIT_INSIDE = `${DIST_INSIDE}/fetchit-linux-x64`;

export interface QuadletTestbed extends SystemdTestbed {
  /** The testbed's IP on the host's podman network. */
  ip: string;
  /** `fetchit sync --config CONFIG` inside, as root or tester, with a state dir of its own. */
  sync(config: string, opts?: { user?: boolean; stateDir?: string }): Promise<RunResult>;
  /** `podman inspect` of a container inside (root's store, or tester's). */
  containerId(name: string, opts?: { user?: boolean }): Promise<string>;
}

export async function startQuadletTestbed(): Promise<QuadletTestbed> {
  const tb = await startSystemdTestbed([], QUADLET_TESTBED_SCRIPT);
  const ip = (await runOk(["podman", "container", "inspect", "--format", "{{.NetworkSettings.IPAddress}}", tb.name])).trim();
  if (!ip) throw new Error(`quadlet testbed ${tb.name} has no IP address on the podman network`);
  return {
    ...tb,
    ip,
    async sync(config, opts = {}) {
      const stateDir = opts.stateDir ?? (opts.user ? `${TESTER.home}/.local/state/fetchit` : "/var/lib/fetchit");
      return await tb.exec([FETCHIT_INSIDE, "sync", "--config", config, "--state-dir", stateDir], { user: opts.user ? "tester" : "root" });
    },
    async containerId(name, opts = {}) {
      const r = await tb.exec(["podman", "container", "inspect", "--format", "{{.Id}}", name], { user: opts.user ? "tester" : "root" });
      return r.code === 0 ? r.stdout.trim() : "";
    },
  };
}

/** GET http://HOST:PORT/ from the host; the body, or "" while nothing answers (polls up to `timeoutMs`). */
export async function httpGet(host: string, port: number, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return await res.text();
    } catch {
      // not up yet
    }
    if (Date.now() > end) return "";
    await Bun.sleep(250);
  }
}

/** True when nothing answers on HOST:PORT (a refused or timed-out connection). */
export async function portClosed(host: string, port: number): Promise<boolean> {
  try {
    await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(3000) });
    return false;
  } catch {
    return true;
  }
}
