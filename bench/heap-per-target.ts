/**
 * Where a target's memory goes (scenario 4's analysis, not a scenario of
 * `bun run bench`): `fetchit run` in-process with N filetransfer targets on
 * a daily schedule (nothing runs after the first applies), then the live JS
 * heap by class from a heap snapshot, heapStats(), and RssAnon before and
 * after a full GC. Run it for 1 and for 20 targets and compare:
 *
 *   bun bench/heap-per-target.ts 1 > /tmp/h1.json
 *   bun bench/heap-per-target.ts 20 > /tmp/h20.json
 */
import { heapStats } from "bun:jsc";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../src/cli/cli.ts";
import { createRemote, tempDir } from "../test/support/git.ts";

const targets = Number(process.argv[2] ?? 1);
const dir = tempDir("fetchit-bench-heap-");
let yaml = "targetConfigs:\n";
for (let i = 0; i < targets; i++) {
  const files: Record<string, string> = {};
  for (let f = 0; f < 20; f++) files[`files/f${f}.conf`] = `target=${i} file=${f}\n`.repeat(10);
  const remote = await createRemote(files);
  yaml += `  - name: t${i}\n    url: ${remote.url}\n    branch: main\n    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${join(dir, "out", String(i))}\n        schedule: "0 0 * * *"\n`;
}
await Bun.write(join(dir, "config.yaml"), yaml);
const args = ["run", "--config", join(dir, "config.yaml"), "--state-dir", join(dir, "state"), "--log-level", "warn"];
void runCli(args, { ...process.env, FETCHIT_CONFIG: undefined });
const t0 = Date.now();
while (!(await Bun.file(join(dir, "out", String(targets - 1), "f19.conf")).exists())) await Bun.sleep(100);
const appliedMs = Date.now() - t0;
await Bun.sleep(3_000);

const anonKb = () => Number(/RssAnon:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
const anonBeforeGcKb = anonKb();
Bun.gc(true);
await Bun.sleep(2_000);
const anonAfterGcKb = anonKb();
const h = heapStats();
// Live objects by class (the snapshot's nodes are [id, size, classIndex, flags] in the Inspector format).
const snap = Bun.generateHeapSnapshot() as unknown as { nodes: number[]; nodeClassNames: string[] };
const bytes: Record<string, number> = {};
for (let i = 0; i < snap.nodes.length; i += 4) {
  const name = snap.nodeClassNames[snap.nodes[i + 2]!]!;
  bytes[name] = (bytes[name] ?? 0) + snap.nodes[i + 1]!;
}
const liveBytes = Object.values(bytes).reduce((a, b) => a + b, 0);
const top = Object.entries(bytes).sort((a, b) => b[1] - a[1]).slice(0, 25);
console.log(JSON.stringify({ targets, appliedMs, anonBeforeGcKb, anonAfterGcKb, heapSize: h.heapSize, heapCapacity: h.heapCapacity, extraMemorySize: h.extraMemorySize, liveBytes, top }, null, 1));
process.exit(0);
