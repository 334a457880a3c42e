/** Runs fetchit as a real process (`bun src/main.ts ...`, or the compiled binary), collecting its output. */
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

/** Where and how to start it: the compiled binary instead of the sources (see binary.ts), another working directory. */
export interface SpawnOptions {
  binary?: string;
  cwd?: string;
}

export function spawnFetchit(args: string[], env: Record<string, string | undefined> = {}, opts: SpawnOptions = {}): FetchitProcess {
  const cmd = opts.binary ? [opts.binary] : [process.execPath, join(ROOT, "src/main.ts")];
  const proc = Bun.spawn([...cmd, ...args], {
    cwd: opts.cwd,
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
