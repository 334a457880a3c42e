import { afterEach, describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { Scheduler, START_CONCURRENCY, START_SLOT_MS } from "../../src/scheduler/scheduler.ts";
import { collectingLogger } from "./helpers.ts";

const YEARLY = "0 0 1 1 *";
const realRandom = Math.random;
let sched: Scheduler | undefined;
afterEach(async () => {
  Math.random = realRandom;
  await sched?.stop();
  sched = undefined;
});
const make = () => (sched = new Scheduler(collectingLogger()));

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(10);
  }
  return cond();
}

describe("Scheduler", () => {
  test("a 6-field pattern runs immediately with runNow and again within ~1.2 s", async () => {
    const s = make();
    let runs = 0;
    s.add({ id: "every-second", pattern: "* * * * * *", run: async () => void runs++ });
    await Bun.sleep(0);
    expect(runs).toBe(1);
    expect(await waitFor(() => runs >= 2, 1200)).toBe(true);
  });

  test("without runNow nothing runs until the schedule fires; info shows the next run", async () => {
    const s = make();
    let runs = 0;
    s.add({ id: "y", pattern: YEARLY, run: async () => void runs++ }, false);
    await Bun.sleep(20);
    expect(runs).toBe(0);
    const [info] = s.info();
    expect(info?.id).toBe("y");
    expect(info?.running).toBe(false);
    expect(info?.nextRun?.toISOString()).toMatch(/^\d{4}-01-01T00:00:00\.000Z$/);
  });

  test(`first runs go ${START_CONCURRENCY} at a time (boot is staggered); later runs are not gated`, async () => {
    const s = make();
    let gates = Array.from({ length: 5 }, () => gate());
    let running = 0;
    let most = 0;
    let started = 0;
    for (const i of gates.keys()) {
      s.add({ id: `j${i}`, pattern: YEARLY, run: async () => { started++; most = Math.max(most, ++running); await gates[i]!.p; running--; } });
    }
    await Bun.sleep(20);
    expect(started).toBe(START_CONCURRENCY);
    gates[0]!.open();
    expect(await waitFor(() => started === START_CONCURRENCY + 1, 1000)).toBe(true);
    for (const g of gates) g.open();
    expect(await waitFor(() => started === 5 && running === 0, 1000)).toBe(true);
    expect(most).toBe(START_CONCURRENCY);
    // second runs, all at once and all held: none waits for another
    gates = gates.map(() => gate());
    const runs = gates.map((_, i) => s.trigger(`j${i}`));
    expect(await waitFor(() => running === 5, 1000)).toBe(true);
    for (const g of gates) g.open();
    await Promise.all(runs);
  });

  test(`a first run that hangs holds its start-up slot ${START_SLOT_MS / 1000} s at most`, async () => {
    const s = make();
    const stuck = gate();
    let started = 0;
    for (let i = 0; i < START_CONCURRENCY; i++) s.add({ id: `stuck${i}`, pattern: YEARLY, run: async () => void (await stuck.p) });
    s.add({ id: "next", pattern: YEARLY, run: async () => void started++ });
    await Bun.sleep(START_SLOT_MS / 2);
    expect(started).toBe(0);
    expect(await waitFor(() => started === 1, START_SLOT_MS + 2_000)).toBe(true);
    stuck.open();
  }, 40_000);

  test("adding the same id twice throws", () => {
    const s = make();
    s.add({ id: "dup", pattern: YEARLY, run: async () => {} }, false);
    expect(() => s.add({ id: "dup", pattern: YEARLY, run: async () => {} }, false)).toThrow("job dup already exists");
  });

  test("a long-running job never overlaps itself", async () => {
    const s = make();
    const g = gate();
    let runs = 0;
    s.add({ id: "slow", pattern: YEARLY, run: async () => { runs++; await g.p; } }, false);
    const first = s.trigger("slow");
    await Bun.sleep(5);
    const second = s.trigger("slow");
    expect(second).toBe(first);
    expect(runs).toBe(1);
    expect(s.info()[0]?.running).toBe(true);
    g.open();
    await first;
    expect(runs).toBe(1);
    expect(s.info()[0]?.running).toBe(false);
    await s.trigger("slow");
    expect(runs).toBe(2);
  });

  test("skew delays each run by a random amount below skew, drawn anew per run", async () => {
    const s = make();
    const draws = [0.5, 0.1, 0.9];
    Math.random = () => draws.shift() ?? 0;
    let started = 0;
    s.add({ id: "skewed", pattern: YEARLY, skew: 300, run: async () => void (started = performance.now()) }, false);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await s.trigger("skewed");
      delays.push(started - t0);
    }
    expect(draws).toEqual([]); // one draw per run
    const [d1, d2, d3] = delays as [number, number, number];
    expect(d1).toBeGreaterThanOrEqual(140);
    expect(d1).toBeLessThan(300);
    expect(d2).toBeGreaterThanOrEqual(25);
    expect(d2).toBeLessThan(d1);
    expect(d3).toBeGreaterThan(d1);
    expect(d3).toBeLessThan(300);
  });

  test("trigger with skew: false runs without delay", async () => {
    const s = make();
    Math.random = () => 0.99;
    let runs = 0;
    s.add({ id: "k", pattern: YEARLY, skew: 5_000, run: async () => void runs++ }, false);
    const t0 = performance.now();
    await s.trigger("k", { skew: false });
    expect(runs).toBe(1);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  test("stop() cancels a pending skew sleep without running the job", async () => {
    const s = make();
    Math.random = () => 0.99;
    let runs = 0;
    s.add({ id: "k", pattern: YEARLY, skew: 10_000, run: async () => void runs++ }, true);
    await Bun.sleep(5);
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeLessThan(200);
    expect(runs).toBe(0);
    await s.trigger("k");
    expect(runs).toBe(0);
  });

  test("stop() waits for the run in flight to finish", async () => {
    const s = make();
    let finished = false;
    s.add({ id: "busy", pattern: "* * * * * *", run: async () => { await Bun.sleep(60); finished = true; } }, true);
    await Bun.sleep(5);
    await s.stop();
    expect(finished).toBe(true);
  });

  test("remove(id) forgets the job and waits for its run in flight", async () => {
    const s = make();
    let runs = 0;
    let finished = false;
    s.add({ id: "a", pattern: YEARLY, run: async () => { runs++; await Bun.sleep(30); finished = true; } }, true);
    s.add({ id: "b", pattern: YEARLY, run: async () => {} }, false);
    await Bun.sleep(1);
    await s.remove("a");
    expect(finished).toBe(true);
    expect(s.info().map((i) => i.id)).toEqual(["b"]);
    await s.trigger("a");
    expect(runs).toBe(1);
    await s.remove("missing"); // no-op
    // the id can be used again
    s.add({ id: "a", pattern: YEARLY, run: async () => {} }, false);
    expect(s.info().map((i) => i.id).sort()).toEqual(["a", "b"]);
  });

  test("a job that throws is logged and does not stop the scheduler", async () => {
    const log = collectingLogger();
    const s = (sched = new Scheduler(log));
    let runs = 0;
    s.add({ id: "bad", pattern: YEARLY, run: async () => { runs++; throw new Error("kaboom"); } }, false);
    await s.trigger("bad");
    await s.trigger("bad");
    expect(runs).toBe(2);
    const errors = log.lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(2);
    expect(errors[0]?.msg).toBe("job crashed");
    expect(errors[0]?.fields.job).toBe("bad");
    expect((errors[0]?.fields.err as Error).message).toBe("kaboom");
    expect(s.info()[0]?.running).toBe(false);
  });
});

test("remove() during a skew delay drops the pending run and returns at once", async () => {
  const s = new Scheduler(silentLogger);
  const realRandom = Math.random;
  Math.random = () => 0.99;
  try {
    let runs = 0;
    // A 2 s skew (1.98 s with this random): remove() must not wait it out.
    // The bound leaves room for a loaded machine and still fails a wait.
    s.add({ id: "k", pattern: "0 0 1 1 *", skew: 2_000, run: async () => void runs++ }, true);
    await Bun.sleep(5);
    const t0 = performance.now();
    await s.remove("k");
    expect(performance.now() - t0).toBeLessThan(1_000);
    await Bun.sleep(2_100);
    expect(runs).toBe(0);
  } finally {
    Math.random = realRandom;
  }
});
