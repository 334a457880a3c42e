/**
 * Rough engine timings against the real Podman test service and local git
 * repositories: the cost of a tick with nothing new, a first apply of N raw
 * containers and of M files, and an update of one file among many.
 *
 *   bun bench/tick.ts [containers=50] [files=200]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../src/config/index.ts";
import type { EngineDeps } from "../src/engine/context.ts";
import { buildJobs } from "../src/engine/jobs.ts";
import { runMethod } from "../src/engine/run-method.ts";
import { hostExec } from "../src/host/exec.ts";
import { createHostFs } from "../src/host/fs.ts";
import { silentLogger } from "../src/log.ts";
import { createPodmanClient } from "../src/podman/index.ts";
import { createStateStore } from "../src/state/store.ts";
import { SLEEPER } from "../test/support/fetchit.ts";
import { createRemote, tempDir } from "../test/support/git.ts";
import { sharedPodman } from "../test/support/podman.ts";

const containers = Number(Bun.argv[2] ?? 50);
const fileCount = Number(Bun.argv[3] ?? 200);
const podman = await sharedPodman();
await podman.reset();

const files: Record<string, string> = {};
for (let i = 0; i < containers; i++) files[`raw/c${i}.json`] = JSON.stringify({ Image: podman.image, Name: `bench-${i}`, Command: SLEEPER });
for (let i = 0; i < fileCount; i++) files[`files/d${i % 10}/f${i}.conf`] = `value=${i}\n`.repeat(20);
const remote = await createRemote(files);
const stateDir = tempDir("fetchit-bench-");
const dest = join(stateDir, "out");
const yaml = `targetConfigs:\n  - name: bench\n    url: ${remote.url}\n    branch: main\n    raw:\n      - name: r\n        targetPath: raw\n        schedule: "* * * * *"\n    filetransfer:\n      - name: f\n        targetPath: files\n        destinationDirectory: ${dest}\n        schedule: "* * * * *"\n`;
const config = parseConfig(yaml, "bench").config!;
const fs = createHostFs();
let calls = 0;
const real = createPodmanClient(podman.socketPath);
const client = new Proxy(real, {
  get: (t, p) => {
    const v = (t as unknown as Record<string | symbol, unknown>)[p];
    return typeof v === "function" ? (...a: unknown[]) => (calls++, (v as (...x: unknown[]) => unknown).apply(t, a)) : v;
  },
});
const deps: EngineDeps = { podman: client, fs, exec: hostExec, state: createStateStore(fs, stateDir), log: silentLogger };
/** Milliseconds and Podman API calls of one run. */
const time = async (fn: () => Promise<unknown>): Promise<[number, number]> => {
  calls = 0;
  const t = performance.now();
  await fn();
  return [performance.now() - t, calls];
};
// fresh jobs per measurement, so the 2 s fetch reuse window never hides a fetch
const job = (kind: string) => buildJobs(config, stateDir, silentLogger).jobs.find((j) => j.kind === kind)!;

const rows: [string, [number, number]][] = [];
rows.push([`first apply: ${containers} raw containers (create + start)`, await time(() => runMethod(job("raw"), deps))]);
rows.push([`first apply: ${fileCount} files in 10 directories`, await time(() => runMethod(job("filetransfer"), deps))]);
const noop: [number, number][] = [];
for (let i = 0; i < 20; i++) noop.push(await time(() => runMethod(job("raw"), deps)));
noop.sort((a, b) => a[0] - b[0]);
rows.push([`tick with nothing new, ${containers} managed containers (median of 20; ls-remote, state read, self-heal list)`, noop[10]!]);
await remote.commit({ "raw/c0.json": JSON.stringify({ Image: podman.image, Name: "bench-0", Env: { V: "2" }, Command: SLEEPER }) });
rows.push([`update: 1 of ${containers} specs changed (fetch, diff, recreate 1)`, await time(() => runMethod(job("raw"), deps))]);
await remote.commit({ "files/d0/f0.conf": "changed\n" });
rows.push([`update: 1 of ${fileCount} files changed`, await time(() => runMethod(job("filetransfer"), deps))]);

console.log("| what | ms | Podman API calls |\n|---|---|---|");
for (const [what, [ms, n]] of rows) console.log(`| ${what} | ${ms.toFixed(0)} | ${n} |`);
mkdirSync(join(import.meta.dir, "results"), { recursive: true });
writeFileSync(join(import.meta.dir, "results", "tick.json"), JSON.stringify({ containers, fileCount, rows, at: new Date().toISOString() }, null, 2));
await podman.reset();
process.exit(0);
