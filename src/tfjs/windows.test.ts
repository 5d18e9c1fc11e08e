import { describe, expect, test } from "vitest";
import { cellIndex, outputShape, poolGeometry, sizeOf, WINDOW_CELLS, windowsContaining } from "../spec.ts";
import type { Padding, Pair, Shape4 } from "../types.ts";
import { sameBits } from "../webgpu/testing.ts";
import { tf, useBackend } from "./runtime.ts";
import {
  extractWindows,
  gatherPlan,
  gatherWindowSet,
  paddingValue,
  rankKeys,
  realCells,
  windowGradient,
  windowRows,
  windowSet,
  windowsToInput,
} from "./windows.ts";

/** Windows other than 2x2/2, with odd sizes ("same" pads the top/left for 3x3/2 on odd sizes and 3x3/1). */
const GEOMETRIES: [Pair, Pair, Shape4][] = [
  [[3, 3], [2, 2], [2, 5, 7, 3]],
  [[3, 3], [1, 1], [1, 4, 3, 2]],
  [[3, 2], [1, 2], [1, 5, 6, 1]],
  [[4, 4], [4, 4], [1, 9, 6, 2]],
  [[1, 1], [3, 2], [1, 4, 5, 2]],
];

describe("extractWindows", () => {
  test("puts window cell c of every window at last index c, as spec.ts's cellIndex numbers them", async () => {
    await useBackend("cpu");
    for (const shape of [[2, 5, 7, 3], [1, 4, 4, 1], [1, 1, 3, 2], [3, 3, 2, 1]] as Shape4[]) {
      for (const padding of ["same", "valid"] as Padding[]) {
        if (padding === "valid" && (shape[1] < 2 || shape[2] < 2)) continue;
        for (const k of [1, 2]) {
          // Distinct values: x[i] = i + 1, so a wrong cell shows as a wrong number.
          const x = Float32Array.from({ length: sizeOf(shape) }, (_, i) => i + 1);
          const got = tf.tidy(() => extractWindows(tf.tensor4d(x, [...shape]), k, padding));
          const values = await got.data();
          const [b, ho, wo, c] = outputShape(shape, padding);
          expect(got.shape).toEqual([b, ho, wo, c, WINDOW_CELLS]);
          got.dispose();
          let at = 0;
          for (let n = 0; n < b; n++) {
            for (let oh = 0; oh < ho; oh++) {
              for (let ow = 0; ow < wo; ow++) {
                for (let ch = 0; ch < c; ch++) {
                  for (let cell = 0; cell < WINDOW_CELLS; cell++) {
                    const index = cellIndex(shape, n, oh, ow, ch, cell);
                    const expected = index >= 0 ? x[index] : paddingValue(k);
                    expect(values[at++], `[${shape}] ${padding} k=${k} window ${n},${oh},${ow},${ch} cell ${cell}`)
                      .toBe(expected);
                  }
                }
              }
            }
          }
        }
      }
    }
  });

  test("is differentiable: each input cell in a window gets its upstream gradient, others 0", async () => {
    await useBackend("cpu");
    const shape: Shape4 = [1, 3, 3, 1];
    const x = tf.tensor4d(Float32Array.from({ length: 9 }, (_, i) => i), [...shape]);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(windowRows(t as tf.Tensor4D, 2, "valid")))(x);
    // "valid" on 3x3 keeps rows/columns 0..1: the last row and column get no gradient.
    expect(Array.from(await dx.data())).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0]);
    tf.dispose([x, dx]);
  });
});

