/**
 * What raw tf.topk (tfjs 4.22) does with ties, signed zeros, NaN and infinities on each backend,
 * as observed. These facts are why topk.ts sorts finite keys in two passes; if a tfjs upgrade
 * changes them, this file says so (and the entry descriptions need updating).
 */
import { describe, expect, test } from "vitest";
import { tf, type TfjsBackendName, useBackend } from "./runtime.ts";

async function rawTopkIndices(backend: TfjsBackendName, row: number[], k: number): Promise<number[]> {
  await useBackend(backend);
  const x = tf.tensor2d([row]);
  const { values, indices } = tf.topk(x, k);
  const out = Array.from(await indices.data());
  tf.dispose([x, values, indices]);
  return out;
}

describe.each(["cpu", "webgpu"] as const)("raw tf.topk on %s", (backend) => {
  test("breaks ties between equal finite values, +0 and -0 included, by lower index (as the spec)", async () => {
    expect(await rawTopkIndices(backend, [1, 3, 3, 1], 3)).toEqual([1, 2, 0]);
    expect(await rawTopkIndices(backend, [-0, 0, -0, 0], 2)).toEqual([0, 1]);
    expect(await rawTopkIndices(backend, [0, -1, -0, 5], 2)).toEqual([3, 0]);
  });

  test("does not rank NaN first (the spec puts NaN above +Infinity)", async () => {
    const got = await rawTopkIndices(backend, [NaN, NaN, NaN, 1], 1);
    expect(got).not.toEqual([0]);
    expect(got).toEqual([3]);
  });
});

describe("raw tf.topk on cpu", () => {
  test("misorders equal infinities: its comparator computes Infinity - Infinity = NaN", async () => {
    // Spec: [+Infinity (cell 0), 1 (cell 1)]; the cpu kernel's partial selection returns -Infinity.
    expect(await rawTopkIndices("cpu", [Infinity, 1, -Infinity, -Infinity], 2)).toEqual([0, 3]);
  });
});

describe("raw tf.topk on webgpu", () => {
  test("orders equal infinities by lower index", async () => {
    expect(await rawTopkIndices("webgpu", [Infinity, 1, -Infinity, -Infinity], 2)).toEqual([0, 1]);
    expect(await rawTopkIndices("webgpu", [-Infinity, Infinity, Infinity, -Infinity], 4)).toEqual([1, 2, 0, 3]);
  });
});
