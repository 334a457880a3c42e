/**
 * Scenario 3, commit-to-running latency: a raw container running busybox
 * httpd that serves its version, defined in a repository served over smart
 * HTTP; `fetchit run` (compiled) follows it on a 2-second schedule. Each
 * round commits a new version (at a random phase of the schedule) and times
 * until the new container answers with it. Target: p50 ≤ schedule + 1 s = 3 s.
 */
import { join } from "node:path";
import { createRemote, tempDir } from "../test/support/git.ts";
import { serveHttp } from "../test/support/git-http.ts";
import { freePort, sharedPodman } from "../test/support/podman.ts";
import { type BenchOptions, type ScenarioResult, ensureBinary, median, percentile, spawnAgent, waitUntil } from "./lib.ts";

export async function latency(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const podman = await sharedPodman();
  await podman.reset();
  const rounds = opts.quick ? 3 : 20;
  const port = await freePort();
  const spec = (v: string) =>
    JSON.stringify({
      Image: podman.image,
      Name: "bench-web",
      Env: { VERSION: v },
      Ports: [{ host_port: port, container_port: 8080 }],
      // a shell as PID 1 that exits on SIGTERM (httpd as PID 1 would ignore it and wait out the stop timeout)
      Command: ["sh", "-c", 'trap "exit 0" TERM; mkdir -p /w && echo "$VERSION" > /w/index.html && httpd -f -p 8080 -h /w & wait'],
    });
  const remote = await createRemote({ "raw/web.json": spec("v0") });
  const http = await serveHttp(remote.dir);
  const dir = tempDir("fetchit-bench-latency-");
  const config = join(dir, "config.yaml");
  await Bun.write(config, `targetConfigs:\n  - name: web\n    url: ${http.url}\n    branch: main\n    raw:\n      - name: web\n        targetPath: raw\n        schedule: "*/2 * * * * *"\n`);
  const agent = spawnAgent(bin, ["run", "--config", config, "--state-dir", join(dir, "state"), "--podman-socket", podman.socketPath, "--log-level", "warn"]);
  const answer = async () => {
    try {
      const res = await fetch(`http://${podman.publishedHost}:${port}/`, { signal: AbortSignal.timeout(1_000) });
      return (await res.text()).trim();
    } catch {
      return undefined;
    }
  };
  const samples: number[] = [];
  try {
    await waitUntil("v0 answering", async () => (await answer()) === "v0", 120_000);
    for (let i = 1; i <= rounds; i++) {
      await Bun.sleep(1_000 + Math.random() * 2_000); // a random phase of the 2 s schedule
      const t0 = Date.now();
      await remote.commit({ "raw/web.json": spec(`v${i}`) });
      await waitUntil(`v${i} answering`, async () => (await answer()) === `v${i}`, 60_000, 25);
      samples.push(Date.now() - t0);
    }
  } finally {
    await agent.stop();
    await http.close();
    await podman.reset();
  }
  const p50 = median(samples);
  return {
    scenario: "3. commit-to-running latency (2 s schedule, repository over HTTP)",
    rows: [
      { what: `p50 of ${rounds} commits`, value: p50, unit: "ms", target: "≤ 3000 ms", ok: p50 <= 3_000 },
      { what: "p90", value: percentile(samples, 90), unit: "ms" },
      { what: "max", value: Math.max(...samples), unit: "ms" },
    ],
    detail: { rounds, samples },
  };
}
