/**
 * The four tfjs entries against the float64 reference: hand-built cases, the golden vectors, every
 * window over {NaN, ±Infinity, ±1, ±0} (ties), argument errors, tensor leaks and bench handles.
 *
 * Tolerance (float32 vs float64 reference), u = 2^-24:
 * - y: 64·u·max|x|. The entry rounds x to float32 (1 rounding), computes softmax in float32
 *   (exp, a sum of ≤ 4 terms and a division: a few ulps relative per weight) and a ≤ 4-term
 *   weighted sum (≤ 7 roundings), each bounded by u·max|value|; 64 leaves a margin of ~4.
 * - dx: 64·u·max|dy|: each entry is one product w[r]·dy with the same softmax error.
 * - dLogits: (2N + 64)·u·max|x|·Σ|dy| with N windows: s[r] = Σ_windows v[r]·dy is a float32 sum
 *   of N terms (worst case N·u·Σ|terms| in sequential order), and the softmax VJP doubles it.
 * NaN must match NaN and ±Infinity must match exactly.
 */
import { describe, expect, test } from "vitest";
import { referenceForward, referenceGradient } from "../reference.ts";
import { unsupportedReason } from "../registry.ts";
import { outputShape, sizeOf } from "../spec.ts";
import type { GradientResult, Implementation, Padding, Pair, Shape4, SortPoolCase } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import {
  checkTfjsWebGpuSize,
  TFJS_WEBGPU_EXACT_INDEX_ELEMENTS,
  tfjsGatheredElements,
  tfjsImplementations,
  type TfjsSizedCase,
  tfjsWindowElements,
} from "./entries.ts";
import { tf, useBackend } from "./runtime.ts";
import { mulberry32, uniformFloat32 } from "../random.ts";
import { sameBits, signedZeroMismatch } from "../webgpu/testing.ts";

const U = 2 ** -24;

/** Deterministic values in [-1, 1) on a 1/64 grid (so ties occur) from a seed. */
function values(n: number, seed: number): Float32Array {
  return uniformFloat32(n, seed, 64);
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function sumAbs(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

/** First element outside `tol` (NaN must be NaN, infinities exact), or null. */
function mismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Number.isFinite(e) ? a === e || Math.abs(a - e) <= tol : a === e;
    if (!ok) return `index ${i}: got ${a}, expected ${e} (tolerance ${tol.toExponential(2)})`;
  }
  return null;
}

/** Compares an entry's forward (and gradient when `dy` is given) with the reference. */
async function expectAgreement(
  impl: Implementation,
  c: SortPoolCase,
  dy: ArrayLike<number> | undefined,
  label: string,
  overlap = 1,
): Promise<GradientResult | undefined> {
  const ref = referenceForward(c);
  const got = await impl.forward(c);
  expect(got.shape, label).toEqual(ref.shape);
  expect(got.y, label).toBeInstanceOf(Float32Array);
  expect(mismatch(got.y, ref.y, 64 * U * maxAbs(c.x)), `${label}: y`).toBeNull();
  expect(signedZeroMismatch(got.y, ref.y), `${label}: sign of y`).toBeNull();
  if (!dy) return undefined;
  const refGrad = referenceGradient(c, dy);
  const grad = await impl.gradient(c, dy);
  expect(grad.dx, label).toBeInstanceOf(Float32Array);
  expect(grad.dLogits, label).toBeInstanceOf(Float32Array);
  expect(mismatch(grad.dx, refGrad.dx, overlap * 64 * U * maxAbs(dy)), `${label}: dx`).toBeNull();
  expect(signedZeroMismatch(grad.dx, refGrad.dx), `${label}: sign of dx`).toBeNull();
  const windows = ref.y.length;
  const dLogitsTol = (2 * windows + 64) * U * maxAbs(c.x) * sumAbs(dy);
  expect(mismatch(grad.dLogits, refGrad.dLogits, dLogitsTol), `${label}: dLogits`).toBeNull();
  return grad;
}

