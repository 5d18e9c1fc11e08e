/**
 * Tests of the measurement core shared by the benchmarks and the gate: statistics, the paired
 * ratio, clocks and the interleaved rounds (with millisecond fake tasks, so it stays fast).
 */
import { describe, expect, test } from "vitest";
import { medianAbsoluteDeviation as tinybenchMad } from "tinybench";
import { type DeviceClock, processCpuMs, timeCall } from "./clocks.ts";
import { localTask, onClock, roundOrder, runRounds, summaryOn } from "./rounds.ts";
import {
  bootstrapMedianInterval,
  median,
  medianAbsoluteDeviation,
  pairedRatio,
  quantileSorted,
  summarize,
} from "./stats.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("stats", () => {
  test("median of odd and even counts, unsorted input", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  test("MAD of a known sample, and agreement with tinybench's on random samples", () => {
    // median 2; |x - 2| = 1, 1, 0, 0, 2, 4, 7 -> median 1
    expect(medianAbsoluteDeviation([1, 1, 2, 2, 4, 6, 9])).toBe(1);
    let s = 12345;
    for (let trial = 0; trial < 20; trial++) {
      const xs: number[] = [];
      for (let i = 0; i < 1 + (trial % 9); i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        xs.push(s / 2 ** 32);
      }
      const sorted = [...xs].sort((a, b) => a - b) as unknown as Parameters<typeof tinybenchMad>[0];
      expect(medianAbsoluteDeviation(xs)).toBeCloseTo(tinybenchMad(sorted), 12);
    }
  });

  test("summarize; empty or non-finite samples are rejected", () => {
    expect(summarize([2, 8, 4, 6])).toEqual({ n: 4, min: 2, median: 5, mad: 2, max: 8, mean: 5 });
    expect(() => median([])).toThrow(/at least one sample/);
    expect(() => summarize([1, NaN])).toThrow(/finite/);
  });

  test("quantileSorted interpolates between order statistics", () => {
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(() => quantileSorted([1], 1.5)).toThrow(/q: expected a number in \[0, 1\]/);
  });

  test("bootstrap interval: deterministic for a seed, contains the median, narrows with more data", () => {
    const values = Array.from({ length: 15 }, (_, i) => 1 + ((i * 7) % 15) / 100);
    const a = bootstrapMedianInterval(values, { seed: 1 });
    expect(bootstrapMedianInterval(values, { seed: 1 })).toEqual(a);
    expect(a.low).toBeLessThanOrEqual(a.median);
    expect(a.high).toBeGreaterThanOrEqual(a.median);
    const more = bootstrapMedianInterval([...values, ...values, ...values, ...values], { seed: 1 });
    expect(more.high - more.low).toBeLessThan(a.high - a.low);
    expect(() => bootstrapMedianInterval([])).toThrow(/at least one/);
    expect(() => bootstrapMedianInterval([1], { confidence: 1 })).toThrow(/confidence/);
  });

  test("pairedRatio pairs by round, skips unpaired rounds, and a single outlier barely moves it", () => {
    const a = new Map([[0, 10], [1, 12], [2, 11], [3, 500], [5, 9]]);
    const b = new Map([[0, 5], [1, 6], [2, 5.5], [3, 5], [4, 7]]);
    const r = pairedRatio(a, b, { seed: 3 });
    expect(r.ratios).toEqual([2, 2, 2, 100]);
    expect(r.n).toBe(4);
    expect(r.median).toBe(2);
    expect(r.low).toBe(2);
    expect(() => pairedRatio(new Map([[0, 1]]), new Map([[1, 1]]))).toThrow(/no round|at least one round/);
  });
});

describe("clocks", () => {
  test("timeCall keeps the fastest call on each clock; CPU time counts work, not waiting", async () => {
    let calls = 0;
    const waiting = await timeCall(async () => {
      calls++;
      await sleep(calls === 1 ? 40 : 10);
    }, 3);
    expect(calls).toBe(3);
    expect(waiting.readings.wall).toBeGreaterThanOrEqual(9);
    expect(waiting.readings.wall).toBeLessThan(35); // the slow first call is not the sample
    expect(waiting.readings.cpu).toBeLessThan(waiting.readings.wall);
    const busy = await timeCall(() => {
      const end = processCpuMs() + 20;
      while (processCpuMs() < end) { /* spin */ }
      return Promise.resolve();
    });
    expect(busy.readings.cpu).toBeGreaterThanOrEqual(15);
    expect(busy.readings.gpu).toBeUndefined();
  });

  test("a device clock is read around every call; one missing reading makes the sample's gpu null", async () => {
    const readings = [{ ms: 2 }, { ms: 1 }, { ms: null, why: "untimed pass" }] as const;
    let i = 0, open = false;
    const device: DeviceClock = {
      name: "fake",
      begin: () => void (open = true),
      end: () => {
        expect(open).toBe(true);
        open = false;
        return Promise.resolve(readings[i++]);
      },
    };
    expect((await timeCall(() => Promise.resolve(), 2, device)).readings.gpu).toBe(1);
    const failed = await timeCall(() => Promise.resolve(), 1, device);
    expect(failed.readings.gpu).toBeNull();
    expect(failed.gpuNote).toBe("untimed pass");
    await expect(timeCall(() => Promise.resolve(), 0)).rejects.toThrow(/repetitions/);
  });
});

