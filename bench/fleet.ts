/**
 * Scenario 9, fleet simulation (issue 13): N `fetchit run` agents on this
 * machine (default 100, `--quick` 10), each with its own state dir and its
 * own labels and values from the environment, following one repository over
 * smart HTTP (git http-backend, push allowed) with filetransfer to a
 * templated destination. Measures the requests the git server sees when
 * nothing changes, push-to-applied latency with waves: 1 and waves: 4, and,
 * for a bad commit with waves: 4, how many hosts ever applied it and how long
 * until every host saw the quarantine ref. Also the machine's memory for the
 * agents. `FLEET_AGENTS=N` overrides N.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRemote, tempDir, type TestRemote } from "../test/support/git.ts";
import { serveHttp, type TestHttpServer } from "../test/support/git-http.ts";
import { type Agent, type BenchOptions, type Row, type ScenarioResult, ensureBinary, memorySample, median, percentile, spawnAgent, waitUntil } from "./lib.ts";

const TICK_S = 5;
const INTERVAL_S = 30;

interface Fleet {
  agents: Agent[];
  dests: string[];
  stop(): Promise<void>;
}

function config(url: string, waves: number): string {
  return `rollout:\n  waves: ${waves}\n  interval: ${INTERVAL_S}s\n  report: true\ntargetConfigs:\n  - name: fleet\n    url: ${url}\n    branch: main\n    gitAuth:\n      username: fleet\n      password: push-ok\n    filetransfer:\n      - name: site\n        targetPath: "sites/{{ labels.site }}"\n        destinationDirectory: "{{ values.root }}/{{ labels.site }}"\n        schedule: "*/${TICK_S} * * * * *"\n        health:\n          window: 0\n          command: "grep -q good {{ values.root }}/{{ labels.site }}/app.conf"\n`;
}

async function startFleet(bin: string, n: number, url: string, waves: number, dir: string): Promise<Fleet> {
  const cfg = join(dir, `config-${waves}.yaml`);
  await Bun.write(cfg, config(url, waves));
  const agents: Agent[] = [];
  const dests: string[] = [];
  for (let i = 0; i < n; i++) {
    const root = join(dir, `host-${i}`);
    const site = ["lab", "north", "south"][i % 3]!;
    dests.push(join(root, site, "app.conf"));
    const env = { FETCHIT_LABEL_site: site, FETCHIT_LABEL_wave: String(i % waves), FETCHIT_VALUE_root: root };
    agents.push(spawnAgent(bin, ["run", "--config", cfg, "--state-dir", join(root, "state"), "--log-format", "json", "--log-level", "info"], env));
  }
  return { agents, dests, stop: async () => void (await Promise.all(agents.map((a) => a.stop()))) };
}

const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");

/** Seconds from now until every host's file holds `text`; each host's time. */
async function applyTimes(fleet: Fleet, text: string, timeoutS: number): Promise<number[]> {
  const t0 = Date.now();
  const done = new Map<number, number>();
  await waitUntil(`every host has "${text.trim()}"`, () => {
    fleet.dests.forEach((d, i) => !done.has(i) && read(d) === text && done.set(i, (Date.now() - t0) / 1000));
    return done.size === fleet.dests.length;
  }, timeoutS * 1000, 250);
  return [...done.values()];
}

const rows = (what: string, xs: number[], unit = "s"): Row[] => [
  { what: `${what}: p50`, value: median(xs), unit },
  { what: `${what}: p95`, value: percentile(xs, 95), unit },
  { what: `${what}: max`, value: Math.max(...xs), unit },
];

