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
import { finishWork, tf, type TfjsBackendName, withBackend } from "./runtime.ts";

/** tfjs pooling ops usable as baselines. */
export type PoolBaseline = "maxPool" | "avgPool";

/**
 * Prepares `tf[op]` with a 2x2 window and stride 2 on `backend` for input `shape`. The input and
 * upstream gradient tensors are created once; `forward` runs the op, `forwardBackward` runs
 * tf.grad of it (forward plus the op's gradient kernel). Both wait until the device is done, and
 * hold tfjs's queue on `backend` meanwhile (src/tfjs/runtime.ts `withBackend`), so handles and
 * entries on other backends can run at the same time.
 */
export async function preparePoolBaseline(
  op: PoolBaseline,
  backend: TfjsBackendName,
  shape: Shape4,
  padding: Padding = "same",
): Promise<BenchHandle> {
  return await withBackend(backend, () => poolHandle(op, backend, shape, padding));
}

function poolHandle(op: PoolBaseline, backend: TfjsBackendName, shape: Shape4, padding: Padding): BenchHandle {
  const pool = (t: tf.Tensor4D) =>
    op === "maxPool" ? tf.maxPool(t, WINDOW_SIZE, STRIDE, padding) : tf.avgPool(t, WINDOW_SIZE, STRIDE, padding);
  const x = tf.tensor4d(uniformFloat32(sizeOf(shape), 1), [...shape]);
  const dy = tf.tensor4d(uniformFloat32(sizeOf(outputShape(shape, padding)), 2), outputShape(shape, padding));
  const gradient = tf.grad((t: tf.Tensor) => pool(t as tf.Tensor4D));
  let disposed = false;
  return {
    forward: () =>
      withBackend(backend, async () => {
        const y = pool(x);
        await finishWork();
        y.dispose();
      }),
    forwardBackward: () =>
      withBackend(backend, async () => {
        const dx = gradient(x, dy);
        await finishWork();
        dx.dispose();
      }),
    dispose() {
      if (disposed) return;
      disposed = true;
      x.dispose();
      dy.dispose();
    },
  };
}
