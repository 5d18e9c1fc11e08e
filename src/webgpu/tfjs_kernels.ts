/**
 * The WGSL kernels inside tfjs's webgpu backend: tfjs kernels `SortPool2d` and
 * `SortPool2dGrad` for backend "webgpu" that run the same `kernels/*.wgsl` files on tfjs's own
 * GPUDevice, reading and writing tfjs's tensor buffers in place (no CPU round trip).
 *
 * How the two share one queue: tfjs records its dispatches into a command encoder it submits
 * lazily. Before recording, a kernel here submits tfjs's pending work (so uploads and producers
 * of the inputs are queued first), then records and submits its own encoder at once. Queue
 * order then makes every later tfjs op (including the reuse of a freed input buffer) run after
 * it. The uniform and scratch buffers are this module's, reused across calls and safe to
 * overwrite because every call has submitted before the next writes them.
 *
 * tfjs internals used (tfjs-backend-webgpu 4.22.0, pinned by the lock file): `device`,
 * `tensorMap.get(id).resource`, `makeTensorInfo`, `uploadToGPU`, `ensureCommandEncoderReady`,
 * `endComputePassEncoder`, `submitQueue` (all public members of WebGPUBackend).
 *
 * @module
 */
import { tf } from "../tfjs/runtime.ts";
import type { Padding, Shape4 } from "../types.ts";
import { BufferPool, type BufferStats, BufferTracker } from "./buffers.ts";
import { type KernelOptions, SortPoolKernels } from "./kernels.ts";
import { type KernelSources, kernelSources } from "./shaders.ts";

/** tfjs kernel name of the forward pass (inputs x, logits; attrs k, padding, kernelSet). */
export const SORT_POOL_KERNEL = "SortPool2d";
/** tfjs kernel name of the backward pass (inputs x, logits, dy; outputs dx, dLogits). */
export const SORT_POOL_GRAD_KERNEL = "SortPool2dGrad";
/** Name of the kernel set built from the files in `kernels/`. */
export const DEFAULT_KERNEL_SET = "default";