describe("rounds", () => {
  test("rotation puts every item in every position once per cycle", () => {
    const items = ["a", "b", "c"].map((name) => ({ name }));
    const orders = [0, 1, 2, 3].map((r) => roundOrder(items, r).map((x) => x.name).join(""));
    expect(orders).toEqual(["abc", "bca", "cab", "abc"]);
  });

  test("grouped items stay adjacent, and each group's members alternate", () => {
    const items = [["A1", "e1"], ["B1", "e1"], ["A2", "e2"], ["B2", "e2"]].map(([name, group]) => ({ name, group }));
    const orders = [0, 1, 2, 3].map((r) => roundOrder(items, r).map((x) => x.name).join(" "));
    expect(orders).toEqual(["A1 B1 B2 A2", "A2 B2 B1 A1", "A1 B1 B2 A2", "A2 B2 B1 A1"]);
  });

  test("warm-up, then one sample per task per round in rotated order; failures and skips are reported", async () => {
    const calls: string[] = [];
    const task = (name: string, run: () => Promise<void>) => localTask(name, () => (calls.push(name), run()));
    const tick = () => sleep(1);
    const timings = await runRounds([
      task("a", tick),
      task("b", tick),
      task("c", () => Promise.reject(new Error("boom"))),
      task("d", () => sleep(30)),
    ], { rounds: 4, warmupCalls: 1, skipFirstCallOverMs: 20 });
    const byName = Object.fromEntries(timings.map((t) => [t.name, t]));
    expect(byName.a.status).toBe("ok");
    expect(byName.a.samples.map((s) => s.round)).toEqual([0, 1, 2, 3]);
    expect(byName.c.status).toBe("failed");
    expect(byName.c.reason).toMatch(/warm-up call 1 threw: boom/);
    expect(byName.d.status).toBe("skipped");
    expect(byName.d.reason).toMatch(/over the 20 ms limit/);
    expect(calls.join("")).toBe("abcd" + "ab" + "ba" + "ab" + "ba");
    expect(onClock(byName.a, "wall")!.size).toBe(4);
    expect(onClock(byName.a, "gpu")).toBeNull();
    expect(summaryOn(byName.a, "wall")!.n).toBe(4);
  });

  test("a slow first call skips the not-yet-run members of its cohort", async () => {
    const calls: string[] = [];
    const slow = (name: string) => localTask(name, () => (calls.push(name), sleep(25)), { cohort: "slow" });
    const timings = await runRounds([slow("s1"), slow("s2"), localTask("f", () => sleep(1))], {
      rounds: 2,
      warmupCalls: 1,
      skipFirstCallOverMs: 15,
    });
    expect(calls).toEqual(["s1"]);
    expect(timings.map((t) => t.status)).toEqual(["skipped", "skipped", "ok"]);
    expect(timings[1].reason).toMatch(/not run: s1 \(same cohort\)/);
  });

  test("the budget stops a task at minSamples; bad options are rejected", async () => {
    const timings = await runRounds([localTask("slow", () => sleep(5))], {
      rounds: 10,
      minSamples: 2,
      budgetMs: 1,
      warmupCalls: 1,
    });
    expect(timings[0].samples.length).toBe(2);
    expect(timings[0].reason).toMatch(/stopped at 2 of 10 samples/);
    await expect(runRounds([], { rounds: 0 })).rejects.toThrow(/rounds: expected a positive integer/);
    await expect(runRounds([localTask("x", tickless), localTask("x", tickless)], { rounds: 1 })).rejects.toThrow(
      /duplicate task name "x"/,
    );
  });
});

function tickless(): Promise<void> {
  return Promise.resolve();
}
