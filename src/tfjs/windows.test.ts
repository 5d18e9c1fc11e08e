import { describe, expect, test } from "vitest";
import { cellIndex, outputShape, sizeOf, WINDOW_CELLS } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { tf, useBackend } from "./runtime.ts";
import { extractWindows, paddingValue, rankKeys, realCells, windowRows, windowsToInput } from "./windows.ts";

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
