/**
 * Turns a tfjs implementation family (tensor in, tensor out) into a registry entry on one tfjs
 * backend: validation (and refusal of what the family does not support), float32 conversion, the
 * rank weights and dLogits on the host (SPEC.md §5), backend switching, tensor lifetimes, readback
 * and device-resident benchmark handles.
 *
 * @module
 */
import {
  float32Weights,
  isPerChannel,
  logitsGradient,
  outputShape,
  type PoolGeometry,
  poolGeometry,
  sizeOf,
} from "../spec.ts";
import type { BenchHandle, Implementation, Padding, SortPoolCase, Supports } from "../types.ts";
import { SortPoolArgumentError, validateCase, validateDy, type ValidCase } from "../validate.ts";
import { finishWork, tf, type TfjsBackendName, useBackend } from "./runtime.ts";
import type { WindowGradient } from "./windows.ts";

/**
 * One way of computing sort_pool2d with tfjs ops. Both methods are called inside tf.tidy on the
 * active backend and return new tensors. They take the rank weights, not the logits: the entry
 * computes `w = softmax(logits)` in float64 once per call (per group of k with per-channel logits)
 * and rounds it to float32 (SPEC.md §5 "Weights", src/spec.ts `float32Weights`), and finishes
 * dLogits from the rank sums on the host.
 */
export interface TfjsFamily {
  /** Family name, e.g. "tfjs-topk"; entries are named `family@backend`. */
  readonly family: string;
  /** What the family does, for the entry's description. */
  readonly summary: string;
  /** The windows and logits layouts it handles; the entry refuses others ({@link rejectUnsupported}). */
  readonly supports: Supports;
  /**
   * y (`[B, Ho, Wo, C]`) for input `x` (`[B, H, W, C]`) and rank weights `weights` (float32, `[k]`
   * shared or `[C·k]` per channel), over the windows of `geometry` (src/spec.ts `poolGeometry`).
   */
  forward(x: tf.Tensor4D, weights: tf.Tensor1D, k: number, padding: Padding, geometry: PoolGeometry): tf.Tensor4D;
  /**
   * dL/dx (`[B, H, W, C]`) and the rank sums s (`[k]` or `[C·k]` like the weights, real cells
   * only; null for k = 1) for upstream gradient `dy` (`[B, Ho, Wo, C]`), SPEC.md §5 "Gradient".
   */
  gradient(
    x: tf.Tensor4D,
    weights: tf.Tensor1D,
    dy: tf.Tensor4D,
    k: number,
    padding: Padding,
    geometry: PoolGeometry,
  ): WindowGradient;
}

/**
 * Refuses a valid case that an entry declares unsupported (its `supports`, the model of
 * src/registry.ts `unsupportedReason`), with a SortPoolArgumentError naming `poolSize`, `strides`
 * or `logits` and the entry's stated limitation. Does nothing when `supports` is absent.
 */
export function rejectUnsupported(name: string, supports: Supports | undefined, c: ValidCase): void {
  if (!supports) return;
  const why = supports.limitation ?? "declared unsupported";
  if (supports.windows === "2x2/2") {
    const only = `[2, 2]: ${name} takes 2x2 windows with stride 2 only (${why})`;
    if (c.poolSize[0] !== 2 || c.poolSize[1] !== 2) {
      throw new SortPoolArgumentError("poolSize", only, `[${c.poolSize.join(", ")}]`);
    }
    if (c.strides[0] !== 2 || c.strides[1] !== 2) {
      throw new SortPoolArgumentError("strides", only, `[${c.strides.join(", ")}]`);
    }
  }
  if (!supports.perChannelLogits && isPerChannel(c.logits.length, c.k, c.shape[3])) {
    throw new SortPoolArgumentError(
      "logits",
      `length k = ${c.k} (shared by all channels): ${name} takes no per-channel logits (${why})`,
      `length ${c.logits.length} (C·k = ${c.shape[3]}·${c.k})`,
    );
  }
}

