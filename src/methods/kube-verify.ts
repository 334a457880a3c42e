/**
 * What the kube method checks around a play: that the Podman server honours
 * the options asked for, that every container started (the play report's
 * per-container errors), and that none exited or crash-looped right after.
 * Each failure names the file, the pod or container, and Podman's message.
 */
import { MethodError } from "../errors.ts";
import { isRetryableFailure, type PlayKubeOptions, type PlayKubeReport, type PodListEntry, type PodmanClient } from "../podman/index.ts";

/** How long after a play containers must stay up before the file counts as applied. */
export const KUBE_SETTLE_MS = 1000;

/** The first Podman version whose kube play API honours `userns` (podman PR #19203; 4.3 to 4.6 ignore it silently). */
export const USERNS_MIN_VERSION = "4.7.0";

/** true when version `v` (e.g. "4.3.1", "5.4.2-dev") is older than `min`. */
export function olderThan(v: string, min: string): boolean {
  const parts = (s: string) => s.split(/[.-]/).slice(0, 3).map((x) => Number.parseInt(x, 10) || 0);
  const [a, b] = [parts(v), parts(min)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/** Refuses `userns` on a Podman whose API would ignore it (and run the pods in the wrong user namespace). */
export async function checkUserns(podman: PodmanClient, opts: PlayKubeOptions, path: string): Promise<void> {
  if (!opts.userns) return;
  const { version } = await podman.version();
  if (olderThan(version, USERNS_MIN_VERSION)) {
    throw new MethodError(
      `userns "${opts.userns}" needs Podman ${USERNS_MIN_VERSION} or later; the kube play API of Podman ${version} ignores it. Upgrade Podman or remove userns from this kube entry`,
      path,
    );
  }
}

/** Network modes of `kube play --network` that are not network names. */
const NETWORK_MODES = new Set(["host", "none", "bridge", "private", "slirp4netns", "pasta", "default"]);

/**
 * Refuses a `network` that names no network exactly: Podman would resolve an
 * unknown name as the id prefix of another network and join it.
 */
export async function checkNetwork(podman: PodmanClient, opts: PlayKubeOptions, path: string): Promise<void> {
  const net = opts.network;
  if (!net || NETWORK_MODES.has(net) || net.includes(":")) return;
  for (const name of net.split(",")) {
    if (!(await podman.networkExists(name.trim()))) {
      throw new MethodError(`network "${name.trim()}" (the kube entry's network) does not exist (names are matched exactly, never as id prefixes); create it first with \`podman network create\``, path);
    }
  }
}

/**
 * After a play: waits KUBE_SETTLE_MS (started pods only), lists the file's
 * pods and fails on container start errors, containers that exited non-zero
 * or restarted. Returns the pod names, sorted.
 */
export async function verifyPlay(
  podman: PodmanClient,
  report: PlayKubeReport,
  labels: string[],
  opts: PlayKubeOptions,
  path: string,
): Promise<string[]> {
  const startErrors = report.Pods.flatMap((p) => (p.ContainerErrors ?? []).map((e) => ({ pod: p.ID, error: e })));
  const started = opts.start !== false && report.Pods.length > 0;
  if (started && !startErrors.length) await Bun.sleep(KUBE_SETTLE_MS);
  const pods = await podman.listPods({ labels });
  if (startErrors.length) {
    const msgs = startErrors.map(({ pod, error }) => describeStartError(pods, pod, error));
    throw new MethodError(msgs.join("; "), path, { retryable: msgs.every((m) => isRetryableFailure(500, m)) });
  }
  if (started) {
    const failures = (await Promise.all(pods.map((p) => containerFailures(podman, p)))).flat();
    if (failures.length) throw new MethodError(`${failures.join("; ")} (see \`podman logs <container>\`)`, path);
  }
  return pods.map((p) => p.Name).sort();
}

/** "pod web: container web-app failed to start: <Podman's message with ids replaced by names>". */
function describeStartError(pods: PodListEntry[], podId: string, error: string): string {
  const pod = pods.find((p) => p.Id === podId);
  let msg = error;
  for (const c of pod?.Containers ?? []) msg = msg.split(c.Id).join(c.Names);
  const ctr = pod?.Containers.find((c) => error.includes(c.Id));
  const what = ctr ? `container ${ctr.Names} failed to start` : "a container failed to start";
  return `pod ${pod?.Name ?? podId.slice(0, 12)}: ${what}: ${msg}`;
}

/** Containers of `pod` (infra excluded) that exited non-zero or were restarted by their restart policy. */
async function containerFailures(podman: PodmanClient, pod: PodListEntry): Promise<string[]> {
  const out: string[] = [];
  for (const c of pod.Containers) {
    if (c.Id === pod.InfraId) continue;
    const ci = await podman.inspectContainer(c.Id);
    if (!ci) continue;
    const where = `pod ${pod.Name}: container ${ci.Name}`;
    if (!ci.State.Running && ci.State.ExitCode !== 0) {
      out.push(`${where} exited with code ${ci.State.ExitCode}${ci.State.Error ? `: ${ci.State.Error}` : ""}`);
    } else if ((ci.RestartCount ?? 0) > 0) {
      out.push(`${where} keeps exiting: restarted ${ci.RestartCount} time(s) within ${KUBE_SETTLE_MS / 1000}s of starting`);
    }
  }
  return out;
}
