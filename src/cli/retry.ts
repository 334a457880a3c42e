/**
 * `fetchit retry [--target T] [--method M]`: clears the quarantine of the
 * matching methods (and their "unhealthy" mark), so the next run applies the
 * head again. Edits the state records only; a running daemon picks the change
 * up at its next run of the method.
 */
import { matches, type JobFilter } from "../daemon.ts";
import { ExitError } from "../errors.ts";
import { createHostFs } from "../host/fs.ts";
import { createStateStore } from "../state/store.ts";
import { defaultStateDir, type Env, type GlobalOptions } from "./options.ts";

export type RetryOptions = GlobalOptions & JobFilter;

/** Returns 0 (something cleared or nothing quarantined); an unknown --target/--method is exit 2. */
export async function retryCommand(opts: RetryOptions, env: Env, print: (line: string) => void): Promise<number> {
  const stateDir = defaultStateDir(opts, env, process.getuid?.() ?? 1000);
  const store = createStateStore(createHostFs(), stateDir);
  const states = (await store.list()).filter((s) => matches({ key: s, kind: s.kind }, { target: opts.target, method: opts.method }));
  if (!states.length) {
    throw new ExitError(`no method with state in ${stateDir} matches${opts.target ? ` --target ${opts.target}` : ""}${opts.method ? ` --method ${opts.method}` : ""}`, 2);
  }
  let cleared = 0;
  for (const st of states) {
    const what = `${st.target} ${st.kind}/${st.method}`;
    st.releaseRemote = true; // also a commit another host quarantined through git (fleets)
    await store.save(st);
    if (!st.quarantined && !st.unhealthy) continue;
    if (st.quarantined) print(`${what}: cleared the quarantine of ${st.quarantined.commit.slice(0, 9)}; the next run applies it again`);
    if (st.unhealthy) print(`${what}: cleared the unhealthy mark of ${st.unhealthy.commit.slice(0, 9)}`);
    delete st.quarantined;
    delete st.unhealthy;
    await store.save(st);
    cleared++;
  }
  if (!cleared) print("nothing is quarantined on this host; a head another host quarantined (refs/fetchit/quarantine/<sha>) is applied by the next run");
  return 0;
}
