/**
 * Crash safety of safe rollouts: `fetchit run` (a real process) is killed with SIGKILL at random
 * points while it applies a bad commit, gates it, or rolls it back; the next start (`fetchit sync`)
 * converges: the last good commit runs, the bad commit is quarantined, no duplicate containers.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { MethodState } from "../../src/state/store.ts";
import { harness, SLEEPER, targetConfig, waitFor, type Harness } from "../support/fetchit.ts";
import { createRemote } from "../support/git.ts";
import { type TestPodman, withSharedPodman } from "../support/podman.ts";
import { spawnFetchit } from "../support/process.ts";

let podman: TestPodman;
withSharedPodman((p) => void (podman = p));

const spec = (name: string, v: number, cmd: string[] = SLEEPER) => JSON.stringify({ Image: podman.image, Name: name, Env: { V: String(v) }, Command: cmd });
const yaml = (url: string) =>
  targetConfig(url, `    raw:\n      - name: apps\n        targetPath: raw\n        schedule: "@every 1h"\n        health:\n          window: 3s\n`);
const record = (h: Harness): MethodState | undefined => {
  const dir = join(h.stateDir, "state");
  const f = readdirSync(dir).find((n) => n.endsWith(".json"));
  return f ? JSON.parse(readFileSync(join(dir, f), "utf8")) : undefined;
};
const containers = async () =>
  (await podman.cli(["ps", "-a", "--format", "{{.Names}} {{.State}}"])).split("\n").filter(Boolean).map((l) => l.split(" ")[0]!).sort();

/**
 * Applies G, pushes a bad C (a.json exits at once, b.json deleted, e.json added), starts `fetchit run`,
 * kills it with SIGKILL at the point `killAt` picks, then checks that `fetchit sync` converges.
 */
async function crashAndConverge(killAt: (h: Harness) => Promise<string>): Promise<string> {
  await podman.reset();
  const remote = await createRemote({ "raw/a.json": spec("a", 1), "raw/b.json": spec("b", 1) });
  const h = harness(podman, yaml(remote.url));
  expect((await h.cli("sync")).code).toBe(0);
  const good = await remote.head();
  const bad = await remote.commit({ "raw/a.json": spec("a", 2, ["sh", "-c", "exit 3"]), "raw/b.json": null, "raw/e.json": spec("e", 1) }, "bad");
  const proc = spawnFetchit(["run", ...h.flags()], podman.env);
  const where = await killAt(h);
  await proc.stop("SIGKILL");
  const sync = await h.cli("sync");
  expect(sync.code).toBe(1);
  const st = record(h)!;
  const why = `killed ${where}; fetchit's output:\n${proc.output()}\nsync:\n${sync.out.join("\n")}`;
  expect({ applied: st.appliedCommit, quarantined: st.quarantined?.commit, rollingBack: st.rollingBack, unhealthy: st.unhealthy, why }).toEqual({
    applied: good, quarantined: bad, rollingBack: undefined, unhealthy: undefined, why,
  });
  expect(Object.keys(st.resources).sort()).toEqual(["a.json", "b.json"]);
  expect({ containers: await containers(), why }).toEqual({ containers: ["a", "b"], why });
  const a = JSON.parse(await podman.cli(["container", "inspect", "a"]))[0];
  expect(a.State.Running).toBe(true);
  expect(a.Config.Env).toContain("V=1");
  return where;
}

const random = (lo: number, hi: number) => Math.round(lo + Math.random() * (hi - lo));

test("SIGKILL at random points while the bad commit is applied and gated: the next start rolls back and quarantines", async () => {
  for (let i = 0; i < 3; i++) {
    await crashAndConverge(async () => {
      const ms = random(500, 7000);
      await Bun.sleep(ms);
      return `${ms} ms after start`;
    });
  }
}, 300_000);

test("SIGKILL at random points during the rollback (after 'rolling back C to G' was recorded): the next start finishes it", async () => {
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    seen.push(
      await crashAndConverge(async (h) => {
        await waitFor("the rollback to start", () => record(h)?.rollingBack, 60_000);
        const ms = random(0, 4000);
        await Bun.sleep(ms);
        return `${ms} ms into the rollback (still recorded: ${record(h)?.rollingBack !== undefined})`;
      }),
    );
  }
  // at least one kill must have hit before the rollback's end was saved
  expect(seen.some((w) => w.includes("still recorded: true"))).toBe(true);
}, 300_000);
