/**
 * The golden vectors (vectors/sort_pool2d.json): the file matches a fresh generation, its cases cover
 * what the spec fixes (SPEC.md §2-5, issues 10 and 14), the reference reproduces them bitwise, and
 * every registry entry reproduces them within its precision's tolerance. A case an entry does not
 * support (src/registry.ts `unsupportedReason`) is not compared: its test, named with the reason,
 * checks that the entry rejects it with a SortPoolArgumentError instead, as the registry requires.
 * The tf.layers layer, on tfjs's webgpu backend, reproduces them too (y, dx, and dLogits where it
 * has logits).
 */
import { afterAll, describe, expect, test } from "vitest";
import { parseCli } from "./cli.ts";
import {
  GOLDEN_CLI,
  GOLDEN_URL,
  type GoldenCase,
  goldenFileText,
  goldenInput,
  goldenMain,
  loadGoldenCases,
} from "./golden.ts";
import { referenceForward, referenceGradient } from "./reference.ts";
import { disposeAll, implementations, unsupportedReason } from "./registry.ts";
import { sortPooling2d } from "./layer.ts";
import { tf, withBackend } from "./tfjs/runtime.ts";
import { isDefaultWindow, poolGeometry, windowsContaining } from "./spec.ts";
import type { Implementation } from "./types.ts";
import { SortPoolArgumentError } from "./validate.ts";

/** First element that differs bitwise-in-value (Object.is: NaN equals NaN, +0 differs from -0). */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `index ${i}: ${actual[i]} vs ${expected[i]}`;
  }
  return null;
}

const cases = await loadGoldenCases();
afterAll(() => disposeAll());

/** The case's window arithmetic (SPEC.md §2-3). */
const geometryOf = (g: GoldenCase) => poolGeometry(g.shape, g.padding, g);

/** How many windows contain input cell (row, col) of a case (SPEC.md §5: the terms of its dx). */
function windowsAt(g: GoldenCase, row: number, col: number): number {
  const geo = geometryOf(g);
  const [r0, r1] = windowsContaining(geo.rows, row);
  const [c0, c1] = windowsContaining(geo.cols, col);
  return Math.max(0, r1 - r0 + 1) * Math.max(0, c1 - c0 + 1);
}

