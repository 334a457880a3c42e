/**
 * One of several processes racing for the state dir lock (argv[2]) for
 * argv[3] ms: whenever it holds the lock it creates `<dir>/holder` exclusively,
 * keeps it a moment and removes it. Prints "overlap" if another holder's file
 * was there (two holders at once), then how many times it held the lock.
 */
import { openSync, closeSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { lockStateDir } from "../../src/state/lock.ts";

const [dir, ms] = [process.argv[2]!, Number(process.argv[3])];
const end = Date.now() + ms;
let held = 0;
let overlaps = 0;
while (Date.now() < end) {
  let lock;
  try {
    lock = lockStateDir(dir, "contend");
  } catch {
    await Bun.sleep(Math.random() * 2);
    continue;
  }
  held++;
  try {
    closeSync(openSync(join(dir, "holder"), "wx"));
    await Bun.sleep(Math.random() * 2);
    unlinkSync(join(dir, "holder"));
  } catch {
    overlaps++;
  }
  lock.release();
}
console.log(JSON.stringify({ held, overlaps }));
