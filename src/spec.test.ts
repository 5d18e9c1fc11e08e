import { describe, expect, test } from "vitest";
import {
  cellIndex,
  coordinatesOf,
  outputShape,
  rankCells,
  ranksBefore,
  reverseLogits,
  softmax,
  softmaxVjp,
  SORTING_NETWORK,
  windowCells,
} from "./spec.ts";

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

  test("reverseLogits converts to the original's order (w[k-1] weights the max there)", () => {
    expect(reverseLogits([1, 2, 3])).toEqual([3, 2, 1]);
  });
});
