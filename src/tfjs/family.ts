/**
 * Turns a tfjs implementation family (tensor in, tensor out) into a registry entry on one tfjs
 * backend: validation, float32 conversion, backend switching, tensor lifetimes, readback and
 * device-resident benchmark handles.
 *
 * @module
 */
import { outputShape, sizeOf } from "../spec.ts";
import type { BenchHandle, Implementation, Padding, SortPoolCase } from "../types.ts";
import { validateCase, validateDy } from "../validate.ts";
import { finishWork, tf, type TfjsBackendName, useBackend } from "./runtime.ts";

/**
 * One way of computing sort_pool2d with tfjs ops. Both methods are called inside tf.tidy on the
 * active backend and return new tensors.
 */
export interface TfjsFamily {
  /** Family name, e.g. "tfjs-topk"; entries are named `family@backend`. */
  readonly family: string;
  /** What the family does, for the entry's description. */
  readonly summary: string;
  /** y (`[B, Ho, Wo, C]`) for input `x` (`[B, H, W, C]`) and `logits` (`[k]`). */
  forward(x: tf.Tensor4D, logits: tf.Tensor1D, k: number, padding: Padding): tf.Tensor4D;
  /** dL/dx and dL/dlogits for upstream gradient `dy` (`[B, Ho, Wo, C]`). */
  gradient(
    x: tf.Tensor4D,
    logits: tf.Tensor1D,
    dy: tf.Tensor4D,
    k: number,
    padding: Padding,
  ): { dx: tf.Tensor4D; dLogits: tf.Tensor1D };
}

/** Float32 copy of a tensor's values (never the backend's own storage). */
async function readFloat32(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data() as Float32Array);
}

/** Builds the registry entry of `family` on `backend`. */
export function tfjsImplementation(family: TfjsFamily, backend: TfjsBackendName): Implementation {
  const open = new Set<BenchHandle>();

  /** Input tensors of a case, created on the active backend. */
  function caseTensors(c: SortPoolCase) {
    return {
      x: tf.tensor4d(Float32Array.from(c.x), [...c.shape]),
      logits: tf.tensor1d(Float32Array.from(c.logits)),
    };
  }

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
        const { x, logits } = caseTensors(c);
        return family.forward(x, logits, c.k, c.padding);
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
      const { dx, dLogits } = tf.tidy(() => {
        const { x, logits } = caseTensors(c);
        const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding));
        return family.gradient(x, logits, dy, c.k, c.padding);
      });
      try {
        return { dx: await readFloat32(dx), dLogits: await readFloat32(dLogits) };
      } finally {
        tf.dispose([dx, dLogits]);
      }
    },

    async prepareBench(input) {
      const c = validateCase(input);
      await useBackend(backend);
      const out = outputShape(c.shape, c.padding);
      const dyValues = new Float32Array(sizeOf(out)).fill(1);
      const { x, logits } = caseTensors(c);
      const dy = tf.tensor4d(dyValues, out);
      let disposed = false;
      const handle: BenchHandle = {
        async forward() {
          await useBackend(backend);
          const y = tf.tidy(() => family.forward(x, logits, c.k, c.padding));
          await finishWork();
          y.dispose();
        },
        async forwardBackward() {
          await useBackend(backend);
          const { dx, dLogits } = tf.tidy(() => family.gradient(x, logits, dy, c.k, c.padding));
          await finishWork();
          tf.dispose([dx, dLogits]);
        },
        dispose() {
          if (disposed) return;
          disposed = true;
          open.delete(handle);
          tf.dispose([x, logits, dy]);
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
