/**
 * Scenario 5, startup of the compiled binary: wall time of `fetchit version`
 * (median of 10), and of `fetchit run` until it sends READY=1 to a
 * NOTIFY_SOCKET (config loaded, every method scheduled; median of 5) with one
 * filetransfer target on a local repository.
 */
import { join } from "node:path";
import { createRemote, tempDir } from "../test/support/git.ts";
import { type BenchOptions, type ScenarioResult, ensureBinary, median, notifyReceiver, spawnAgent, waitUntil } from "./lib.ts";

export async function startup(opts: BenchOptions): Promise<ScenarioResult> {
  const bin = await ensureBinary();
  const version: number[] = [];
  for (let i = 0; i < (opts.quick ? 5 : 10); i++) {
    const t = performance.now();
    const p = Bun.spawn([bin, "version"], { stdout: "ignore", stderr: "ignore" });
    if ((await p.exited) !== 0) throw new Error("fetchit version failed");
    version.push(performance.now() - t);
  }
  const remote = await createRemote({ "files/a.conf": "a\n" });
  const dir = tempDir("fetchit-bench-start-");
  const config = join(dir, "config.yaml");
  await Bun.write(config, `targetConfigs:\n  - name: t\n    url: ${remote.url}\n    branch: main\n    filetransfer:\n      - name: files\n        targetPath: files\n        destinationDirectory: ${join(dir, "out")}\n        schedule: "*/5 * * * *"\n`);
  const rx = await notifyReceiver();
  const ready: number[] = [];
  try {
    for (let i = 0; i < (opts.quick ? 3 : 5); i++) {
      const before = rx.messages.length;
      const t = Date.now();
      const agent = spawnAgent(bin, ["run", "--config", config, "--state-dir", join(dir, `state${i}`), "--log-level", "warn"], { NOTIFY_SOCKET: rx.sock });
      const msg = await waitUntil("READY=1", () => rx.messages.slice(before).find((m) => m.text.startsWith("READY=1")), 30_000, 5);
      ready.push(msg.at - t);
      await agent.stop();
    }
  } finally {
    rx.stop();
  }
  return {
    scenario: "5. startup",
    rows: [
      { what: "fetchit version (median)", value: median(version), unit: "ms" },
      { what: "fetchit run until READY=1 (median)", value: median(ready), unit: "ms" },
    ],
    detail: { version, ready },
  };
}
