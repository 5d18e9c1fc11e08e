/**
 * General windows (SPEC.md §1–3, §5): the geometry against hand-worked numbers and against tf.maxPool
 * (an independent implementation of TensorFlow's "same"/"valid" arithmetic), the overlap sum of dx,
 * per-channel weights, and the new argument errors.
 */
import { describe, expect, test } from "vitest";
import { referenceForward, referenceGradient } from "./reference.ts";
import { unsupportedReason } from "./registry.ts";
import { axisGeometry, logitsGradient, outputShape, poolGeometry, softmax, windowsContaining } from "./spec.ts";
import { tf, useBackend } from "./tfjs/runtime.ts";
import type { Implementation, Padding, Pair, Shape4, SortPoolCase } from "./types.ts";
import { SortPoolArgumentError, validateCase } from "./validate.ts";

function thrown(fn: () => unknown): SortPoolArgumentError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SortPoolArgumentError) return e;
    throw e;
  }
  throw new Error("expected a SortPoolArgumentError");
}

describe("axis geometry (SPEC.md §3)", () => {
  test.each(
    [
      // size, padding, window, stride -> out, before, after
      [5, "same", 3, 2, 3, 1, 1],
      [4, "same", 3, 2, 2, 0, 1],
      [112, "same", 3, 2, 56, 0, 1],
      [5, "valid", 3, 2, 2, 0, 0],
      [2, "same", 3, 1, 2, 1, 1],
      [5, "same", 2, 4, 2, 0, 1],
      [6, "same", 2, 4, 2, 0, 0],
      [5, "same", 2, 2, 3, 0, 1],
      [1, "same", 4, 1, 1, 1, 2],
      [3, "valid", 4, 1, 0, 0, 0],
    ] as const,
  )("%i %s window %i stride %i", (size, padding, window, stride, out, before, after) => {
    expect(axisGeometry(size, padding, window, stride)).toEqual({
      size,
      window,
      stride,
      out,
      padBefore: before,
      padAfter: after,
    });
  });

  test("windowsContaining agrees with a brute-force scan", () => {
    for (const padding of ["same", "valid"] as const) {
      for (let window = 1; window <= 4; window++) {
        for (let stride = 1; stride <= 4; stride++) {
          for (let size = window; size <= 9; size++) {
            const axis = axisGeometry(size, padding, window, stride);
            for (let pos = 0; pos < size; pos++) {
              const hits: number[] = [];
              for (let o = 0; o < axis.out; o++) {
                const start = o * stride - axis.padBefore;
                if (pos >= start && pos < start + window) hits.push(o);
              }
              const [first, last] = windowsContaining(axis, pos);
              const range: number[] = [];
              for (let o = first; o <= last; o++) range.push(o);
              expect(range, `${padding} ${size}/${window}/${stride} pos ${pos}`).toEqual(hits);
            }
          }
        }
      }
    }
  });
});

describe("k = 1 is tf.maxPool with the same window, strides and padding", () => {
  test("forward over every poolSize and stride 1..3 x 1..3 on odd and even sizes", async () => {
    await useBackend("cpu");
    const shape: Shape4 = [1, 7, 6, 2];
    const n = 7 * 6 * 2;
    // Distinct values, so max pooling's answer is unique.
    const x = Float32Array.from({ length: n }, (_, i) => ((i * 37) % n) - n / 2);
    for (const padding of ["same", "valid"] as Padding[]) {
      for (let kh = 1; kh <= 4; kh++) {
        for (let kw = 1; kw <= 4; kw++) {
          for (const strides of [[1, 1], [2, 2], [1, 2], [3, 2], [4, 4]] as Pair[]) {
            const poolSize: Pair = [kh, kw];
            const c: SortPoolCase = { x, shape, logits: [0], k: 1, padding, poolSize, strides };
            const ours = referenceForward(c);
            const theirs = tf.tidy(() =>
              tf.maxPool(tf.tensor4d(x, [...shape]), [kh, kw], [strides[0], strides[1]], padding).arraySync()
            );
            expect(ours.shape).toEqual([1, theirs.length ? theirs[0].length : 0, theirs[0][0].length, 2]);
            expect(Array.from(ours.y)).toEqual(theirs.flat(3));
          }
        }
      }
    }
  });
});

