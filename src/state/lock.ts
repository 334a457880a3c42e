/**
 * One fetchit process per state dir: `run` holds `<stateDir>/fetchit.lock`
 * for its lifetime and `sync` while it applies, so two processes never apply
 * the same methods at once. The lock is a flock(2) on that file, which the
 * kernel drops when the process dies (kill -9, power cut): a file left behind,
 * or one naming a PID that now belongs to another process, never blocks a
 * start. The PID written into the file is only for the error message.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ExitError } from "../errors.ts";
import { tryFlock } from "../host/flock.ts";
import { removeLeftovers } from "../host/fs.ts";
import type { Logger } from "../log.ts";

export interface StateLock {
  release(): void;
}

function holder(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** True while `file` is still the file open as `fd` (a releasing process unlinks it before it unlocks). */
function stillLinked(fd: number, file: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(file);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * At the start of a lock holder: removes what killed processes left in
 * `<stateDir>/tmp` (downloads, unpacked archives) so power cuts do not fill
 * the disk over months.
 */
export async function clearLeftovers(stateDir: string, log: Logger): Promise<void> {
  const dir = join(stateDir, "tmp");
  const n = await removeLeftovers(dir).catch((err: unknown) => (log.warn(`could not clear ${dir}`, { err }), 0));
  if (n) log.info(`removed ${n} leftover temp file(s) of an earlier process`, { dir });
}

/** Takes the lock or throws an ExitError naming the process that holds it. */
export function lockStateDir(stateDir: string, command: string): StateLock {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, "fetchit.lock");
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number | null;
    try {
      fd = tryFlock(file);
    } catch (err) {
      throw new ExitError(`${command}: ${(err as Error).message}`, 1);
    }
    if (fd === null) {
      const pid = holder(file);
      throw new ExitError(
        `${command}: another fetchit${pid ? ` (pid ${pid})` : ""} is using the state dir ${stateDir}; stop it first, or point --state-dir elsewhere (\`fetchit status\` works while it runs)`,
        1,
      );
    }
    if (!stillLinked(fd, file)) {
      closeSync(fd); // locked a file its holder has just removed: lock the new one
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
    return { release: releaser(fd, file) };
  }
  throw new ExitError(`${command}: could not take the lock ${file} (it kept being replaced); try again`, 1);
}

function releaser(fd: number, file: string): () => void {
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    // unlink while still locked, so a process waiting on this inode sees it unlinked and retries
    if (stillLinked(fd, file)) unlinkSync(file);
    closeSync(fd);
  };
}