/** The members of tfjs-backend-webgpu's WebGPUBackend that this module uses. */
export interface TfjsWebGpuBackend {
  readonly device: GPUDevice;
  readonly tensorMap: { get(dataId: object): { resource?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: "float32"): tf.TensorInfo;
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** Attributes of both kernels. */
export interface SortPoolAttrs {
  readonly k: number;
  readonly padding: Padding;
  /** Which registered kernel set runs; {@link DEFAULT_KERNEL_SET} unless a test swaps shaders. */
  readonly kernelSet?: string;
}

interface KernelSetConfig {
  readonly sources: KernelSources;
  readonly options: KernelOptions;
  readonly tracker: BufferTracker;
}

interface DeviceHost {
  readonly kernels: SortPoolKernels;
  readonly pool: BufferPool;
}

const kernelSets = new Map<string, KernelSetConfig>();
const hosts = new Map<string, WeakMap<GPUDevice, DeviceHost>>();
const liveHosts = new Map<string, Set<DeviceHost>>();

/**
 * Registers a named kernel set (shader sources and knobs) that the tfjs kernels run when their
 * `kernelSet` attribute names it. The default set uses the files in `kernels/`.
 */
export function registerKernelSet(
  name: string,
  shaders: Partial<KernelSources> = {},
  options: KernelOptions = {},
): void {
  if (kernelSets.has(name)) throw new Error(`tfjs WGSL kernel set "${name}" is already registered`);
  kernelSets.set(name, { sources: kernelSources(shaders), options, tracker: new BufferTracker() });
}

/**
 * Frees a kernel set's uniform and scratch buffers and pipelines on every device. The set stays
 * registered: its next use builds them again.
 */
export function releaseKernelSet(name: string): void {
  for (const host of liveHosts.get(name) ?? []) {
    host.pool.clear();
    host.kernels.destroy();
  }
  liveHosts.delete(name);
  hosts.delete(name);
}

/** Buffer counts of a kernel set (uniforms and dLogits scratch; tensors are tfjs's). */
export function kernelSetBufferStats(name: string): BufferStats {
  const set = kernelSets.get(name);
  return set ? set.tracker.stats() : { created: 0, destroyed: 0, live: 0, liveBytes: 0 };
}

function hostFor(name: string, device: GPUDevice): DeviceHost {
  if (!kernelSets.has(name) && name === DEFAULT_KERNEL_SET) registerKernelSet(DEFAULT_KERNEL_SET);
  const set = kernelSets.get(name);
  if (!set) throw new Error(`tfjs WGSL kernel set "${name}" is not registered`);
  let perDevice = hosts.get(name);
  if (!perDevice) hosts.set(name, perDevice = new WeakMap());
  let host = perDevice.get(device);
  if (!host) {
    host = {
      kernels: new SortPoolKernels(device, set.sources, set.tracker, set.options),
      pool: new BufferPool(device, set.tracker),
    };
    perDevice.set(device, host);
    if (!liveHosts.has(name)) liveHosts.set(name, new Set());
    liveHosts.get(name)!.add(host);
  }
  return host;
}

/**
 * Compiles a kernel set's pipelines on `device` ahead of use, rejecting with the compiler's
 * messages when a shader is invalid (the tfjs kernels themselves compile synchronously, where a
 * shader error would only surface as a later validation error).
 */
export async function readyKernelSet(name: string, device: GPUDevice): Promise<void> {
  await hostFor(name, device).kernels.ready();
}

/** The GPU buffer behind a tensor (uploading it first if its values are still on the CPU). */
function bufferOf(backend: TfjsWebGpuBackend, t: tf.TensorInfo, name: string): GPUBuffer {
  backend.uploadToGPU(t.dataId);
  const resource = backend.tensorMap.get(t.dataId)?.resource;
  if (!(resource instanceof GPUBuffer)) {
    throw new Error(
      `${SORT_POOL_KERNEL}: ${name}: expected a tensor stored in a GPUBuffer, received ${typeof resource}`,
    );
  }
  return resource;
}

/** Submits tfjs's pending command encoder, so everything tfjs queued runs before our passes. */
function submitTfjsWork(backend: TfjsWebGpuBackend): void {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

function checkFloat32(t: tf.TensorInfo | undefined, name: string, rank: number): tf.TensorInfo {
  if (!t) throw new Error(`${SORT_POOL_KERNEL}: input ${name} is missing`);
  if (t.dtype !== "float32" || t.shape.length !== rank) {
    throw new Error(
      `${SORT_POOL_KERNEL}: ${name}: expected a float32 rank-${rank} tensor, received ${t.dtype} [${t.shape}]`,
    );
  }
  return t;
}

/** Runs the forward kernel of `kernelSet` on tfjs's webgpu backend; returns y's TensorInfo. */
export function sortPoolForwardOnTfjs(
  backend: TfjsWebGpuBackend,
  x: tf.TensorInfo,
  logits: tf.TensorInfo,
  attrs: SortPoolAttrs,
): tf.TensorInfo {
  const { kernels } = hostFor(attrs.kernelSet ?? DEFAULT_KERNEL_SET, backend.device);
  const plan = kernels.plan(x.shape as unknown as Shape4, attrs.k, attrs.padding);
  const y = backend.makeTensorInfo([...plan.outShape], "float32");
  const buffers = {
    x: bufferOf(backend, x, "x"),
    logits: bufferOf(backend, logits, "logits"),
    y: bufferOf(backend, y, "y"),
  };
  submitTfjsWork(backend);
  const encoder = backend.device.createCommandEncoder({ label: "sortpool tfjs forward" });
  kernels.encodeForward(encoder, plan, buffers);
  backend.device.queue.submit([encoder.finish()]);
  return y;
}

/** Runs the backward kernels of `kernelSet` on tfjs's webgpu backend; returns [dx, dLogits]. */
export function sortPoolBackwardOnTfjs(
  backend: TfjsWebGpuBackend,
  x: tf.TensorInfo,
  logits: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: SortPoolAttrs,
): [tf.TensorInfo, tf.TensorInfo] {
  const { kernels, pool } = hostFor(attrs.kernelSet ?? DEFAULT_KERNEL_SET, backend.device);
  const plan = kernels.plan(x.shape as unknown as Shape4, attrs.k, attrs.padding);
  if (dy.shape.join(",") !== plan.outShape.join(",")) {
    throw new Error(`${SORT_POOL_GRAD_KERNEL}: dy: expected shape [${plan.outShape}], received [${dy.shape}]`);
  }
  const dx = backend.makeTensorInfo([...x.shape], "float32");
  const dLogits = backend.makeTensorInfo([attrs.k], "float32");
  const buffers = {
    x: bufferOf(backend, x, "x"),
    logits: bufferOf(backend, logits, "logits"),
    dy: bufferOf(backend, dy, "dy"),
    dx: bufferOf(backend, dx, "dx"),
    dLogits: bufferOf(backend, dLogits, "dLogits"),
    partials: pool.get("partials", plan.partialBytes, GPUBufferUsage.STORAGE),
  };
  submitTfjsWork(backend);
  const encoder = backend.device.createCommandEncoder({ label: "sortpool tfjs backward" });
  kernels.encodeBackward(encoder, plan, buffers);
  backend.device.queue.submit([encoder.finish()]);
  return [dx, dLogits];
}

function attrsOf(attrs: tf.NamedAttrMap | undefined): SortPoolAttrs {
  const a = (attrs ?? {}) as unknown as SortPoolAttrs;
  return { k: a.k, padding: a.padding, kernelSet: a.kernelSet ?? DEFAULT_KERNEL_SET };
}

/** Registers the two kernels for tfjs's "webgpu" backend (once; later calls do nothing). */
export function registerWebGpuSortPoolKernels(): void {
  if (!tf.getKernel(SORT_POOL_KERNEL, "webgpu")) {
    tf.registerKernel({
      kernelName: SORT_POOL_KERNEL,
      backendName: "webgpu",
      kernelFunc: ({ inputs, backend, attrs }) =>
        sortPoolForwardOnTfjs(
          backend as TfjsWebGpuBackend,
          checkFloat32(inputs.x, "x", 4),
          checkFloat32(inputs.logits, "logits", 1),
          attrsOf(attrs),
        ),
    });
  }
  if (!tf.getKernel(SORT_POOL_GRAD_KERNEL, "webgpu")) {
    tf.registerKernel({
      kernelName: SORT_POOL_GRAD_KERNEL,
      backendName: "webgpu",
      kernelFunc: ({ inputs, backend, attrs }) =>
        sortPoolBackwardOnTfjs(
          backend as TfjsWebGpuBackend,
          checkFloat32(inputs.x, "x", 4),
          checkFloat32(inputs.logits, "logits", 1),
          checkFloat32(inputs.dy, "dy", 4),
          attrsOf(attrs),
        ),
    });
  }
}