describe("overlapping windows and per-channel weights (SPEC.md §5)", () => {
  test("3x3 stride 1 'valid': hand-worked y and a dx summed over the windows that keep a cell", () => {
    // One 3x4 plane: two overlapping 3x3 windows (columns 0-2 and 1-3).
    const x = new Float64Array([
      1,
      9,
      2,
      0,
      3,
      8,
      4,
      7,
      5,
      6,
      0,
      10,
    ]);
    const c: SortPoolCase = {
      x,
      shape: [1, 3, 4, 1],
      logits: [Math.log(3), 0],
      k: 2,
      padding: "valid",
      poolSize: [3, 3],
      strides: [1, 1],
    };
    // w = [3/4, 1/4]. Window 0: top 2 are 9, 8; window 1: 10, 9.
    const { y, shape } = referenceForward(c);
    expect(shape).toEqual([1, 1, 2, 1]);
    expect(Array.from(y)).toEqual([0.75 * 9 + 0.25 * 8, 0.75 * 10 + 0.25 * 9]);
    const { dx, dLogits } = referenceGradient(c, [2, -4]);
    const expected = new Array(12).fill(0);
    expected[1] = 0.75 * 2 + 0.25 * -4; // the 9: rank 0 in window 0, rank 1 in window 1
    expected[5] = 0.25 * 2; // the 8
    expected[11] = 0.75 * -4; // the 10
    expect(Array.from(dx)).toEqual(expected);
    // Rank sums: s0 = 9·2 + 10·(−4), s1 = 8·2 + 9·(−4).
    expect(Array.from(dLogits)).toEqual(Array.from(logitsGradient([0.75, 0.25], [18 - 40, 16 - 36])));
  });

  test("a cell kept by one window keeps the product's signed zero; a cell kept by none is +0", () => {
    const c: SortPoolCase = {
      x: new Float64Array([-0, -1, -2, -3, -4, -5]),
      shape: [1, 1, 6, 1],
      logits: [0],
      k: 1,
      padding: "valid",
      poolSize: [1, 2],
      strides: [1, 3],
    };
    const { dx } = referenceGradient(c, [-1, 1]);
    expect(Object.is(dx[0], -1)).toBe(true);
    expect(Object.is(dx[3], 1)).toBe(true);
    for (const i of [1, 2, 4, 5]) expect(Object.is(dx[i], 0), `dx[${i}]`).toBe(true);
  });

  test("per-channel logits: channel c uses logits [c·k, c·k + k) and gets its own dLogits group", () => {
    const x = new Float64Array([4, 1, 3, 2, 2, 3, 1, 4]); // [1, 2, 2, 2]: channel 0 = 4,3,2,1; channel 1 = 1,2,3,4
    const logits = [0, 0, Math.log(3), 0];
    const c: SortPoolCase = { x, shape: [1, 2, 2, 2], logits, k: 2, padding: "valid" };
    const { y } = referenceForward(c);
    expect(Array.from(y)).toEqual([0.5 * 4 + 0.5 * 3, 0.75 * 4 + 0.25 * 3]);
    const { dLogits } = referenceGradient(c, [1, 1]);
    const w = softmax(logits, 2);
    expect(Array.from(dLogits)).toEqual([
      ...logitsGradient(w.slice(0, 2), [4, 3]),
      ...logitsGradient(w.slice(2, 4), [4, 3]),
    ]);
    // The same numbers shared by both channels would be a different case: length k, not C·k.
    expect(referenceForward({ ...c, logits: [0, 0] }).y).toEqual(new Float64Array([3.5, 3.5]));
  });

  test("the 2x2/2 default is the geometry of the article (one padded row at the bottom)", () => {
    const g = poolGeometry([1, 5, 4, 1], "same");
    expect([g.rows.padBefore, g.rows.padAfter, g.cols.padBefore, g.cols.padAfter]).toEqual([0, 1, 0, 0]);
    expect(outputShape([2, 5, 7, 3], "same", { poolSize: [3, 3], strides: [2, 2] })).toEqual([2, 3, 4, 3]);
  });
});

describe("argument errors for the new options (SPEC.md §6)", () => {
  const base: SortPoolCase = { x: new Float32Array(16), shape: [1, 4, 4, 1], logits: [0], k: 1, padding: "same" };
  test.each(
    [
      [{ poolSize: [5, 2] }, "poolSize[0]"],
      [{ poolSize: [2, 0] }, "poolSize[1]"],
      [{ poolSize: [2.5, 2] }, "poolSize[0]"],
      [{ poolSize: 3 }, "poolSize"],
      [{ poolSize: [2, 2, 2] }, "poolSize"],
      [{ strides: [0, 1] }, "strides[0]"],
      [{ strides: [1, 5] }, "strides[1]"],
      [{ strides: "2" }, "strides"],
      [{ k: 5 }, "k"],
      [{ k: 10, logits: new Array(10).fill(0), poolSize: [3, 3] }, "k"],
      [{ k: 2, logits: [0, 0, 0] }, "logits"],
      [{ padding: "valid", poolSize: [3, 3], shape: [1, 2, 8, 1], x: new Float32Array(16) }, "shape"],
      [{ padding: "valid", poolSize: [1, 3], shape: [1, 8, 2, 1], x: new Float32Array(16) }, "shape"],
    ] as const,
  )("%j names %s", (patch, argument) => {
    const e = thrown(() => validateCase({ ...base, ...patch } as unknown as SortPoolCase));
    expect(e.argument).toBe(argument);
    expect(e.message).toContain("expected");
    expect(e.message).toContain("received");
  });

  test("k up to kh·kw, logits of length C·k, and strides default to poolSize", () => {
    const c = validateCase({
      x: new Float32Array(48),
      shape: [1, 4, 4, 3],
      logits: new Array(27).fill(0),
      k: 9,
      padding: "same",
      poolSize: [3, 3],
    });
    expect(c.strides).toEqual([3, 3]);
    expect(thrown(() => validateCase({ ...c, logits: new Array(26).fill(0) })).expected).toContain("C·k");
  });
});

describe("unsupportedReason (OpInfo-style supports)", () => {
  const limited = {
    name: "two-by-two",
    supports: { windows: "2x2/2", perChannelLogits: false, limitation: "the original's network" },
  } as unknown as Implementation;
  const c: SortPoolCase = { x: new Float32Array(32), shape: [1, 4, 4, 2], logits: [0, 0], k: 2, padding: "same" };
  test("names the missing capability and the declared limitation", () => {
    expect(unsupportedReason(limited, c)).toBeUndefined();
    expect(unsupportedReason(limited, { ...c, poolSize: [3, 3], strides: [2, 2] })).toMatch(
      /poolSize \[3,3\] strides \[2,2\].*original's network/,
    );
    expect(unsupportedReason(limited, { ...c, strides: [1, 1] })).toContain("strides [1,1]");
    expect(unsupportedReason(limited, { ...c, logits: [0, 0, 0, 0] })).toContain("per-channel logits");
    expect(unsupportedReason({ name: "all" } as Implementation, { ...c, poolSize: [4, 4] })).toBeUndefined();
  });
});