/** Validates a case (src/validate.ts) and refuses what the family does not support. */
function supportedCase(name: string, family: TfjsFamily, input: SortPoolCase): ValidCase {
  const c = validateCase(input);
  rejectUnsupported(name, family.supports, c);
  return c;
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
  const name = `${family.family}@${backend}`;

  /**
   * Input tensors of a case, created on the active backend, and the float32 rank weights they
   * hold: softmax of the logits in float64 per group of k (its limit for ±Infinity; NaN for a NaN
   * logit), rounded; `[k]` shared or `[C·k]` per channel, as the logits.
   */
  function caseTensors(c: ValidCase) {
    const w = float32Weights(c.logits, c.k);
    return { x: tf.tensor4d(Float32Array.from(c.x), [...c.shape]), weights: tf.tensor1d(w), w };
  }

  /**
   * Waits for the work a bench call queued: the GPU queue on webgpu; nothing on cpu, which computes
   * synchronously (finishWork would wait on the webgpu device's queue, ~11 ms of polling in Deno).
   */
  const settle = () => (backend === "webgpu" ? finishWork() : Promise.resolve());

  return {
    name,
    description: `tfjs ${backend} backend, float32: ${family.summary}`,
    precision: "float32",
    device: backend === "webgpu" ? "webgpu" : "cpu",
    backend: `tfjs-${backend}`,
    ties: { kind: "spec" },
    supports: family.supports,

    async forward(input) {
      const c = supportedCase(name, family, input);
      await useBackend(backend);
      const geometry = poolGeometry(c.shape, c.padding, c);
      const shape = outputShape(c.shape, c.padding, c);
      const y = tf.tidy(() => {
        const { x, weights } = caseTensors(c);
        return family.forward(x, weights, c.k, c.padding, geometry);
      });
      try {
        return { y: await readFloat32(y), shape };
      } finally {
        y.dispose();
      }
    },

    async gradient(input, dyInput) {
      const c = supportedCase(name, family, input);
      const dyValues = Float32Array.from(validateDy(c, dyInput));
      await useBackend(backend);
      const geometry = poolGeometry(c.shape, c.padding, c);
      const w = float32Weights(c.logits, c.k);
      const [dx, rankSums] = tf.tidy(() => {
        const { x, weights } = caseTensors(c);
        const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding, c));
        return gradientTensors(family.gradient(x, weights, dy, c.k, c.padding, geometry));
      });
      try {
        // SPEC.md §5: +0s for k = 1; else per group of k, w[j]·(s[j] − Σ w[r] s[r]) with the weights y and
        // dx used.
        const s = rankSums ? await rankSums.data() : [];
        return { dx: await readFloat32(dx), dLogits: Float32Array.from(logitsGradient(w, s, c.k)) };
      } finally {
        tf.dispose(rankSums ? [dx, rankSums] : [dx]);
      }
    },

    async prepareBench(input) {
      const c = supportedCase(name, family, input);
      await useBackend(backend);
      const geometry = poolGeometry(c.shape, c.padding, c);
      const out = outputShape(c.shape, c.padding, c);
      const dyValues = new Float32Array(sizeOf(out)).fill(1);
      const { x, weights } = caseTensors(c);
      const dy = tf.tensor4d(dyValues, out);
      let disposed = false;
      const live = () => {
        if (disposed) throw new Error(`${name} bench handle: used after dispose`);
      };
      const handle: BenchHandle = {
        async forward() {
          live();
          await useBackend(backend);
          const y = tf.tidy(() => family.forward(x, weights, c.k, c.padding, geometry));
          await settle();
          y.dispose();
        },
        async forwardBackward() {
          live();
          await useBackend(backend);
          // The gradient is hand-written and does not produce y: run the forward too, as a training step would.
          const outputs = tf.tidy(() => [
            family.forward(x, weights, c.k, c.padding, geometry),
            ...gradientTensors(family.gradient(x, weights, dy, c.k, c.padding, geometry)),
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
