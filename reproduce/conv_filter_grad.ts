/**
 * A workaround for a wrong conv2d filter gradient: tfjs's Conv2DBackpropFilter kernel, computed in
 * slices of the batch that each stay under Mesa's shader loop budget, summed.
 *
 * tfjs-backend-webgpu computes the filter gradient with one invocation per filter element, which
 * loops over every image, output row and output column of the batch. Mesa's CPU adapters
 * (llvmpipe through GL, lavapipe through Vulkan) compile shaders with a loop limiter: one shader
 * invocation runs at most 65,535 loop iterations, counted over all its loops, and then stops as
 * if every loop had ended. The kernel then returns the sum over the first images only, without
 * an error. At the reduced reproduction's conv1 (40x40 output, batch 128) that is about the first
 * 38 to 40 of 128 images (relative error 0.85). Dawn on SwiftShader and GPU drivers have no such limit.
 *
 * Slicing keeps each call's loop count under {@link MESA_LOOP_BUDGET} with a margin, and is done
 * on every adapter, so runs on different adapters compute the same sums. It cannot help when one
 * image's output alone is over the budget (about 240x240): such a shape is refused with an error
 * rather than computed wrong. `reproduce/probe_conv_filter_grad.ts` measures the fault and the fix.
 *
 * @module
 */
import { tf } from "../src/tfjs/runtime.ts";

/** How the conv2d filter gradient is computed: in batch slices (the default), or by tfjs's kernel as it is. */
export type ConvFilterGradient = "sliced" | "stock";

/** The choices of {@link ConvFilterGradient}, default first. */
export const CONV_FILTER_GRADIENTS: readonly ConvFilterGradient[] = ["sliced", "stock"];

/** Loop iterations one shader invocation may run on Mesa's llvmpipe and lavapipe (LP_MAX_TGSI_LOOP_ITERATIONS). */
export const MESA_LOOP_BUDGET = 65_535;

/** Iterations a slice may use: under the budget, with room for the loop bookkeeping the count may include. */
export const SLICE_LOOP_BUDGET = 60_000;

/**
 * Mesa's count of the loop iterations one invocation of tfjs's filter-gradient kernel runs for one
 * image whose dy is `outHeight` x `outWidth`: Mesa counts every pass through a loop body, the pass
 * that leaves the loop included, so an image costs one batch-loop pass, `outHeight + 1` row-loop
 * passes and `outWidth + 1` column-loop passes per row (rows in the padding skip their columns, so
 * this is an upper bound).
 */
export function filterGradImageLoops(outHeight: number, outWidth: number): number {
  return 1 + (outHeight + 1) + outHeight * (outWidth + 1);
}

/**
 * The batch slices for a filter gradient over `batch` images whose dy is `outHeight` x
 * `outWidth`: as few as keep each slice's loop count ({@link filterGradImageLoops} per image, plus
 * the pass that leaves the batch loop) within `budget`, and as even as possible. Returns
 * [start, size] pairs covering 0..batch in order.
 * @throws RangeError when an argument is not a positive integer, or when one image alone needs
 * more than `budget` iterations: slicing the batch cannot bring such a shape under Mesa's limit.
 */
export function filterGradSlices(
  batch: number,
  outHeight: number,
  outWidth: number,
  budget: number = SLICE_LOOP_BUDGET,
): [number, number][] {
  for (const [name, value] of Object.entries({ batch, outHeight, outWidth, budget })) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`filterGradSlices: ${name} must be a positive integer; received ${value}`);
    }
  }
  const perImage = filterGradImageLoops(outHeight, outWidth);
  const maxImages = Math.floor((budget - 1) / perImage);
  if (maxImages < 1) {
    throw new RangeError(
      `conv2d filter gradient in batch slices: one image with a ${outHeight}x${outWidth} output needs ` +
        `${perImage + 1} loop iterations, over the budget of ${budget} (Mesa's CPU adapters stop at ` +
        `${MESA_LOOP_BUDGET}); slicing the batch cannot fix this shape (on an adapter without the limit use ` +
        `tfjs's own kernel: --conv-filter-grad stock)`,
    );
  }
  const count = Math.ceil(batch / maxImages);
  const slices: [number, number][] = [];
  for (let i = 0, start = 0; i < count; i++) {
    // Even sizes: the first (batch mod count) slices get one image more.
    const size = Math.floor(batch / count) + (i < batch % count ? 1 : 0);
    slices.push([start, size]);
    start += size;
  }
  return slices;
}

