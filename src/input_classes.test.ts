/**
 * The smallest inputs of five edge-case input classes (masked windows, logits beyond float32,
 * non-finite logits, zero signs, non-finite dy), run on every registry entry and on the tfjs op
 * `sortPool2d` on both tfjs backends, pinned to the values SPEC.md §5 fixes. Zeros whose sign the
 * spec fixes (y, dx, dLogits for k = 1) are compared with Object.is, NaN meets NaN; a zero dLogits
 * element for k > 1 is compared with == (its sign is not fixed). Concurrent calls on several
 * backends and auxiliary buffers past the binding limit live in
 * src/concurrent_backends_binding_limits.test.ts.
 *
 * Every value here is exact in float32 (weights 1, 0 and 1/2, or subnormal weights flushed to 0), so
 * float32 entries must match exactly.
 */
import { describe, expect, test } from "vitest";
import { goldenInput, loadGoldenCases } from "../vectors/golden.ts";
import { caseOptions, sortPool2d } from "./op.ts";
import { implementations } from "./registry.ts";
import { outputShape, softmax } from "./spec.ts";
import { tf, type TfjsBackendName, useBackend } from "./tfjs/runtime.ts";
import type { GradientResult, Shape4, SortPoolCase } from "./types.ts";
import { FLOAT32_TOLERANCE, mismatch, rankSumScale, signedZeroMismatch } from "./webgpu/testing.ts";

/** What a subject computes for a case: y, then dx and dLogits for `dy`. */
interface Subject {
  readonly name: string;
  /** Precision of its weights: float32 ones are flushed below 2^-126 (SPEC.md §5 "Weights"). */
  readonly precision: "float32" | "float64";
  run(c: SortPoolCase, dy: number[]): Promise<{ y: ArrayLike<number> } & GradientResult>;
}

/** A registry entry as a subject (logits as JS numbers). */
const entrySubjects: Subject[] = implementations.map((impl) => ({
  name: impl.name,
  precision: impl.precision,
  async run(c, dy) {
    const { y } = await impl.forward(c);
    return { y, ...(await impl.gradient(c, dy)) };
  },
}));

/** The public op on `backend` (logits as a float32 tensor), with its gradient through tf.grads. */
function opSubject(backend: TfjsBackendName): Subject {
  return {
    name: `sortPool2d@${backend}`,
    precision: "float32",
    async run(c, dyValues) {
      await useBackend(backend);
      const [y, dx, dLogits] = tf.tidy(() => {
        const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
        const logits = tf.tensor1d(Float32Array.from(c.logits));
        const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding, c));
        const f = (a: tf.Tensor, b: tf.Tensor) => sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, caseOptions(c));
        return [f(x, logits), ...tf.grads(f)([x, logits], dy)];
      });
      try {
        const read = async (t: tf.Tensor) => Float32Array.from(await t.data());
        return { y: await read(y), dx: await read(dx), dLogits: await read(dLogits) };
      } finally {
        tf.dispose([y, dx, dLogits]);
      }
    },
  };
}

const subjects: Subject[] = [...entrySubjects, opSubject("cpu"), opSubject("webgpu")];

/** "-0", "NaN", ... so that Object.is failures read clearly. */
function show(a: ArrayLike<number>): string {
  return `[${Array.from(a, (v) => (Object.is(v, -0) ? "-0" : String(v))).join(", ")}]`;
}

/** Object.is element by element (NaN equals NaN, +0 differs from -0). */
function expectSame(actual: ArrayLike<number>, expected: number[], label: string): void {
  const ok = actual.length === expected.length && expected.every((v, i) => Object.is(actual[i], v));
  expect(ok, `${label}: got ${show(actual)}, expected ${show(expected)}`).toBe(true);
}

/** == element by element, NaN equals NaN (for values whose zero sign the spec leaves open). */
function expectEqual(actual: ArrayLike<number>, expected: number[], label: string): void {
  const ok = actual.length === expected.length &&
    expected.every((v, i) => (Number.isNaN(v) ? Number.isNaN(actual[i]) : actual[i] === v));
  expect(ok, `${label}: got ${show(actual)}, expected ${show(expected)}`).toBe(true);
}

const ONE: Shape4 = [1, 2, 2, 1];
const X = [1, 4, 3, 2];

/** A case of one 2x2 window (or `shape`) with float32 x. */
function caseOf(x: number[], k: number, logits: number[], shape: Shape4 = ONE, padding: "same" | "valid" = "valid") {
  return { x: Float32Array.from(x), shape, k, logits, padding } satisfies SortPoolCase;
}

