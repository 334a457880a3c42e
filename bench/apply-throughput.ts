/**
 * Scenario 1, apply throughput: the first deploy of N raw containers from one
 * commit by `fetchit sync` (the compiled binary: clone, diff, create and
 * start every container), against the same containers started by a shell
 * loop of `podman run -d` (the remote client on the same API socket), in the
 * same run. Target: fetchit ≤ 0.8× the shell loop's wall time at N = 50.
 */
import { join } from "node:path";
import { createRemote, tempDir } from "../test/support/git.ts";
import { sharedPodman } from "../test/support/podman.ts";
import { type BenchOptions, type Row, type ScenarioResult, ensureBinary, podmanProxy } from "./lib.ts";

const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

export async function applyThroughput(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const podman = await sharedPodman();
  const sizes = opts.quick ? [10] : [10, 50, 200];
  const rows: Row[] = [];
  const detail: Record<string, unknown> = {};
  for (const n of sizes) {
    await podman.reset();
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) files[`raw/c${i}.json`] = JSON.stringify({ Image: podman.image, Name: `bench-f${i}`, Command: SLEEPER });
    const remote = await createRemote(files);
    const dir = tempDir("fetchit-bench-apply-");
    const config = join(dir, "config.yaml");
    await Bun.write(config, `targetConfigs:\n  - name: bench\n    url: ${remote.url}\n    branch: main\n    raw:\n      - name: r\n        targetPath: raw\n        schedule: "@hourly"\n`);
    const proxy = podmanProxy(podman.socketPath);
    let t = performance.now();
    // async spawn: the counting proxy runs in this process
    const sync = Bun.spawn([bin, "sync", "--config", config, "--state-dir", join(dir, "state"), "--podman-socket", proxy.socket, "--log-level", "warn"], {
      env: { ...process.env, FETCHIT_CONFIG: undefined },
      stdout: "ignore",
      stderr: "pipe",
    });
    const code = await sync.exited;
    const fetchitMs = performance.now() - t;
    if (code !== 0) throw new Error(`fetchit sync failed: ${await new Response(sync.stderr).text()}`);
    const calls = proxy.calls();
    proxy.stop();
    const running = (await podman.cli(["ps", "-q"])).split("\n").filter(Boolean).length;
    if (running !== n) throw new Error(`fetchit started ${running} of ${n} containers`);
    await podman.reset();

    // the shell loop: what an operator would script
    const loop = `for i in $(seq 0 ${n - 1}); do podman --remote --url "unix://$1" run -d --name bench-s$i "$2" ${SLEEPER.map((a) => `'${a}'`).join(" ")} >/dev/null || exit 1; done`;
    t = performance.now();
    const sh = Bun.spawnSync(["sh", "-c", loop, "sh", podman.socketPath, podman.image], { env: { ...process.env, ...podman.env } });
    const shellMs = performance.now() - t;
    if (sh.exitCode !== 0) throw new Error(`shell loop failed: ${sh.stderr.toString()}`);
    await podman.reset();

    const ratio = fetchitMs / shellMs;
    rows.push({ what: `N=${n}: fetchit sync, first deploy`, value: Math.round(fetchitMs), unit: "ms" });
    rows.push({ what: `N=${n}: shell loop of podman run -d`, value: Math.round(shellMs), unit: "ms" });
    rows.push({ what: `N=${n}: ratio fetchit / shell loop`, value: ratio, unit: "×", ...(n === 50 ? { target: "≤ 0.8×", ok: ratio <= 0.8 } : {}) });
    rows.push({ what: `N=${n}: Podman API calls by fetchit`, value: calls.length, unit: "calls" });
    detail[`n${n}`] = { fetchitMs, shellMs, ratio, calls: tally(calls) };
  }
  return { scenario: "1. apply throughput (first deploy of N raw containers)", rows, detail };
}

function tally(calls: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    const k = c.replace(/\/containers\/[^/]+\//, "/containers/{name}/").replace(/\/images\/[^/]+\//, "/images/{name}/");
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
