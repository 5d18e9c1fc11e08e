/**
 * The `wgsl` implementation: the kernels of `kernels/` on a raw GPUDevice of this process's
 * WebGPU adapter, for every window, stride and logits layout of SPEC.md (2x2 / stride 2 with
 * shared logits on the 2x2 kernels, everything else on the general ones: src/webgpu/sort_pool_kernels.ts).
 * Buffers are pooled and reused across calls, pipelines compiled once. A call whose buffers
 * exceed the device's maxStorageBufferBindingSize (128 MiB on the CPU adapters here) is split
 * along the batch, then (2x2 / stride 2 only) along rows (src/webgpu/chunks.ts): every binding is
 * sized before any work is queued, and only what still cannot fit (a window row, or for the
 * general kernels one image, past the limit; x past maxBufferSize) is refused (a
 * SortPoolArgumentError naming x). Every call runs inside GPU error scopes: anything the device
 * still reports is thrown (WebGpuError), never returned as data.
 *
 * @module
 */
import { emptyAnswer } from "../reference.ts";
import { float32Weights } from "../spec.ts";
import type { BenchHandle, ForwardResult, GradientResult, SortPoolCase } from "../types.ts";
import { validateCase, validateDy, type ValidCase } from "../validate.ts";
import { BufferPool, BufferTracker } from "./buffers.ts";
import { type AcquiredDevice, describeAdapter, requestDeviceOrThrow, withGpuErrorScopes } from "./device.ts";
import { benchDy, type WgslImplementation, type WgslOptions } from "./implementation.ts";
import { describeLimits } from "./chunks.ts";
import { type BindingLimits, type PlanWindow, SortPoolKernels, type SortPoolPlan } from "./sort_pool_kernels.ts";
import { kernelSources } from "./shaders.ts";
import { createWgslTfjsImplementation } from "./wgsl_tfjs.ts";

export { benchDy, type WgslImplementation, type WgslOptions };

// Buffer usages, read when first needed: a runtime without WebGPU can still import the registry.
// Inputs and outputs are copy sources and destinations both: a call split past the binding limit
// copies unaligned chunks through scratch and clears uncovered dx rows (src/webgpu/chunks.ts).
const usage = {
  get in(): GPUBufferUsageFlags {
    return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  },
  get out(): GPUBufferUsageFlags {
    return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  },
  get readback(): GPUBufferUsageFlags {
    return GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  },
};

/** float32 values (a Float32Array over an ArrayBuffer passes through unchanged). */
function toFloat32(values: ArrayLike<number>): Float32Array<ArrayBuffer> {
  return values instanceof Float32Array && values.buffer instanceof ArrayBuffer
    ? values as Float32Array<ArrayBuffer>
    : Float32Array.from(values);
}

/** The window and logits layout of a validated case, for `SortPoolKernels.plan`. */
function windowOf(c: ValidCase): PlanWindow {
  return { poolSize: c.poolSize, strides: c.strides, logitsLength: c.logits.length };
}

/** Bytes of the dLogits buffer of a case: the logits' length of floats, at least 16 bytes. */
function dLogitsBytes(c: ValidCase): number {
  return Math.max(16, c.logits.length * 4);
}

