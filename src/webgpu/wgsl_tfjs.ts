/**
 * The `wgsl@tfjs` implementation: the public op `sortPool2d` (src/op.ts) on tfjs's webgpu
 * backend, i.e. the same WGSL kernels registered as tfjs kernels and sharing tfjs's GPUDevice.
 * `gradient` goes through tf.grads, so it checks the registered gradient too.
 *
 * Every call (and bench-handle call) holds tfjs's queue on the webgpu backend for its whole body
 * (src/tfjs/runtime.ts `withBackend`), so calls of other tfjs entries started at the same time
 * cannot switch the backend under it, and runs inside GPU error scopes; the op's own dispatches
 * are checked through `kernelErrors` before any result is returned.
 *
 * @module
 */
import { sortPool2dWithKernels } from "../op.ts";
import { emptyAnswer } from "../reference.ts";
import { float32Weights, outputShape } from "../spec.ts";
import { finishWork, tf, useBackend, withBackend } from "../tfjs/runtime.ts";
import type { BenchHandle, ForwardResult, GradientResult, SortPoolCase } from "../types.ts";
import { validateCase, validateDy } from "../validate.ts";
import type { BufferStats } from "./buffers.ts";
import { describeAdapter, withGpuErrorScopes } from "./device.ts";
import { benchDy, type WgslImplementation, type WgslOptions } from "./implementation.ts";
import type { BindingLimits } from "./chunks.ts";
import {
  DEFAULT_KERNEL_SET,
  kernelErrors,
  kernelSetBufferStats,
  readyKernelSet,
  registerKernelSet,
  releaseKernelSet,
  type TfjsWebGpuBackend,
  withCallLimits,
} from "./tfjs_kernels.ts";
import { describeLimits } from "./chunks.ts";

/** Options of {@link createWgslTfjsImplementation} (`host` is ignored: this is the tfjs host). */
export type WgslTfjsOptions = WgslOptions;

/**
 * Builds a `wgsl@tfjs` implementation. With no shader or knob overrides it runs the default
 * kernel set (the one `sortPool2d` uses); otherwise it registers a kernel set of its own, named
 * after the entry. Nothing touches the GPU until the first call.
 */
