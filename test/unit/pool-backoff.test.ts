import { describe, expect, test } from "bun:test";
import { backoffMs } from "../../src/engine/backoff.ts";
import { forEachLimited, limiter } from "../../src/engine/pool.ts";

describe("limiter", () => {
  test("runs at most `limit` at once, all of them, and frees a slot when one fails", async () => {
    const limit = limiter(2);
    let inFlight = 0;
    let max = 0;
    const job = (n: number) => async () => {
      inFlight++;
      max = Math.max(max, inFlight);
      await Bun.sleep(3);
      inFlight--;
      if (n === 2) throw new Error("two");
      return n;
    };
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => limit(job(n))));
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : "failed"))).toEqual([1, "failed", 3, 4, 5]);
    expect(max).toBe(2);
    expect(await limit(async () => "free again")).toBe("free again");
  });
});

describe("forEachLimited", () => {
  test("visits every item exactly once and never exceeds the limit", async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let max = 0;
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await Bun.sleep(n % 2 ? 4 : 1);
      seen.push(n);
      inFlight--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(max).toBe(3);
    expect(inFlight).toBe(0);
  });

  test("limit 1 runs sequentially in input order", async () => {
    const order: string[] = [];
    await forEachLimited(["a", "b", "c"], 1, async (s) => {
      order.push(`start ${s}`);
      await Bun.sleep(1);
      order.push(`end ${s}`);
    });
    expect(order).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  test("a limit larger than the list starts everything at once", async () => {
    let max = 0;
    let inFlight = 0;
    await forEachLimited([1, 2], 10, async () => {
      max = Math.max(max, ++inFlight);
      await Bun.sleep(2);
      inFlight--;
    });
    expect(max).toBe(2);
  });

  test("an empty list resolves without calling fn", async () => {
    let called = 0;
    await forEachLimited([], 4, async () => void called++);
    expect(called).toBe(0);
  });

  test("resolves only after the slowest item finished", async () => {
    let finished = false;
    await forEachLimited([20, 1], 2, async (ms) => {
      await Bun.sleep(ms);
      if (ms === 20) finished = true;
    });
    expect(finished).toBe(true);
  });
});

describe("backoffMs", () => {
  test("starts at 10 s and doubles", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n))).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 320_000]);
  });

  test("is capped at 10 minutes", () => {
    expect(backoffMs(7)).toBe(600_000);
    expect(backoffMs(50)).toBe(600_000);
    expect(backoffMs(10_000)).toBe(600_000);
  });

  test("zero or negative failures give the base delay", () => {
    expect(backoffMs(0)).toBe(10_000);
    expect(backoffMs(-3)).toBe(10_000);
  });

  test("base and cap can be overridden", () => {
    expect(backoffMs(3, 100, 1_000)).toBe(400);
    expect(backoffMs(5, 100, 1_000)).toBe(1_000);
  });
});
