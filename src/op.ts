/**
 * `sortPool2d`, the tfjs-level op: a tfjs kernel (`SortPool2d`) with a registered gradient, so
 * tf.grad, optimizers and layers differentiate it with respect to x and logits.
 *
 * - On the "webgpu" backend the kernels are the WGSL files of `kernels/`, run on tfjs's own
 *   GPUDevice over the tensors' GPU buffers (src/webgpu/tfjs_kernels.ts): data on the GPU stays
 *   there, nothing is read back.
 * - On the "cpu" backend the kernels call the float64 reference (src/reference.ts, built on
 *   src/spec.ts) at the float32 weights every float32 implementation uses (src/spec.ts
 *   `float32Weights`: subnormal weights flushed to +0, as the webgpu weights kernel does), and
 *   round the results to float32. The rank sums of dLogits are float64 there (SPEC.md §5).
 *
 * Logits are a float32 tensor holding any values: both backends evaluate softmax as its limit
 * (SPEC.md §5 "Weights"), so `[Infinity, 0]` gives the weights `[1, 0]` and `[NaN, 0]` makes y,
 * dx and dLogits NaN (dLogits stays exactly 0 for k = 1), on cpu and webgpu alike.
 *
 * @module
 */
import { referenceForward, referenceGradient } from "./reference.ts";
import { float32Weights } from "./spec.ts";
import { tf } from "./tfjs/runtime.ts";
import type { Padding, Shape4, SortPoolCase } from "./types.ts";
import { describe, SortPoolArgumentError, validateK, validatePadding, validateShape } from "./validate.ts";
import {
  DEFAULT_KERNEL_SET,
  registerWebGpuSortPoolKernels,
  SORT_POOL_GRAD_KERNEL,
  SORT_POOL_KERNEL,
  type SortPoolAttrs,
} from "./webgpu/tfjs_kernels.ts";

/** Options of {@link sortPool2d}. */
export interface SortPool2dOptions {
  /** How many of the 4 ranked window values are kept, 1..4 (`logits` has length k). */
  readonly k: number;
  /** "same" (ceil sizes, zero-padded cells for k > 1) or "valid" (floor sizes). */
  readonly padding: Padding;
}

/** tfjs backends with a `SortPool2d` kernel. */
export const SORT_POOL_BACKENDS: readonly string[] = ["cpu", "webgpu"];

/** Reads a cpu-backend tensor's float32 values (the cpu backend keeps them in memory). */
function cpuValues(backend: unknown, t: tf.TensorInfo): Float32Array {
  const values = (backend as { readSync(id: object): unknown }).readSync(t.dataId);
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

function cpuCase(backend: unknown, x: tf.TensorInfo, logits: tf.TensorInfo, attrs: SortPoolAttrs): SortPoolCase {
  return {
    x: cpuValues(backend, x),
    shape: x.shape as unknown as Shape4,
    logits: cpuValues(backend, logits),
    k: attrs.k,
    padding: attrs.padding,
  };
}

function makeCpuTensor(backend: unknown, shape: number[], values: ArrayLike<number>): tf.TensorInfo {
  const b = backend as { makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): tf.TensorInfo };
  return b.makeTensorInfo(shape, "float32", Float32Array.from(values));
}

function registerCpuKernels(): void {
  if (!tf.getKernel(SORT_POOL_KERNEL, "cpu")) {
    tf.registerKernel({
      kernelName: SORT_POOL_KERNEL,
      backendName: "cpu",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const a = attrs as unknown as SortPoolAttrs;
        const c = cpuCase(backend, inputs.x!, inputs.logits!, a);
        const { y, shape } = referenceForward(c, a.weights ?? float32Weights(c.logits));
        return makeCpuTensor(backend, shape, y);
      },
    });
  }
  if (!tf.getKernel(SORT_POOL_GRAD_KERNEL, "cpu")) {
    tf.registerKernel({
      kernelName: SORT_POOL_GRAD_KERNEL,
      backendName: "cpu",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const a = attrs as unknown as SortPoolAttrs;
        const c = cpuCase(backend, inputs.x!, inputs.logits!, a);
        const dy = cpuValues(backend, inputs.dy!);
        const { dx, dLogits } = referenceGradient(c, dy, a.weights ?? float32Weights(c.logits));
        return [makeCpuTensor(backend, [...c.shape], dx), makeCpuTensor(backend, [a.k], dLogits)];
      },
    });
  }
}

