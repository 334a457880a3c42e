/**
 * The benchmark suite: `bun run bench` (builds the binary when stale, then
 * every scenario against the real Podman test service and local git
 * repositories/servers). Prints a table per scenario and writes
 * bench/results/<scenario>.json plus bench/results/latest.json (all of them,
 * with the machine). Not timed tests: numbers for bench/RESULTS.md.
 *
 *   bun run bench                  full sizes (N = 10/50/200, 20 targets, 1,000 ticks: ~30 min)
 *   bun run bench -- --quick       small sizes (~5 min), to check the suite works
 *   bun run bench -- --only 1,3    some scenarios (1 apply, 2 tick, 3 latency, 4 memory, 5 startup, 6 health gate, 7 oci-vs-git, 8 large file, 9 fleet, 10 replace)
 *   BENCH_LARGE_SIZES=300 bun run bench -- --only 8   the large-file sizes in MiB (default 300,2048)
 */
import { ociVsGit } from "./oci-vs-git.ts";
import { applyThroughput } from "./apply-throughput.ts";
import { healthGate } from "./health-gate.ts";
import { largeFile } from "./large-file.ts";
import { fleet } from "./fleet.ts";
import { latency } from "./latency.ts";
import { type BenchOptions, type ScenarioResult, ensureBinary, machine, printTable, writeResult } from "./lib.ts";
import { memory } from "./memory.ts";
import { replaceThroughput } from "./replace-throughput.ts";
import { startup } from "./startup.ts";
import { tickCost } from "./tick-cost.ts";

const SCENARIOS: [string, string, (o: BenchOptions) => Promise<ScenarioResult>][] = [
  ["1", "apply-throughput", applyThroughput],
  ["2", "tick-cost", tickCost],
  ["3", "latency", latency],
  ["4", "memory", memory],
  ["5", "startup", startup],
  ["6", "health-gate", healthGate],
  ["7", "oci-vs-git", ociVsGit],
  ["8", "large-file", largeFile],
  ["9", "fleet", fleet],
  ["10", "replace-throughput", replaceThroughput],
];

const args = Bun.argv.slice(2);
const quick = args.includes("--quick");
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? "").split(",") : undefined;
const unknown = args.filter((a, i) => a !== "--quick" && a !== "--only" && !(onlyAt >= 0 && i === onlyAt + 1));
if (unknown.length) {
  console.error(`bench: unknown argument(s) ${unknown.join(" ")}; use --quick and/or --only 1,2,3,4,5,6`);
  process.exit(2);
}

const env = machine();
const started = new Date().toISOString();
console.log(`fetchit benchmarks (${quick ? "quick" : "full"}), ${started}`);
console.log(Object.entries(env).map(([k, v]) => `${k}: ${v}`).join("; "));
await ensureBinary();
const results: ScenarioResult[] = [];
const failed: string[] = [];
for (const [num, name, run] of SCENARIOS) {
  if (only && !only.includes(num) && !only.includes(name)) continue;
  const t = performance.now();
  try {
    const r = await run({ quick });
    printTable(r);
    console.log(`(${((performance.now() - t) / 1000).toFixed(0)} s)`);
    writeResult(`${name}.json`, { ...r, quick, machine: env, at: new Date().toISOString() });
    results.push(r);
  } catch (err) {
    failed.push(name);
    console.error(`\nscenario ${num} (${name}) failed: ${err instanceof Error ? err.stack : err}`);
  }
}
const path = writeResult("latest.json", { quick, machine: env, started, finished: new Date().toISOString(), results, failed });
const missed = results.flatMap((r) => r.rows.filter((row) => row.ok === false).map((row) => `${r.scenario}: ${row.what}`));
console.log(`\nwrote ${path}`);
if (missed.length) console.log(`targets not met:\n  ${missed.join("\n  ")}`);
if (failed.length) console.error(`failed scenarios: ${failed.join(", ")}`);
process.exit(failed.length ? 1 : 0);