const KERNEL = "Conv2DBackpropFilter";
type KernelFunc = tf.KernelConfig["kernelFunc"];
type KernelArgs = Parameters<KernelFunc>[0];
const stock = new Map<string, tf.KernelConfig>();

function infoOf(out: ReturnType<KernelFunc>): tf.TensorInfo {
  if (out instanceof Promise || Array.isArray(out)) {
    throw new Error(`${KERNEL}: expected the kernel to return one tensor synchronously`);
  }
  return out as tf.TensorInfo;
}

function slicedKernel(config: tf.KernelConfig): KernelFunc {
  const run = (args: KernelArgs): tf.TensorInfo => infoOf(config.kernelFunc(args));
  const kernel = (name: string) => {
    const found = tf.getKernel(name, config.backendName);
    if (!found) throw new Error(`${KERNEL} workaround: backend ${config.backendName} has no ${name} kernel`);
    return found.kernelFunc;
  };
  return (args: KernelArgs) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const channelsLast = (args.attrs?.dataFormat ?? "NHWC") === "NHWC";
    const [outHeight, outWidth] = channelsLast ? [dy.shape[1], dy.shape[2]] : [dy.shape[2], dy.shape[3]];
    const slices = filterGradSlices(x.shape[0], outHeight, outWidth);
    if (slices.length === 1) return run(args);
    const backend = args.backend as tf.KernelBackend;
    const slice = kernel("Slice");
    const add = kernel("Add");
    const part = (t: tf.TensorInfo, start: number, size: number) =>
      infoOf(
        slice({ inputs: { x: t }, backend, attrs: { begin: [start, 0, 0, 0], size: [size, ...t.shape.slice(1)] } }),
      );
    let sum: tf.TensorInfo | null = null;
    for (const [start, size] of slices) {
      const xs = part(x, start, size);
      const dys = part(dy, start, size);
      const g = run({ ...args, inputs: { x: xs, dy: dys } });
      backend.disposeData(xs.dataId);
      backend.disposeData(dys.dataId);
      if (sum === null) {
        sum = g;
      } else {
        const next = infoOf(add({ inputs: { a: sum, b: g }, backend, attrs: {} }));
        backend.disposeData(sum.dataId);
        backend.disposeData(g.dataId);
        sum = next;
      }
    }
    return sum!;
  };
}

/**
 * Makes tfjs compute the conv2d filter gradient on `backendName` as `mode` says, for every model
 * in the process (tfjs-layers' conv2d reaches the kernel through its fused op's gradient, so the
 * kernel, not the Conv2D gradient, is what is replaced). Idempotent; "stock" restores tfjs's own.
 * @throws Error when the backend has no Conv2DBackpropFilter kernel (its package not loaded).
 */
export function useConvFilterGradient(mode: ConvFilterGradient, backendName: string): void {
  const current = tf.getKernel(KERNEL, backendName);
  if (!current) throw new Error(`${KERNEL}: no kernel registered for backend ${backendName}`);
  if (!stock.has(backendName)) stock.set(backendName, current);
  const original = stock.get(backendName)!;
  const wanted = mode === "stock" ? original : { ...original, kernelFunc: slicedKernel(original) };
  if (mode === "stock" && current === original) return;
  if (mode === "sliced" && current !== original) return;
  tf.unregisterKernel(KERNEL, backendName);
  tf.registerKernel(wanted);
}