function registerGradient(): void {
  if (tf.getGradient(SORT_POOL_KERNEL)) return;
  tf.registerGradient({
    kernelName: SORT_POOL_KERNEL,
    inputsToSave: ["x", "logits"],
    gradFunc: (dy, saved, attrs) => {
      const [x, logits] = saved;
      // One backward kernel gives both gradients; the closures hand out its two outputs.
      const [dx, dLogits] = tf.engine().runKernel(
        SORT_POOL_GRAD_KERNEL,
        { x, logits, dy: dy as tf.Tensor },
        attrs,
      ) as tf.Tensor[];
      return { x: () => dx, logits: () => dLogits };
    },
  });
}

registerCpuKernels();
registerWebGpuSortPoolKernels();
registerGradient();

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

/**
 * sort_pool2d on tfjs tensors (SPEC.md): in each 2x2 window (stride 2, NHWC) the values are
 * ranked (NaN first, then larger; ties by cell, lower first) and
 * `y = Σ_{r<k} softmax(logits)[r] · value_r`. Differentiable with respect to `x` and `logits`.
 * Runs on the "webgpu" (WGSL kernels, data stays on the GPU) and "cpu" backends.
 *
 * Any logit values are accepted (SPEC.md §5 "Weights": softmax evaluated as its limit, the same on
 * both backends): `[Infinity, 0]` weights the largest value 1, a NaN logit makes the outputs NaN.
 * Arguments are checked without reading tensor values (that would stall the GPU).
 *
 * @throws SortPoolArgumentError naming x, logits, k, padding or shape for bad arguments.
 */
export function sortPool2d(x: tf.Tensor4D, logits: tf.Tensor1D, options: SortPool2dOptions): tf.Tensor4D {
  return sortPool2dWithKernels(x, logits, options, DEFAULT_KERNEL_SET);
}

/**
 * {@link sortPool2d} running a registered WGSL kernel set on the webgpu backend (tests and the
 * CI gate swap shaders this way; see src/webgpu/tfjs_kernels.ts registerKernelSet).
 *
 * @param weights rank weights computed on the host (k numbers, e.g. src/spec.ts
 *   `float32Weights(logits)`), used by both backends' kernels instead of softmax(logits tensor);
 *   the gradient with respect to `logits` is still taken at those weights. The registry entry
 *   `wgsl@tfjs` passes them (entries receive logits as JS numbers: SPEC.md §5 "Weights").
 */
export function sortPool2dWithKernels(
  x: tf.Tensor4D,
  logits: tf.Tensor1D,
  options: SortPool2dOptions,
  kernelSet: string,
  weights?: ArrayLike<number>,
): tf.Tensor4D {
  if (!isTensor(x) || x.rank !== 4) {
    throw new SortPoolArgumentError(
      "x",
      "a rank-4 tf.Tensor [batch, height, width, channels] (NHWC)",
      isTensor(x) ? `a rank-${x.rank} tensor [${x.shape.join(", ")}]` : describe(x),
    );
  }
  if (x.dtype !== "float32") throw new SortPoolArgumentError("x", "a float32 tensor", `dtype ${x.dtype}`);
  if (options === null || typeof options !== "object") {
    throw new SortPoolArgumentError("options", "an object { k, padding }", describe(options));
  }
  const shape = validateShape([...x.shape]);
  const k = validateK(options.k);
  const padding = validatePadding(options.padding);
  if (!isTensor(logits) || logits.rank !== 1 || logits.shape[0] !== k) {
    throw new SortPoolArgumentError(
      "logits",
      `a rank-1 tf.Tensor of length k = ${k}`,
      isTensor(logits) ? `a rank-${logits.rank} tensor [${logits.shape.join(", ")}]` : describe(logits),
    );
  }
  if (logits.dtype !== "float32") {
    throw new SortPoolArgumentError("logits", "a float32 tensor", `dtype ${logits.dtype}`);
  }
  if (padding === "valid" && (shape[1] < 2 || shape[2] < 2)) {
    throw new SortPoolArgumentError(
      "shape",
      'height >= 2 and width >= 2 with padding "valid" (the output would be empty)',
      `[${shape.join(", ")}]`,
    );
  }
  const backend = tf.getBackend();
  if (!SORT_POOL_BACKENDS.includes(backend)) {
    throw new Error(
      `sortPool2d: tfjs backend "${backend}" has no ${SORT_POOL_KERNEL} kernel; use one of ${
        SORT_POOL_BACKENDS.join(", ")
      }`,
    );
  }
  if (weights !== undefined && (weights.length !== k || !Array.from(weights).every((v) => typeof v === "number"))) {
    throw new SortPoolArgumentError("weights", `${k} numbers (k = ${k})`, describe(weights));
  }
  const attrs: SortPoolAttrs = weights === undefined
    ? { k, padding, kernelSet }
    : { k, padding, kernelSet, weights: Array.from(Float32Array.from(weights)) };
  const y = tf.engine().runKernel(
    SORT_POOL_KERNEL,
    { x, logits },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
  return y;
}
