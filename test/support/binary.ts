/**
 * The compiled binary (dist/fetchit-linux-x64, built by ensureBinary when
 * stale) run the way an operator runs it: from any working directory, its
 * output collected, Podman's variables passed when a test Podman is used.
 */
import { run, type RunResult } from "./exec.ts";
import { spawnFetchit, type FetchitProcess } from "./process.ts";
import { ensureBinary } from "./systemd.ts";

export { ensureBinary };

export interface BinaryOptions {
  /** Working directory of the process (relative flags and config paths are resolved against it). */
  cwd: string;
  env?: Record<string, string | undefined>;
  /** A command the binary runs under, e.g. `setpriv --bounding-set=-dac_override` (root without its override of file modes). */
  prefix?: string[];
}

/** `fetchit ARGS` to completion; `output` is stdout then stderr. */
export async function fetchitBinary(args: string[], opts: BinaryOptions): Promise<RunResult & { output: string }> {
  const binary = await ensureBinary();
  const res = await run([...(opts.prefix ?? []), binary, ...args], { cwd: opts.cwd, env: { FETCHIT_CONFIG: undefined, ...opts.env } });
  return { ...res, output: res.stdout + res.stderr };
}

/** `fetchit ARGS` as a long-running process (e.g. `run`), stopped by the test. */
export async function spawnBinary(args: string[], opts: BinaryOptions): Promise<FetchitProcess> {
  return spawnFetchit(args, opts.env ?? {}, { binary: await ensureBinary(), cwd: opts.cwd });
}
