/**
 * Scenario 4, memory: resident set size of `fetchit run` (compiled) idle
 * with 1 and with 20 targets (a filetransfer method each, local
 * repositories, nothing changing, ticking every second), and its growth over
 * a long run of ticks (full: 1,000 one-second ticks; quick: 60). Baseline: a
 * compiled Bun program that only keeps a timer. Targets: ≤ 40 MB idle with
 * 20 targets; no growth beyond 10 % after the ticks.
 */
import { join } from "node:path";
import { $ } from "bun";
import { createRemote, tempDir } from "../test/support/git.ts";
import { type BenchOptions, type ScenarioResult, ensureBinary, rssMb, spawnAgent, waitUntil } from "./lib.ts";

async function configWith(targets: number): Promise<{ config: string; dir: string }> {
  const dir = tempDir("fetchit-bench-mem-");
  let yaml = "targetConfigs:\n";
  for (let i = 0; i < targets; i++) {
    const files: Record<string, string> = {};
    for (let f = 0; f < 20; f++) files[`files/f${f}.conf`] = `target=${i} file=${f}\n`.repeat(10);
    const remote = await createRemote(files);
    yaml += `  - name: t${i}\n    url: ${remote.url}\n    branch: main\n    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${join(dir, "out", String(i))}\n        schedule: "* * * * * *"\n`;
  }
  const config = join(dir, "config.yaml");
  await Bun.write(config, yaml);
  return { config, dir };
}

/** Average RSS over `seconds` one-second samples. */
async function sampleRss(pid: number, seconds: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await Bun.sleep(1_000);
    xs.push(rssMb(pid));
  }
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

async function idleAgent(bin: string, targets: number, warmupS: number, extraS = 0) {
  const { config, dir } = await configWith(targets);
  const agent = spawnAgent(bin, ["run", "--config", config, "--state-dir", join(dir, "state"), "--log-level", "warn"]);
  try {
    await waitUntil("first applies", () => Bun.file(join(dir, "out", String(targets - 1), "f19.conf")).exists(), 120_000, 250);
    await Bun.sleep(warmupS * 1_000);
    const idle = await sampleRss(agent.proc.pid, 5);
    if (!extraS) return { idle };
    await Bun.sleep(extraS * 1_000);
    const after = await sampleRss(agent.proc.pid, 5);
    return { idle, after };
  } finally {
    await agent.stop();
  }
}

export async function memory(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const ticks = opts.quick ? 60 : 1_000;
  const work = tempDir("fetchit-bench-bare-");
  await Bun.write(join(work, "bare.ts"), "setInterval(() => {}, 1000);\n");
  await $`${process.execPath} build ${join(work, "bare.ts")} --compile --outfile ${join(work, "bare")}`.quiet();
  const bare = spawnAgent(join(work, "bare"), []);
  const bareMb = await sampleRss(bare.proc.pid, 3);
  await bare.stop();

  const one = await idleAgent(bin, 1, 10);
  const twenty = await idleAgent(bin, 20, 10, ticks);
  const growth = ((twenty.after! - twenty.idle) / twenty.idle) * 100;
  return {
    scenario: "4. memory (RSS of fetchit run)",
    rows: [
      { what: "bare compiled Bun (a timer only), baseline", value: bareMb, unit: "MB" },
      { what: "idle, 1 target (filetransfer, 1 s ticks)", value: one.idle, unit: "MB" },
      { what: "idle, 20 targets", value: twenty.idle, unit: "MB", target: "≤ 40 MB", ok: twenty.idle <= 40 },
      { what: `20 targets after ${ticks} more ticks`, value: twenty.after!, unit: "MB" },
      { what: `growth over ${ticks} ticks`, value: growth, unit: "%", target: "≤ 10 %", ok: growth <= 10 },
    ],
    detail: { ticks, bareMb, one, twenty },
  };
}