describe("golden vectors", () => {
  test("the committed file equals a fresh generation (regenerate with `deno task golden`)", async () => {
    const committed = await Deno.readTextFile(GOLDEN_URL);
    expect(committed === goldenFileText()).toBe(true);
  });

  test("the 49 default-window cases are byte-identical to those before issue 14 (2x2/2 unchanged)", async () => {
    // SHA-256 of JSON.stringify of the first 49 cases as stored, taken from the file before issue 14
    // added general windows. A change here changes what every 2x2 port was checked against: it must
    // be a deliberate spec change, never a side effect.
    const raw = JSON.parse(await Deno.readTextFile(GOLDEN_URL)) as { cases: Record<string, unknown>[] };
    const head = raw.cases.slice(0, 49);
    expect(head.every((c) => !("poolSize" in c) && !("strides" in c))).toBe(true);
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(head))),
    );
    expect(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")).toBe(
      "aa457f1fa956ec32e03d4ba53f35b615cd8b30fb7751f250d97d821b2a3cb74d",
    );
  });

  test("cover k 1..4, both paddings, odd and even sizes, ties, NaN/Infinity, batch and channels > 1", () => {
    const defaults = cases.filter((c) => isDefaultWindow(geometryOf(c)));
    for (const k of [1, 2, 3, 4]) {
      for (const padding of ["same", "valid"]) {
        const matching = defaults.filter((c) => c.k === k && c.padding === padding);
        expect(matching.some((c) => c.shape[1] % 2 === 1 || c.shape[2] % 2 === 1)).toBe(true);
        expect(matching.some((c) => c.shape[1] % 2 === 0 && c.shape[2] % 2 === 0)).toBe(true);
      }
    }
    expect(cases.some((c) => c.x.some(Number.isNaN))).toBe(true);
    expect(cases.some((c) => c.x.some((v) => v === Infinity) && c.x.some((v) => v === -Infinity))).toBe(true);
    expect(cases.some((c) => c.shape[0] > 1 && c.shape[3] > 1)).toBe(true);
    expect(cases.some((c) => c.name.startsWith("ties"))).toBe(true);
    // Every case carries a gradient, non-finite x and dy included (SPEC.md §5).
    for (const c of cases) {
      expect(c.dx.length, c.name).toBe(c.x.length);
      expect(c.dLogits.length, c.name).toBe(c.logits.length);
    }
  });

  test("cover the general windows of issue 14: overlap, gaps, asymmetric, padding on both sides, per-channel", () => {
    const window = (kh: number, kw: number, sh: number, sw: number) =>
      cases.filter((c) => {
        const g = geometryOf(c);
        return g.poolSize[0] === kh && g.poolSize[1] === kw && g.strides[0] === sh && g.strides[1] === sw;
      });
    const general = cases.filter((c) => c.poolSize !== undefined);
    // A case carries both window fields or neither; default-window cases never carry them.
    for (const c of cases) {
      expect(c.poolSize === undefined, c.name).toBe(c.strides === undefined);
      if (c.poolSize) expect(isDefaultWindow(geometryOf(c)), c.name).toBe(false);
    }
    // 3x3/2, both paddings; "same" on an odd size pads before AND after on both axes.
    const s32 = window(3, 3, 2, 2);
    expect(s32.some((c) => c.padding === "valid")).toBe(true);
    expect(s32.some((c) => {
      const g = geometryOf(c);
      return c.padding === "same" && g.rows.padBefore > 0 && g.rows.padAfter > 0 && g.cols.padBefore > 0 &&
        g.cols.padAfter > 0;
    })).toBe(true);
    // 3x3/1: an interior cell lies in 9 windows.
    expect(window(3, 3, 1, 1).some((c) => windowsAt(c, 2, 2) === 9)).toBe(true);
    expect(window(2, 2, 1, 1).some((c) => windowsAt(c, 1, 1) === 4)).toBe(true);
    expect(window(4, 4, 4, 4).length).toBeGreaterThan(0);
    expect(window(3, 2, 1, 2).length).toBeGreaterThan(0);
    expect(window(1, 1, 1, 1).length).toBeGreaterThan(0);
    // Gaps: stride 3 over 2x2 leaves cells in no window, whose dx is exactly +0.
    const gaps = window(2, 2, 3, 3);
    expect(gaps.some((c) => windowsAt(c, 2, 2) === 0 && Object.is(c.dx[(2 * c.shape[2] + 2) * c.shape[3]], 0)))
      .toBe(true);
    // k past 4, and k = kh·kw (every cell kept).
    expect(general.some((c) => c.k > 4)).toBe(true);
    expect(general.some((c) => c.k === c.poolSize![0] * c.poolSize![1] && c.k > 4)).toBe(true);
    // Per-channel logits (C = 3, length C·k) on the default window and on a general one.
    const perChannel = cases.filter((c) => c.shape[3] === 3 && c.logits.length === 3 * c.k);
    expect(perChannel.some((c) => c.poolSize === undefined)).toBe(true);
    expect(perChannel.some((c) => c.poolSize !== undefined)).toBe(true);
    expect(perChannel.some((c) => c.logits.some(Number.isNaN) && c.dLogits.some((v) => !Number.isNaN(v))))
      .toBe(true);
    // Ties, NaN, ±Infinity, signed zeros and non-finite dy under general windows.
    expect(general.some((c) => c.name.startsWith("ties-"))).toBe(true);
    expect(general.some((c) => c.x.some(Number.isNaN) && c.x.includes(Infinity) && c.x.includes(-Infinity)))
      .toBe(true);
    expect(general.some((c) => c.dy.some((v) => !Number.isFinite(v)))).toBe(true);
    expect(general.some((c) => c.y.some((v) => Object.is(v, -0)) && c.dx.some((v) => Object.is(v, -0)))).toBe(true);
  });

  test("overlap sums dx from the first term: -0 + -0 = -0, -0 + +0 = +0 (SPEC.md §5)", () => {
    const c = cases.find((g) => g.name === "signed-zeros-pool2x2s1-valid-k1")!;
    expect(windowsAt(c, 0, 1)).toBe(2);
    // Cell (0, 1) is the -0 maximum of windows (0, 0) and (0, 1) in both batches; dy there is [-0, -0] and [-0, +0].
    expect(Object.is(c.dx[1], -0)).toBe(true);
    expect(Object.is(c.dx[9 + 1], 0)).toBe(true);
  });

  test("cover the input classes of issue 10 with the values SPEC.md §5 fixes", () => {
    const byName = new Map(cases.map((c) => [c.name, c]));
    const get = (name: string) => {
      const c = byName.get(name);
      if (!c) throw new Error(`golden case ${name} is missing`);
      return c;
    };
    const same = (a: ArrayLike<number>, b: number[]) => expect(firstDifference(a, b)).toBeNull();
    // 1. k = 1 dLogits is exactly +0 whatever x and dy hold.
    same(get("k1-nonfinite-windows-dlogits").dLogits, [0]);
    same(get("logits-nan-k1").dLogits, [0]);
    // 2. logits finite in float64 only: one-hot weights.
    for (const name of ["logits-past-float32-1e39", "logits-past-float32-5e38", "logits-past-float32--2e39"]) {
      expect(get(name).logits.some((l) => Math.abs(l) > 3.5e38), name).toBe(true);
    }
    same(get("logits-past-float32-1e39").y, [4]);
    same(get("logits-past-float32-1e39").dx, [0, 1, 0, 0]);
    // 3. non-finite logits: the softmax limit.
    same(get("logits-plus-infinity").y, [4, 8]);
    same(get("logits-all-minus-infinity").y, [2.5, 5.5]);
    same(get("logits-nan").y, [NaN, NaN]);
    // 4. signed zeros.
    same(get("signed-zero-k1").y, [-0, 0, -0]);
    same(get("signed-zeros-k2").y, [0, -0]);
    same(get("signed-zero-k2-same").y, [-0, 0]);
    same(get("signed-zero-dx").dx, [0, -2, -0, 0]);
    // 5. non-finite dy and padded cells.
    same(get("nonfinite-dy-plus-infinity").dx, [0, Infinity, Infinity, 0]);
    same(get("nonfinite-dy-nan").dLogits, [NaN, NaN]);
    same(get("nonfinite-dy-padded").dLogits, [0, 0]);
    same(get("nonfinite-dy-one-window").dLogits, [NaN, NaN, NaN]);
  });

  test("the reference reproduces every case bitwise", () => {
    for (const c of cases) {
      const input = goldenInput(c);
      const forward = referenceForward(input);
      expect(forward.shape, c.name).toEqual(c.outputShape);
      expect(firstDifference(forward.y, c.y), c.name).toBeNull();
      const { dx, dLogits } = referenceGradient(input, c.dy);
      expect(firstDifference(dx, c.dx), c.name).toBeNull();
      expect(firstDifference(dLogits, c.dLogits), c.name).toBeNull();
    }
  });
});

