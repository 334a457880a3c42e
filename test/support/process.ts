/** Runs fetchit as a real process (`bun src/main.ts ...`), collecting its output. */
import type { Subprocess } from "bun";
import { join } from "node:path";
import { ROOT } from "./fetchit.ts";

export interface FetchitProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and waits for the exit code (kills after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number>;
}

export function spawnFetchit(args: string[], env: Record<string, string | undefined> = {}): FetchitProcess {
  const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), ...args], {
    env: { ...process.env, FETCHIT_CONFIG: undefined, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) out += dec.decode(chunk);
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  return {
    proc,
    output: () => out,
    async stop(signal = "SIGTERM", timeoutMs = 20_000) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}
