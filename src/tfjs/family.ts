/**
 * Turns a tfjs implementation family (tensor in, tensor out) into a registry entry on one tfjs
 * backend: validation, float32 conversion, the rank weights and dLogits on the host (SPEC.md §5),
 * backend switching, tensor lifetimes, readback and device-resident benchmark handles.
 *
 * @module
 */
import { float32Weights, logitsGradient, outputShape, sizeOf } from "../spec.ts";
import type { BenchHandle, Implementation, Padding, SortPoolCase } from "../types.ts";
import { validateCase, validateDy } from "../validate.ts";
import { finishWork, tf, type TfjsBackendName, useBackend } from "./runtime.ts";
import type { WindowGradient } from "./windows.ts";

/**
 * One way of computing sort_pool2d with tfjs ops. Both methods are called inside tf.tidy on the
 * active backend and return new tensors. They take the rank weights, not the logits: the entry
 * computes `w = softmax(logits)` in float64 once per call and rounds it to float32 (SPEC.md §5
 * "Weights", src/spec.ts `float32Weights`), and finishes dLogits from the rank sums on the host.
 */
export interface TfjsFamily {
  /** Family name, e.g. "tfjs-topk"; entries are named `family@backend`. */
  readonly family: string;
  /** What the family does, for the entry's description. */
  readonly summary: string;
  /** y (`[B, Ho, Wo, C]`) for input `x` (`[B, H, W, C]`) and rank weights `weights` (`[k]`, float32). */
  forward(x: tf.Tensor4D, weights: tf.Tensor1D, k: number, padding: Padding): tf.Tensor4D;
  /**
   * dL/dx (`[B, H, W, C]`) and the rank sums s (`[k]`, real cells only; null for k = 1) for
   * upstream gradient `dy` (`[B, Ho, Wo, C]`), SPEC.md §5 "Gradient".
   */
  gradient(
    x: tf.Tensor4D,
    weights: tf.Tensor1D,
    dy: tf.Tensor4D,
    k: number,
    padding: Padding,
  ): WindowGradient;
}

/** Float32 copy of a tensor's values (never the backend's own storage). */
async function readFloat32(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data() as Float32Array);
}

/** `[dx, rankSums]`, or `[dx]` for k = 1: a plain array, so tf.tidy keeps both. */
function gradientTensors(g: WindowGradient): [tf.Tensor4D, tf.Tensor1D?] {
  return g.rankSums ? [g.dx, g.rankSums] : [g.dx];
}

/** Builds the registry entry of `family` on `backend`. */
export function tfjsImplementation(family: TfjsFamily, backend: TfjsBackendName): Implementation {
  const open = new Set<BenchHandle>();

  /**
   * Input tensors of a case, created on the active backend, and the float32 rank weights they
   * hold: softmax of the logits in float64 (its limit for ±Infinity; NaN for a NaN logit), rounded.
   */
  function caseTensors(c: SortPoolCase) {
    const w = float32Weights(c.logits);
    return { x: tf.tensor4d(Float32Array.from(c.x), [...c.shape]), weights: tf.tensor1d(w), w };
  }

  /**
   * Waits for the work a bench call queued: the GPU queue on webgpu; nothing on cpu, which computes
   * synchronously (finishWork would wait on the webgpu device's queue, ~11 ms of polling in Deno).
   */
  const settle = () => (backend === "webgpu" ? finishWork() : Promise.resolve());

  return {
    name: `${family.family}@${backend}`,
    description: `tfjs ${backend} backend, float32: ${family.summary}`,
    precision: "float32",
    device: backend === "webgpu" ? "webgpu" : "cpu",
    backend: `tfjs-${backend}`,
    ties: { kind: "spec" },

    async forward(input) {
      const c = validateCase(input);
      await useBackend(backend);
      const shape = outputShape(c.shape, c.padding);
      const y = tf.tidy(() => {
        const { x, weights } = caseTensors(c);
        return family.forward(x, weights, c.k, c.padding);
      });
      try {
        return { y: await readFloat32(y), shape };
      } finally {
        y.dispose();
      }
    },

    async gradient(input, dyInput) {
      const c = validateCase(input);
      const dyValues = Float32Array.from(validateDy(c, dyInput));
      await useBackend(backend);
      const w = float32Weights(c.logits);
      const [dx, rankSums] = tf.tidy(() => {
        const { x, weights } = caseTensors(c);
        const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding));
        return gradientTensors(family.gradient(x, weights, dy, c.k, c.padding));
      });
      try {
        // SPEC.md §5: [0] for k = 1; else w[j]·(s[j] − Σ w[r] s[r]) with the weights y and dx used.
        const s = rankSums ? await rankSums.data() : [];
        return { dx: await readFloat32(dx), dLogits: Float32Array.from(logitsGradient(w, s)) };
      } finally {
        tf.dispose(rankSums ? [dx, rankSums] : [dx]);
      }
    },

    async prepareBench(input) {
      const c = validateCase(input);
      await useBackend(backend);
      const out = outputShape(c.shape, c.padding);
      const dyValues = new Float32Array(sizeOf(out)).fill(1);
      const { x, weights } = caseTensors(c);
      const dy = tf.tensor4d(dyValues, out);
      let disposed = false;
      const live = () => {
        if (disposed) throw new Error(`${family.family}@${backend} bench handle: used after dispose`);
      };
      const handle: BenchHandle = {
        async forward() {
          live();
          await useBackend(backend);
          const y = tf.tidy(() => family.forward(x, weights, c.k, c.padding));
          await settle();
          y.dispose();
        },
        async forwardBackward() {
          live();
          await useBackend(backend);
          // The gradient is hand-written and does not produce y: run the forward too, as a training step would.
          const outputs = tf.tidy(() => [
            family.forward(x, weights, c.k, c.padding),
            ...gradientTensors(family.gradient(x, weights, dy, c.k, c.padding)),
          ]);
          await settle();
          tf.dispose(outputs);
        },
        dispose() {
          if (disposed) return;
          disposed = true;
          open.delete(handle);
          tf.dispose([x, weights, dy]);
        },
      };
      open.add(handle);
      return handle;
    },

    dispose() {
      for (const handle of [...open]) handle.dispose();
    },
  };
}
