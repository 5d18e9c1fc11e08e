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
 * Sizes: tfjs holds each tensor in one GPUBuffer (up to maxBufferSize). A call is planned before
 * anything is allocated or queued (src/webgpu/sort_pool_kernels.ts `plan`): the kernels bind ranges of
 * those buffers at aligned offsets and split the work along the batch, then (2x2 / stride 2 with
 * shared logits) rows, so whatever tfjs can hold on its device the op computes, or refuses with a
 * SortPoolArgumentError naming x (only when a single window row, or for other windows and
 * per-channel logits a single image, exceeds the storage-binding limit). Every dispatch of ours
 * runs inside GPU error scopes (see `kernelErrors`).
 *
 * Windows and logits: the attrs carry `poolSize` and `strides` (SPEC.md §2) and the logits
 * tensor has k or C·k elements (SPEC.md §1); the 2x2 / stride 2 kernels run for the article's
 * layer (shared logits), the general kernels for everything else (src/webgpu/sort_pool_kernels.ts). dLogits
 * has the logits' shape.
 *
 * tfjs internals used (tfjs-backend-webgpu 4.22.0, pinned by the lock file): `device`,
 * `tensorMap.get(id).resource`, `makeTensorInfo`, `uploadToGPU`, `ensureCommandEncoderReady`,
 * `endComputePassEncoder`, `submitQueue` (all public members of WebGPUBackend).
 *
 * @module
 */
import { DEFAULT_POOL_SIZE } from "../spec.ts";
import { checkEachWebgpuTurn, tf, watchUncapturedErrors } from "../tfjs/runtime.ts";
import type { Padding, Shape4 } from "../types.ts";
import { BufferPool, type BufferStats, BufferTracker } from "./buffers.ts";
import { openGpuErrorScopes, type WebGpuError } from "./device.ts";
import {
  type BindingLimits,
  type KernelOptions,
  SortPoolKernels,
  type SortPoolPlan,
  type WeightsSource,
} from "./sort_pool_kernels.ts";
import { type KernelSources, kernelSources } from "./shaders.ts";

/** tfjs kernel name of the forward pass (inputs x, logits; attrs k, padding, poolSize, strides, kernelSet, weights). */
export const SORT_POOL_KERNEL = "SortPool2d";
/** tfjs kernel name of the backward pass (inputs x, logits, dy; outputs dx, dLogits of the logits' shape). */
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

/**
 * Attributes of both kernels (the interface between src/op.ts, which validates them, and the
 * kernels of both backends).
 */
