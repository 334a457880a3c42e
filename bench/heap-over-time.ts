/**
 * Does the live heap grow while fetchit runs? (the soak's memory rows,
 * analysed): `fetchit run` in-process with raw, kube and filetransfer
 * methods against the real test Podman service, a commit every second
 * bumping one method in turn, and every `--every` seconds a full GC, the
 * live object counts by type (heapStats) and RssAnon. Prints the types
 * whose count grew since the first sample.
 *
 *   bun bench/heap-over-time.ts [--minutes 10] [--every 60]
 */
import { heapStats } from "bun:jsc";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../src/cli/cli.ts";
import { createRemote, tempDir } from "../test/support/git.ts";
import { sharedPodman } from "../test/support/podman.ts";

const arg = (name: string, d: number) => (Bun.argv.includes(name) ? Number(Bun.argv[Bun.argv.indexOf(name) + 1]) : d);
const minutes = arg("--minutes", 10);
const every = arg("--every", 60);
const podman = await sharedPodman();
await podman.reset();
const sleeper = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000000 & wait"];
const files = (g: number[]) => ({
  "raw/a.json": JSON.stringify({ Image: podman.image, Name: "probe-raw", Labels: { gen: String(g[0]) }, Command: sleeper }),
  "kube/p.yaml": `apiVersion: v1\nkind: Pod\nmetadata:\n  name: probe-pod\n  labels:\n    gen: "${g[1]}"\nspec:\n  containers:\n  - name: app\n    image: ${podman.image}\n    command: ${JSON.stringify(sleeper)}\n`,
  "files/m": `${g[2]}\n`,
});
const gens = [0, 0, 0];
const remote = await createRemote(files(gens));
const dir = tempDir("fetchit-heap-time-");
const s = '"*/2 * * * * *"';
await Bun.write(join(dir, "config.yaml"), `targetConfigs:\n- name: p\n  url: ${remote.url}\n  branch: main\n  raw:\n  - {name: raw, targetPath: raw, schedule: ${s}}\n  kube:\n  - {name: kube, targetPath: kube, schedule: ${s}}\n  filetransfer:\n  - {name: files, targetPath: files, destinationDirectory: ${join(dir, "out")}, schedule: ${s}}\n`);
void runCli(["run", "--config", join(dir, "config.yaml"), "--state-dir", join(dir, "state"), "--podman-socket", podman.socketPath, "--log-level", "warn"], { ...process.env, FETCHIT_CONFIG: undefined });

const anonKb = () => Number(/RssAnon:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
const sample = () => {
  Bun.gc(true);
  const h = heapStats();
  return { anonKb: anonKb(), heapSize: h.heapSize, objects: h.objectCount, counts: { ...h.objectTypeCounts } as Record<string, number> };
};
await Bun.sleep(10_000);
const first = sample();
console.log(`t=0 anon ${first.anonKb} KB heap ${(first.heapSize / 1024).toFixed(0)} KB objects ${first.objects}`);
const end = Date.now() + minutes * 60_000;
let k = 0;
let next = Date.now() + every * 1000;
while (Date.now() < end) {
  gens[k % 3] = ++k;
  await remote.commit(files(gens));
  await Bun.sleep(1_000);
  if (Date.now() >= next) {
    next += every * 1000;
    const now = sample();
    const grew = Object.entries(now.counts).map(([t, n]) => [t, n - (first.counts[t] ?? 0)] as const).filter(([, d]) => d > 20).sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(`commits ${k} anon ${now.anonKb} KB heap ${(now.heapSize / 1024).toFixed(0)} KB objects ${now.objects} (+${now.objects - first.objects}) grew: ${grew.map(([t, d]) => `${t} +${d}`).join(", ")}`);
  }
}
await podman.reset();
process.exit(0);
