/**
 * Baseline workloads for benchmarks and the CI gate: tfjs's own 2x2/stride-2 pooling ops
 * (tf.maxPool, tf.avgPool) on device-resident data, behind the same BenchHandle interface as
 * the registry entries so they can be interleaved with them.
 *
 * @module
 */
import type { BenchHandle, Padding, Shape4 } from "../types.ts";
import { outputShape, sizeOf, STRIDE, WINDOW_SIZE } from "../spec.ts";
import { uniformFloat32 } from "../random.ts";
import { finishWork, tf, type TfjsBackendName, useBackend } from "./runtime.ts";

/** tfjs pooling ops usable as baselines. */
export type PoolBaseline = "maxPool" | "avgPool";

/**
 * Prepares `tf[op]` with a 2x2 window and stride 2 on `backend` for input `shape`. The input and
 * upstream gradient tensors are created once; `forward` runs the op, `forwardBackward` runs
 * tf.grad of it (forward plus the op's gradient kernel). Both wait until the device is done.
 */
export async function preparePoolBaseline(
  op: PoolBaseline,
  backend: TfjsBackendName,
  shape: Shape4,
  padding: Padding = "same",
): Promise<BenchHandle> {
  await useBackend(backend);
  const pool = (t: tf.Tensor4D) =>
    op === "maxPool" ? tf.maxPool(t, WINDOW_SIZE, STRIDE, padding) : tf.avgPool(t, WINDOW_SIZE, STRIDE, padding);
  const x = tf.tensor4d(uniformFloat32(sizeOf(shape), 1), [...shape]);
  const dy = tf.tensor4d(uniformFloat32(sizeOf(outputShape(shape, padding)), 2), outputShape(shape, padding));
  const gradient = tf.grad((t: tf.Tensor) => pool(t as tf.Tensor4D));
  let disposed = false;
  return {
    async forward() {
      await useBackend(backend);
      const y = pool(x);
      await finishWork();
      y.dispose();
    },
    async forwardBackward() {
      await useBackend(backend);
      const dx = gradient(x, dy);
      await finishWork();
      dx.dispose();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      x.dispose();
      dy.dispose();
    },
  };
}
