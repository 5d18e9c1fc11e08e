import { describe, expect, test } from "vitest";
import {
  cellIndex,
  coordinatesOf,
  float32Weights,
  logitsGradient,
  outputShape,
  rankCells,
  ranksBefore,
  rankSumTerm,
  reverseLogits,
  softmax,
  softmaxVjp,
  SORTING_NETWORK,
  weightedRankSum,
  windowCells,
} from "./spec.ts";

/** Object.is element by element (NaN equals NaN, +0 differs from -0). */
function same(actual: ArrayLike<number>, expected: number[]): boolean {
  return actual.length === expected.length && expected.every((v, i) => Object.is(actual[i], v));
}

describe("window arithmetic", () => {
  test("output shapes: same = ceil, valid = floor", () => {
    expect(outputShape([2, 5, 7, 3], "same")).toEqual([2, 3, 4, 3]);
    expect(outputShape([2, 5, 7, 3], "valid")).toEqual([2, 2, 3, 3]);
    expect(outputShape([1, 1, 1, 1], "same")).toEqual([1, 1, 1, 1]);
  });

  test("cellIndex walks cells row-major and marks padding with -1", () => {
    const shape = [1, 3, 3, 2] as const;
    expect([0, 1, 2, 3].map((cell) => cellIndex(shape, 0, 0, 0, 1, cell))).toEqual([1, 3, 7, 9]);
    expect([0, 1, 2, 3].map((cell) => cellIndex(shape, 0, 1, 1, 0, cell))).toEqual([16, -1, -1, -1]);
    expect(coordinatesOf(shape, 9)).toEqual({ b: 0, row: 1, col: 1, ch: 1 });
  });

  test("padded cells take part as zeros for k > 1 and are left out for k = 1", () => {
    const x = [-1, -2, -3];
    const shape = [1, 1, 3, 1] as const;
    expect(windowCells(x, shape, 2, 0, 0, 1, 0).map((c) => [c.cell, c.value, c.index])).toEqual([
      [0, -3, 2],
      [1, 0, -1],
      [2, 0, -1],
      [3, 0, -1],
    ]);
    expect(windowCells(x, shape, 1, 0, 0, 1, 0).map((c) => c.cell)).toEqual([0]);
  });
});

describe("tie rule and sorting network", () => {
  test("ranksBefore: NaN first, larger first, equal by lower cell, +0 equals -0", () => {
    expect(ranksBefore(NaN, 3, Infinity, 0)).toBe(true);
    expect(ranksBefore(Infinity, 0, NaN, 3)).toBe(false);
    expect(ranksBefore(NaN, 1, NaN, 2)).toBe(true);
    expect(ranksBefore(2, 3, 1, 0)).toBe(true);
    expect(ranksBefore(1, 0, 1, 1)).toBe(true);
    expect(ranksBefore(1, 1, 1, 0)).toBe(false);
    expect(ranksBefore(-0, 0, 0, 1)).toBe(true);
    expect(ranksBefore(0, 1, -0, 0)).toBe(false);
  });

  test("the 5-comparator network produces the spec ranking for every pattern of 4 values from 5 symbols", () => {
    const symbols = [NaN, Infinity, 1, 0, -0];
    let patterns = 0;
    for (let p = 0; p < symbols.length ** 4; p++) {
      const values = [0, 1, 2, 3].map((i) => symbols[Math.floor(p / symbols.length ** i) % symbols.length]);
      const slots = values.map((value, cell) => ({ value, cell }));
      for (const [i, j] of SORTING_NETWORK) {
        if (ranksBefore(slots[j].value, slots[j].cell, slots[i].value, slots[i].cell)) {
          [slots[i], slots[j]] = [slots[j], slots[i]];
        }
      }
      const expected = rankCells(values.map((value, cell) => ({ value, cell, index: cell })));
      expect(slots.map((s) => s.cell)).toEqual(expected.map((c) => c.cell));
      patterns++;
    }
    expect(patterns).toBe(625);
  });
});