/** Writes `data` at the start of `buffer` (writeBuffer needs a 4-byte multiple: always true here). */
function upload(device: GPUDevice, buffer: GPUBuffer, data: Float32Array<ArrayBuffer>): void {
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Runs `record` (which creates, writes and submits GPU work) inside validation and
 * out-of-memory error scopes, then throws the first error either raised (a WebGpuError). WebGPU
 * reports those asynchronously; without scopes they would only reach the device's
 * uncaptured-error event.
 */
function checked<T>(device: GPUDevice, what: string, record: () => T): Promise<T> {
  return withGpuErrorScopes(device, what, record);
}

/**
 * Builds a WGSL implementation from the kernels of `kernels/`, any of them replaced through
 * `options.shaders` (the CI gate's slowed self-test variants, a reviewer's mutant). With
 * `host: "tfjs"` it is the tfjs-backend variant (`createWgslTfjsImplementation`); by default it
 * runs on a raw GPUDevice of its own. Nothing touches the GPU until the first call: the device
 * is requested then (failing loudly when there is no adapter) and kept until `dispose`.
 */
export function createWgslImplementation(options: WgslOptions): WgslImplementation {
  if (options.host === "tfjs") return createWgslTfjsImplementation(options);
  if (options.host !== undefined && options.host !== "raw") {
    throw new RangeError(`createWgslImplementation: host: expected "raw" or "tfjs", received ${String(options.host)}`);
  }
  const sources = kernelSources(options.shaders ?? {});
  const tracker = new BufferTracker();
  let adapterText: string | undefined;
  let state: Promise<{ acquired: AcquiredDevice; kernels: SortPoolKernels; pool: BufferPool }> | undefined;

  function acquire() {
    state ??= (async () => {
      const acquired = await requestDeviceOrThrow(`sortpool ${options.name}`);
      adapterText = describeAdapter(acquired.adapter);
      try {
        const kernels = new SortPoolKernels(acquired.device, sources, tracker, options);
        await kernels.ready();
        return { acquired, kernels, pool: new BufferPool(acquired.device, tracker) };
      } catch (e) {
        tracker.destroyAll();
        acquired.device.destroy();
        throw e;
      }
    })();
    state.catch(() => (state = undefined));
    return state;
  }

  // forward and gradient share the pool's buffers (the readback buffer cannot be refilled while
  // mapped), so calls run one at a time even when a caller starts several at once.
  let tail: Promise<unknown> = Promise.resolve();
  function exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = tail.then(run, run);
    tail = result.catch(() => undefined);
    return result;
  }

  async function readBack(buffer: GPUBuffer, floats: number): Promise<Float32Array> {
    await buffer.mapAsync(GPUMapMode.READ, 0, floats * 4);
    const out = new Float32Array(buffer.getMappedRange(0, floats * 4).slice(0));
    buffer.unmap();
    return out;
  }

  async function forward(input: SortPoolCase, limits?: Partial<BindingLimits>): Promise<ForwardResult> {
    const c = validateCase(input);
    const { acquired: { device }, kernels, pool } = await acquire();
    // Every binding is sized (and an impossible call refused) before anything is queued.
    const plan = kernels.plan(c.shape, c.k, c.padding, limits, windowOf(c));
    const read = await checked(device, `${options.name} forward`, () => {
      const x = pool.get("x", plan.xBytes, usage.in);
      const y = pool.get("y", plan.yBytes, usage.out);
      const read = pool.get("readback", plan.yBytes, usage.readback);
      upload(device, x, toFloat32(c.x));
      const encoder = device.createCommandEncoder();
      // SPEC.md §5: softmax of the logits in float64 on the host (its limit, per group of k),
      // rounded to float32.
      kernels.encodeForward(encoder, plan, { x, weights: float32Weights(c.logits, c.k), y }, pool);
      encoder.copyBufferToBuffer(y, 0, read, 0, plan.yBytes);
      device.queue.submit([encoder.finish()]);
      return read;
    });
    return { y: await readBack(read, plan.yBytes / 4), shape: [...plan.outShape] };
  }

  async function gradient(
    input: SortPoolCase,
    dyInput: ArrayLike<number>,
    limits?: Partial<BindingLimits>,
  ): Promise<GradientResult> {
    const c = validateCase(input);
    const dyValues = validateDy(c, dyInput);
    const { acquired: { device }, kernels, pool } = await acquire();
    const plan = kernels.plan(c.shape, c.k, c.padding, limits, windowOf(c));
    const logitBytes = dLogitsBytes(c);
    const reads = await checked(device, `${options.name} gradient`, () => {
      const bufs = {
        x: pool.get("x", plan.xBytes, usage.in),
        weights: float32Weights(c.logits, c.k),
        dy: pool.get("dy", plan.yBytes, usage.in),
        dx: pool.get("dx", plan.xBytes, usage.out),
        dLogits: pool.get("dLogits", logitBytes, usage.out),
      };
      // Two readbacks: dx may be as large as one buffer can be.
      const reads = {
        dx: pool.get("readback", plan.xBytes, usage.readback),
        dLogits: pool.get("readback dLogits", logitBytes, usage.readback),
      };
      upload(device, bufs.x, toFloat32(c.x));
      upload(device, bufs.dy, toFloat32(dyValues));
      const encoder = device.createCommandEncoder();
      kernels.encodeBackward(encoder, plan, bufs, pool);
      encoder.copyBufferToBuffer(bufs.dx, 0, reads.dx, 0, plan.xBytes);
      encoder.copyBufferToBuffer(bufs.dLogits, 0, reads.dLogits, 0, logitBytes);
      device.queue.submit([encoder.finish()]);
      return reads;
    });
    const [dx, dLogits] = await Promise.all([
      readBack(reads.dx, plan.xBytes / 4),
      readBack(reads.dLogits, logitBytes / 4),
    ]);
    return { dx, dLogits: dLogits.slice(0, c.logits.length) };
  }

  async function prepareBench(input: SortPoolCase, limits?: Partial<BindingLimits>): Promise<BenchHandle> {
    const c = validateCase(input);
    const { acquired: { device }, kernels } = await acquire();
    const plan: SortPoolPlan = kernels.plan(c.shape, c.k, c.padding, limits, windowOf(c));
    // The handle owns its buffers and scratch (not the pool's), so calls of the implementation in
    // between cannot replace them.
    const own: GPUBuffer[] = [];
    const scratch = new BufferPool(device, tracker);
    const make = (label: string, size: number, flags: GPUBufferUsageFlags) => {
      const b = tracker.create(device, { label: `sortpool bench ${label}`, size: Math.max(16, size), usage: flags });
      own.push(b);
      return b;
    };
    let bufs;
    try {
      bufs = await checked(device, `${options.name} prepareBench`, () => {
        const bufs = {
          x: make("x", plan.xBytes, usage.in),
          weights: float32Weights(c.logits, c.k),
          y: make("y", plan.yBytes, usage.out),
          dy: make("dy", plan.yBytes, usage.in),
          dx: make("dx", plan.xBytes, usage.out),
          dLogits: make("dLogits", dLogitsBytes(c), usage.out),
        };
        upload(device, bufs.x, toFloat32(c.x));
        upload(device, bufs.dy, benchDy(plan.yBytes / 4));
        return bufs;
      });
    } catch (e) {
      for (const b of own) tracker.destroy(b);
      scratch.clear();
      throw e;
    }
    await device.queue.onSubmittedWorkDone();
    const ready = bufs;
    let disposed = false;
    const run = async (backward: boolean) => {
      if (disposed) throw new Error(`${options.name} bench handle: used after dispose`);
      const encoder = device.createCommandEncoder();
      kernels.encodeForward(encoder, plan, ready, scratch);
      if (backward) kernels.encodeBackward(encoder, plan, ready, scratch);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    };
    return {
      forward: () => run(false),
      forwardBackward: () => run(true),
      dispose: () => {
        disposed = true;
        for (const b of own) tracker.destroy(b);
        scratch.clear();
      },
    };
  }

  const entry: WgslImplementation = {
    name: options.name,
    description: options.description ??
      "WGSL sorting- and selection-network kernels (kernels/*.wgsl) on a raw WebGPU device, any window and " +
        "per-channel logits; vec4 path when C % 4 == 0",
    precision: "float32",
    device: "webgpu",
    backend: "webgpu",
    ties: { kind: "spec" },
    forward: (c) => emptyAnswer.forward(c) ?? exclusive(() => forward(c)),
    gradient: (c, dy) => emptyAnswer.gradient(c, dy) ?? exclusive(() => gradient(c, dy)),
    prepareBench: (c) => emptyAnswer.bench(c) ?? prepareBench(c),
    withBindingLimits(limits) {
      return {
        ...entry,
        name: `${options.name} (limits ${describeLimits(limits)})`,
        forward: (c) => emptyAnswer.forward(c) ?? exclusive(() => forward(c, limits)),
        gradient: (c, dy) => emptyAnswer.gradient(c, dy) ?? exclusive(() => gradient(c, dy, limits)),
        prepareBench: (c) => emptyAnswer.bench(c) ?? prepareBench(c, limits),
        // The variant shares this entry's device: disposing it would dispose the entry.
        dispose: () => undefined,
      };
    },
    dispose: () =>
      exclusive(async () => {
        const s = state;
        state = undefined;
        if (!s) return;
        const { acquired, kernels, pool } = await s.catch(() => ({
          acquired: undefined,
          kernels: undefined,
          pool: undefined,
        }));
        if (!acquired) return;
        pool?.clear();
        kernels?.destroy();
        tracker.destroyAll();
        acquired.device.destroy();
      }),
    bufferStats: () => tracker.stats(),
    adapterDescription() {
      return adapterText;
    },
  };
  return entry;
}