describe.each(subjects.map((s) => [s.name, s] as const))("edge-case input classes on %s", (_, subject) => {
  test("masked windows: k = 1 dLogits is exactly [+0] for a NaN or all -Infinity window", async () => {
    for (const [fill, y] of [[NaN, NaN], [-Infinity, -Infinity]]) {
      const got = await subject.run(caseOf([fill, fill, fill, fill], 1, [0]), [1]);
      const label = `x [${fill} x4]`;
      expectSame(got.y, [y], `${label} y`);
      expectSame(got.dx, [1, 0, 0, 0], `${label} dx`);
      expectSame(got.dLogits, [0], `${label} dLogits`);
    }
    // Also with a non-finite dy: nothing to poison for k = 1.
    const got = await subject.run(caseOf([NaN, 1, 2, 3], 1, [0.5]), [Infinity]);
    expectSame(got.dx, [Infinity, 0, 0, 0], "dy Infinity: dx");
    expectSame(got.dLogits, [0], "dy Infinity: dLogits");
  });

  test("logits beyond float32: logits finite in float64 but not in float32 give one-hot weights", async () => {
    const cases: [number[], number, number[]][] = [
      [[1e39, 0], 4, [0, 1, 0, 0]],
      [[0, 5e38], 3, [0, 0, 1, 0]],
      [[-2e39, 1], 3, [0, 0, 1, 0]],
    ];
    for (const [logits, y, dx] of cases) {
      const got = await subject.run(caseOf(X, 2, logits), [1]);
      expectSame(got.y, [y], `logits [${logits}] y`);
      expectSame(got.dx, dx, `logits [${logits}] dx`);
      expectEqual(got.dLogits, [0, 0], `logits [${logits}] dLogits`);
    }
  });

  test("non-finite logits: logits [Infinity, 0] and [NaN, 0] behave as softmax's limit, the same everywhere", async () => {
    const inf = await subject.run(caseOf(X, 2, [Infinity, 0]), [1]);
    expectSame(inf.y, [4], "[Infinity, 0] y");
    expectSame(inf.dx, [0, 1, 0, 0], "[Infinity, 0] dx");
    expectEqual(inf.dLogits, [0, 0], "[Infinity, 0] dLogits");
    const nan = await subject.run(caseOf(X, 2, [NaN, 0]), [1]);
    expectSame(nan.y, [NaN], "[NaN, 0] y");
    expectSame(nan.dx, [0, NaN, NaN, 0], "[NaN, 0] dx");
    expectSame(nan.dLogits, [NaN, NaN], "[NaN, 0] dLogits");
    const shared = await subject.run(caseOf(X, 3, [Infinity, -Infinity, Infinity]), [2]);
    expectSame(shared.y, [3], "[Infinity, -Infinity, Infinity] y");
    expectSame(shared.dx, [0, 1, 0, 1], "[Infinity, -Infinity, Infinity] dx");
    const uniform = await subject.run(caseOf(X, 2, [-Infinity, -Infinity]), [1]);
    expectSame(uniform.y, [3.5], "[-Infinity, -Infinity] y");
  });

  test("zero signs: a zero y keeps IEEE's sign (the sum starts from the first product)", async () => {
    const k1 = await subject.run(caseOf([-1, -0, -2, -3], 1, [0]), [1]);
    expectSame(k1.y, [-0], "[-1, -0, -2, -3] k = 1 y");
    expectSame(k1.dx, [0, 1, 0, 0], "[-1, -0, -2, -3] k = 1 dx");
    const tie = await subject.run(caseOf([0, -0, -1, -2], 1, [0]), [1]);
    expectSame(tie.y, [0], "[+0, -0, -1, -2] k = 1 y");
    // The golden case signed-zeros-k2: windows [-0, 0, 0, -0] (+0) and [-1, -0, -0, -2] (-0).
    const k2 = await subject.run(caseOf([-0, 0, -1, -0, 0, -0, -0, -2], 2, [0.25, -0.25], [1, 2, 4, 1]), [1, -1]);
    expectSame(k2.y, [0, -0], "signed-zeros-k2 y");
    // A -Infinity logit gives w[1] = +0, so the rank-1 cell's dx is 0·(-2) = -0; unkept cells +0.
    const dx = await subject.run(caseOf(X, 2, [0, -Infinity]), [-2]);
    expectSame(dx.dx, [0, -2, -0, 0], "w = [1, 0], dy -2: dx");
  });

  test("non-finite dy: a non-finite dy reaches only the kept cells; padded cells never meet it", async () => {
    for (const g of [Infinity, -Infinity, NaN]) {
      const got = await subject.run(caseOf(X, 2, [0, 0]), [g]);
      expectSame(got.dx, [0, g, g, 0], `dy [${g}] dx`);
      expectSame(got.dLogits, [NaN, NaN], `dy [${g}] dLogits`);
    }
    // Both windows of [-1, -2, -3] ("same", 1x3) keep only padded zeros for k = 2.
    const padded = await subject.run(caseOf([-1, -2, -3], 2, [0.5, -0.5], [1, 1, 3, 1], "same"), [Infinity, 1]);
    expectSame(padded.y, [0, 0], "padded y");
    expectSame(padded.dx, [0, 0, 0], "padded dx");
    expectEqual(padded.dLogits, [0, 0], "padded dLogits");
    // One non-finite window poisons all of dLogits (k > 1) but no other window's dx.
    const one = await subject.run(caseOf([1, 4, 3, 2, 5, 6, 7, 8], 2, [0, 0], [1, 2, 4, 1]), [NaN, 1]);
    // Window 0 holds x[0], x[1], x[4], x[5] (top 2: x[5] = 6, x[4] = 5); window 1 x[2], x[3], x[6], x[7].
    expectSame(one.dx, [0, 0, 0, 0, NaN, NaN, 0.5, 0.5], "dy [NaN, 1] dx");
    expect(Array.from(one.dLogits).some(Number.isFinite), `dLogits ${show(one.dLogits)}`).toBe(false);
  });

  test("float32 weights below 2^-126 are +0 on every float32 subject (logit gap 88: e^-88 is a subnormal)", async () => {
    // SPEC.md §5 "Weights": float32 implementations flush subnormal weights (GPUs may); float64 keeps e^-88.
    const tiny = softmax([0, -88])[1]; // 6.05e-39
    const f32 = subject.precision === "float32";
    // w = [1, tiny]: the kept -Infinity at rank 1 meets a zero weight in float32 (0·-Infinity = NaN).
    const masked = await subject.run(caseOf([5, -Infinity, -Infinity, -Infinity], 2, [0, -88]), [1]);
    expectSame(masked.y, [f32 ? NaN : -Infinity], "x [5, -Inf x3], logits [0, -88] y");
    expectSame(masked.dx, [1, f32 ? 0 : tiny, 0, 0], "x [5, -Inf x3], logits [0, -88] dx");
    expectSame(masked.dLogits, f32 ? [NaN, NaN] : [Infinity, NaN], "x [5, -Inf x3], logits [0, -88] dLogits");
    // w = [tiny, 1]: the rank-0 value 3.4e38 contributes nothing in float32 (float64: 3.0586...).
    const huge = await subject.run(caseOf([3.4e38, 1, 0, 0], 2, [-88, 0]), [1]);
    if (f32) {
      expectSame(huge.y, [1], "x [3.4e38, 1, 0, 0], logits [-88, 0] y");
      expectSame(huge.dx, [0, 1, 0, 0], "x [3.4e38, 1, 0, 0], logits [-88, 0] dx");
      expectEqual(huge.dLogits, [0, 0], "x [3.4e38, 1, 0, 0], logits [-88, 0] dLogits");
    } else {
      expect(huge.y[0]).toBeCloseTo(3.0585646, 6);
      expect(Array.from(huge.dLogits, (v) => Math.round(v * 1e6) / 1e6)).toEqual([2.058565, -2.058565]);
    }
  });
});

