/**
 * Makes containers' healthchecks run during the health window. Podman runs
 * healthchecks from systemd timers; where no systemd runs them (a container
 * host without systemd, Podman's API in a container), the status would stay
 * `starting` for ever. So the gate runs the check itself
 * (`GET /containers/{name}/healthcheck`, as `podman healthcheck run`) at the
 * container's own interval, first one interval after the container started,
 * and Podman applies its own retries and start period to the result. Once a
 * check shows up that the gate did not run, Podman's timer is at work and the
 * gate only watches. At most one inspect and one check per container per
 * interval (never more than once a second), at most 4 checks at once (each is
 * an exec in its container), the longest-waiting first.
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
  name: string;
  intervalMs: number;
  timeoutMs: number;
  nextAt: number;
  /** When the gate's last own check finished (the container's start before the first). */
  ownDone: number;
  /** An own check has completed. */
  checked: boolean;
  /** Podman's timer runs the checks: only watch. */
  byPodman: boolean;
  inflight?: Promise<void>;
  /** A check falls within the window (else "starting" at the end is not held against it). */
  dueInWindow: boolean;
}

const NS_PER_MS = 1_000_000;
const DEFAULT_INTERVAL_MS = 30_000;
const MAX_RUNNING = 4;

export interface HealthDriver {
  /** Starts the checks of `names` that are due (not awaited: a check may take its whole timeout). */
  tick(names: string[]): Promise<void>;
  /**
   * End of the window: waits for the checks of `names` in flight and runs one
   * now for each that the gate has not checked yet; true when it did anything
   * (the caller lists again).
   */
  settle(names: string[]): Promise<boolean>;
  /** Whether a check of `name` was due within the window. */
  due(name: string): boolean;
  /** "; last healthcheck (exit 1): <output>" for a failure message, "" when none. */
  lastOutput(name: string): Promise<string>;
}

const inspect = (podman: PodmanClient, name: string) =>
  podman.request<HealthInspect>("GET", `/containers/${encodeURIComponent(name)}/json`).catch(() => undefined);

/** A driver for one window ending at `end` (epoch ms). */
export function createHealthDriver(podman: PodmanClient, end: number): HealthDriver {
  const driven = new Map<string, Driven>();
  let running = 0;
  const learn = async (name: string): Promise<Driven | undefined> => {
    const c = await inspect(podman, name);
    if (!c) return undefined;
    const intervalMs = Math.max(1000, (c.Config?.Healthcheck?.Interval ?? 0) / NS_PER_MS || DEFAULT_INTERVAL_MS);
    const started = Date.parse(c.State?.StartedAt ?? "") || Date.now();
    const timeoutMs = (c.Config?.Healthcheck?.Timeout ?? 0) / NS_PER_MS || 30_000;
    const d: Driven = { name, intervalMs, timeoutMs, nextAt: started + intervalMs, ownDone: started, checked: false, byPodman: false, dueInWindow: started + intervalMs <= end };
    driven.set(name, d);
    return d;
  };
  const run = (d: Driven): Promise<void> => {
    running++;
    d.nextAt = Date.now() + d.intervalMs;
    d.inflight = podman
      .requestRaw("GET", `/containers/${encodeURIComponent(d.name)}/healthcheck`, { timeoutMs: d.timeoutMs + 5000, allowStatus: [404, 409, 500] })
      .then(() => void (d.checked = true), () => undefined)
      .finally(() => {
        running--;
        d.inflight = undefined;
        d.ownDone = Date.now();
      });
    return d.inflight;
  };
  /** Leaves a container to Podman when a check the gate did not run shows in its log. */
  const podmanRuns = async (d: Driven) => {
    const last = (await inspect(podman, d.name))?.State?.Health?.Log?.at(-1);
    if (last?.Start && Date.parse(last.Start) > d.ownDone + 100) d.byPodman = true;
    return d.byPodman;
  };
  return {
    async tick(names) {
      const all = await Promise.all(names.map(async (n) => driven.get(n) ?? (await learn(n))));
      const due = all.filter((d): d is Driven => !!d && !d.byPodman && !d.inflight && Date.now() >= d.nextAt).sort((a, b) => a.nextAt - b.nextAt);
      for (const d of due.slice(0, Math.max(0, MAX_RUNNING - running))) if (!(await podmanRuns(d))) void run(d);
    },
    async settle(names) {
      const open = names.map((n) => driven.get(n)).filter((d): d is Driven => !!d && !d.byPodman && d.dueInWindow && (!!d.inflight || !d.checked));
      for (let i = 0; i < open.length; i += MAX_RUNNING) {
        await Promise.all(open.slice(i, i + MAX_RUNNING).map((d) => d.inflight ?? run(d)));
      }
      return open.length > 0;
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
