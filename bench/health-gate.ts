/**
 * Scenario 6, what a health gate costs: `fetchit sync` of the same N raw
 * containers without a gate, with `health: {window: 5s}`, and with a window
 * plus a healthcheck in every container (HealthCmd, HealthInterval 1s, which
 * the gate runs itself where no systemd timer does). Measured: the added wall
 * time (the window, counted from the last change) and the Podman API calls
 * the gate adds, per container per second. Target (issue 12): the window plus
 * at most one inspect per resource per second.
 */
import { join } from "node:path";
import { createRemote, tempDir } from "../test/support/git.ts";
import { sharedPodman } from "../test/support/podman.ts";
import { type BenchOptions, type Row, type ScenarioResult, ensureBinary, podmanProxy } from "./lib.ts";

const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];
const WINDOW_S = 5;

interface Variant {
  name: string;
  health: string;
  spec: Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { name: "no gate", health: "", spec: {} },
  { name: "window 5s", health: `        health:\n          window: ${WINDOW_S}s\n`, spec: {} },
  { name: "window 5s + healthchecks", health: `        health:\n          window: ${WINDOW_S}s\n`, spec: { HealthCmd: ["true"], HealthInterval: "1s", HealthRetries: 1 } },
];

const kind = (call: string) =>
  call.startsWith("GET /libpod/containers/json") || call === "GET /containers/json"
    ? "list"
    : /\/healthcheck$/.test(call)
      ? "healthcheck"
      : /^GET .*\/containers\/[^/]+\/json$/.test(call)
        ? "inspect"
        : /\/logs$/.test(call)
          ? "logs"
          : "other";

export async function healthGate(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const podman = await sharedPodman();
  const n = opts.quick ? 10 : 30;
  const rows: Row[] = [];
  const detail: Record<string, unknown> = { n, windowS: WINDOW_S };
  let baseMs = 0;
  for (const v of VARIANTS) {
    await podman.reset();
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) files[`raw/c${i}.json`] = JSON.stringify({ Image: podman.image, Name: `bench-h${i}`, Command: SLEEPER, ...v.spec });
    const remote = await createRemote(files);
    const dir = tempDir("fetchit-bench-health-");
    const config = join(dir, "config.yaml");
    await Bun.write(config, `targetConfigs:\n  - name: bench\n    url: ${remote.url}\n    branch: main\n    raw:\n      - name: r\n        targetPath: raw\n        schedule: "@hourly"\n${v.health}`);
    const proxy = podmanProxy(podman.socketPath);
    const t = performance.now();
    const sync = Bun.spawn([bin, "sync", "--config", config, "--state-dir", join(dir, "state"), "--podman-socket", proxy.socket, "--log-level", "info"], {
      env: { ...process.env, FETCHIT_CONFIG: undefined },
      stdout: "ignore",
      stderr: "pipe",
    });
    const [code, log] = await Promise.all([sync.exited, new Response(sync.stderr).text()]);
    const ms = performance.now() - t;
    if (code !== 0) throw new Error(`fetchit sync (${v.name}) failed: ${log}`);
    const gateMs = Number(/health gate passed.*?ms=(\d+)/.exec(log)?.[1] ?? NaN);
    const calls = proxy.calls();
    proxy.stop();
    const byKind: Record<string, number> = {};
    for (const c of calls) byKind[kind(c)] = (byKind[kind(c)] ?? 0) + 1;
    if (!v.health) baseMs = ms;
    // The apply itself inspects each container once (before creating it): the gate's inspects are the rest.
    const gateInspects = (byKind.inspect ?? 0) - n;
    rows.push({ what: `${v.name}: fetchit sync of ${n} containers`, value: Math.round(ms), unit: "ms" });
    if (v.health) {
      const added = ms - baseMs;
      // With healthchecks the gate also waits for the checks themselves (execs in the containers) at the end of the window.
      const target = v.spec.HealthCmd ? {} : { target: `≈ ${WINDOW_S * 1000} ms`, ok: gateMs < WINDOW_S * 1000 + 1500 };
      rows.push({ what: `${v.name}: the gate itself (fetchit's log, from the apply's end)`, value: gateMs, unit: "ms", ...target });
      rows.push({ what: `${v.name}: added wall time vs no gate (includes the apply's noise)`, value: Math.round(added), unit: "ms" });
      rows.push({ what: `${v.name}: container listings during the gate`, value: byKind.list ?? 0, unit: "calls" });
      const perResSec = gateInspects / (n * WINDOW_S);
      rows.push({ what: `${v.name}: gate inspects per container per second`, value: perResSec, unit: "/s", target: "≤ 1", ok: perResSec <= 1 });
      if (byKind.healthcheck) rows.push({ what: `${v.name}: healthchecks run by the gate per container per second`, value: byKind.healthcheck / (n * WINDOW_S), unit: "/s" });
    }
    detail[v.name] = { ms, gateMs, calls: byKind };
  }
  await podman.reset();
  return { scenario: `6. health gate cost (${n} raw containers, window ${WINDOW_S} s)`, rows, detail };
}
