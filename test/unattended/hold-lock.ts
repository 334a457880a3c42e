/** A process that holds the state dir lock (argv[2]) until killed. */
import { lockStateDir } from "../../src/state/lock.ts";

lockStateDir(process.argv[2]!, "hold-lock");
console.log("locked");
setInterval(() => {}, 2 ** 30);