describe("windowsToInput and realCells", () => {
  test("invert windowRows: every real cell returns to its element, padded cells are dropped, others +0", async () => {
    await useBackend("cpu");
    for (const shape of [[2, 5, 7, 3], [1, 4, 4, 1], [1, 1, 3, 2], [3, 3, 2, 1]] as Shape4[]) {
      for (const padding of ["same", "valid"] as Padding[]) {
        if (padding === "valid" && (shape[1] < 2 || shape[2] < 2)) continue;
        const x = Float32Array.from({ length: sizeOf(shape) }, (_, i) => i + 1);
        const [back, real] = tf.tidy(() => {
          const rows = windowRows(tf.tensor4d(x, [...shape]), 2, padding);
          const mask = realCells(shape, padding);
          return [windowsToInput(rows, shape, padding), mask ? tf.stack(mask, 1) : tf.ones(rows.shape)];
        });
        const values = await back.data();
        const realValues = await real.data();
        tf.dispose([back, real]);
        const [b, ho, wo, c] = outputShape(shape, padding);
        const covered = new Set<number>();
        let at = 0;
        for (let n = 0; n < b; n++) {
          for (let oh = 0; oh < ho; oh++) {
            for (let ow = 0; ow < wo; ow++) {
              for (let ch = 0; ch < c; ch++) {
                for (let cell = 0; cell < WINDOW_CELLS; cell++) {
                  const index = cellIndex(shape, n, oh, ow, ch, cell);
                  expect(realValues[at++], `[${shape}] ${padding} cell ${cell}`).toBe(index >= 0 ? 1 : 0);
                  if (index >= 0) covered.add(index);
                }
              }
            }
          }
        }
        for (let i = 0; i < x.length; i++) {
          expect(Object.is(values[i], covered.has(i) ? x[i] : 0), `[${shape}] ${padding} element ${i}`).toBe(true);
        }
      }
    }
  });
});