/**
 * General windows (SPEC.md §2): poolSize, strides and an input shape with odd sizes, batch and
 * channels > 1 (3x3/1 "same" pads every side; 3x3/2 on odd sizes pads the top and left).
 */
const GENERAL_WINDOWS: [Pair, Pair, Shape4][] = [
  [[3, 3], [2, 2], [2, 7, 5, 3]],
  [[3, 3], [1, 1], [1, 5, 6, 2]],
  [[2, 2], [1, 1], [1, 4, 5, 2]],
  [[4, 4], [4, 4], [2, 9, 8, 2]],
  [[3, 2], [1, 2], [1, 5, 7, 3]],
  [[1, 1], [1, 1], [1, 3, 4, 2]],
  [[2, 3], [3, 1], [1, 7, 5, 1]],
];

/** Odd and even sizes, batch and channels > 1, a single cell. */
const SHAPES: Shape4[] = [[2, 5, 7, 3], [1, 4, 6, 2], [3, 3, 2, 1], [1, 1, 1, 2], [2, 2, 3, 1]];

/** Every window over these values appears once in the tie test: 7^4 = 2401 windows. */
const SPECIAL = [NaN, Infinity, -Infinity, 1, 0, -0, -1];

/** x of shape [n, 2, 2, 1] holding every 4-tuple of `SPECIAL` as one window. */
function allSpecialWindows(): { x: Float32Array; shape: Shape4 } {
  const n = SPECIAL.length ** 4;
  const x = new Float32Array(n * 4);
  for (let w = 0; w < n; w++) {
    for (let cell = 0, rest = w; cell < 4; cell++, rest = Math.floor(rest / SPECIAL.length)) {
      x[w * 4 + cell] = SPECIAL[rest % SPECIAL.length];
    }
  }
  return { x, shape: [n, 2, 2, 1] };
}

/** x of shape [49, rows, cols, 1] (rows·cols = 2) holding every pair of `SPECIAL`: "same" pads each. */
function specialPairs(rows: 1 | 2): { x: Float32Array; shape: Shape4 } {
  const n = SPECIAL.length ** 2;
  const x = new Float32Array(n * 2);
  for (let p = 0; p < n; p++) {
    x[2 * p] = SPECIAL[p % SPECIAL.length];
    x[2 * p + 1] = SPECIAL[Math.floor(p / SPECIAL.length)];
  }
  return { x, shape: [n, rows, 3 - rows, 1] };
}

