/** Helpers of the power-cut and start-stop tests: process signal state, state records as written. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { MethodState } from "../../src/state/store.ts";

/** True when `pid` catches SIGTERM, SIGINT and SIGHUP (SigCgt in /proc/PID/status). */
function catches(pid: number): boolean {
  const want = (1n << 14n) | (1n << 1n) | (1n << 0n); // signals 15, 2, 1 are bits n-1
  try {
    const m = /SigCgt:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? (BigInt(`0x${m[1]}`) & want) === want : false;
  } catch {
    return false;
  }
}

/** Waits (polling every 2 ms, so a stop can follow at once) until `pid` catches the stop and reload signals. */
export async function handlersInstalled(pid: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!catches(pid)) {
    if (Date.now() > end) throw new Error(`pid ${pid} never caught SIGTERM/SIGINT/SIGHUP`);
    await Bun.sleep(2);
  }
}

/** Every state record; one that does not parse throws, unless `skipDamaged`. */
export function readRecords(stateDir: string, opts: { skipDamaged?: boolean } = {}): MethodState[] {
  const dir = join(stateDir, "state");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .flatMap((n) => {
      try {
        return [JSON.parse(readFileSync(join(dir, n), "utf8")) as MethodState];
      } catch (err) {
        if (opts.skipDamaged) return [];
        throw err;
      }
    });
}
