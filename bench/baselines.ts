/**
 * Baseline workloads for benchmarks and the CI gate: tfjs's own pooling ops (tf.maxPool,
 * tf.avgPool; 2x2 with stride 2 by default, or any window and strides) on device-resident data,
 * behind the same BenchHandle interface as the registry entries so they can be interleaved with
 * them.
 *
 * @module
 */
import type { BenchHandle, Padding, Shape4 } from "../src/types.ts";
import { outputShape, poolGeometry, sizeOf, type WindowOptions } from "../src/spec.ts";
import { uniformFloat32 } from "../src/random.ts";
import { finishWork, tf, type TfjsBackendName, withBackend } from "../src/tfjs/runtime.ts";

/** tfjs pooling ops usable as baselines. */
export type PoolBaseline = "maxPool" | "avgPool";

/**
 * Prepares `tf[op]` on `backend` for input `shape`, with the window and strides of `window`
 * (src/spec.ts `WindowOptions`: default a 2x2 window with stride 2; strides default to the window),
 * which give the same output shape as sort_pool2d's (tfjs's "same" padding splits like SPEC.md §3).
 * The input and upstream gradient tensors are created once; `forward` runs the op,
 * `forwardBackward` runs tf.grad of it (forward plus the op's gradient kernel). Both wait until the
 * device is done, and hold tfjs's queue on `backend` meanwhile (src/tfjs/runtime.ts
 * `withBackend`), so handles and entries on other backends can run at the same time.
 */
export async function preparePoolBaseline(
  op: PoolBaseline,
  backend: TfjsBackendName,
  shape: Shape4,
  padding: Padding = "same",
  window: WindowOptions = {},
): Promise<BenchHandle> {
  return await withBackend(backend, () => poolHandle(op, backend, shape, padding, window));
}

function poolHandle(
  op: PoolBaseline,
  backend: TfjsBackendName,
  shape: Shape4,
  padding: Padding,
  window: WindowOptions,
): BenchHandle {
  const g = poolGeometry(shape, padding, window);
  const size: [number, number] = [g.poolSize[0], g.poolSize[1]];
  const strides: [number, number] = [g.strides[0], g.strides[1]];
  const pool = (t: tf.Tensor4D) =>
    op === "maxPool" ? tf.maxPool(t, size, strides, padding) : tf.avgPool(t, size, strides, padding);
  const out = outputShape(shape, padding, window);
  const x = tf.tensor4d(uniformFloat32(sizeOf(shape), 1), [...shape]);
  const dy = tf.tensor4d(uniformFloat32(sizeOf(out), 2), out);
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