describe.each(tfjsImplementations.map((impl) => [impl.name, impl] as const))("%s", (_, impl) => {
  test("registry row: float32, declared backend and device, follows the spec's tie rule", () => {
    expect(impl.precision).toBe("float32");
    expect(impl.backend).toBe(`tfjs-${impl.device}`);
    expect(impl.ties).toEqual({ kind: "spec" });
    expect(impl.name.endsWith(`@${impl.device}`)).toBe(true);
  });

  test("agrees with the reference on hand-built cases: k 1..4, both paddings, odd sizes", async () => {
    let seed = 1;
    for (const shape of SHAPES) {
      for (const padding of ["same", "valid"] as Padding[]) {
        if (padding === "valid" && (shape[1] < 2 || shape[2] < 2)) continue;
        for (const k of [1, 2, 3, 4]) {
          const x = values(sizeOf(shape), seed++);
          const logits = Array.from(values(k, seed++), (v) => 3 * v);
          const dy = values(sizeOf(outputShape(shape, padding)), seed++);
          const label = `[${shape}] k=${k} ${padding}`;
          await expectAgreement(impl, { x, shape, logits, k, padding }, dy, label);
        }
      }
    }
  });

  test("accepts Float64Array input and returns Float32Array results", async () => {
    const shape: Shape4 = [1, 3, 3, 2];
    const x = Float64Array.from(values(sizeOf(shape), 99));
    const dy = Float64Array.from(values(sizeOf(outputShape(shape, "same")), 98));
    await expectAgreement(impl, { x, shape, logits: [0.5, -0.25, 1], k: 3, padding: "same" }, dy, "float64 input");
  });

  test("ranks and routes gradients like the spec on every window over {NaN, ±Infinity, ±1, ±0}", async () => {
    const { x, shape } = allSpecialWindows();
    const dy = Float32Array.from({ length: shape[0] }, (_, i) => 1 + (i % 3));
    for (const k of [1, 2, 3, 4]) {
      const c: SortPoolCase = { x, shape, logits: [0.5, -0.5, 0.25, 0].slice(0, k), k, padding: "valid" };
      const ref = referenceForward(c);
      const got = await impl.forward(c);
      expect(mismatch(got.y, ref.y, 64 * U), `k=${k}: y`).toBeNull();
      // dx shows which cell each rank was routed to; dLogits is NaN-laden here and checked elsewhere.
      const grad = await impl.gradient(c, dy);
      expect(mismatch(grad.dx, referenceGradient(c, dy).dx, 64 * U * 3), `k=${k}: dx`).toBeNull();
    }
  });

  test("treats padded cells like the spec next to NaN, ±Infinity and ±0 (k = 1 ignores them)", async () => {
    for (const rows of [1, 2] as const) {
      const { x, shape } = specialPairs(rows);
      const dy = Float32Array.from({ length: shape[0] }, () => 1);
      for (const k of [1, 2, 3, 4]) {
        const c: SortPoolCase = { x, shape, logits: [0.5, -0.5, 0.25, 0].slice(0, k), k, padding: "same" };
        const label = `[${shape}] k=${k}`;
        expect(mismatch((await impl.forward(c)).y, referenceForward(c).y, 64 * U), `${label}: y`).toBeNull();
        const dx = (await impl.gradient(c, dy)).dx;
        expect(mismatch(dx, referenceGradient(c, dy).dx, 64 * U), `${label}: dx`).toBeNull();
      }
    }
  });

  test("per-channel logits (length C·k) on 2x2/2: each channel its own softmax; dLogits has length C·k", async () => {
    let seed = 300;
    for (
      const [shape, padding, k] of [[[2, 5, 4, 3], "same", 3], [[1, 4, 6, 2], "valid", 2], [
        [1, 3, 3, 4],
        "same",
        1,
      ]] as [
        Shape4,
        Padding,
        number,
      ][]
    ) {
      const x = values(sizeOf(shape), seed++);
      const logits = Array.from(values(shape[3] * k, seed++), (v) => 4 * v);
      const dy = values(sizeOf(outputShape(shape, padding)), seed++);
      const grad = await expectAgreement(impl, { x, shape, logits, k, padding }, dy, `[${shape}] ${padding} k=${k}`);
      expect(grad!.dLogits.length).toBe(shape[3] * k);
    }
  });

  if (impl.supports?.windows === "2x2/2") {
    test("declares 2x2/2 only, with a reason, and refuses other windows naming poolSize or strides", async () => {
      expect(impl.supports?.limitation).toMatch(/2x2/);
      const c: SortPoolCase = { x: values(36, 1), shape: [1, 6, 6, 1], logits: [0, 0], k: 2, padding: "same" };
      const dy = values(9, 2);
      for (
        const [window, argument] of [
          [{ poolSize: [3, 3] }, "poolSize"],
          [{ poolSize: [2, 2], strides: [1, 1] }, "strides"],
          [{ poolSize: [2, 1], strides: [2, 2] }, "poolSize"],
        ] as const
      ) {
        const general: SortPoolCase = { ...c, ...window };
        expect(unsupportedReason(impl, general), JSON.stringify(window)).toContain(impl.supports!.limitation!);
        for (
          const call of [
            () => impl.forward(general),
            () => impl.gradient(general, dy),
            () => impl.prepareBench!(general),
          ]
        ) {
          const error = await (call as () => Promise<unknown>)().then(
            () => undefined,
            (e) => e as SortPoolArgumentError,
          );
          expect(error, JSON.stringify(window)).toBeInstanceOf(SortPoolArgumentError);
          expect(error?.argument).toBe(argument);
          expect(error?.expected).toContain("[2, 2]");
          expect(error?.received).toBe(`[${(argument === "poolSize" ? window.poolSize : window.strides!).join(", ")}]`);
        }
      }
      // The default window given explicitly is the default.
      const explicit = await impl.forward({ ...c, poolSize: [2, 2], strides: [2, 2] });
      expect(sameBits(explicit.y as Float32Array, (await impl.forward(c)).y as Float32Array)).toBe(true);
    });
  } else {
    test("general windows agree with the reference (3x3/2, 3x3/1, 2x2/1, 4x4/4, 3x2/[1, 2], 1x1, per-channel)", async () => {
      expect(impl.supports).toEqual({ windows: "any", perChannelLogits: true });
      let seed = 500;
      for (const [poolSize, strides, shape] of GENERAL_WINDOWS) {
        const cells = poolSize[0] * poolSize[1];
        // Each geometry: k = 1, one k in between and k = kh·kw, both paddings, shared and per-channel logits.
        const runs: [Padding, number, boolean][] = [["same", 1, false], ["valid", Math.ceil(cells / 2), true], [
          "same",
          cells,
          true,
        ]];
        for (const [padding, k, perChannel] of runs) {
          const c: SortPoolCase = {
            x: values(sizeOf(shape), seed++),
            shape,
            logits: Array.from(values(perChannel ? shape[3] * k : k, seed++), (v) => 3 * v),
            k,
            padding,
            poolSize,
            strides,
          };
          const dy = values(sizeOf(outputShape(shape, padding, c)), seed++);
          const label = `[${shape}] ${poolSize}/${strides} ${padding} k=${k}${perChannel ? " per-channel" : ""}`;
          // A cell's dx sums the terms of up to 9 windows here (3x3/1); 16 bounds every window and stride.
          const grad = (await expectAgreement(impl, c, dy, label, 16))!;
          if (k === 1) expect(grad.dLogits.every((v) => Object.is(v, 0)), `${label}: dLogits +0`).toBe(true);
        }
      }
    });

    test("general windows with NaN, ±Infinity and ±0, padded top/left cells (k = 1 ignores them), overlap", async () => {
      // 3x3/1 "same" pads one row/column on every side, so cell 0 of the first window is padded: an all -Infinity
      // window must still route dy to a real cell (the spec ignores padded cells for k = 1).
      const shape: Shape4 = [40, 3, 4, 1];
      const pick = mulberry32(41);
      const x = Float32Array.from({ length: sizeOf(shape) }, () => SPECIAL[Math.floor(pick() * SPECIAL.length)]);
      x.fill(-Infinity, 0, 12);
      x.fill(-0, 12, 24);
      for (const [poolSize, strides] of [[[3, 3], [1, 1]], [[3, 2], [2, 1]]] as [Pair, Pair][]) {
        for (const k of [1, 2, 5]) {
          const c: SortPoolCase = {
            x,
            shape,
            logits: [0.5, -0.5, 0.25, 0, 1].slice(0, k),
            k,
            padding: "same",
            poolSize,
            strides,
          };
          const dy = Float32Array.from(
            { length: sizeOf(outputShape(shape, "same", c)) },
            (_, i) => [1, -0, 2, 0][i % 4],
          );
          const label = `${poolSize}/${strides} k=${k}`;
          const ref = referenceForward(c);
          const got = await impl.forward(c);
          expect(mismatch(got.y, ref.y, 64 * U), `${label}: y`).toBeNull();
          expect(signedZeroMismatch(got.y, ref.y), `${label}: sign of y`).toBeNull();
          const dx = (await impl.gradient(c, dy)).dx;
          const refDx = referenceGradient(c, dy).dx;
          expect(mismatch(dx, refDx, 16 * 64 * U * 2), `${label}: dx`).toBeNull();
          expect(signedZeroMismatch(dx, refDx), `${label}: sign of dx`).toBeNull();
        }
      }
    });

    test("overlap: a cell kept by two windows sums their terms in output order from the first (signs, ±Infinity)", async () => {
      // [0, 5, 0] with 1x2 windows, stride 1: both windows keep x[1] (k = 1); x[0] and x[2] are kept by none.
      const c: SortPoolCase = {
        x: Float32Array.from([0, 5, 0]),
        shape: [1, 1, 3, 1],
        logits: [0],
        k: 1,
        padding: "valid",
        poolSize: [1, 2],
        strides: [1, 1],
      };
      for (
        const [dy, middle] of [
          [[-0, -0], -0],
          [[-0, 0], 0],
          [[0, -0], 0],
          [[2, -0.5], 1.5],
          [[Infinity, 1], Infinity],
          [[Infinity, -Infinity], NaN],
        ] as [number[], number][]
      ) {
        const { dx } = await impl.gradient(c, dy);
        const expected = [0, middle, 0];
        expect(Array.from(dx).every((v, i) => Object.is(v, expected[i])), `dy [${dy}]: dx [${Array.from(dx)}]`).toBe(
          true,
        );
        expect(Array.from(referenceGradient(c, dy).dx).every((v, i) => Object.is(v, expected[i]))).toBe(true);
      }
    });
  }

  // Only webgpu entries have a dispatch limit; the cpu ones would spend seconds for nothing here.
  if (impl.device === "webgpu") {
    test(
      "runs at a million windows (past WebGPU's 65535-workgroup dispatch limit for naive reductions)",
      async () => {
        const shape: Shape4 = [2, 1024, 1024, 2];
        const c: SortPoolCase = {
          x: values(sizeOf(shape), 77),
          shape,
          logits: [0.1, 0.2, 0.3, 0.4],
          k: 4,
          padding: "same",
        };
        await expectAgreement(impl, c, values(sizeOf(outputShape(shape, "same")), 78), `[${shape}]`);
      },
    );
  }

  test("non-finite dy: kept cells get w[r]·dy, every other cell exactly 0 (hand-written gradient)", async () => {
    // Window 0 holds x[0], x[1], x[4], x[5]; its top 2 are x[5] = 6 and x[4] = 5.
    const c: SortPoolCase = {
      x: Float32Array.from([1, 4, 2, 3, 5, 6, 7, 8]),
      shape: [1, 2, 4, 1],
      logits: [0, 0],
      k: 2,
      padding: "valid",
    };
    for (const bad of [Infinity, -Infinity, NaN]) {
      const dy = [bad, 1];
      const { dx, dLogits } = await impl.gradient(c, dy);
      expect(mismatch(dx, [0, 0, 0, 0, bad / 2, bad / 2, 0.5, 0.5], 0), `dy = [${dy}]`).toBeNull();
      expect(signedZeroMismatch(dx, [0, 0, 0, 0, 1, 1, 0.5, 0.5]), `dy = [${dy}]`).toBeNull();
      // A non-finite v·dy in one window poisons every dLogits element (k > 1).
      expect(Array.from(dLogits).some(Number.isFinite), `dy = [${dy}]: dLogits ${dLogits}`).toBe(false);
    }
  });

  test("dLogits is exactly +0 for k = 1 (max pooling), also for NaN / -Infinity windows and non-finite dy", async () => {
    const shape: Shape4 = [2, 3, 5, 2];
    const x = values(sizeOf(shape), 5);
    x.fill(NaN, 0, 4);
    x.fill(-Infinity, 8, 12);
    const c: SortPoolCase = { x, shape, logits: [2], k: 1, padding: "same" };
    const dy = values(sizeOf(outputShape(shape, "same")), 6);
    dy[1] = Infinity;
    const { dLogits } = await impl.gradient(c, dy);
    expect(dLogits.length).toBe(1);
    expect(Object.is(dLogits[0], 0), `dLogits ${dLogits[0]}`).toBe(true);
  });

  test("rejects bad arguments with SortPoolArgumentError naming the argument", async () => {
    const c: SortPoolCase = { x: new Float32Array(4), shape: [1, 2, 2, 1], logits: [0, 0], k: 2, padding: "valid" };
    await expect(impl.forward({ ...c, k: 5 })).rejects.toThrow(SortPoolArgumentError);
    await expect(impl.forward({ ...c, logits: [0] })).rejects.toThrow(/logits/);
    await expect(impl.forward({ ...c, shape: [1, 1, 4, 1] })).rejects.toThrow(/shape/);
    await expect(impl.gradient(c, [1, 2])).rejects.toThrow(/dy/);
  });

  test("leaks no tensors over 48 forward + gradient calls, default and general windows", async () => {
    const shape: Shape4 = [1, 5, 5, 2];
    const defaults = [1, 2, 3, 4].map((k): SortPoolCase => ({
      x: values(sizeOf(shape), k),
      shape,
      logits: Array.from(values(k, 10 + k)),
      k,
      padding: k % 2 === 0 ? "same" : "valid",
    }));
    const general: SortPoolCase[] = [
      { ...defaults[2], logits: Array.from(values(6, 21)), padding: "same", poolSize: [3, 3], strides: [2, 2] },
      { ...defaults[1], padding: "valid", poolSize: [2, 2], strides: [1, 1] },
    ];
    const cases = [...defaults, ...general].filter((c) => unsupportedReason(impl, c) === undefined);
    await impl.forward(cases[0]); // first use initialises the backend
    const before = tf.memory().numTensors;
    for (let i = 0; i < 48; i++) {
      const c = cases[i % cases.length];
      await impl.forward(c);
      await impl.gradient(c, values(sizeOf(outputShape(c.shape, c.padding, c)), i));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test("prepareBench keeps its tensors until disposed, then frees them", async () => {
    const shape: Shape4 = [2, 6, 6, 3];
    const c: SortPoolCase = { x: values(sizeOf(shape), 3), shape, logits: [0, 1, 2], k: 3, padding: "same" };
    await useBackend(impl.device === "webgpu" ? "webgpu" : "cpu");
    const before = tf.memory().numTensors;
    const handle = await impl.prepareBench!(c);
    const held = tf.memory().numTensors;
    expect(held).toBeGreaterThan(before);
    await handle.forward();
    await handle.forwardBackward();
    await handle.forward();
    expect(tf.memory().numTensors).toBe(held);
    await handle.dispose();
    await handle.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(handle.forward()).rejects.toThrow(`${impl.name} bench handle: used after dispose`);
    await expect(handle.forwardBackward()).rejects.toThrow(`${impl.name} bench handle: used after dispose`);
  });

  test("rejects a dy element that is not a number, naming dy[i]", async () => {
    const c: SortPoolCase = { x: new Float32Array(8), shape: [1, 2, 4, 1], logits: [0, 0], k: 2, padding: "valid" };
    const error = await impl.gradient(c, ["a", "b"] as unknown as number[]).catch((e) => e);
    expect(error).toBeInstanceOf(SortPoolArgumentError);
    expect(error.argument).toBe("dy[0]");
  });
});

describe("tfjs-webgpu size guard (planning only: no tensor is built)", () => {
  const limit = 2 ** 27; // 128 MiB, the CPU adapters' maxStorageBufferBindingSize
  const refusal = (shape: Shape4, padding: Padding, gathersByIndex: boolean) => {
    try {
      checkTfjsWebGpuSize("entry", { shape, padding }, limit, gathersByIndex);
      return undefined;
    } catch (e) {
      return e as SortPoolArgumentError;
    }
  };

  test("tfjs-topk@webgpu refuses a windows tensor past 2^24 elements (float32 index arithmetic), naming x", () => {
    // The reviewer's case: 2^25 window elements, exactly 128 MiB, so the binding check alone let it through.
    const big: Shape4 = [512, 64, 64, 16];
    expect(tfjsWindowElements({ shape: big, padding: "valid" })).toBe(2 ** 25);
    const error = refusal(big, "valid", true);
    expect(error).toBeInstanceOf(SortPoolArgumentError);
    expect(error!.argument).toBe("x");
    expect(error!.message).toContain("2^24");
    expect(error!.message).toContain("float32");
    expect(error!.message).toContain("33554432 elements");
    // tfjs-network gathers by no index and was verified correct there: only the binding limit applies.
    expect(refusal(big, "valid", false)).toBeUndefined();
    // 2^24 elements exactly are fine; one more window (4 elements) is not.
    expect(refusal([256, 64, 64, 16], "valid", true)).toBeUndefined();
    expect(tfjsWindowElements({ shape: [256, 64, 64, 16], padding: "valid" })).toBe(TFJS_WEBGPU_EXACT_INDEX_ELEMENTS);
    expect(refusal([256 * 64 * 64 + 1, 2, 2, 4], "valid", true)?.argument).toBe("x");
    expect(refusal([256 * 64 * 64 + 1, 2, 2, 4], "valid", false)).toBeUndefined();
    // Past the binding limit every family is refused, naming the limit.
    expect(refusal([3_000_000, 3, 3, 1], "same", false)?.message).toContain("maxStorageBufferBindingSize");
  });

  test("general windows: the [B·Ho·Wo·C, kh·kw] windows tensor, and x itself where the gather reads it, are sized", () => {
    const refusalOf = (c: TfjsSizedCase, gathersByIndex: boolean) => {
      try {
        checkTfjsWebGpuSize("entry", c, limit, gathersByIndex);
        return undefined;
      } catch (e) {
        return e as SortPoolArgumentError;
      }
    };
    const stem = (batch: number): TfjsSizedCase => ({
      shape: [batch, 112, 112, 64],
      padding: "same",
      poolSize: [3, 3],
      strides: [2, 2],
    });
    // The ResNet stem: 56x56 windows of 9 cells per image and channel.
    expect(tfjsWindowElements(stem(1))).toBe(9 * 56 * 56 * 64);
    expect(tfjsGatheredElements(stem(1))).toBe(9 * 56 * 56 * 64 + 64);
    expect(refusalOf(stem(8), true)).toBeUndefined(); // 14.4M elements, 58 MB
    const error = refusalOf(stem(12), true); // 21.7M elements, 87 MB: under the binding limit, past 2^24
    expect(error?.argument).toBe("x");
    expect(error?.message).toContain("[B·Ho·Wo·C, 9] windows tensor");
    expect(error?.message).toContain("poolSize [3, 3] strides [2, 2]");
    expect(refusalOf(stem(12), false)).toBeUndefined();
    expect(refusalOf(stem(24), false)?.message).toContain("maxStorageBufferBindingSize"); // 173 MB
    // 1x1 windows with stride 4 read 1 cell in 16: x, which the gather reads by index, is the larger tensor.
    const sparse: TfjsSizedCase = { shape: [1, 4100, 4100, 1], padding: "valid", poolSize: [1, 1], strides: [4, 4] };
    expect(tfjsWindowElements(sparse)).toBe(1025 * 1025);
    expect(refusalOf(sparse, true)?.message).toContain("2^24");
    // The default window keeps its rule: the windows tensor alone.
    expect(tfjsGatheredElements({ shape: [1, 4100, 4100, 1], padding: "valid" })).toBe(4 * 2050 * 2050);
  });

  test("the registry's tfjs-topk@webgpu applies it before touching x's values", async () => {
    const entry = tfjsImplementations.find((e) => e.name === "tfjs-topk@webgpu")!;
    // 2^24 + 4 window elements: x is 67 MB of zero pages that nothing touches (validation reads its length, the
    // guard its shape), so the allocation stays virtual and the refusal comes before any tensor or GPU work.
    const shape: Shape4 = [2 ** 22 + 1, 2, 2, 1];
    const c: SortPoolCase = { x: new Float32Array(sizeOf(shape)), shape, logits: [0, 0], k: 2, padding: "valid" };
    const error = await entry.forward(c).catch((e) => e);
    expect(error).toBeInstanceOf(SortPoolArgumentError);
    expect(error.message).toContain("2^24");
  });
});
