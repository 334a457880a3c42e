/**
 * What "healthy" means for a container an apply created (raw and kube; see
 * docs/health.md), judged from one label-filtered container listing per
 * second: running through the window (a container allowed to finish must
 * exit 0), never restarted, and its healthcheck, when it has one, never
 * `unhealthy` and `healthy` by the end of the window. The listing carries
 * everything needed (State, ExitCode, StartedAt, ExitedAt, the health status
 * in Status); inspects happen only to drive healthchecks (healthcheck-driver.ts)
 * and to describe a failure.
 */
import { MethodError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PodmanClient } from "../podman/index.ts";
import { logText } from "./ansible-container.ts";
import { createHealthDriver } from "./healthcheck-driver.ts";
import { sampleWindow } from "./health-window.ts";
import type { FileFailure, HealthWindow } from "./types.ts";

/** A container the gate watches. */
export interface WatchedContainer {
  /** Container name. */
  name: string;
  /** Repository path its failure is reported against. */
  file: string;
  /** How messages name it: "container app", "pod web: container web-app". */
  label: string;
  /** Its restart policy lets it finish (raw Restart: no/on-failure, kube restartPolicy Never/OnFailure): exit 0 is healthy. */
  mayExit: boolean;
}

/** The listing fields the judgement reads (libpod `GET /containers/json`, Podman 4.3 and 5). */
export interface ContainerSample {
  Id: string;
  State: string;
  ExitCode?: number;
  /** Unix seconds of the last start. */
  StartedAt?: number;
  /** Unix seconds of the last exit; negative (Go's zero time) while it never exited. */
  ExitedAt?: number;
  /** Podman 5: restarts by the restart policy. */
  Restarts?: number;
  /** The health status ("starting", "healthy", "unhealthy") or "" without a healthcheck. */
  Status?: string;
}

export type HealthStatus = "starting" | "healthy" | "unhealthy" | undefined;

/** The healthcheck status in a listing's Status ("healthy", "Up 3 seconds (unhealthy)"), if any. */
export const healthOf = (s: ContainerSample): HealthStatus => /(unhealthy|healthy|starting)/.exec(s.Status ?? "")?.[1] as HealthStatus;

/**
 * Why `now` (compared with `first`, the first sample of the window) is
 * unhealthy, or undefined. `final`: the window is over (a healthcheck must
 * have passed by then, when one was due). Pure.
 */
export function judgeContainer(w: WatchedContainer, now: ContainerSample | undefined, first: ContainerSample | undefined, final: boolean, checkDue = true): string | undefined {
  if (!now) return `${w.label} is gone (removed during the window)`;
  if (first && now.Id !== first.Id) return `${w.label} was replaced by another container during the window`;
  const code = now.ExitCode ?? 0;
  if (now.State === "exited" || now.State === "stopped") {
    if (w.mayExit && code === 0) return undefined;
    return `${w.label} exited with code ${code}${w.mayExit ? "" : " (it should keep running)"}`;
  }
  if (now.State !== "running") return final ? `${w.label} is ${now.State}, not running, at the end of the window` : undefined;
  const restarted =
    (now.Restarts ?? 0) > (first?.Restarts ?? 0) || (now.ExitedAt ?? 0) > 0 || (first !== undefined && now.StartedAt !== first.StartedAt);
  if (restarted) return `${w.label} restarted${now.Restarts ? ` (${now.Restarts} time(s))` : ""}: it exited${code ? ` with code ${code}` : ""} and its restart policy started it again`;
  const health = healthOf(now);
  if (health === "unhealthy") return `${w.label} is unhealthy: its healthcheck failed`;
  if (final && health === "starting" && checkDue) return `${w.label} did not become healthy within the window (healthcheck still starting)`;
  return undefined;
}

/** The last `lines` log lines of a container, for a failure message ("" when unreadable). */
export async function logTail(podman: PodmanClient, name: string, lines = 10): Promise<string> {
  try {
    const r = await podman.requestRaw("GET", `/containers/${encodeURIComponent(name)}/logs`, { query: { stdout: true, stderr: true, tail: lines } });
    const text = logText(r.text).split("\n").filter((l) => l.trim()).slice(-lines).join("\n    ");
    return text ? `; last log lines:\n    ${text.slice(-2000)}` : "";
  } catch {
    return "";
  }
}

/**
 * Samples `list()` (one listing) once a second until the window ends; returns
 * the failures of the first sample that finds any (with log lines), or [].
 */
export async function watchContainers(
  podman: PodmanClient,
  watched: WatchedContainer[],
  list: () => Promise<Map<string, ContainerSample>>,
  window: HealthWindow,
  log: Logger,
): Promise<FileFailure[]> {
  const first = new Map<string, ContainerSample>();
  const driver = createHealthDriver(podman, window.since + window.windowMs);
  const warned = new Set<string>();
  return sampleWindow(window, async (final) => {
    let seen = await list();
    const checked = (only?: HealthStatus) =>
      watched.flatMap((w) => {
        const h = healthOf(seen.get(w.name) ?? { Id: "", State: "" });
        return h && (!only || h === only) ? [w.name] : [];
      });
    await driver.tick(checked());
    // A check still running or not run yet at the end: its result decides, not the timing.
    if (final && (await driver.settle(checked("starting")))) seen = await list();
    const problems: FileFailure[] = [];
    for (const w of watched) {
      const s = seen.get(w.name);
      if (s && !first.has(w.name)) first.set(w.name, s);
      if (s && healthOf(s) && !driver.due(w.name) && !warned.has(w.name)) {
        warned.add(w.name);
        log.warn("health gate: the container's first healthcheck falls after the window; its health is not judged (make health.window longer than its HealthStartPeriod + HealthInterval)", { container: w.name });
      }
      const why = judgeContainer(w, s, first.get(w.name), final, driver.due(w.name));
      if (!why) continue;
      const detail = s && healthOf(s) ? await driver.lastOutput(w.name) : "";
      problems.push({ file: w.file, error: new MethodError(`health gate: ${why}${detail}${await logTail(podman, w.name)}`, w.file) });
    }
    return problems;
  });
}