describe("rankKeys", () => {
  test("groups NaN > +Infinity > finite > -Infinity and zeroes the value key of non-finite values", async () => {
    await useBackend("cpu");
    const x = tf.tensor2d([[NaN, Infinity, -Infinity, -0], [2.5, -1, 0, 3]]);
    const keys = rankKeys(x);
    expect(Array.from(await keys.group.data())).toEqual([3, 2, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(await keys.value.data())).toEqual([0, 0, 0, -0, 2.5, -1, 0, 3]);
    tf.dispose([x, keys.group, keys.value]);
  });
});

describe("the gather layout (windows other than 2x2/2)", () => {
  test("puts window cell c at last index c: x at spec.ts's cellIndex, +0 in the padding, real flags to match", async () => {
    await useBackend("cpu");
    for (const [poolSize, strides, shape] of GEOMETRIES) {
      for (const padding of ["same", "valid"] as Padding[]) {
        const g = poolGeometry(shape, padding, { poolSize, strides });
        const x = Float32Array.from({ length: sizeOf(shape) }, (_, i) => i + 1);
        const [rows, real] = tf.tidy(() => {
          const set = windowSet(tf.tensor4d(x, [...shape]), 2, padding, g);
          return [set.rows, set.real ?? tf.onesLike(set.rows)];
        });
        const values = await rows.data();
        const flags = await real.data();
        expect(rows.shape).toEqual([sizeOf(outputShape(shape, padding, g)), g.cells]);
        tf.dispose([rows, real]);
        let at = 0;
        for (let n = 0; n < shape[0]; n++) {
          for (let oh = 0; oh < g.rows.out; oh++) {
            for (let ow = 0; ow < g.cols.out; ow++) {
              for (let ch = 0; ch < shape[3]; ch++) {
                for (let cell = 0; cell < g.cells; cell++, at++) {
                  const index = cellIndex(shape, n, oh, ow, ch, cell, g);
                  const label =
                    `[${shape}] ${poolSize}/${strides} ${padding} window ${n},${oh},${ow},${ch} cell ${cell}`;
                  expect(Object.is(values[at], index >= 0 ? x[index] : 0), label).toBe(true);
                  expect(flags[at], label).toBe(index >= 0 ? 1 : 0);
                }
              }
            }
          }
        }
      }
    }
  });

  test("the inverse tables list each input cell's windows in output order (against spec.ts windowsContaining)", () => {
    for (const [poolSize, strides, shape] of GEOMETRIES) {
      for (const padding of ["same", "valid"] as Padding[]) {
        const g = poolGeometry(shape, padding, { poolSize, strides });
        const plan = gatherPlan(g, padding);
        const none = g.rows.out * g.cols.out * g.cells;
        for (let row = 0; row < shape[1]; row++) {
          for (let col = 0; col < shape[2]; col++) {
            const [r0, r1] = windowsContaining(g.rows, row);
            const [c0, c1] = windowsContaining(g.cols, col);
            const expected: number[] = [];
            for (let oh = r0; oh <= r1; oh++) {
              for (let ow = c0; ow <= c1; ow++) {
                const cell = (row - (oh * g.strides[0] - g.rows.padBefore)) * g.poolSize[1] +
                  (col - (ow * g.strides[1] - g.cols.padBefore));
                expected.push((oh * g.cols.out + ow) * g.cells + cell);
              }
            }
            const got = plan.backward.map((table) => table[row * shape[2] + col]).filter((slot) => slot !== none);
            expect(got, `[${shape}] ${poolSize}/${strides} ${padding} (${row}, ${col})`).toEqual(expected);
          }
        }
      }
    }
  });

  test("on 2x2/2 it gives the default layout's windows, dx and rank sums bit for bit (shared and per-channel)", async () => {
    await useBackend("cpu");
    for (const shape of [[2, 5, 7, 3], [1, 4, 4, 2]] as Shape4[]) {
      for (const padding of ["same", "valid"] as Padding[]) {
        for (const [k, perChannel] of [[1, false], [2, true], [4, false], [3, true]] as [number, boolean][]) {
          const g = poolGeometry(shape, padding);
          const label = `[${shape}] ${padding} k=${k}${perChannel ? " per-channel" : ""}`;
          const n = sizeOf(outputShape(shape, padding));
          const results = tf.tidy(() => {
            const x = tf.tensor4d(Float32Array.from({ length: sizeOf(shape) }, (_, i) => ((i * 7) % 13) - 6), [
              ...shape,
            ]);
            const weights = tf.tensor1d(
              Float32Array.from({ length: perChannel ? shape[3] * k : k }, (_, i) => 0.1 + i),
            );
            const dy = tf.tensor4d(
              Float32Array.from({ length: n }, (_, i) => (i % 5) - 2.5),
              outputShape(shape, padding),
            );
            // Rank r is cell r: a fixed routing, so only the layouts differ.
            const cellOfRank = Array.from({ length: k }, (_, r) => tf.fill([n], r, "int32"));
            return [windowSet(x, k, padding, g), gatherWindowSet(x, k, padding, g)].map((set) => {
              const grad = windowGradient(set, cellOfRank, weights, dy);
              return [set.rows, grad.dx, grad.rankSums ?? tf.zeros([1])];
            });
          });
          const [[rowsA, dxA, sumsA], [rowsB, dxB, sumsB]] = results;
          const a = (await rowsA.data()) as Float32Array;
          const b = (await rowsB.data()) as Float32Array;
          for (let i = 0; i < a.length; i++) {
            // k = 1: the default layout holds -Infinity in padded cells, the gather layout +0 (flagged as padding).
            if (!(k === 1 && a[i] === -Infinity && b[i] === 0)) {
              expect(Object.is(a[i], b[i]), `${label} row ${i}`).toBe(true);
            }
          }
          expect(sameBits((await dxA.data()) as Float32Array, (await dxB.data()) as Float32Array), `${label} dx`).toBe(
            true,
          );
          expect(sameBits((await sumsA.data()) as Float32Array, (await sumsB.data()) as Float32Array), `${label} s`)
            .toBe(
              true,
            );
          tf.dispose(results.flat());
        }
      }
    }
  });
});
