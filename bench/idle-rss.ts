/**
 * Idle memory of the compiled agent: starts `dist/fetchit-linux-x64 run` on a
 * local repository with a filetransfer method ticking every second, samples
 * VmRSS from /proc for a while, and prints/writes the numbers. Compare with a
 * bare compiled Bun program (`setInterval` only), built here too.
 *
 *   bun build.ts && bun bench/idle-rss.ts [seconds=30]
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";

const seconds = Number(Bun.argv[2] ?? 30);
const bin = join(import.meta.dir, "..", "dist", "fetchit-linux-x64");
const work = mkdtempSync(join(tmpdir(), "fetchit-bench-rss-"));

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

async function sample(cmd: string[], label: string) {
  const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "ignore" });
  const samples: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await Bun.sleep(1000);
    samples.push(rssKb(proc.pid));
  }
  proc.kill("SIGTERM");
  await proc.exited;
  const last = samples.slice(-5);
  return { label, minMb: Math.min(...samples) / 1024, maxMb: Math.max(...samples) / 1024, endMb: last.reduce((a, b) => a + b, 0) / last.length / 1024 };
}

// a repository with 50 files, and a config ticking every second
const repo = join(work, "repo");
mkdirSync(join(repo, "files"), { recursive: true });
for (let i = 0; i < 50; i++) writeFileSync(join(repo, "files", `f${i}.conf`), `value=${i}\n`);
await $`git -C ${repo} init -q -b main && git -C ${repo} add -A && git -C ${repo} -c user.name=b -c user.email=b@b commit -qm init`;
const config = join(work, "config.yaml");
writeFileSync(
  config,
  `targetConfigs:\n  - name: bench\n    url: file://${repo}\n    branch: main\n    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${join(work, "out")}\n        schedule: "* * * * * *"\n`,
);

// baseline: a bare compiled Bun program that only keeps a timer
writeFileSync(join(work, "bare.ts"), "setInterval(() => {}, 1000);\n");
await $`bun build ${join(work, "bare.ts")} --compile --outfile ${join(work, "bare")}`.quiet();

const rows = [
  await sample([join(work, "bare")], "bare compiled Bun (timer only)"),
  await sample([bin, "run", "--config", config, "--state-dir", join(work, "state"), "--log-level", "warn"], "fetchit run (1 method, 1 s schedule, 50 files)"),
];
console.log(`idle RSS over ${seconds} s`);
console.log("| process | min MB | max MB | last 5 s avg MB |\n|---|---|---|---|");
for (const r of rows) console.log(`| ${r.label} | ${r.minMb.toFixed(1)} | ${r.maxMb.toFixed(1)} | ${r.endMb.toFixed(1)} |`);
mkdirSync(join(import.meta.dir, "results"), { recursive: true });
writeFileSync(join(import.meta.dir, "results", "idle-rss.json"), JSON.stringify({ seconds, rows, at: new Date().toISOString() }, null, 2));
await $`rm -rf ${work}`;
