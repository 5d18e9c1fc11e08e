/**
 * k = 1 against tf.maxPool and tf.grad of it, on tfjs's cpu backend and, for webgpu entries, on
 * its webgpu backend too.
 *
 * @module
 */
import { outputShape } from "../../src/spec.ts";
import { tf, withBackend } from "../../src/tfjs/runtime.ts";
import { containingWindows, referenceTolerance, windowFacts } from "../../testkit/mod.ts";
import { type PropCase, TIE_FREE_KINDS } from "../generators.ts";
import { locateOutput } from "../verdict.ts";
import { forwardOf, gradientOf, guarded } from "./calls.ts";
import { dyScale, locateElement } from "./comparisons.ts";
import { general, type PropertyDefinition } from "./definition.ts";

/**
 * tf.maxPool of the case's x with its window, strides and padding on tfjs's `backend`, and (with
 * `withGradient`) tf.grad of it at the case's dy.
 */
function tfMaxPool(
  backend: "cpu" | "webgpu",
  c: PropCase,
  withGradient: boolean,
): Promise<{ shape: number[]; y: Float32Array; dx?: Float32Array }> {
  return withBackend(backend, async () => {
    const poolSize: [number, number] = [c.poolSize[0], c.poolSize[1]];
    const strides: [number, number] = [c.strides[0], c.strides[1]];
    const pool = (t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, poolSize, strides, c.padding);
    const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
    const pooled = pool(x);
    const dy = withGradient ? tf.tensor4d(Float32Array.from(c.dy), pooled.shape) : undefined;
    const dx = dy ? tf.grad(pool)(x, dy) : undefined;
    try {
      return {
        shape: pooled.shape,
        y: Float32Array.from(await pooled.data()),
        dx: dx ? Float32Array.from(await dx.data()) : undefined,
      };
    } finally {
      tf.dispose([x, pooled, ...(dy ? [dy] : []), ...(dx ? [dx] : [])]);
    }
  });
}

/**
 * tfjs-backend-webgpu 4.22's maxPool starts its maximum at -1e20 (`-1.0 / pow(10.0, -20.0)` in
 * pool_webgpu.js), so a window whose maximum is below that (-Infinity, or a huge negative value)
 * gives -1e20 there: such windows are compared with tfjs's cpu maxPool only.
 */
export const TFJS_WEBGPU_MAXPOOL_FLOOR = -1e20;

export const k1MaxPool: PropertyDefinition = {
  name: "k1-maxpool",
  title: "k = 1 equals tf.maxPool(x, [kh, kw], [sh, sw], padding) on tfjs's cpu backend, and for webgpu entries " +
    "also on its webgpu backend (except windows whose maximum is below -1e20, where tfjs-webgpu's maxPool starts " +
    "its maximum): the forward always (±Infinity included), dx against tf.grad of tf.maxPool on tie-free values " +
    "(its gradient routing at ties is its own: the last maximum on webgpu); not NaN: tfjs 4.22's cpu maxPool " +
    "skips NaN (an all-NaN window gives -Infinity), its webgpu maxPool and the spec propagate it",
  constraints: general({ kinds: ["distinct", "ties", "near-ties", "mixed", "infinities"], ks: [1] }),
  hasDeviations: false,
  calls: () => 3,
  generationPrecision: () => "float32",
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const tieFree = TIE_FREE_KINDS.includes(c.params.kind);
      const g = tieFree ? await gradientOf(entry, c, v) : undefined;
      if (tieFree && !g) return;
      const spec = outputShape(c.shape, c.padding, c);
      const facts = windowFacts(c, c.x);
      const windows = containingWindows(c, facts);
      const backends = entry.device === "webgpu" ? ["cpu", "webgpu"] as const : ["cpu"] as const;
      for (const backend of backends) {
        const expected = await tfMaxPool(backend, c, tieFree);
        if (expected.shape.join(",") !== spec.join(",")) {
          v.fail(`tf.maxPool on tfjs-${backend}: output shape vs spec`, `[${spec.join(", ")}]`, `[${expected.shape}]`);
          return;
        }
        for (const w of facts) {
          if (backend === "webgpu" && !(w.max >= TFJS_WEBGPU_MAXPOOL_FLOOR)) continue;
          v.compare(
            `y vs tf.maxPool on tfjs-${backend}`,
            expected.y[w.out],
            y[w.out],
            referenceTolerance(entry.precision, w.topAbs),
            () => locateOutput(w),
          );
        }
        if (!g || !expected.dx) continue;
        for (let i = 0; i < c.x.length; i++) {
          const held = windows[i];
          v.compare(
            `dx vs tf.grad of tf.maxPool on tfjs-${backend} (tie-free values)`,
            expected.dx[i],
            g.dx[i],
            referenceTolerance(entry.precision, dyScale(c, held)),
            () => locateElement(c, facts, held, i),
          );
        }
      }
    }),
};