/** Unit roundoff of an entry's declared precision. */
const unitRoundoff = (impl: Implementation) => (impl.precision === "float32" ? 2 ** -24 : 2 ** -53);

/** Largest finite |v| of an array (0 when none). */
function maxFiniteAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * The first element of `actual` that misses `expected`, described, or null. NaN must meet NaN and
 * ±Infinity itself; finite values agree within `tol(i)`; where both are zeros and `zeroSign`, their
 * signs must agree (SPEC.md §5 fixes the sign of a zero y and dx).
 */
function miss(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: (i: number) => number,
  zeroSign: boolean,
): string | null {
  if (actual.length !== expected.length) return `${what}: length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e) || Number.isNaN(a)
      ? Number.isNaN(e) && Number.isNaN(a)
      : !Number.isFinite(e) || !Number.isFinite(a)
      ? a === e
      : a === 0 && e === 0
      ? !zeroSign || Object.is(a, e)
      : Math.abs(a - e) <= tol(i);
    if (!ok) {
      const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
      return `${what}[${i}]: received ${show(a)}, expected ${show(e)} (tolerance ${tol(i).toExponential(2)})`;
    }
  }
  return null;
}

/**
 * Every problem of an entry's answers on a golden case. Tolerances are 64 roundings in the entry's
 * precision of the numbers involved: y within 64·u·max|x|; dx within 64·u·(windows containing the
 * cell)·max|dy| (an overlapped cell sums that many terms); dLogits within (2N + 64)·u·max|x|·Σ|dy|
 * (N windows; the rank sums). k = 1's y is the window's maximum itself (bitwise) and its dLogits
 * exactly +0 (SPEC.md §5).
 */
async function problems(impl: Implementation, g: GoldenCase, hasLogits = true): Promise<string[]> {
  const u = unitRoundoff(impl);
  const input = goldenInput(g, impl.precision === "float32" ? Float32Array.from(g.x) : g.x);
  const maxX = maxFiniteAbs(g.x);
  const maxDy = maxFiniteAbs(g.dy);
  let sumDy = 0;
  for (const v of g.dy) if (Number.isFinite(v)) sumDy += Math.abs(v);
  const found: string[] = [];
  const note = (p: string | null) => p && found.push(p);

  const forward = await impl.forward(input);
  if (JSON.stringify(forward.shape) !== JSON.stringify(g.outputShape)) {
    found.push(`shape: received [${forward.shape}], expected [${g.outputShape}]`);
  }
  // k = 1: tolerance 0 with the zero sign, i.e. the window's maximum itself.
  note(miss("y", forward.y, g.y, () => (g.k === 1 ? 0 : 64 * u * maxX), true));

  const { dx, dLogits } = await impl.gradient(input, g.dy);
  const [, , width, channels] = g.shape;
  note(miss("dx", dx, g.dx, (i) => {
    const cell = Math.floor(i / channels);
    return 64 * u * windowsAt(g, Math.floor(cell / width) % g.shape[1], cell % width) * maxDy;
  }, true));
  if (!hasLogits) return found;
  note(miss("dLogits", dLogits, g.dLogits, () => (2 * g.y.length + 64) * u * maxX * sumDy, false));
  if (g.k === 1 && !Array.from(dLogits).every((v) => Object.is(v, 0))) {
    found.push(`dLogits (k = 1): received [${Array.from(dLogits)}], expected exactly +0 everywhere`);
  }
  return found;
}

/** Whether `p` rejects with a SortPoolArgumentError (the registry's contract for unsupported cases). */
async function rejection(p: () => Promise<unknown>): Promise<string> {
  try {
    await p();
    return "no error";
  } catch (e) {
    return e instanceof SortPoolArgumentError ? "SortPoolArgumentError" : `${(e as Error)?.name}: ${e}`;
  }
}

for (const impl of implementations) {
  describe(`golden vectors on ${impl.name} (${impl.precision})`, () => {
    for (const g of cases) {
      const reason = unsupportedReason(impl, goldenInput(g));
      if (reason === undefined) {
        test(g.name, async () => {
          expect(await problems(impl, g), `${impl.name} on ${g.name}: ${g.description}`).toEqual([]);
        });
      } else {
        test(`${g.name}: not compared, unsupported (${reason}); rejected with a SortPoolArgumentError`, async () => {
          const input = goldenInput(g, Float32Array.from(g.x));
          expect(await rejection(() => impl.forward(input)), "forward").toBe("SortPoolArgumentError");
          expect(await rejection(() => impl.gradient(input, g.dy)), "gradient").toBe("SortPoolArgumentError");
        });
      }
    }
  });
}

describe("deno task golden (command line)", () => {
  test("--help asks for help only; --out writes elsewhere; --check compares without writing", async () => {
    expect(parseCli(GOLDEN_CLI, ["--help"]).help).toBe(true);
    expect(() => parseCli(GOLDEN_CLI, ["--write"])).toThrow(/^--write: expected one of/);
    const out = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const run = (args: string[]) => goldenMain(parseCli(GOLDEN_CLI, args));
      expect(await run(["--out", out])).toBe(0);
      expect(await Deno.readTextFile(out)).toBe(goldenFileText());
      expect(await run(["--check", "--out", out])).toBe(0);
      await Deno.writeTextFile(out, "{}\n");
      expect(await run(["--check", "--out", out])).toBe(1);
      expect(await Deno.readTextFile(out)).toBe("{}\n");
    } finally {
      await Deno.remove(out);
    }
  });
});

/**
 * The SortPooling2D layer as an entry for one golden case, on tfjs's webgpu backend: a fresh layer
 * with the case's window and its logits set as the layer's weight; dx through tf.grad of the
 * layer's output, dLogits through tf.variableGrads of that weight. k = 1 has no weight, so no
 * dLogits (the caller skips that comparison).
 */
function layerOnWebgpu(g: GoldenCase): Implementation {
  const make = () => {
    const layer = sortPooling2d({
      k: g.k,
      padding: g.padding,
      perChannel: g.logits.length !== g.k,
      ...(g.poolSize === undefined ? {} : { poolSize: g.poolSize }),
      ...(g.strides === undefined ? {} : { strides: g.strides }),
    });
    layer.build([...g.shape]);
    if (g.k >= 2) layer.setWeights([tf.tensor1d(Float32Array.from(g.logits))]);
    return layer;
  };
  const x = () => tf.tensor4d(Float32Array.from(g.x), [...g.shape]);
  return {
    name: "SortPooling2D layer@webgpu",
    description: "the tf.layers layer on tfjs's webgpu backend",
    precision: "float32",
    device: "webgpu",
    backend: "webgpu",
    ties: { kind: "spec" },
    forward: () =>
      withBackend("webgpu", async () => {
        const layer = make();
        const xt = x();
        const y = layer.apply(xt) as tf.Tensor;
        const out = { y: Float32Array.from(await y.data()), shape: y.shape as [number, number, number, number] };
        tf.dispose([xt, y]);
        for (const w of layer.weights) w.dispose();
        return out;
      }),
    gradient: (_c, dyValues) =>
      withBackend("webgpu", async () => {
        const layer = make();
        const xt = x();
        const dy = tf.tensor4d(Float32Array.from(dyValues), g.outputShape);
        const loss = (a: tf.Tensor) => (layer.apply(a) as tf.Tensor).mul(dy).sum() as tf.Scalar;
        const dx = tf.grad(loss)(xt);
        const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        let dLogits = new Float32Array();
        if (weights.length > 0) {
          const { value, grads } = tf.variableGrads(() => loss(xt), weights);
          dLogits = Float32Array.from(await grads[weights[0].name].data());
          tf.dispose([value, ...Object.values(grads)]);
        }
        const out = { dx: Float32Array.from(await dx.data()), dLogits };
        tf.dispose([xt, dy, dx]);
        for (const w of layer.weights) w.dispose();
        return out;
      }),
  };
}

describe("golden vectors on the SortPooling2D layer (tfjs webgpu backend)", () => {
  // A k = 1 layer has no logits (it is max pooling), so the cases about a k = 1 logit's value (NaN,
  // per channel) say nothing about it; every other case applies.
  for (const g of cases.filter((g) => g.k >= 2 || g.logits.every(Number.isFinite))) {
    test(g.name, async () => {
      expect(await problems(layerOnWebgpu(g), g, g.k >= 2), `layer on ${g.name}: ${g.description}`).toEqual([]);
    });
  }
});
