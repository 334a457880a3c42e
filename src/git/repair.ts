/**
 * Cloning a damaged clone again: the guard every operation of a source runs
 * in (a failure that shows a damaged clone removes it, clones again and runs
 * the operation once more), what has to survive the removal (the pins
 * of applied commits, read from the ref files, which outlive lost objects)
 * and how they come back (each pinned commit fetched by its sha; a commit
 * the remote no longer has is reported, and the engine then reconciles the
 * whole tree against the recorded resources, as after a force push).
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../errors.ts";
import { isDamagedClone } from "./local-failure.ts";
import type { Logger } from "../log.ts";
import { fetchCommit, type RemoteRef } from "./fetch.ts";
import { hasCommit, PIN_PREFIX } from "./objects.ts";
import type { GitRunner } from "./runner.ts";

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The state of one clone shared by every source using it (see source.ts). */
export interface CloneState {
  /** Creation of the bare repository (reset by a repair). */
  ready?: Promise<void>;
  initDone?: boolean;
  /** The sha in HEAD_REF as last fetched or read. */
  localHead?: string;
  /** Operations of this process running in the clone; a repair waits until none is left. */
  active?: number;
  /** The damaged clone being removed and cloned again; every operation waits for it. */
  repairing?: Promise<void>;
  /** Counts repairs, so a damage seen by several operations at once is repaired once. */
  generation?: number;
}

/** What a repair needs of a source. */
export interface Clone {
  dir: string;
  log: Logger;
  state: CloneState;
  /** The remote pinned commits are fetched from again; absent for imported (disconnected) sources. */
  pinsRemote?: RemoteRef;
  /** The runner, after the bare repository exists (created again after a removal). */
  git(): Promise<GitRunner>;
  /** Fills a fresh clone: the branch head, fetched or imported. */
  refill(): Promise<string>;
}


/**
 * The pins of a bare clone (ref name → sha) read straight from its ref files
 * (loose refs and packed-refs): git itself skips refs whose objects are
 * missing, and those are exactly the ones a repair must bring back.
 */
export async function readPins(dir: string): Promise<Map<string, string>> {
  const pins = new Map<string, string>();
  const packed = await readFile(join(dir, "packed-refs"), "utf8").catch(() => "");
  for (const line of packed.split("\n")) {
    const [sha, ref] = line.trim().split(" ");
    if (sha && ref?.startsWith(PIN_PREFIX) && SHA.test(sha)) pins.set(ref, sha);
  }
  const looseDir = join(dir, PIN_PREFIX);
  for (const name of await readdir(looseDir).catch(() => [] as string[])) {
    if (name.endsWith(".lock")) continue;
    const sha = (await readFile(join(looseDir, name), "utf8").catch(() => "")).trim();
    if (SHA.test(sha)) pins.set(PIN_PREFIX + name, sha); // a loose ref wins over a packed one
  }
  return pins;
}

/**
 * Brings each pin back into a fresh clone: the commit fetched by sha when it
 * is not already there, then the ref. Returns the refs that could not be
 * restored (the remote no longer has the commit); each is logged.
 */
export async function restorePins(git: GitRunner, remote: RemoteRef, pins: Map<string, string>, log: Logger): Promise<string[]> {
  const lost: string[] = [];
  for (const [ref, sha] of pins) {
    try {
      if (!(await hasCommit(git, sha))) await fetchCommit(git, remote, sha);
      await git.run(["update-ref", ref, sha]);
    } catch (err) {
      lost.push(ref);
      log.warn("git: an applied commit could not be fetched again after re-cloning; its method will reconcile the whole tree against the resources it recorded", {
        commit: sha,
        pin: ref,
        error: errorMessage(err),
      });
    }
  }
  return lost;
}

/**
 * Runs `op` in the clone. When it fails because the clone is damaged (lost
 * or corrupt objects, a stale lock of a killed git), the clone is removed
 * and made again (pins restored), then `op` runs once more: the commit is
 * never blamed for a broken cache.
 */
export async function inClone<R>(ctx: Clone, op: () => Promise<R>): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    while (ctx.state.repairing) await ctx.state.repairing.catch(() => undefined);
    const generation = ctx.state.generation ?? 0;
    ctx.state.active = (ctx.state.active ?? 0) + 1;
    let damage: unknown;
    try {
      return await op();
    } catch (err) {
      if (attempt > 0 || !isDamagedClone(err)) throw err;
      damage = err;
    } finally {
      ctx.state.active = (ctx.state.active ?? 1) - 1;
    }
    if ((ctx.state.generation ?? 0) === generation) await repair(ctx, damage);
  }
}

/** Removes the damaged clone (once no operation runs in it), fills it again and restores the pins. */
function repair(ctx: Clone, damage: unknown): Promise<void> {
  const { state, dir, log } = ctx;
  state.repairing ??= (async () => {
    while ((state.active ?? 0) > 0) await Bun.sleep(20);
    log.warn("git: the local clone is damaged; removing it and cloning again", { dir, error: errorMessage(damage) });
    const pins = await readPins(dir);
    await rm(dir, { recursive: true, force: true });
    Object.assign(state, { ready: undefined, initDone: false, localHead: undefined, generation: (state.generation ?? 0) + 1 });
    const head = await ctx.refill();
    const lost = ctx.pinsRemote && pins.size ? await restorePins(await ctx.git(), ctx.pinsRemote, pins, log) : [];
    log.info("git: cloned again", { dir, commit: head, pinsRestored: pins.size - lost.length });
  })().finally(() => (state.repairing = undefined));
  return state.repairing;
}
