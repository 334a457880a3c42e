/**
 * Scenario 6, replace throughput (issue 15): N raw containers whose process
 * ignores SIGTERM (busybox `sh -c 'trap "" TERM; sleep 1000'`, as many
 * shell-wrapped services do), all changed by one commit; `fetchit sync` (the
 * compiled binary) replaces them, each stop waiting out Podman's default 10 s
 * stop timeout. Side by side in the same run, the shell an operator would
 * write: a `podman stop` of each of the N in the background, `wait`, one
 * `podman rm` of all, then a loop of `podman run -d` (all through the same
 * API service; `podman --remote stop a b c` alone would stop them one after
 * another). Target: fetchit ≤ 25 s
 * (2.5 × the stop timeout) at N = 50; before issue 15 it was ~138 s (stops
 * four at a time).
 *
 * Podman's API service itself runs stops and removals in one worker pool of
 * 3 × CPU cores (`podman --max-workers`): 6 on a 2-core host, whatever the
 * client sends. So both are measured twice, side by side: against the test
 * service as started by default, and against a second service on the same
 * store started with `--max-workers 64` (Podman 4 only: the host's podman).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createRemote, tempDir } from "../test/support/git.ts";
import { sharedPodman, type TestPodman } from "../test/support/podman.ts";
import { type BenchOptions, type Row, type ScenarioResult, ensureBinary } from "./lib.ts";

const STUBBORN = ["sh", "-c", `trap "" TERM; sleep 1000`];
const STOP_TIMEOUT_S = 10;

export async function replaceThroughput(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const podman = await sharedPodman();
  const n = opts.quick ? 10 : 50;
  const rows: Row[] = [];
  const detail: Record<string, unknown> = {};
  const wide = await wideService(podman);
  try {
    for (const [label, socket] of [["default workers", podman.socketPath], ["--max-workers 64", wide.socket]] as const) {
      const fetchitMs = await fetchitReplace(bin, podman, socket, n);
      console.error(`  N=${n}, Podman ${label}: fetchit ${Math.round(fetchitMs)} ms`);
      // a failed shell run (a netavark/iptables hiccup of the busy host) is reported, not fatal
      const shellMs = await shellReplace(podman, socket, n).catch((err: Error) => (console.error(`  shell failed: ${err.message}`), NaN));
      console.error(`  N=${n}, Podman ${label}: shell ${Math.round(shellMs)} ms`);
      const goal = 2.5 * STOP_TIMEOUT_S * 1000;
      rows.push({ what: `N=${n}, Podman ${label}: fetchit sync, replace all`, value: Math.round(fetchitMs), unit: "ms", ...(n === 50 ? { target: `≤ ${goal} ms`, ok: fetchitMs <= goal } : {}) });
      rows.push({ what: `N=${n}, Podman ${label}: shell: N × podman stop &, wait, rm, loop of run -d`, value: Math.round(shellMs), unit: "ms" });
      rows.push({ what: `N=${n}, Podman ${label}: fetchit in ${STOP_TIMEOUT_S} s stop timeouts`, value: fetchitMs / (STOP_TIMEOUT_S * 1000), unit: "×" });
      detail[label] = { n, fetchitMs, shellMs };
    }
  } finally {
    wide.stop();
    await podman.reset();
  }
  return { scenario: "10. replace throughput (N raw containers that ignore SIGTERM, all changed)", rows, detail };
}

/** A second API service on the test store with a worker pool of 64 (the host's podman), until `stop`. */
async function wideService(podman: TestPodman): Promise<{ socket: string; stop: () => void }> {
  const socket = join(podman.dir, "wide-workers.sock");
  const svc = Bun.spawn(["podman", "--max-workers", "64", "system", "service", "--time=0", `unix://${socket}`], {
    env: { ...process.env, ...podman.env },
    stdout: "ignore",
    stderr: "ignore",
  });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await Bun.sleep(100);
  if (!existsSync(socket)) throw new Error("podman --max-workers 64 system service did not start");
  return { socket, stop: () => svc.kill() };
}

/** Deploys N stubborn containers (untimed), then times the sync that replaces them all. */
async function fetchitReplace(bin: string, podman: TestPodman, socket: string, n: number): Promise<number> {
  await podman.reset();
  const files = (v: string) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`raw/c${i}.json`, JSON.stringify({ Image: podman.image, Name: `bench-r${i}`, Command: STUBBORN, Env: { V: v } })]));
  const remote = await createRemote(files("1"));
  const dir = tempDir("fetchit-bench-replace-");
  const config = join(dir, "config.yaml");
  await Bun.write(config, `targetConfigs:\n  - name: bench\n    url: ${remote.url}\n    branch: main\n    raw:\n      - name: r\n        targetPath: raw\n        schedule: "@hourly"\n`);
  const sync = async () => {
    const p = Bun.spawn([bin, "sync", "--config", config, "--state-dir", join(dir, "state"), "--podman-socket", socket, "--log-level", "warn"], {
      env: { ...process.env, FETCHIT_CONFIG: undefined },
      stdout: "ignore",
      stderr: "pipe",
    });
    if ((await p.exited) !== 0) throw new Error(`fetchit sync failed: ${await new Response(p.stderr).text()}`);
  };
  await sync();
  await remote.commit(files("2"));
  const t = performance.now();
  await sync();
  const ms = performance.now() - t;
  const envs = await podman.cli(["ps", "--filter", "name=^bench-r", "--format", "{{.Names}}"]);
  const running = envs.split("\n").filter(Boolean).length;
  if (running !== n) throw new Error(`after the replacement ${running} of ${n} containers run`);
  return ms;
}

/** Starts N stubborn containers (untimed), then times what an operator's script would do to replace them. */
async function shellReplace(podman: TestPodman, socket: string, n: number): Promise<number> {
  await podman.reset();
  const args = STUBBORN.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const run = (v: string) => `for i in $(seq 0 ${n - 1}); do podman --remote --url "unix://$1" run -d --name bench-s$i -e V=${v} "$2" ${args} >/dev/null || exit 1; done`;
  const names = Array.from({ length: n }, (_, i) => `bench-s${i}`).join(" ");
  const sh = (script: string) => {
    const p = Bun.spawnSync(["sh", "-c", script, "sh", socket, podman.image], { env: { ...process.env, ...podman.env } });
    if (p.exitCode !== 0) throw new Error(`shell failed: ${p.stderr.toString()}`);
  };
  sh(run("1"));
  const t = performance.now();
  // `podman --remote stop a b c` stops one after another (N × 10 s): every stop in the background instead, then wait.
  sh(`for n in ${names}; do podman --remote --url "unix://$1" stop $n >/dev/null & done; wait && podman --remote --url "unix://$1" rm ${names} >/dev/null && ${run("2")}`);
  return performance.now() - t;
}