export interface SortPoolAttrs {
  /** Kept ranks, 1..kh·kw. */
  readonly k: number;
  /** "same" or "valid" (SPEC.md §3). */
  readonly padding: Padding;
  /** Window `[kh, kw]` (SPEC.md §2); the op `sortPool2d` always fills it (absent: `[2, 2]`). */
  readonly poolSize?: [number, number];
  /** Strides `[sh, sw]` (SPEC.md §2); the op `sortPool2d` always fills it (absent: `poolSize`). */
  readonly strides?: [number, number];
  /** Which registered kernel set runs; {@link DEFAULT_KERNEL_SET} unless a test swaps shaders. */
  readonly kernelSet?: string;
  /**
   * Rank weights computed on the host (as many float32 values as logits, k or C·k: src/spec.ts
   * `float32Weights(logits, k)`), used instead of the weights kernel's softmax of the logits
   * tensor. Set by the registry entry `wgsl@tfjs`, which receives logits as JS numbers (SPEC.md §5
   * "Weights"); the public op `sortPool2d` leaves it unset and evaluates the softmax limit on the
   * GPU.
   */
  readonly weights?: readonly number[];
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
  // Code that set the backend with tf.setBackend itself still gets its GPU errors recorded.
  watchUncapturedErrors(device);
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

/** Stricter limits for the kernels run inside {@link withCallLimits}, else undefined. */
let callLimits: Partial<BindingLimits> | undefined;

/**
 * Runs `body` (synchronous: tfjs runs kernels synchronously inside an op call) with every
 * SortPool2d / SortPool2dGrad kernel it triggers planned against stricter `limits` than the
 * device's, as `wgsl@tfjs`'s `withBindingLimits` variant does (tests, props/properties/limits.ts).
 */
export function withCallLimits<T>(limits: Partial<BindingLimits>, body: () => T): T {
  const outer = callLimits;
  callLimits = { ...outer, ...limits };
  try {
    return body();
  } finally {
    callLimits = outer;
  }
}

/**
 * Plans a call (sizing every buffer it binds against the device's limits, refusing what cannot
 * fit with a SortPoolArgumentError) before anything is allocated or queued, after surfacing any
 * GPU error an earlier call of this device left.
 */
function planCall(
  kernels: SortPoolKernels,
  x: tf.TensorInfo,
  logits: tf.TensorInfo,
  attrs: SortPoolAttrs,
): SortPoolPlan {
  throwEarlierError(kernels.device);
  const poolSize = attrs.poolSize ?? DEFAULT_POOL_SIZE;
  return kernels.plan(x.shape as unknown as Shape4, attrs.k, attrs.padding, callLimits, {
    poolSize,
    strides: attrs.strides ?? poolSize,
    logitsLength: logits.shape[0],
  });
}

/** A tensor's buffer, checked to hold at least `bytes` (tfjs sizes buffers from shapes; this is a guard). */
function sizedBufferOf(backend: TfjsWebGpuBackend, t: tf.TensorInfo, name: string, bytes: number): GPUBuffer {
  const buffer = bufferOf(backend, t, name);
  if (buffer.size < bytes) {
    throw new Error(
      `${SORT_POOL_KERNEL}: ${name}: expected a buffer of at least ${bytes} bytes, received ${buffer.size}`,
    );
  }
  return buffer;
}

// GPU errors of the kernels' own dispatches. A tfjs kernel is synchronous but error scopes answer
// asynchronously, so each call's scopes are popped in the background: `kernelErrors` awaits them
// (the registry entry does, before returning), and the next call on the device throws what an
// earlier one left (so a training loop stops at the next step instead of running on garbage).
const pendingScopes = new WeakMap<GPUDevice, Set<Promise<unknown>>>();
const earlierErrors = new WeakMap<GPUDevice, WebGpuError>();

function throwEarlierError(device: GPUDevice): void {
  const error = earlierErrors.get(device);
  if (!error) return;
  earlierErrors.delete(device);
  throw error;
}

/** Records and submits our own work on tfjs's device inside validation and out-of-memory error scopes. */
function submitScoped(device: GPUDevice, what: string, record: (encoder: GPUCommandEncoder) => void): void {
  const scopes = openGpuErrorScopes(device, `${SORT_POOL_KERNEL} ${what}`);
  let thrown: unknown;
  try {
    const encoder = device.createCommandEncoder({ label: `sortpool tfjs ${what}` });
    record(encoder);
    device.queue.submit([encoder.finish()]);
  } catch (e) {
    thrown = e;
  }
  const check = scopes.close().then((error) => {
    if (error && !earlierErrors.has(device)) earlierErrors.set(device, error);
  });
  let pending = pendingScopes.get(device);
  if (!pending) pendingScopes.set(device, pending = new Set());
  pending.add(check);
  check.finally(() => pending.delete(check));
  if (thrown !== undefined) throw thrown;
}

/**
 * Resolves once the error scopes of every SortPool2d / SortPool2dGrad dispatch issued so far on
 * `device` have answered; throws the first GPU error they caught (a WebGpuError), so a caller
 * that awaits this never returns data those dispatches spoiled.
 */
export async function kernelErrors(device: GPUDevice): Promise<void> {
  await Promise.all([...(pendingScopes.get(device) ?? [])]);
  throwEarlierError(device);
}

// A withBackend turn on webgpu that ran these kernels returns only once their error scopes answered.
checkEachWebgpuTurn(kernelErrors);

/** Runs the forward kernel of `kernelSet` on tfjs's webgpu backend; returns y's TensorInfo. */
export function sortPoolForwardOnTfjs(
  backend: TfjsWebGpuBackend,
  x: tf.TensorInfo,
  logits: tf.TensorInfo,
  attrs: SortPoolAttrs,
): tf.TensorInfo {
  const { kernels, pool } = hostFor(attrs.kernelSet ?? DEFAULT_KERNEL_SET, backend.device);
  const plan = planCall(kernels, x, logits, attrs);
  const y = backend.makeTensorInfo([...plan.outShape], "float32");
  const buffers = {
    x: sizedBufferOf(backend, x, "x", plan.xBytes),
    ...weightsSource(backend, logits, attrs),
    y: sizedBufferOf(backend, y, "y", plan.yBytes),
  };
  submitTfjsWork(backend);
  submitScoped(backend.device, "forward", (encoder) => kernels.encodeForward(encoder, plan, buffers, pool));
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
  const plan = planCall(kernels, x, logits, attrs);
  if (dy.shape.join(",") !== plan.outShape.join(",")) {
    throw new Error(`${SORT_POOL_GRAD_KERNEL}: dy: expected shape [${plan.outShape}], received [${dy.shape}]`);
  }
  const dx = backend.makeTensorInfo([...x.shape], "float32");
  const logitsLength = logits.shape[0];
  const dLogits = backend.makeTensorInfo([logitsLength], "float32");
  const buffers = {
    x: sizedBufferOf(backend, x, "x", plan.xBytes),
    ...weightsSource(backend, logits, attrs),
    dy: sizedBufferOf(backend, dy, "dy", plan.yBytes),
    dx: sizedBufferOf(backend, dx, "dx", plan.xBytes),
    dLogits: sizedBufferOf(backend, dLogits, "dLogits", logitsLength * 4),
  };
  submitTfjsWork(backend);
  submitScoped(backend.device, "backward", (encoder) => kernels.encodeBackward(encoder, plan, buffers, pool));
  return [dx, dLogits];
}

function attrsOf(attrs: tf.NamedAttrMap | undefined): SortPoolAttrs {
  const a = (attrs ?? {}) as unknown as SortPoolAttrs;
  return {
    k: a.k,
    padding: a.padding,
    poolSize: a.poolSize,
    strides: a.strides,
    kernelSet: a.kernelSet ?? DEFAULT_KERNEL_SET,
    weights: a.weights,
  };
}

/** The weights source of a call: the host weights of `attrs` when set, else the logits tensor's buffer. */
function weightsSource(backend: TfjsWebGpuBackend, logits: tf.TensorInfo, attrs: SortPoolAttrs): WeightsSource {
  return attrs.weights
    ? { weights: Float32Array.from(attrs.weights) }
    : { logits: bufferOf(backend, logits, "logits") };
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