export async function fleet(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const n = Number(process.env.FLEET_AGENTS ?? (opts.quick ? 10 : 100));
  const dir = tempDir("fetchit-bench-fleet-");
  const files = (v: string) => Object.fromEntries(["lab", "north", "south"].map((s) => [`sites/${s}/app.conf`, `${v}\n`]));
  const remote: TestRemote = await createRemote(files("good v0"));
  const http: TestHttpServer = await serveHttp(remote.dir, { auth: { username: "fleet", password: "push-ok" } });
  const out: Row[] = [];
  const memBefore = memAvailableKb();
  try {
    // waves: 1 — idle requests, then one push
    let f = await startFleet(bin, n, http.url, 1, dir);
    await applyTimes(f, "good v0\n", 300);
    const agentsMem = f.agents.map((a) => memorySample(a.proc.pid));
    out.push({ what: `agents: RSS, all ${n}`, value: sum(agentsMem.map((m) => m.rssKb)) / 1024, unit: "MB" });
    out.push({ what: `agents: anonymous (Private_Dirty), all ${n}`, value: sum(agentsMem.map((m) => m.privateDirtyKb)) / 1024, unit: "MB" });
    out.push({ what: "machine: MemAvailable drop with the agents running", value: (memBefore - memAvailableKb()) / 1024, unit: "MB" });
    const r0 = http.requests.length;
    await Bun.sleep(60_000);
    const perMin = http.requests.length - r0;
    out.push({ what: "idle: requests at the git server per minute", value: perMin, unit: "req" });
    out.push({ what: "idle: requests per target per tick", value: perMin / n / (60 / TICK_S), unit: "req", target: "one ref advertisement (2 HTTP requests: info/refs + ls-refs)" });
    await remote.commit(files("good v1"));
    out.push(...rows("waves 1: push → applied", await applyTimes(f, "good v1\n", 300)));
    await f.stop();

    // waves: 4, interval 30 s
    f = await startFleet(bin, n, http.url, 4, dir);
    await remote.commit(files("good v2"));
    out.push(...rows(`waves 4 × ${INTERVAL_S} s: push → applied`, await applyTimes(f, "good v2\n", 400)));

    // a bad commit with waves: 4 — only wave 0 applies it, rolls back, reports
    const bad = await remote.commit(files("bad v3"));
    const t0 = Date.now();
    const refSeenAt = await waitUntil("the quarantine ref", () => (refExists(remote, bad) ? Date.now() : undefined), 120_000, 200);
    const seen = await waitUntil("every later-wave host skipping the quarantined commit", () => {
      const s = f.agents.filter((a, i) => i % 4 === 0 || a.stderr().includes("another host quarantined it"));
      return s.length === n ? Date.now() : undefined;
    }, 4 * INTERVAL_S * 1000, 500);
    await Bun.sleep(4 * INTERVAL_S * 1000 - (Date.now() - t0) + 10_000); // past the last wave's due time
    const applied = f.agents.filter((a) => a.stderr().includes(`"to":"${bad.slice(0, 9)}"`)).length;
    out.push({ what: "bad commit: hosts that applied it", value: applied, unit: "hosts", target: `the wave-0 hosts only (${Math.ceil(n / 4)})`, ok: applied <= Math.ceil(n / 4) });
    out.push({ what: "bad commit: push → quarantine ref on the server", value: (refSeenAt - t0) / 1000, unit: "s" });
    out.push({ what: "bad commit: quarantine ref → seen by every host", value: (seen - refSeenAt) / 1000, unit: "s" });
    out.push({ what: "bad commit: hosts running it at the end", value: f.dests.filter((d) => read(d) === "bad v3\n").length, unit: "hosts", target: "0", ok: f.dests.every((d) => read(d) !== "bad v3\n") });
    await f.stop();
  } finally {
    await http.close();
  }
  return { scenario: `9. fleet (${n} agents)`, rows: out, detail: { agents: n, tickSeconds: TICK_S, intervalSeconds: INTERVAL_S } };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const memAvailableKb = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
const refExists = (remote: TestRemote, sha: string) =>
  Bun.spawnSync(["git", "-C", remote.dir, "rev-parse", "--verify", "-q", `refs/fetchit/quarantine/${sha}`]).exitCode === 0;
