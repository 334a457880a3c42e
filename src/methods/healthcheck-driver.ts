/**
 * Makes a container's healthcheck run during the health window. Podman runs
 * healthchecks from systemd timers; where no systemd runs them (a container
 * host without systemd, Podman's API in a container), the status would stay
 * `starting` for ever. So the gate runs the check itself
 * (`GET /containers/{name}/healthcheck`, as `podman healthcheck run`) at the
 * container's own interval, first one interval after the container started,
 * and Podman applies its own retries and start period to the result. Once a
 * check shows up that the gate did not run, Podman's timer is at work and the
 * gate only watches. At most one inspect and one check per container per
 * interval (never more than once a second).
 */
import type { PodmanClient } from "../podman/index.ts";

interface HealthLogEntry {
  Start?: string;
  ExitCode?: number;
  Output?: string;
}
interface HealthInspect {
  State?: { StartedAt?: string; Health?: { Log?: HealthLogEntry[] | null } };
  Config?: { Healthcheck?: { Interval?: number; Timeout?: number } };
}

interface Driven {
  intervalMs: number;
  timeoutMs: number;
  nextAt: number;
  /** When the gate's last own check finished (the container's start before the first). */
  ownDone: number;
  /** Podman's timer runs the checks: only watch. */
  byPodman: boolean;
  running: boolean;
  /** A check falls within the window (else "starting" at the end is not held against it). */
  dueInWindow: boolean;
}

const NS_PER_MS = 1_000_000;
const DEFAULT_INTERVAL_MS = 30_000;

export interface HealthDriver {
  /** Runs the container's check when it is due (not awaited: a check may take its whole timeout). */
  tick(name: string): Promise<void>;
  /** Whether a check of `name` was due within the window. */
  due(name: string): boolean;
  /** "; last healthcheck (exit 1): <output>" for a failure message, "" when none. */
  lastOutput(name: string): Promise<string>;
}

async function inspect(podman: PodmanClient, name: string): Promise<HealthInspect | undefined> {
  return podman.request<HealthInspect>("GET", `/containers/${encodeURIComponent(name)}/json`).catch(() => undefined);
}

/** A driver for one window ending at `end` (epoch ms). */
export function createHealthDriver(podman: PodmanClient, end: number): HealthDriver {
  const driven = new Map<string, Driven>();
  const first = async (name: string): Promise<Driven | undefined> => {
    const c = await inspect(podman, name);
    if (!c) return undefined;
    const intervalMs = Math.max(1000, (c.Config?.Healthcheck?.Interval ?? 0) / NS_PER_MS || DEFAULT_INTERVAL_MS);
    const started = Date.parse(c.State?.StartedAt ?? "") || Date.now();
    const timeoutMs = (c.Config?.Healthcheck?.Timeout ?? 0) / NS_PER_MS || 30_000;
    const d: Driven = { intervalMs, timeoutMs, nextAt: started + intervalMs, ownDone: started, byPodman: false, running: false, dueInWindow: started + intervalMs <= end };
    driven.set(name, d);
    return d;
  };
  return {
    async tick(name) {
      const d = driven.get(name) ?? (await first(name));
      if (!d || d.byPodman || d.running || Date.now() < d.nextAt) return;
      const last = (await inspect(podman, name))?.State?.Health?.Log?.at(-1);
      if (last?.Start && Date.parse(last.Start) > d.ownDone + 100) {
        d.byPodman = true;
        return;
      }
      d.running = true;
      d.nextAt = Date.now() + d.intervalMs;
      void podman
        .requestRaw("GET", `/containers/${encodeURIComponent(name)}/healthcheck`, { timeoutMs: d.timeoutMs + 5000, allowStatus: [404, 409, 500] })
        .catch(() => undefined)
        .finally(() => {
          d.running = false;
          d.ownDone = Date.now();
        });
    },
    due: (name) => driven.get(name)?.dueInWindow ?? true,
    async lastOutput(name) {
      const last = (await inspect(podman, name))?.State?.Health?.Log?.at(-1);
      if (!last) return "";
      const out = (last.Output ?? "").trim().split("\n").slice(-5).join("\n    ").slice(-1000);
      return `; last healthcheck (exit code ${last.ExitCode ?? "?"})${out ? `:\n    ${out}` : " printed nothing"}`;
    },
  };
}
