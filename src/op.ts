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
import { float32Weights, outputShape } from "./spec.ts";
import type { Tensor1D, Tensor4D } from "./tfjs/public_types.ts";
import { tf } from "./tfjs/runtime.ts";
import type { Padding, Pair, Shape4, SortPoolCase } from "./types.ts";
import {
  describe,
  isEmptyShape,
  SortPoolArgumentError,
  validateK,
  validateKeys,
  validatePadding,
  validatePoolSize,
  validateShape,
  validateStrides,
  validateValidExtent,
} from "./validate.ts";
import {
  DEFAULT_KERNEL_SET,
  registerWebGpuSortPoolKernels,
  SORT_POOL_GRAD_KERNEL,
  SORT_POOL_KERNEL,
  type SortPoolAttrs,
} from "./webgpu/tfjs_kernels.ts";

/** Options of {@link sortPool2d}. */
export interface SortPool2dOptions {
  /**
   * How many of the kh·kw ranked window values are kept, 1..kh·kw (`logits` has length k, or C·k
   * for per-channel weights).
   */
  readonly k: number;
  /**
   * "same" (output ceil(H / sh) x ceil(W / sw), TensorFlow's split of the padding, zero-padded cells
   * for k > 1) or "valid" (floor((H − kh) / sh) + 1, likewise for W; needs H ≥ kh and W ≥ kw). SPEC.md §3.
   */
  readonly padding: Padding;
  /** Window `[kh, kw]`, each 1..4; default `[2, 2]` (SPEC.md §2). */
  readonly poolSize?: Pair;
  /** Strides `[sh, sw]`, each 1..4; default `poolSize` (SPEC.md §2). Smaller than poolSize: windows overlap. */
  readonly strides?: Pair;
}

/** The keys {@link SortPool2dOptions} has; any other key is an error (SPEC.md §6 "Unknown keys"). */
export const OPTION_KEYS: readonly string[] = ["k", "padding", "poolSize", "strides"];

/**
 * The op's options of a registry case (`k`, `padding`, and `poolSize` / `strides` when the case has
 * them): a case itself is no options object, since its `x`, `shape` and `logits` are unknown keys here.
 */
export function caseOptions(c: Pick<SortPoolCase, "k" | "padding" | "poolSize" | "strides">): SortPool2dOptions {
  return {
    k: c.k,
    padding: c.padding,
    ...(c.poolSize === undefined ? {} : { poolSize: c.poolSize }),
    ...(c.strides === undefined ? {} : { strides: c.strides }),
  };
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
    poolSize: attrs.poolSize,
    strides: attrs.strides,
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
        const { y, shape } = referenceForward(c, a.weights ?? float32Weights(c.logits, c.k));
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
        const { dx, dLogits } = referenceGradient(c, dy, a.weights ?? float32Weights(c.logits, c.k));
        return [makeCpuTensor(backend, [...c.shape], dx), makeCpuTensor(backend, [c.logits.length], dLogits)];
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

/**
 * An empty input (a zero-size dimension, SPEC.md §1 "Empty inputs") on any backend: an empty `y` of
 * the output shape, differentiable with an empty dx and a dLogits of exactly +0 per logit. No kernel
 * runs, so the webgpu backend dispatches nothing and binds no zero-size buffer.
 */
function emptyOp(x: tf.Tensor4D, logits: tf.Tensor1D, out: Shape4): tf.Tensor4D {
  const f = tf.customGrad((..._inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.zeros([...out]) as tf.Tensor4D,
    gradFunc: () => [tf.zerosLike(x), tf.zerosLike(logits)],
  }));
  return f(x, logits) as tf.Tensor4D;
}

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

