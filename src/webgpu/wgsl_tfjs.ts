/**
 * The `wgsl@tfjs` implementation: the public op `sortPool2d` (src/op.ts) on tfjs's webgpu
 * backend, i.e. the same WGSL kernels registered as tfjs kernels and sharing tfjs's GPUDevice.
 * `gradient` goes through tf.grads, so it checks the registered gradient too.
 *
 * @module
 */
import { sortPool2dWithKernels } from "../op.ts";
import { outputShape } from "../spec.ts";
import { finishWork, tf, useBackend } from "../tfjs/runtime.ts";
import type { BenchHandle, ForwardResult, GradientResult, SortPoolCase } from "../types.ts";
import { validateCase, validateDy } from "../validate.ts";
import type { BufferStats } from "./buffers.ts";
import { describeAdapter } from "./device.ts";
import { benchDy, type WgslImplementation, type WgslOptions } from "./implementation.ts";
import {
  DEFAULT_KERNEL_SET,
  kernelSetBufferStats,
  readyKernelSet,
  registerKernelSet,
  releaseKernelSet,
  type TfjsWebGpuBackend,
} from "./tfjs_kernels.ts";

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

  const op = (x: tf.Tensor, logits: tf.Tensor, c: SortPoolCase) =>
    sortPool2dWithKernels(x as tf.Tensor4D, logits as tf.Tensor1D, { k: c.k, padding: c.padding }, kernelSet);

  async function forward(input: SortPoolCase): Promise<ForwardResult> {
    const c = validateCase(input);
    await ready();
    const y = tf.tidy(() =>
      op(tf.tensor4d(Float32Array.from(c.x), [...c.shape]), tf.tensor1d(Float32Array.from(c.logits)), c)
    );
    try {
      return { y: Float32Array.from(await y.data() as Float32Array), shape: outputShape(c.shape, c.padding) };
    } finally {
      y.dispose();
    }
  }

  async function gradient(input: SortPoolCase, dyInput: ArrayLike<number>): Promise<GradientResult> {
    const c = validateCase(input);
    const dyValues = Float32Array.from(validateDy(c, dyInput));
    await ready();
    const [dx, dLogits] = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
      const logits = tf.tensor1d(Float32Array.from(c.logits));
      const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding));
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => op(a, b, c))([x, logits], dy);
    });
    try {
      return {
        dx: Float32Array.from(await dx.data() as Float32Array),
        dLogits: Float32Array.from(await dLogits.data() as Float32Array),
      };
    } finally {
      tf.dispose([dx, dLogits]);
    }
  }

  async function prepareBench(input: SortPoolCase): Promise<BenchHandle> {
    const c = validateCase(input);
    await ready();
    const out = outputShape(c.shape, c.padding);
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
      async forward() {
        check();
        await useBackend("webgpu");
        const y = op(x, logits, c);
        await finishWork();
        y.dispose();
      },
      async forwardBackward() {
        check();
        await useBackend("webgpu");
        const grads = gradients([x, logits], dy);
        await finishWork();
        tf.dispose(grads);
      },
      dispose() {
        if (disposed) return;
        disposed = true;
        tf.dispose([x, logits, dy]);
      },
    };
  }

  return {
    name,
    description: description ??
      "WGSL sorting-network kernels (kernels/*.wgsl) as tfjs webgpu kernels on tfjs's GPUDevice (the sortPool2d op)",
    precision: "float32",
    device: "webgpu",
    backend: "tfjs-webgpu",
    ties: { kind: "spec" },
    forward,
    gradient,
    prepareBench,
    dispose() {
      releaseKernelSet(kernelSet);
    },
    bufferStats: (): BufferStats => kernelSetBufferStats(kernelSet),
    adapterDescription: () => adapterText,
  };
}