// The golden vectors hold every class above (and the general windows); vectors/golden.test.ts runs them on
// every registry entry, this on the op.
describe.each(["sortPool2d@cpu", "sortPool2d@webgpu"])("golden vectors on %s", (name) => {
  test("reproduced within float32 tolerance, NaN and ±Infinity exactly, zero signs of y and dx (Object.is)", async () => {
    const subject = subjects.find((s) => s.name === name)!;
    for (const g of await loadGoldenCases()) {
      const c = goldenInput(g, Float32Array.from(g.x));
      const got = await subject.run(c, Array.from(g.dy));
      expect(mismatch(got.y, g.y, FLOAT32_TOLERANCE), `${g.name} y`).toBeNull();
      expect(signedZeroMismatch(got.y, g.y), `${g.name} sign of y`).toBeNull();
      expect(mismatch(got.dx, g.dx, FLOAT32_TOLERANCE), `${g.name} dx`).toBeNull();
      expect(signedZeroMismatch(got.dx, g.dx), `${g.name} sign of dx`).toBeNull();
      const scale = rankSumScale(c, g.dy);
      expect(mismatch(got.dLogits, g.dLogits, FLOAT32_TOLERANCE, () => scale), `${g.name} dLogits`).toBeNull();
      if (g.k === 1) {
        expect(Array.from(got.dLogits).every((v) => Object.is(v, 0)), `${g.name} dLogits is +0 for k = 1`).toBe(true);
      }
    }
  });
});

describe("after a masked window: an optimiser step", () => {
  test.each(["cpu", "webgpu"] as const)("keeps k = 1 logits finite and the op usable on %s", async (backend) => {
    await useBackend(backend);
    const logits = tf.variable(tf.tensor1d([0.25]));
    const masked = tf.tensor4d([-Infinity, -Infinity, -Infinity, -Infinity, 1, 2, 3, 4], [2, 2, 2, 1]);
    const clean = tf.tensor4d([1, 4, 3, 2], [1, 2, 2, 1]);
    try {
      const optimizer = tf.train.sgd(0.1);
      optimizer.minimize(() => sortPool2d(masked, logits as tf.Tensor1D, { k: 1, padding: "valid" }).sum());
      optimizer.dispose();
      expectSame(await logits.data(), [0.25], "logits after the step");
      const y = tf.tidy(() => sortPool2d(clean, logits as tf.Tensor1D, { k: 1, padding: "valid" }));
      expectSame(await y.data(), [4], "y on a clean input afterwards");
      y.dispose();
    } finally {
      tf.dispose([logits, masked, clean]);
    }
  });
});
