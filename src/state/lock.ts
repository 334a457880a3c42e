/**
 * One fetchit process per state dir: `run` holds `<stateDir>/fetchit.lock`
 * for its lifetime and `sync` while it applies, so two processes never apply
 * the same methods at once. A lock left by a process that died is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ExitError } from "../errors.ts";

export interface StateLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function holder(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the lock or throws an ExitError naming the process that holds it. */
export function lockStateDir(stateDir: string, command: string): StateLock {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, "fetchit.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => holder(file) === process.pid && unlinkSync(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = holder(file);
      if (pid !== null && pid !== process.pid && alive(pid)) {
        throw new ExitError(
          `${command}: another fetchit (pid ${pid}) is using the state dir ${stateDir}; stop it first, or point --state-dir elsewhere (\`fetchit status\` works while it runs)`,
          1,
        );
      }
      unlinkSync(file); // stale: its process is gone
    }
  }
  throw new ExitError(`${command}: could not take the lock ${file}`, 1);
}