describe("softmax", () => {
  test("stable for large logits and sums to 1", () => {
    const w = softmax([1000, 999, -1000]);
    expect(w[0] + w[1] + w[2]).toBeCloseTo(1, 15);
    expect(w[0] / w[1]).toBeCloseTo(Math.E, 12);
  });

  test("softmaxVjp matches finite differences", () => {
    const logits = [0.3, -0.7, 1.1];
    const s = [2, -1, 0.5];
    const f = (l: number[]) => softmax(l).reduce((acc, w, r) => acc + w * s[r], 0);
    const g = softmaxVjp(softmax(logits), s);
    for (let j = 0; j < 3; j++) {
      const up = [...logits];
      const down = [...logits];
      up[j] += 1e-6;
      down[j] -= 1e-6;
      expect(g[j]).toBeCloseTo((f(up) - f(down)) / 2e-6, 8);
    }
  });

  test("is evaluated as its limit: ±Infinity logits, logits past float32's range, NaN (SPEC §5 Weights)", () => {
    const cases: [number[], number[]][] = [
      [[Infinity, 0], [1, 0]],
      [[0, Infinity], [0, 1]],
      [[Infinity, 0, Infinity], [0.5, 0, 0.5]],
      [[-Infinity, 0], [0, 1]],
      [[-Infinity, -Infinity], [0.5, 0.5]],
      [[-Infinity, -Infinity, -Infinity, -Infinity], [0.25, 0.25, 0.25, 0.25]],
      [[1e39, 0], [1, 0]],
      [[0, 5e38], [0, 1]],
      [[-2e39, 1], [0, 1]],
      [[3e38, -3e38], [1, 0]],
      [[NaN, 0], [NaN, NaN]],
      [[0, 0, NaN], [NaN, NaN, NaN]],
      [[NaN], [NaN]],
      [[Infinity], [1]],
      [[-Infinity], [1]],
      [[-0, 0], [0.5, 0.5]],
    ];
    for (const [logits, w] of cases) expect(same(softmax(logits), w), `${logits} -> ${softmax(logits)}`).toBe(true);
    // float32 implementations round the float64 weights: a weight below float32's range becomes 0.
    expect(same(float32Weights([0, -200]), [1, 0])).toBe(true);
    expect(softmax([0, -200])[1]).toBeGreaterThan(0);
    // A weight that float32 can hold only as a subnormal (gap 88: e^-88 ≈ 6.05e-39) is flushed to +0 as
    // well (SPEC.md §5: GPUs may flush subnormals); 2^-126 itself and the weights above it are kept.
    expect(same(float32Weights([0, -88]), [1, 0])).toBe(true);
    expect(same(float32Weights([-88, 0]), [0, 1])).toBe(true);
    expect(Math.fround(softmax([0, -88])[1])).toBeGreaterThan(0);
    const atMin = -Math.log(2 ** -126);
    expect(float32Weights([0, -87])[1]).toBeGreaterThanOrEqual(2 ** -126);
    expect(float32Weights([0, -atMin - 1e-3])[1]).toBe(0);
    expect(same(float32Weights([NaN, 0]), [NaN, NaN])).toBe(true);
  });

  test("weightedRankSum starts from the first product: zeros keep IEEE's sign, k = 1 returns v[0] bitwise", () => {
    expect(Object.is(weightedRankSum([1], [-0], 1), -0)).toBe(true);
    expect(Object.is(weightedRankSum([0.5, 0.5], [-0, -0], 2), -0)).toBe(true);
    expect(Object.is(weightedRankSum([0.5, 0.5], [-0, 0], 2), 0)).toBe(true);
    expect(Object.is(weightedRankSum([0.5, 0.5], [1, -1], 2), 0)).toBe(true);
    expect(Object.is(weightedRankSum([1, 0], [-2, 3], 2), -2)).toBe(true);
    expect(weightedRankSum([1, 0], [5, Infinity], 2)).toBeNaN();
    for (const v of [-0, 0, 1.5, -Infinity, Infinity]) expect(Object.is(weightedRankSum([1], [v], 1), v)).toBe(true);
  });

  test("logitsGradient: exactly [+0] for k = 1 whatever s holds; one non-finite s[r] poisons every element", () => {
    for (const s of [[NaN], [Infinity], [-Infinity], [3]]) expect(same(logitsGradient([1], s), [0])).toBe(true);
    expect(same(logitsGradient([NaN], [1]), [0])).toBe(true);
    expect(softmaxVjp([1], [Infinity])[0]).toBeNaN(); // what the Jacobian route would give
    const poisoned = logitsGradient([0.5, 0.5], [Infinity, 1]);
    expect(Number.isFinite(poisoned[0]) || Number.isFinite(poisoned[1])).toBe(false);
    expect(same(logitsGradient([0.5, 0.5], [2, 2]), [0, 0])).toBe(true);
  });

  test("rankSumTerm skips a padded cell (exactly 0, never 0·dy)", () => {
    expect(Object.is(rankSumTerm({ cell: 1, value: 0, index: -1 }, Infinity), 0)).toBe(true);
    expect(Object.is(rankSumTerm({ cell: 1, value: 0, index: -1 }, NaN), 0)).toBe(true);
    expect(rankSumTerm({ cell: 1, value: 0, index: 3 }, Infinity)).toBeNaN();
    expect(rankSumTerm({ cell: 0, value: 2, index: 0 }, -1.5)).toBe(-3);
  });

  test("reverseLogits converts to the original's order (w[k-1] weights the max there)", () => {
    expect(reverseLogits([1, 2, 3])).toEqual([3, 2, 1]);
  });
});
