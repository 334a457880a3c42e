/**
 * Scenario 2, the cost of a tick with nothing new: `fetchit run` (compiled)
 * with T targets × 3 methods (raw, kube, filetransfer) on a 5-second
 * schedule, each target its own repository served over smart HTTP, nothing
 * changing. Over a window of whole ticks: CPU ms of fetchit itself and of its
 * git children, git processes spawned (by subcommand, via a `git` wrapper on
 * PATH), Podman API calls (via a counting proxy on the socket), writes among
 * them. Targets: one cheap remote check per target per tick, no write calls,
 * no fetch when the remote head did not move.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createRemote, tempDir } from "../test/support/git.ts";
import { serveHttp } from "../test/support/git-http.ts";
import { sharedPodman } from "../test/support/podman.ts";
import { type BenchOptions, type ScenarioResult, cpuMs, ensureBinary, gitCounter, podmanProxy, spawnAgent, waitUntil } from "./lib.ts";

const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];
const kubeYaml = (i: number, image: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: bench-k${i}\nspec:\n  containers:\n    - name: main\n      image: ${image}\n      command: ${JSON.stringify(SLEEPER)}\n`;

export async function tickCost(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const podman = await sharedPodman();
  await podman.reset();
  const targets = opts.quick ? 4 : 20;
  const ticks = opts.quick ? 3 : 12;
  const dir = tempDir("fetchit-bench-tick-");
  const servers = [];
  let yaml = "targetConfigs:\n";
  for (let i = 0; i < targets; i++) {
    const remote = await createRemote({
      "raw/app.json": JSON.stringify({ Image: podman.image, Name: `bench-r${i}`, Command: SLEEPER }),
      "kube/pod.yaml": kubeYaml(i, podman.image),
      "files/app.conf": `instance=${i}\n`,
    });
    const http = await serveHttp(remote.dir);
    servers.push(http);
    const m = (kind: string, path: string, extra = "") => `    ${kind}:\n      - name: ${kind}\n        targetPath: ${path}\n        schedule: "*/5 * * * * *"\n${extra}`;
    yaml += `  - name: t${i}\n    url: ${http.url}\n    branch: main\n${m("raw", "raw")}${m("kube", "kube")}${m("filetransfer", "files", `        destinationDirectory: ${join(dir, "out", String(i))}\n`)}`;
  }
  const config = join(dir, "config.yaml");
  await Bun.write(config, yaml);
  const git = gitCounter();
  const proxy = podmanProxy(podman.socketPath);
  const agent = spawnAgent(bin, ["run", "--config", config, "--state-dir", join(dir, "state"), "--podman-socket", proxy.socket, "--log-level", "warn"], git.env);
  try {
    // everything applied, then one full quiet tick before measuring
    await waitUntil("first applies", async () => {
      const ps = (await podman.cli(["ps", "--format", "{{.Names}}"])).split("\n").filter((n) => n.startsWith("bench-"));
      const files = Array.from({ length: targets }, (_, i) => existsSync(join(dir, "out", String(i), "app.conf"))).every(Boolean);
      return ps.length >= targets * 2 && files;
    }, 300_000, 500);
    await untilTickBoundary(2_500);
    await Bun.sleep(5_000);
    git.reset();
    proxy.reset();
    const c0 = cpuMs(agent.proc.pid);
    await Bun.sleep(ticks * 5_000);
    const c1 = cpuMs(agent.proc.pid);
    const gitCalls = git.count();
    const calls = proxy.calls();
    const writes = calls.filter((c) => !c.startsWith("GET ") && !c.startsWith("HEAD "));
    const gitTotal = Object.values(gitCalls).reduce((a, b) => a + b, 0);
    const fetches = gitCalls.fetch ?? 0;
    const lsRemote = gitCalls["ls-remote"] ?? 0;
    const rows = [
      { what: `${targets} targets × 3 methods, every 5 s: fetchit CPU per tick`, value: (c1.self - c0.self) / ticks, unit: "ms" },
      { what: "git children's CPU per tick", value: (c1.children - c0.children) / ticks, unit: "ms" },
      { what: "git processes per tick", value: gitTotal / ticks, unit: "processes", target: `≈ ${targets} (one per target)`, ok: gitTotal / ticks <= targets * 1.05 },
      { what: "git ls-remote per tick", value: lsRemote / ticks, unit: "calls" },
      { what: "git fetch in the window (head did not move)", value: fetches, unit: "calls", target: "0", ok: fetches === 0 },
      { what: "Podman API calls per tick", value: calls.length / ticks, unit: "calls" },
      { what: "Podman API write calls in the window", value: writes.length, unit: "calls", target: "0", ok: writes.length === 0 },
    ];
    const byEndpoint: Record<string, number> = {};
    for (const c of calls) {
      const k = c.replace(/\/(containers|pods|images)\/[^/]+\//, "/$1/{name}/");
      byEndpoint[k] = (byEndpoint[k] ?? 0) + 1;
    }
    const stateFiles = readdirSync(join(dir, "state")).length;
    return { scenario: "2. no-change tick cost", rows, detail: { targets, ticks, gitCalls, podmanCalls: byEndpoint, writes, stateFiles, cpu: { c0, c1 } } };
  } finally {
    await agent.stop();
    proxy.stop();
    for (const s of servers) await s.close();
    await podman.reset();
  }
}

/** Sleeps until `offsetMs` after the next multiple of 5 s (between two ticks). */
async function untilTickBoundary(offsetMs: number): Promise<void> {
  const now = Date.now();
  await Bun.sleep(5_000 - (now % 5_000) + offsetMs);
}
