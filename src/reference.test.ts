import { describe, expect, test } from "vitest";
import { referenceForward, referenceGradient } from "./reference.ts";
import { cellIndex, outputShape, sizeOf, softmax } from "./spec.ts";
import type { Padding, Shape4, SortPoolCase } from "./types.ts";
import { useBackend } from "./tfjs/runtime.ts";

const one = (x: number[], k: number, logits: number[] = new Array(k).fill(0)): SortPoolCase => ({
  x: Float64Array.from(x),
  shape: [1, 2, 2, 1],
  logits,
  k,
  padding: "valid",
});

/** Every permutation of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  );
}

describe("reference forward, hand-computed", () => {
  test("k = 2 with equal weights averages the two largest", () => {
    expect(Array.from(referenceForward(one([1, 4, 3, 2], 2)).y)).toEqual([3.5]);
  });

  test("k = 4 with logits [ln 4, ln 3, ln 2, 0] weights 4,3,2,1 over 10", () => {
    const c = one([1, 4, 3, 2], 4, [Math.log(4), Math.log(3), Math.log(2), 0]);
    // (0.4·4 + 0.3·3 + 0.2·2 + 0.1·1) = 3.0
    expect(referenceForward(c).y[0]).toBeCloseTo(3.0, 14);
  });

  test('"same" on 3x3 pads zeros for k > 1 but ignores padding for k = 1', () => {
    const x = [-1, -2, -3, -4, -5, -6, -7, -8, -9];
    const base = { x: Float64Array.from(x), shape: [1, 3, 3, 1] as Shape4, padding: "same" as Padding };
    // windows: [-1,-2,-4,-5] [-3,pad,-6,pad] [-7,-8,pad,pad] [-9,pad,pad,pad]
    expect(Array.from(referenceForward({ ...base, k: 1, logits: [0] }).y)).toEqual([-1, -3, -7, -9]);
    // k = 2, equal weights: top two are [-1,-2], [0,0], [0,0], [0,0]
    expect(Array.from(referenceForward({ ...base, k: 2, logits: [0, 0] }).y)).toEqual([-1.5, 0, 0, 0]);
    // k = 3: [-1,-2,-4], [0,0,-3], [0,0,-7], [0,0,0]
    const y3 = referenceForward({ ...base, k: 3, logits: [0, 0, 0] }).y;
    expect(Array.from(y3).map((v) => v * 3)).toEqual([-7, -3, -7, 0].map((v) => expect.closeTo(v, 12)));
  });

  test('"valid" on odd sizes drops the last row and column', () => {
    const c: SortPoolCase = {
      x: Float64Array.from([1, 2, 9, 3, 4, 9, 9, 9, 9]),
      shape: [1, 3, 3, 1],
      logits: [0],
      k: 1,
      padding: "valid",
    };
    const { y, shape } = referenceForward(c);
    expect(shape).toEqual([1, 1, 1, 1]);
    expect(Array.from(y)).toEqual([4]);
  });

  test("NaN ranks first, so a window with NaN in its top k outputs NaN", () => {
    expect(referenceForward(one([1, NaN, 3, 2], 1)).y[0]).toBeNaN();
    expect(referenceForward(one([Infinity, 1, 2, 3], 2)).y[0]).toBe(Infinity);
    expect(referenceForward(one([Infinity, -Infinity, -Infinity, -Infinity], 2)).y[0]).toBeNaN();
    expect(referenceForward(one([Infinity, -Infinity, 2, 3], 1)).y[0]).toBe(Infinity);
  });

  test("batch and channels are independent", () => {
    // two batches x two channels; channel 1 is channel 0 negated
    const x = [1, -1, 2, -2, 3, -3, 4, -4, 10, -10, 20, -20, 30, -30, 40, -40];
    const c: SortPoolCase = { x: Float64Array.from(x), shape: [2, 2, 2, 2], logits: [0], k: 1, padding: "valid" };
    expect(Array.from(referenceForward(c).y)).toEqual([4, -1, 40, -10]);
  });
});

describe("ranking (the original's only test)", () => {
  const perms = permutations([1, 2, 3, 4]);
  test("all 24 permutations of [1, 2, 3, 4] rank as [4, 3, 2, 1]", () => {
    expect(perms.length).toBe(24);
    // With k = 4 and a one-hot-like weight on rank r, y recovers the r-th largest value.
    for (const p of perms) {
      for (let r = 0; r < 4; r++) {
        const logits = [0, 0, 0, 0].map((_, i) => (i === r ? 0 : -800));
        expect(referenceForward(one(p, 4, logits)).y[0]).toBe(4 - r);
      }
      // The gradient routes w[r] to the cell holding the r-th largest value.
      const w = softmax([3, 2, 1, 0]);
      const { dx } = referenceGradient(one(p, 4, [3, 2, 1, 0]), [1]);
      for (let cell = 0; cell < 4; cell++) expect(dx[cell]).toBe(w[4 - p[cell]]);
    }
  });

  test("exact ties rank by window cell, lower first; +0 equals -0", () => {
    const w = softmax([2, 1]);
    expect(Array.from(referenceGradient(one([5, 5, 5, 5], 2, [2, 1]), [1]).dx)).toEqual([w[0], w[1], 0, 0]);
    expect(Array.from(referenceGradient(one([1, 7, 1, 7], 2, [2, 1]), [1]).dx)).toEqual([0, w[0], 0, w[1]]);
    expect(Array.from(referenceGradient(one([-0, 0, -1, -1], 2, [2, 1]), [1]).dx)).toEqual([w[0], w[1], 0, 0]);
    expect(Array.from(referenceGradient(one([NaN, 9, NaN, 1], 1), [1]).dx)).toEqual([1, 0, 0, 0]);
  });

  test("padded zeros tie with real zeros by cell index and receive no gradient", () => {
    // 1x2 input "same": window [a, b, pad, pad]; with a = 0 = pad, cell 0 ranks before the pads.
    const c: SortPoolCase = {
      x: Float64Array.from([0, -1]),
      shape: [1, 1, 2, 1],
      logits: [1, 0, 0],
      k: 3,
      padding: "same",
    };
    const w = softmax([1, 0, 0]);
    const { dx } = referenceGradient(c, [1]);
    // ranks: cell0 (0), cell2 (pad 0), cell3 (pad 0), cell1 (-1): only cell 0 is a real top-3 cell
    expect(Array.from(dx)).toEqual([w[0], 0]);
  });
});

describe("k = 1 is max pooling", () => {
  test("equals tf.maxPool (tfjs cpu) on random data, both paddings, odd and even sizes", async () => {
    const tf = await useBackend("cpu");
    for (
      const [shape, padding] of [
        [[2, 5, 7, 3], "same"],
        [[2, 5, 7, 3], "valid"],
        [[1, 6, 4, 2], "same"],
        [[3, 1, 1, 1], "same"],
      ] as [Shape4, Padding][]
    ) {
      const x = Float32Array.from({ length: sizeOf(shape) }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 8);
      const { y } = referenceForward({ x, shape, logits: [0.7], k: 1, padding });
      const expected = tf.tidy(() => tf.maxPool(tf.tensor4d(x, [...shape]), 2, 2, padding).dataSync());
      expect(Array.from(y)).toEqual(Array.from(expected));
    }
  });
});

describe("analytic VJP against float64 central finite differences", () => {
  /**
   * Deterministic values in [-4, 4) with pairwise gaps of at least 1/32 (a shuffled lattice),
   * offset by 1/64 so that none ties with a padded zero.
   */
  function distinctInput(n: number, seed: number): Float64Array {
    const lattice = Array.from({ length: n }, (_, i) => (i - n / 2) / 32 + 1 / 64);
    let s = seed;
    for (let i = lattice.length - 1; i > 0; i--) {
      s = (s * 16807) % 2147483647;
      const j = s % (i + 1);
      [lattice[i], lattice[j]] = [lattice[j], lattice[i]];
    }
    return Float64Array.from(lattice);
  }

  for (const k of [1, 2, 3, 4]) {
    for (const padding of ["same", "valid"] as const) {
      test(`k = ${k}, padding "${padding}", 2x5x5x2`, () => {
        const shape: Shape4 = [2, 5, 5, 2];
        const x = distinctInput(sizeOf(shape), 7 + k);
        const logits = [0.3, -0.2, 0.1, 0.5].slice(0, k);
        const c: SortPoolCase = { x, shape, logits, k, padding };
        const n = sizeOf(outputShape(shape, padding));
        const dy = Float64Array.from({ length: n }, (_, i) => ((i * 7) % 11) / 5 - 1);
        const loss = (cc: SortPoolCase) => Array.from(referenceForward(cc).y).reduce((acc, v, i) => acc + v * dy[i], 0);
        const { dx, dLogits } = referenceGradient(c, dy);
        // eps far below half the smallest gap (1/64, also to padded zeros): the loss is linear on [x - eps, x + eps].
        const eps = 1e-6;
        for (let i = 0; i < x.length; i++) {
          const plus = Float64Array.from(x);
          const minus = Float64Array.from(x);
          plus[i] += eps;
          minus[i] -= eps;
          const fd = (loss({ ...c, x: plus }) - loss({ ...c, x: minus })) / (2 * eps);
          expect(Math.abs(fd - dx[i])).toBeLessThan(1e-8);
        }
        for (let j = 0; j < k; j++) {
          const up = [...logits];
          const down = [...logits];
          up[j] += eps;
          down[j] -= eps;
          const fd = (loss({ ...c, logits: up }) - loss({ ...c, logits: down })) / (2 * eps);
          expect(Math.abs(fd - dLogits[j])).toBeLessThan(1e-7);
        }
        // Cells outside every window ("valid", odd size) get exactly zero.
        if (padding === "valid") {
          for (let b = 0; b < 2; b++) {
            for (let ch = 0; ch < 2; ch++) {
              for (let t = 0; t < 5; t++) {
                const lastRow = ((b * 5 + 4) * 5 + t) * 2 + ch;
                const lastCol = ((b * 5 + t) * 5 + 4) * 2 + ch;
                expect(dx[lastRow]).toBe(0);
                expect(dx[lastCol]).toBe(0);
              }
            }
          }
        }
        // Sanity: cellIndex agrees that the last row is outside every valid window.
        expect(cellIndex(shape, 0, 2, 0, 0, 0)).toBeGreaterThanOrEqual(0);
      });
    }
  }
});