/**
 * sort_pool2d on tfjs tensors (SPEC.md): in each `poolSize` window (default 2x2; moved by
 * `strides`, default `poolSize`; NHWC) the values are ranked (NaN first, then larger; ties by cell
 * number, row-major in the window, lower first) and `y = Σ_{r<k} softmax(logits)[r] · value_r`.
 * Differentiable with respect to `x` and `logits`; with overlapping windows (strides < poolSize) a
 * cell's gradient sums its windows' terms in output order (SPEC.md §5). Runs on the "webgpu" (WGSL
 * kernels, data stays on the GPU) and "cpu" backends. k = 1 is max pooling: `tf.maxPool` with the
 * same window, strides and padding.
 *
 * - `x`: float32 `[B, H, W, C]`.
 * - `logits`: float32, `[k]` (one set of weights shared by all channels) or `[C·k]` (per channel,
 *   channel-major: channel c's logits at `[c·k, c·k + k)`); the gradient has the logits' shape.
 * - Output: `[B, Ho, Wo, C]` (src/spec.ts `outputShape`, SPEC.md §3).
 *
 * Any logit values are accepted (SPEC.md §5 "Weights": softmax evaluated as its limit, the same on
 * both backends): `[Infinity, 0]` weights the largest value 1, a NaN logit makes the outputs NaN.
 * Arguments are checked without reading tensor values (that would stall the GPU).
 *
 * @throws SortPoolArgumentError naming x, options, poolSize, strides, k, padding, logits or shape
 *   for bad arguments (SPEC.md §6).
 */
export function sortPool2d(x: Tensor4D, logits: Tensor1D, options: SortPool2dOptions): Tensor4D {
  return sortPool2dWithKernels(x, logits, options, DEFAULT_KERNEL_SET);
}

/**
 * {@link sortPool2d} running a registered WGSL kernel set on the webgpu backend (tests and the
 * CI gate swap shaders this way; see src/webgpu/tfjs_kernels.ts registerKernelSet).
 *
 * @param weights rank weights computed on the host (as many as the logits, e.g. src/spec.ts
 *   `float32Weights(logits, k)`), used by both backends' kernels instead of softmax(logits tensor);
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
    throw new SortPoolArgumentError("options", "an object { k, padding, poolSize?, strides? }", describe(options));
  }
  validateKeys(options, "options", OPTION_KEYS);
  const shape = validateShape([...x.shape], true);
  const poolSize = validatePoolSize(options.poolSize);
  const strides = validateStrides(options.strides, poolSize);
  const k = validateK(options.k, poolSize[0] * poolSize[1]);
  const padding = validatePadding(options.padding);
  const channels = shape[3];
  const lengths = channels > 1 ? `k = ${k} or C·k = ${channels}·${k} = ${channels * k}` : `k = ${k}`;
  if (!isTensor(logits) || logits.rank !== 1 || (logits.shape[0] !== k && logits.shape[0] !== channels * k)) {
    throw new SortPoolArgumentError(
      "logits",
      `a rank-1 tf.Tensor of length ${lengths}`,
      isTensor(logits) ? `a rank-${logits.rank} tensor [${logits.shape.join(", ")}]` : describe(logits),
    );
  }
  if (logits.dtype !== "float32") {
    throw new SortPoolArgumentError("logits", "a float32 tensor", `dtype ${logits.dtype}`);
  }
  if (padding === "valid") validateValidExtent(shape, poolSize, strides);
  const backend = tf.getBackend();
  if (!SORT_POOL_BACKENDS.includes(backend)) {
    throw new Error(
      `sortPool2d: tfjs backend "${backend}" has no ${SORT_POOL_KERNEL} kernel; use one of ${
        SORT_POOL_BACKENDS.join(", ")
      }`,
    );
  }
  const count = logits.shape[0];
  if (
    weights !== undefined && (weights.length !== count || !Array.from(weights).every((v) => typeof v === "number"))
  ) {
    throw new SortPoolArgumentError("weights", `${count} numbers (the logits' length)`, describe(weights));
  }
  if (isEmptyShape(shape)) return emptyOp(x, logits, outputShape(shape, padding, { poolSize, strides }));
  const window: Pick<SortPoolAttrs, "poolSize" | "strides"> = {
    poolSize: [poolSize[0], poolSize[1]],
    strides: [strides[0], strides[1]],
  };
  const attrs: SortPoolAttrs = weights === undefined
    ? { k, padding, ...window, kernelSet }
    : { k, padding, ...window, kernelSet, weights: Array.from(Float32Array.from(weights)) };
  const y = tf.engine().runKernel(
    SORT_POOL_KERNEL,
    { x, logits },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
  return y;
}