export function createWgslTfjsImplementation(options: WgslTfjsOptions): WgslImplementation {
  const { name, description, shaders, host: _host, ...knobs } = options;
  const custom = shaders !== undefined || Object.values(knobs).some((v) => v !== undefined);
  const kernelSet = custom ? `entry:${name}` : DEFAULT_KERNEL_SET;
  let registered = false;
  let adapterText: string | undefined;

  async function ready(): Promise<void> {
    await useBackend("webgpu");
    if (custom && !registered) {
      registerKernelSet(kernelSet, shaders ?? {}, knobs);
      registered = true;
    }
    const backend = tf.backend() as unknown as TfjsWebGpuBackend;
    await readyKernelSet(kernelSet, backend.device);
    if (!adapterText) {
      const adapter = await navigator.gpu.requestAdapter();
      adapterText = adapter ? `${describeAdapter(adapter)}, tfjs-webgpu's device` : undefined;
    }
  }

  // SPEC.md §5 "Weights": the entry receives logits as JS numbers, so it computes softmax in
  // float64 on the host (its limit, per group of k) and hands the op the float32-rounded weights;
  // the logits tensor still carries the gradient's shape and place in the tape.
  const op = (x: tf.Tensor, logits: tf.Tensor, c: SortPoolCase) =>
    sortPool2dWithKernels(
      x as tf.Tensor4D,
      logits as tf.Tensor1D,
      { k: c.k, padding: c.padding, poolSize: c.poolSize, strides: c.strides },
      kernelSet,
      float32Weights(c.logits, c.k),
    );

  /**
   * Runs `body` holding tfjs's queue on webgpu, inside error scopes of tfjs's device (tfjs's own
   * dispatches included), then surfaces the op kernels' own scope results: any GPU error becomes
   * a thrown WebGpuError instead of a returned value.
   */
  function turn<T>(what: string, input: SortPoolCase, body: () => Promise<T>): Promise<T> {
    // Argument errors come first and need no device.
    try {
      validateCase(input);
    } catch (e) {
      return Promise.reject(e);
    }
    return withBackend("webgpu", async () => {
      await ready();
      const device = (tf.backend() as unknown as TfjsWebGpuBackend).device;
      const out = await withGpuErrorScopes(device, `${name} ${what}`, body, finishWork);
      await kernelErrors(device);
      return out;
    });
  }

  /** `run()` with every kernel planned against `limits` (when given). */
  const limited = <T>(limits: Partial<BindingLimits> | undefined, run: () => T): T =>
    limits ? withCallLimits(limits, run) : run();

  async function forward(input: SortPoolCase, limits?: Partial<BindingLimits>): Promise<ForwardResult> {
    const c = validateCase(input);
    await ready();
    const y = limited(
      limits,
      () =>
        tf.tidy(() =>
          op(tf.tensor4d(Float32Array.from(c.x), [...c.shape]), tf.tensor1d(Float32Array.from(c.logits)), c)
        ),
    );
    try {
      return { y: Float32Array.from(await y.data() as Float32Array), shape: outputShape(c.shape, c.padding, c) };
    } finally {
      y.dispose();
    }
  }

  async function gradient(
    input: SortPoolCase,
    dyInput: ArrayLike<number>,
    limits?: Partial<BindingLimits>,
  ): Promise<GradientResult> {
    const c = validateCase(input);
    const dyValues = Float32Array.from(validateDy(c, dyInput));
    await ready();
    const [dx, dLogits] = limited(limits, () =>
      tf.tidy(() => {
        const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
        const logits = tf.tensor1d(Float32Array.from(c.logits));
        const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding, c));
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => op(a, b, c))([x, logits], dy);
      }));
    try {
      return {
        dx: Float32Array.from(await dx.data() as Float32Array),
        dLogits: Float32Array.from(await dLogits.data() as Float32Array),
      };
    } finally {
      tf.dispose([dx, dLogits]);
    }
  }

  async function prepareBench(input: SortPoolCase, limits?: Partial<BindingLimits>): Promise<BenchHandle> {
    const c = validateCase(input);
    await ready();
    const out = outputShape(c.shape, c.padding, c);
    const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
    const logits = tf.tensor1d(Float32Array.from(c.logits));
    const dy = tf.tensor4d(benchDy(out.reduce((a, b) => a * b, 1)), out);
    const gradients = tf.grads((a: tf.Tensor, b: tf.Tensor) => op(a, b, c));
    await finishWork();
    let disposed = false;
    const check = () => {
      if (disposed) throw new Error(`${name} bench handle: used after dispose`);
    };
    return {
      forward: () =>
        withBackend("webgpu", async () => {
          check();
          const y = limited(limits, () => op(x, logits, c));
          await finishWork();
          y.dispose();
        }),
      forwardBackward: () =>
        withBackend("webgpu", async () => {
          check();
          const grads = limited(limits, () => gradients([x, logits], dy));
          await finishWork();
          tf.dispose(grads);
        }),
      dispose() {
        if (disposed) return;
        disposed = true;
        tf.dispose([x, logits, dy]);
      },
    };
  }

  const entry: WgslImplementation = {
    name,
    description: description ??
      "WGSL sorting- and selection-network kernels (kernels/*.wgsl) as tfjs webgpu kernels on tfjs's GPUDevice " +
        "(the sortPool2d op), any window and per-channel logits",
    precision: "float32",
    device: "webgpu",
    backend: "tfjs-webgpu",
    ties: { kind: "spec" },
    forward: (c) => emptyAnswer.forward(c) ?? turn("forward", c, () => forward(c)),
    gradient: (c, dy) => emptyAnswer.gradient(c, dy) ?? turn("gradient", c, () => gradient(c, dy)),
    prepareBench: (c) => emptyAnswer.bench(c) ?? turn("prepareBench", c, () => prepareBench(c)),
    dispose() {
      releaseKernelSet(kernelSet);
    },
    bufferStats: (): BufferStats => kernelSetBufferStats(kernelSet),
    adapterDescription: () => adapterText,
    withBindingLimits(limits) {
      return {
        ...entry,
        name: `${name} (limits ${describeLimits(limits)})`,
        forward: (c) => emptyAnswer.forward(c) ?? turn("forward", c, () => forward(c, limits)),
        gradient: (c, dy) => emptyAnswer.gradient(c, dy) ?? turn("gradient", c, () => gradient(c, dy, limits)),
        prepareBench: (c) => emptyAnswer.bench(c) ?? turn("prepareBench", c, () => prepareBench(c, limits)),
        // The variant shares this entry's kernel set: disposing it would release the entry's.
        dispose: () => undefined,
      };
    },
  };
  return entry;
}
