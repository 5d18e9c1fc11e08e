/**
 * The sort_pool2d kernels on one GPUDevice: pipelines compiled once and cached, the uniform
 * buffers that pass each call's shape (so a new shape never recompiles), the dispatch geometry
 * (2-D past maxComputeWorkgroupsPerDimension) and the split of a call whose buffers exceed the
 * device's storage-binding limit (src/webgpu/chunks.ts). Every buffer a kernel binds is sized and
 * checked against the limits when the call is planned, before any work is queued. Callers own the
 * data buffers; scratch (partial sums, staging, kept-cell records) comes from a pool the caller
 * passes; this class only records passes.
 *
 * Two kernel families (SPEC.md §2): the article's 2x2 windows with stride 2 and shared logits run
 * the 2x2 kernels (kernels/sort_pool2d_forward*.wgsl, sort_pool2d_backward*.wgsl: a 5-comparator
 * sorting network, non-overlapping windows written in place); every other window and stride
 * (1..4 each, overlapping or gapped) and per-channel logits run the general kernels
 * (kernels/sort_pool2d_general_*.wgsl): a selection network sized to the window by the pipeline
 * constants KH, KW and K, and a backward in two passes (each window's kept cells, then dx gathered
 * per input cell over the windows containing it, in output order) so that overlapping windows
 * need no atomics and give bitwise repeatable results.
 *
 * @module
 */
import {
  isDefaultWindow,
  isPerChannel,
  MAX_WINDOW_SIDE,
  outputShape,
  POOL_RANGES,
  type PoolGeometry,
  poolGeometry,
  sizeOf,
  type WindowOptions,
} from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import type { BufferTracker } from "./buffers.ts";
import {
  type BindingLimits,
  type ByteRange,
  checkLimits,
  type ChunkGeometry,
  generalBytesPerImage,
  type GeneralChunkGeometry,
  type GeneralChunkRequest,
  planChunks,
  planGeneralChunks,
} from "./chunks.ts";
import type { KernelSources } from "./shaders.ts";

export type { BindingLimits, ByteRange };

/** Tuning and test knobs of a kernel set. */
export interface KernelOptions {
  /**
   * Invocations per workgroup of the forward and backward kernels (a power of two). Default 64
   * for the backward kernels and {@link DEFAULT_FORWARD_WORKGROUP_SIZE} (at most the device's
   * limit) for the 2x2 forward kernels; when set, every kernel uses it.
   */
  readonly workgroupSize?: number;
  /**
   * Largest workgroup count per dispatch dimension; defaults to the device's
   * maxComputeWorkgroupsPerDimension. Tests lower it to exercise the 2-D dispatch.
   */
  readonly maxWorkgroupsPerDimension?: number;
  /**
   * Largest storage binding in bytes; defaults to the device's maxStorageBufferBindingSize.
   * Tests lower it (WebGPU cannot lower a device's limit below the default) to exercise the split
   * of oversized calls cheaply. Same as `limits.maxStorageBufferBindingSize`.
   */
  readonly maxBindingBytes?: number;
  /**
   * Stricter limits than the device's, for tests and the property checks: a lower
   * maxStorageBufferBindingSize or maxBufferSize, a larger (power-of-two multiple)
   * minStorageBufferOffsetAlignment. `plan` also takes them per call.
   */
  readonly limits?: Partial<BindingLimits>;
  /**
   * Rewrites every plan before it is used. Negative controls only (props/limits.ts plants a
   * partial-sum buffer one element short this way); never set in production code.
   */
  readonly mutatePlan?: (plan: SortPoolPlan) => SortPoolPlan;
}

/** A source of scratch buffers (src/webgpu/buffers.ts BufferPool): at least `bytes` bytes with exactly `usage`. */
export interface ScratchBuffers {
  get(name: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer;
}

/** One chunk of a planned call: its geometry plus its kernel uniforms and workgroup grid. */
export interface SortPoolChunk extends ChunkGeometry {
  /** The forward/backward `Params` uniform of the chunk: 8 u32 (2x2 kernels), 16 (general forward). */
  readonly params: Uint32Array<ArrayBuffer>;
  /** Workgroups of the chunk's dispatch, `[gx, gy]`. */
  readonly groups: readonly [number, number];
  /** 2x2 kernels: workgroups of the chunk's forward dispatch (its own workgroup size), `[gx, gy]`. */
  readonly forwardGroups?: readonly [number, number];
}

/**
 * Pipeline constants of the 2x2 forward kernels (kernels/sort_pool2d_forward*.wgsl): k; every
 * window inside x ("valid", or even H and W); every chunk's work items within
 * {@link FEW_ITEMS_LIMIT} (one-step division).
 */
export interface ForwardConstants {
  readonly k: number;
  readonly fullWindows: boolean;
  readonly fewItems: boolean;
}

/**
 * Every value each 2x2 forward constant can take: k is any k of the 2x2 window (src/spec.ts
 * POOL_RANGES), the flags either way. Typed over {@link ForwardConstants}, so a constant added
 * there does not compile until its values are listed here (and so reach the compile matrix).
 */
const FORWARD_CONSTANT_VALUES: { readonly [F in keyof ForwardConstants]: readonly ForwardConstants[F][] } = {
  k: POOL_RANGES,
  fullWindows: [false, true],
  fewItems: [false, true],
};

/** Channel groups per invocation a 2x2 plan can choose (`#planDefault`: 2 when their count per pixel is even). */
const GROUPS_PER_INVOCATION: readonly SortPoolPlan["groupsPerInvocation"][] = [1, 2];

/** Every combination of the values listed per key (the cartesian product), in key order. */
function everyCombination<T extends object>(values: { readonly [F in keyof T]: readonly T[F][] }): T[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, options] of Object.entries(values) as [string, readonly unknown[]][]) {
    out = out.flatMap((partial) => options.map((value) => ({ ...partial, [key]: value })));
  }
  return out as T[];
}

/** Every window constant set of the general kernels: KH and KW 1..MAX_WINDOW_SIDE (SPEC.md §2), K 1..KH·KW. */
function windowConstantSets(): GeneralPlan["constants"][] {
  const out: GeneralPlan["constants"][] = [];
  for (let kh = 1; kh <= MAX_WINDOW_SIDE; kh++) {
    for (let kw = 1; kw <= MAX_WINDOW_SIDE; kw++) {
      for (let k = 1; k <= kh * kw; k++) out.push({ KH: kh, KW: kw, K: k });
    }
  }
  return out;
}

/**
 * One pipeline a {@link SortPoolKernels} can create: a kernel source and the choices its planners
 * and encoders make for it. {@link SortPoolKernels.pipelineDescriptor} turns it into the
 * descriptor the pipeline cache would use (entry point, layout, override constants).
 */
export interface PipelineVariant {
  /** The kernel source (its file in `kernels/`: src/webgpu/shaders.ts KERNEL_FILES). */
  readonly source: keyof KernelSources;
  /** Channel groups per invocation (the 2x2 forward and backward kernels; 1 for the others). */
  readonly groupsPerInvocation: 1 | 2;
  /** The general window kernels' constants KH, KW and K. */
  readonly window?: GeneralPlan["constants"];
  /** The 2x2 forward kernels' constants K, FULL_WINDOWS and FEW_ITEMS. */
  readonly forward?: ForwardConstants;
}

/** Plans a kernel set keeps for repeated calls (then it starts over). */
const RECENT_PLANS = 32;

/** Work items up to which the 2x2 forward kernels divide slot indices in one step (their FEW_ITEMS). */
const FEW_ITEMS_LIMIT = 2 ** 20;

/** Default invocations per workgroup of the forward and backward kernels. */
export const DEFAULT_WORKGROUP_SIZE = 64;

/**
 * Default invocations per workgroup of the 2x2 forward kernels (capped at the device's limit):
 * CPU adapters (llvmpipe, lavapipe) pay a fixed cost per workgroup, which at 64 cost the forward
 * several points of copy bandwidth (bench/bandwidth.ts) against 256.
 */
export const DEFAULT_FORWARD_WORKGROUP_SIZE = 256;
/** Invocations of the single dLogits stage-2 workgroup. */
export const DLOGITS_WORKGROUP_SIZE = 256;
/** Invocations of each workgroup of the general dLogits kernel (one workgroup per weight group). */
export const GENERAL_DLOGITS_WORKGROUP_SIZE = 64;
/** Invocations per workgroup of the weights kernel (one per column of the weights table). */
export const WEIGHTS_WORKGROUP_SIZE = 64;
/** Output columns each work item of the general ranks kernel handles (its dLogits partials cover them). */
export const GENERAL_SEGMENT = 16;

/**
 * The window and logits layout of a call (SPEC.md §1–2), for {@link SortPoolKernels.plan}: absent
 * fields are the article's defaults (2x2 windows, stride 2, k shared logits).
 */
export interface PlanWindow extends WindowOptions {
  /** Length of the logits: k (shared by every channel, the default) or C·k (per channel). */
  readonly logitsLength?: number;
}

/**
 * One chunk of a general-window call (whole images): its geometry plus the uniforms and grids of
 * the forward, ranks and gather kernels. `params` and `groups` are the forward kernel's; `x` and
 * `y` are binding ranges (see src/webgpu/chunks.ts GeneralChunkGeometry).
 */
export interface GeneralChunk extends SortPoolChunk, GeneralChunkGeometry {
  /** The ranks kernel's `Params` uniform, 16 u32. */
  readonly rankParams: Uint32Array<ArrayBuffer>;
  /** Workgroups of the ranks kernel's dispatch. */
  readonly rankGroups: readonly [number, number];
  /** The gather kernel's `Params` uniform, 16 u32. */
  readonly gatherParams: Uint32Array<ArrayBuffer>;
  /** Workgroups of the gather kernel's dispatch. */
  readonly gatherGroups: readonly [number, number];
  /** The dLogits kernel's `Params` for this chunk's stage 2 (store mode when split, else finish), 8 u32. */
  readonly dLogitsParams: Uint32Array<ArrayBuffer>;
}

/** What a general-window plan adds (any window and stride, or per-channel weights). */
export interface GeneralPlan {
  /** The case's window arithmetic (src/spec.ts poolGeometry). */
  readonly geometry: PoolGeometry;
  /** Logits per channel (C·k) rather than shared (k). */
  readonly perChannel: boolean;
  /** Length of the logits and of dLogits: k, or C·k. */
  readonly logitsLength: number;
  /** Bytes of the rank weights table (k rows of C floats). */
  readonly weightsBytes: number;
  /** Bytes of the largest chunk's kept-cell records. */
  readonly ranksBytes: number;
  /** Weight groups: C per channel, else 1 (dLogits workgroups). */
  readonly weightGroups: number;
  /** The dLogits kernel's finishing `Params` over the running chunk sums (split calls only), 8 u32. */
  readonly finishParams: Uint32Array<ArrayBuffer> | undefined;
  /** Pipeline constants of the window kernels: KH, KW, K. */
  readonly constants: Readonly<Record<"KH" | "KW" | "K", number>>;
}

/** Everything a call of one shape needs: geometry, byte sizes and the packed uniforms. */
export interface SortPoolPlan {
  /** Input shape `[B, H, W, C]`. */
  readonly shape: Shape4;
  /** Output shape `[B, Ho, Wo, C]`. */
  readonly outShape: Shape4;
  /** Kept ranks, 1..kh·kw. */
  readonly k: number;
  /** Padding mode. */
  readonly padding: Padding;
  /**
   * Set when the call runs the general-window kernels (kernels/sort_pool2d_general_*.wgsl): any
   * window other than 2x2 / stride 2, or per-channel weights. Its `chunks` are then
   * {@link GeneralChunk}s. Absent: the 2x2 / stride 2 kernels with shared weights.
   */
  readonly general?: GeneralPlan;
  /** Whether the vec4 kernels run (C % 4 == 0). */
  readonly vec4: boolean;
  /** Channel groups (vec4s or floats) per invocation: 2 when their count per pixel is even, else 1. */
  readonly groupsPerInvocation: 1 | 2;
  /** Invocations doing work, over all chunks: output vec4s (or floats) / groupsPerInvocation. */
  readonly workItems: number;
  /** Workgroups of the first chunk's dispatch, `[gx, gy]` (the whole call's when it is one chunk). */
  readonly groups: readonly [number, number];
  /** Stage-1 partial sums written over all chunks (one per work item). */
  readonly partialCount: number;
  /** Bytes of x (and of dx). */
  readonly xBytes: number;
  /** Bytes of y (and of dy). */
  readonly yBytes: number;
  /** Bytes of the partial-sum scratch: the largest chunk's stage-1 partials (16 per work item). */
  readonly partialBytes: number;
  /** The first chunk's forward/backward `Params` uniform, 8 u32. */
  readonly params: Uint32Array<ArrayBuffer>;
  /**
   * The dLogits `Params` uniform, `[partial_count, k, 0, 0]`: the stage-1 work items for one
   * chunk, the number of chunk sums for a split call (2x2 kernels; a general plan holds its
   * finishing sort_pool2d_general_dlogits.wgsl `Params` here, 8 u32).
   */
  readonly dLogitsParams: Uint32Array<ArrayBuffer>;
  /** The limits every binding of this plan was checked against. */
  readonly limits: BindingLimits;
  /** The call's chunks in dispatch order (one when everything fits). */
  readonly chunks: readonly SortPoolChunk[];
  /** Byte ranges of dx no chunk writes, cleared to 0 by the backward pass. */
  readonly clears: readonly ByteRange[];
  /** Scratch bytes for staged x / dx ranges (0: nothing staged). */
  readonly stageXBytes: number;
  /** Scratch bytes for staged y / dy ranges (0: nothing staged). */
  readonly stageYBytes: number;
  /** Bytes of the per-chunk dLogits sums (0 for one chunk). */
  readonly chunkSumBytes: number;
}

/**
 * Where a call's rank weights come from (SPEC.md §5 "Weights"), one of:
 * - `logits`: a GPU buffer of k (shared) or C·k (per channel) float32 logits; the weights kernel
 *   (sort_pool2d_weights.wgsl) evaluates softmax as its limit on the GPU (the `sortPool2d` op: its
 *   logits are a tensor);
 * - `weights`: k or C·k float32 weights computed on the host (src/spec.ts `float32Weights`: float64
 *   softmax per group of k, rounded to float32), written with queue.writeBuffer (the registry
 *   entries, which receive logits as JS numbers).
 */
export type WeightsSource =
  | { readonly logits: GPUBuffer; readonly weights?: undefined }
  | { readonly weights: Float32Array; readonly logits?: undefined };

/** GPU buffers of a forward call (x and the weights source read; y written). */
export type ForwardBuffers = WeightsSource & {
  readonly x: GPUBuffer;
  readonly y: GPUBuffer;
};

/**
 * GPU buffers of a backward call (x, the weights source, dy read; dx, dLogits written; the
 * partial-sum scratch comes from the `ScratchBuffers` passed to `encodeBackward`).
 */
export type BackwardBuffers = WeightsSource & {
  readonly x: GPUBuffer;
  readonly dy: GPUBuffer;
  readonly dx: GPUBuffer;
  /** At least 16 bytes; receives the logits' length of floats (k, or C·k per channel). */
  readonly dLogits: GPUBuffer;
};

type SourceName = keyof KernelSources;
type UniformName =
  | "forward"
  | "backward"
  | "dLogits"
  | "partialSums"
  | "weights"
  | "generalWeights"
  | "generalForward"
  | "generalRanks"
  | "generalGather"
  | "generalDLogits";

/** Usage of staging scratch (read and written by kernels, copied to and from the data buffers). */
const STAGE = (): GPUBufferUsageFlags => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/**
 * Checks that `buffer` has `flags` (staged chunks copy inputs out and outputs in; cleared dx rows
 * need COPY_DST), so a caller's buffer missing one fails here, naming it, not as a validation error.
 */
function requireUsage(buffer: GPUBuffer, flags: GPUBufferUsageFlags, what: string): void {
  if ((buffer.usage & flags) !== flags) {
    throw new Error(
      `SortPoolKernels: ${what}: this plan copies it, so it needs usage ${flags}, received ${buffer.usage}`,
    );
  }
}

function scratchOf(scratch: ScratchBuffers | undefined): ScratchBuffers {
  if (!scratch) throw new Error("SortPoolKernels: this plan stages unaligned chunks and needs scratch buffers");
  return scratch;
}
type LayoutName =
  | "forward"
  | "backward"
  | "dLogits"
  | "weights"
  | "partialSums"
  | "generalForward"
  | "generalRanks"
  | "generalGather"
  | "generalDLogits";

const RO: GPUBufferBindingType = "read-only-storage";
const RW: GPUBufferBindingType = "storage";
const UNIFORM: GPUBufferBindingType = "uniform";

/** Binding types of each kernel, in binding order (they mirror the WGSL headers). */
const LAYOUTS: Record<LayoutName, GPUBufferBindingType[]> = {
  forward: [RO, UNIFORM, RW, UNIFORM],
  backward: [RO, UNIFORM, RO, RW, RW, UNIFORM],
  dLogits: [RO, UNIFORM, RW, UNIFORM],
  weights: [RO, RW, UNIFORM],
  partialSums: [RO, RW, UNIFORM],
  generalForward: [RO, RO, RW, UNIFORM],
  generalRanks: [RO, RO, RW, RW, UNIFORM],
  generalGather: [RO, RO, RO, RW, UNIFORM],
  generalDLogits: [RO, RO, RW, UNIFORM],
};

function layoutOf(name: SourceName): LayoutName {
  if (name.startsWith("forward")) return "forward";
  if (name.startsWith("backward")) return "backward";
  if (name.startsWith("generalForward")) return "generalForward";
  if (name.startsWith("generalRanks")) return "generalRanks";
  if (name.startsWith("generalGather")) return "generalGather";
  if (name === "generalWeights") return "weights";
  return name as LayoutName;
}

/** The general window kernels, which take the pipeline constants KH, KW and K. */
const WINDOW_KERNELS: readonly LayoutName[] = ["generalForward", "generalRanks", "generalGather"];
/** Their sources (scalar and vec4 variants). */
const GENERAL_WINDOW_SOURCES: readonly SourceName[] = [
  "generalForward",
  "generalForwardVec4",
  "generalRanks",
  "generalRanksVec4",
  "generalGather",
  "generalGatherVec4",
];

/** The chunk-planning request of a general-window call (src/webgpu/chunks.ts planGeneralChunks). */
function generalRequest(shape: Shape4, k: number, geometry: PoolGeometry, perChannel: boolean): GeneralChunkRequest {
  const outShape: Shape4 = [shape[0], geometry.rows.out, geometry.cols.out, shape[3]];
  const lanes = shape[3] % 4 === 0 ? 4 : 1;
  return { shape, outShape, lanes, k, perChannel, segment: Math.min(geometry.cols.out, GENERAL_SEGMENT) };
}

/**
 * The most bytes one image of a case binds in the general kernels (its x, y, kept-cell records
 * or dLogits partial sums), or undefined when the case runs the 2x2 kernels (2x2 windows, stride
 * 2, shared logits). SortPoolKernels refuses a general case, with a SortPoolArgumentError naming
 * x, exactly when this exceeds maxStorageBufferBindingSize (or x or y exceeds maxBufferSize, or
 * the k·C-float weights table the binding limit): general calls are split along the batch only.
 * For checks that predict the refusal (props/limits.ts).
 *
 * @param window poolSize, strides and logits length of a validated case (absent: the defaults).
 */
export function generalImageBytes(
  shape: Shape4,
  k: number,
  padding: Padding,
  window: PlanWindow = {},
): number | undefined {
  const geometry = poolGeometry(shape, padding, window);
  const perChannel = isPerChannel(window.logitsLength ?? k, k, shape[3]);
  if (isDefaultWindow(geometry) && !perChannel) return undefined;
  const bytes = generalBytesPerImage(generalRequest(shape, k, geometry, perChannel));
  return Math.max(bytes.x, bytes.y, bytes.ranks, bytes.partials);
}

/** Bytes rendered with a binary unit, e.g. "128 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

/**
 * Workgroup grid `[gx, gy]` for `count` workgroups when one dimension holds at most `maxPerDim`:
 * 1-D while it fits, else 2-D (the kernels linearise it). Throws when even 2-D cannot hold it.
 */
export function dispatchGrid(count: number, maxPerDim: number): [number, number] {
  if (count <= maxPerDim) return [Math.max(1, count), 1];
  const gy = Math.ceil(count / maxPerDim);
  if (gy > maxPerDim) {
    throw new RangeError(`dispatch of ${count} workgroups exceeds ${maxPerDim}² (maxComputeWorkgroupsPerDimension²)`);
  }
  return [maxPerDim, gy];
}

/**
 * The sort_pool2d kernels compiled for one device. Each `encode*` call writes its kernel's
 * uniform buffer with `queue.writeBuffer` and records a compute pass: submit the encoder before
 * encoding the same kernel again with another plan (every host in this project submits once per
 * operation). Forward, backward and dLogits have separate uniforms, so one encoder may hold one
 * of each.
 */
export class SortPoolKernels {
  readonly #device: GPUDevice;
  readonly #sources: KernelSources;
  readonly #tracker: BufferTracker;
  readonly #workgroupSize: number;
  readonly #forwardWorkgroupSize: number;
  readonly #maxPerDim: number;
  readonly #limits: BindingLimits;
  readonly #uniformStride: number;
  readonly #generalStride: number;
  readonly #mutatePlan: ((plan: SortPoolPlan) => SortPoolPlan) | undefined;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #modules = new Map<SourceName, GPUShaderModule>();
  readonly #layouts = new Map<LayoutName, GPUBindGroupLayout>();
  readonly #uniforms = new Map<UniformName, GPUBuffer>();
  /**
   * Per 2x2 forward chunk, its last bind group and the buffers it binds: a call repeating a plan
   * on the same buffers (a training loop, the benchmarks) reuses it instead of creating one.
   */
  readonly #forwardGroups = new WeakMap<SortPoolChunk, { buffers: readonly GPUBuffer[]; group: GPUBindGroup }>();
  /** The forward uniform's contents as last written (a repeated plan skips the write). */
  readonly #forwardWritten = new WeakMap<GPUBuffer, Uint32Array>();
  /**
   * Recent plans by their arguments: a repeated call (the tfjs op plans every call) gets the same
   * plan, so its chunks' forward bind groups are reused. Plans are never modified after creation.
   */
  readonly #recentPlans = new Map<string, SortPoolPlan>();
  /** Per logits buffer, the last 2x2 weights bind group and what it binds (reused like the forward's). */
  readonly #weightsGroups = new WeakMap<GPUBuffer, { k: number; buffers: readonly GPUBuffer[]; group: GPUBindGroup }>();
  /** The k last written to the 2x2 weights kernel's uniform (a repeated k skips the write). */
  readonly #weightsWrittenK = new WeakMap<GPUBuffer, number>();
  #weights: GPUBuffer | undefined;
  #generalWeights: GPUBuffer | undefined;

  /** Kernels on `device` from `sources`; uniform buffers are created through `tracker`. */
  constructor(device: GPUDevice, sources: KernelSources, tracker: BufferTracker, options: KernelOptions = {}) {
    this.#device = device;
    this.#sources = sources;
    this.#tracker = tracker;
    const wg = options.workgroupSize ?? DEFAULT_WORKGROUP_SIZE;
    const maxWg = Math.min(device.limits.maxComputeInvocationsPerWorkgroup, device.limits.maxComputeWorkgroupSizeX);
    if (!Number.isSafeInteger(wg) || wg < 1 || (wg & (wg - 1)) !== 0 || wg > maxWg) {
      throw new RangeError(`workgroupSize: expected a power of two in 1..${maxWg}, received ${wg}`);
    }
    this.#workgroupSize = wg;
    this.#forwardWorkgroupSize = options.workgroupSize ?? Math.min(DEFAULT_FORWARD_WORKGROUP_SIZE, maxWg);
    this.#maxPerDim = options.maxWorkgroupsPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension;
    if (!Number.isSafeInteger(this.#maxPerDim) || this.#maxPerDim < 1) {
      throw new RangeError(`maxWorkgroupsPerDimension: expected a positive integer, received ${this.#maxPerDim}`);
    }
    this.#limits = this.#stricter(
      {
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        minStorageBufferOffsetAlignment: device.limits.minStorageBufferOffsetAlignment,
        maxBufferSize: device.limits.maxBufferSize,
      },
      {
        ...options.limits,
        ...(options.maxBindingBytes === undefined ? {} : { maxStorageBufferBindingSize: options.maxBindingBytes }),
      },
    );
    // Per-chunk uniforms live side by side in one buffer, at offsets the device accepts.
    this.#uniformStride = Math.max(32, device.limits.minUniformBufferOffsetAlignment);
    // The general kernels' uniform blocks are 64 bytes.
    this.#generalStride = Math.max(64, device.limits.minUniformBufferOffsetAlignment);
    this.#mutatePlan = options.mutatePlan;
  }

  /** `base` with `override`'s limits applied; each may only be stricter (lower sizes, a larger power-of-two alignment). */
  #stricter(base: BindingLimits, override: Partial<BindingLimits> | undefined): BindingLimits {
    const out = { ...base };
    for (const key of ["maxStorageBufferBindingSize", "maxBufferSize"] as const) {
      const v = override?.[key];
      if (v === undefined) continue;
      if (!Number.isSafeInteger(v) || v < 16 || v > base[key]) {
        throw new RangeError(`limits.${key}: expected an integer in 16..${base[key]} (the device's), received ${v}`);
      }
      out[key] = v;
    }
    const a = override?.minStorageBufferOffsetAlignment;
    if (a !== undefined) {
      if (!Number.isSafeInteger(a) || (a & (a - 1)) !== 0 || a < base.minStorageBufferOffsetAlignment) {
        throw new RangeError(
          `limits.minStorageBufferOffsetAlignment: expected a power of two >= ${base.minStorageBufferOffsetAlignment} ` +
            `(the device's), received ${a}`,
        );
      }
      out.minStorageBufferOffsetAlignment = a;
    }
    return checkLimits(out);
  }

  /** The limits plans are checked against (the device's, or stricter ones from the options). */
  get limits(): BindingLimits {
    return this.#limits;
  }

  /** The device the kernels run on. */
  get device(): GPUDevice {
    return this.#device;
  }

  /** Invocations per workgroup of the forward and backward kernels. */
  get workgroupSize(): number {
    return this.#workgroupSize;
  }

  /**
   * Geometry, uniforms and chunks for one shape: every buffer the kernels will bind (x, y, dy, dx
   * ranges, the partial sums, staging and chunk-sum scratch, uniforms) is sized here and fits
   * `limits` (these kernels' limits, made stricter by the per-call `limits`), so nothing is queued
   * for a call that could not run.
   *
   * 2x2 windows with stride 2 and shared logits (the article's layer) run the 2x2 kernels: a call
   * past the storage-binding limit is split along the batch, then along rows (src/webgpu/chunks.ts
   * planChunks). Any other window or stride, or per-channel logits (`window`), runs the general
   * kernels (kernels/sort_pool2d_general_*.wgsl), split along the batch only (planGeneralChunks).
   * Refuses, with a SortPoolArgumentError naming x, only what cannot fit even then (a window row,
   * or for the general kernels one image, past the binding limit; x past maxBufferSize; a dispatch
   * past maxComputeWorkgroupsPerDimension²).
   *
   * @param window poolSize, strides and the logits' length (k or C·k) of a validated case
   *   (src/validate.ts); absent fields are 2x2, stride 2, shared.
   */
  plan(
    shape: Shape4,
    k: number,
    padding: Padding,
    limits?: Partial<BindingLimits>,
    window: PlanWindow = {},
  ): SortPoolPlan {
    const cacheKey = this.#mutatePlan ? undefined : JSON.stringify([shape, k, padding, limits ?? null, window]);
    const recent = cacheKey === undefined ? undefined : this.#recentPlans.get(cacheKey);
    if (recent) return recent;
    const effective = limits ? this.#stricter(this.#limits, limits) : this.#limits;
    const geometry = poolGeometry(shape, padding, window);
    const logitsLength = window.logitsLength ?? k;
    if (logitsLength !== k && logitsLength !== k * shape[3]) {
      throw new RangeError(`logitsLength: expected k = ${k} or C·k = ${k * shape[3]}, received ${logitsLength}`);
    }
    const perChannel = isPerChannel(logitsLength, k, shape[3]);
    const plan = isDefaultWindow(geometry) && !perChannel
      ? this.#planDefault(shape, k, padding, effective)
      : this.#planGeneral(shape, k, padding, effective, geometry, perChannel, logitsLength);
    const stride = plan.general ? this.#generalStride : this.#uniformStride;
    const blocks = plan.chunks.length + (plan.general ? 1 : 0);
    if (blocks * stride > effective.maxBufferSize) {
      throw new SortPoolArgumentError(
        "x",
        `a shape split into at most ${Math.floor(effective.maxBufferSize / stride)} chunks`,
        `${plan.chunks.length} chunks`,
      );
    }
    if (cacheKey === undefined) return this.#mutatePlan ? this.#mutatePlan(plan) : plan;
    if (this.#recentPlans.size >= RECENT_PLANS) this.#recentPlans.clear();
    this.#recentPlans.set(cacheKey, plan);
    return plan;
  }

  /** A dispatch grid for `items` invocations, or a SortPoolArgumentError naming x. */
  #grid(items: number, perGroup = this.#workgroupSize): [number, number] {
    try {
      return dispatchGrid(Math.ceil(items / perGroup), this.#maxPerDim);
    } catch (e) {
      throw new SortPoolArgumentError("x", `a shape whose ${items} work items fit one dispatch`, (e as Error).message);
    }
  }

  /** The plan of the 2x2 / stride 2 kernels with shared weights. */
  #planDefault(shape: Shape4, k: number, padding: Padding, effective: BindingLimits): SortPoolPlan {
    const outShape = outputShape(shape, padding);
    const [, , w, c] = shape;
    const vec4 = c % 4 === 0;
    const lanes = vec4 ? 4 : 1;
    const xBytes = sizeOf(shape) * 4;
    const yBytes = sizeOf(outShape) * 4;
    const groupsPerInvocation = (c / lanes) % 2 === 0 ? 2 : 1;
    const layout = planChunks({ shape, padding, lanes, groupsPerInvocation }, effective);
    const chunks: SortPoolChunk[] = layout.chunks.map((chunk) => {
      const groups = this.#grid(chunk.workItems);
      const params = new Uint32Array([
        chunk.inRows,
        w,
        c / lanes,
        chunk.outRows,
        outShape[2],
        k,
        chunk.workItems,
        0,
      ]);
      return { ...chunk, params, groups, forwardGroups: this.#grid(chunk.workItems, this.#forwardWorkgroupSize) };
    });
    const single = chunks.length === 1;
    const workItems = sizeOf(outShape) / lanes / groupsPerInvocation;
    return {
      shape,
      outShape,
      k,
      padding,
      vec4,
      groupsPerInvocation,
      workItems,
      groups: chunks[0].groups,
      partialCount: workItems,
      xBytes,
      yBytes,
      partialBytes: layout.partialBytes,
      params: chunks[0].params,
      dLogitsParams: new Uint32Array([single ? chunks[0].workItems : chunks.length, k, 0, 0]),
      limits: effective,
      chunks,
      clears: layout.clears,
      stageXBytes: layout.stageXBytes,
      stageYBytes: layout.stageYBytes,
      chunkSumBytes: layout.chunkSumBytes,
    };
  }

  /** The plan of the general kernels: any window and stride, or per-channel weights. */
  #planGeneral(
    shape: Shape4,
    k: number,
    padding: Padding,
    effective: BindingLimits,
    geometry: PoolGeometry,
    perChannel: boolean,
    logitsLength: number,
  ): SortPoolPlan {
    const [, h, w, c] = shape;
    const { rows, cols } = geometry;
    const request = generalRequest(shape, k, geometry, perChannel);
    const { outShape, lanes, segment } = request;
    const channelGroups = c / lanes;
    const segments = Math.ceil(cols.out / segment);
    const layout = planGeneralChunks(request, effective);
    const split = layout.chunks.length > 1;
    const weightGroups = layout.weightGroups;
    const quads = layout.quads;
    const windowParams = [
      h,
      w,
      channelGroups,
      rows.out,
      cols.out,
      rows.stride,
      cols.stride,
      rows.padBefore,
      cols.padBefore,
    ];
    const chunks: GeneralChunk[] = layout.chunks.map((chunk) => {
      const tail = [chunk.xBase, chunk.yBase, segment, segments, chunk.rankPlane, perChannel ? 1 : 0];
      return {
        ...chunk,
        params: new Uint32Array([...windowParams, chunk.forwardItems, chunk.xBase, chunk.yBase, 0, 0, 0, 0]),
        groups: this.#grid(chunk.forwardItems),
        rankParams: new Uint32Array([...windowParams, chunk.workItems, ...tail]),
        rankGroups: this.#grid(chunk.workItems),
        gatherParams: new Uint32Array([...windowParams, chunk.gatherItems, ...tail]),
        gatherGroups: this.#grid(chunk.gatherItems),
        dLogitsParams: new Uint32Array([
          chunk.partialTerms,
          layout.termStride,
          weightGroups,
          k,
          c,
          split ? 0 : 1,
          chunk.index > 0 ? 1 : 0,
          quads,
        ]),
      };
    });
    this.#grid(weightGroups, 1);
    const finishParams = split
      ? new Uint32Array([1, weightGroups * quads, weightGroups, k, c, 1, 0, quads])
      : undefined;
    return {
      shape,
      outShape,
      k,
      padding,
      general: {
        geometry,
        perChannel,
        logitsLength,
        weightsBytes: layout.weightsBytes,
        ranksBytes: layout.ranksBytes,
        weightGroups,
        finishParams,
        constants: { KH: geometry.poolSize[0], KW: geometry.poolSize[1], K: k },
      },
      vec4: lanes === 4,
      groupsPerInvocation: 1,
      workItems: sizeOf(outShape) / lanes,
      groups: chunks[0].groups,
      partialCount: chunks.reduce((n, chunk) => n + chunk.workItems, 0),
      xBytes: sizeOf(shape) * 4,
      yBytes: sizeOf(outShape) * 4,
      partialBytes: layout.partialBytes,
      params: chunks[0].params,
      dLogitsParams: finishParams ?? chunks[0].dLogitsParams,
      limits: effective,
      chunks,
      clears: [],
      stageXBytes: layout.stageXBytes,
      stageYBytes: layout.stageYBytes,
      chunkSumBytes: layout.chunkSumBytes,
    };
  }

  /**
   * Compiles every pipeline asynchronously, so a shader error rejects with the compiler's
   * messages instead of surfacing later as a validation error.
   */
  async ready(): Promise<void> {
    const wanted: [SourceName, 1 | 2][] = [
      ["backward", 1],
      ["backward", 2],
      ["backwardVec4", 1],
      ["backwardVec4", 2],
      ["dLogits", 1],
      ["weights", 1],
      ["generalWeights", 1],
      ["partialSums", 1],
      ["generalDLogits", 1],
    ];
    for (const [name, groups] of wanted) {
      const key = `${name}/${groups}`;
      if (this.#pipelines.has(key)) continue;
      const module = await this.#checkedModule(name);
      this.#device.pushErrorScope("validation");
      const pipeline = await this.#device.createComputePipelineAsync(this.#descriptor(name, module, groups))
        .finally(() => this.#device.popErrorScope());
      this.#pipelines.set(key, pipeline);
    }
    // The 2x2 forward kernels are specialised per k (pipeline constant K) when a call first needs
    // them; their sources are compiled here so that a broken one fails now.
    for (const name of ["forward", "forwardVec4"] as const) await this.#checkedModule(name);
    // The general window kernels are specialised per window and k (pipeline constants) when a call
    // first needs them; their sources are compiled here so that a broken one fails now.
    for (const name of GENERAL_WINDOW_SOURCES) await this.#checkedModule(name);
  }

  /** The shader module of `name`, compiled once; rejects with the compiler's messages. */
  async #checkedModule(name: SourceName): Promise<GPUShaderModule> {
    const held = this.#modules.get(name);
    if (held) return held;
    // An error scope keeps a bad shader's validation error out of the device's uncaptured errors.
    this.#device.pushErrorScope("validation");
    const module = this.#device.createShaderModule({ label: `sortpool ${name}`, code: this.#sources[name] });
    const info = await module.getCompilationInfo();
    const scoped = await this.#device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || scoped) {
      const messages = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
      throw new Error(`WGSL ${name}: compilation failed: ${messages.join("; ") || scoped?.message}`);
    }
    this.#modules.set(name, module);
    return module;
  }

  #module(name: SourceName): GPUShaderModule {
    let module = this.#modules.get(name);
    if (!module) {
      module = this.#device.createShaderModule({ label: `sortpool ${name}`, code: this.#sources[name] });
      this.#modules.set(name, module);
    }
    return module;
  }

  #layout(kind: LayoutName): GPUBindGroupLayout {
    let layout = this.#layouts.get(kind);
    if (!layout) {
      layout = this.#device.createBindGroupLayout({
        label: `sortpool ${kind}`,
        entries: LAYOUTS[kind].map((type, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type },
        })),
      });
      this.#layouts.set(kind, layout);
    }
    return layout;
  }

  #descriptor(
    name: SourceName,
    module: GPUShaderModule,
    groups: 1 | 2,
    window?: GeneralPlan["constants"],
    forward?: ForwardConstants,
  ): GPUComputePipelineDescriptor {
    const kind = layoutOf(name);
    const constants: Record<string, number> = {};
    if (kind === "forward" || kind === "backward") {
      constants.WORKGROUP_SIZE = kind === "forward" ? this.#forwardWorkgroupSize : this.#workgroupSize;
      constants.GROUPS_PER_INVOCATION = groups;
      if (kind === "forward") {
        if (!forward) throw new Error(`SortPoolKernels: ${name} needs the constants K, FULL_WINDOWS, FEW_ITEMS`);
        constants.K = forward.k;
        constants.FULL_WINDOWS = forward.fullWindows ? 1 : 0;
        constants.FEW_ITEMS = forward.fewItems ? 1 : 0;
      }
    } else if (kind === "dLogits" || kind === "partialSums") {
      constants.WORKGROUP_SIZE = DLOGITS_WORKGROUP_SIZE;
    } else if (kind === "generalDLogits") {
      constants.WORKGROUP_SIZE = GENERAL_DLOGITS_WORKGROUP_SIZE;
    } else if (name === "generalWeights") {
      // sort_pool2d_weights.wgsl (the 2x2 path's vec4) is one fixed invocation: no constants.
      constants.WORKGROUP_SIZE = WEIGHTS_WORKGROUP_SIZE;
    } else if (WINDOW_KERNELS.includes(kind)) {
      if (!window) throw new Error(`SortPoolKernels: ${name} needs the window constants KH, KW, K`);
      Object.assign(constants, { WORKGROUP_SIZE: this.#workgroupSize, ...window });
    }
    return {
      label: `sortpool ${name}`,
      layout: this.#device.createPipelineLayout({ bindGroupLayouts: [this.#layout(kind)] }),
      compute: { module, entryPoint: "main", constants },
    };
  }

  /**
   * A 2x2, dLogits or weights kernel; `forward` specialises the 2x2 forward kernels (their
   * constants K, FULL_WINDOWS and FEW_ITEMS).
   */
  #pipeline(name: SourceName, groups: 1 | 2 = 1, forward?: ForwardConstants): GPUComputePipeline {
    const variant = forward
      ? `/k${forward.k}/${forward.fullWindows ? "full" : "padded"}/${forward.fewItems ? "few" : "many"}`
      : "";
    const key = `${name}/${groups}${variant}`;
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      const descriptor = this.#descriptor(name, this.#module(name), groups, undefined, forward);
      pipeline = this.#device.createComputePipeline(descriptor);
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** A general window kernel specialised for one window and k (created synchronously on first use). */
  #windowPipeline(name: SourceName, window: GeneralPlan["constants"]): GPUComputePipeline {
    const key = `${name}/${window.KH}x${window.KW}/k${window.K}`;
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      pipeline = this.#device.createComputePipeline(this.#descriptor(name, this.#module(name), 1, window));
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * Every pipeline this kernel set can create for any valid call, with its workgroup sizes: per
   * source, the choices `#pipeline` and `#windowPipeline` receive from the planners (2x2 forward
   * and backward: each groups-per-invocation, forward also each k, window and item-count flag;
   * general window kernels: every window and k; the others: their one pipeline). Nothing is
   * created; the compile matrix (src/webgpu/compile_matrix.test.ts) creates each.
   */
  pipelineVariants(): PipelineVariant[] {
    const out: PipelineVariant[] = [];
    for (const source of Object.keys(this.#sources) as SourceName[]) {
      const kind = layoutOf(source);
      if (WINDOW_KERNELS.includes(kind)) {
        for (const window of windowConstantSets()) out.push({ source, groupsPerInvocation: 1, window });
      } else if (kind === "forward") {
        for (const groupsPerInvocation of GROUPS_PER_INVOCATION) {
          for (const forward of everyCombination<ForwardConstants>(FORWARD_CONSTANT_VALUES)) {
            out.push({ source, groupsPerInvocation, forward });
          }
        }
      } else if (kind === "backward") {
        for (const groupsPerInvocation of GROUPS_PER_INVOCATION) out.push({ source, groupsPerInvocation });
      } else {
        out.push({ source, groupsPerInvocation: 1 });
      }
    }
    return out;
  }

  /**
   * The descriptor the pipeline cache creates `variant` with (label, layout, entry point, override
   * constants), on `module` (default: this set's module of the variant's source).
   */
  pipelineDescriptor(variant: PipelineVariant, module?: GPUShaderModule): GPUComputePipelineDescriptor {
    return this.#descriptor(
      variant.source,
      module ?? this.#module(variant.source),
      variant.groupsPerInvocation,
      variant.window,
      variant.forward,
    );
  }

  /** The uniform buffer of `which`, at least `bytes` long (grown to the next power of two when too small). */
  #uniform(which: UniformName, bytes = 32): GPUBuffer {
    const held = this.#uniforms.get(which);
    if (held && held.size >= bytes) return held;
    // Work already submitted keeps the old buffer alive until it completes (WebGPU destroy semantics).
    if (held) this.#tracker.destroy(held);
    const buffer = this.#tracker.create(this.#device, {
      label: `sortpool ${which} params`,
      size: Math.max(32, 2 ** Math.ceil(Math.log2(bytes))),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#uniforms.set(which, buffer);
    return buffer;
  }

  /** Writes one uniform block per chunk, `stride` bytes apart (default `#uniformStride`), into `uniform`. */
  #writeChunkUniforms(uniform: GPUBuffer, blocks: readonly Uint32Array[], strideBytes = this.#uniformStride): void {
    const stride = strideBytes / 4;
    const packed = new Uint32Array(blocks.length * stride);
    blocks.forEach((block, i) => packed.set(block, i * stride));
    this.#device.queue.writeBuffer(uniform, 0, packed);
  }

  /** The rank weights: written by the weights kernel or the host, read as a uniform by the others. */
  #weightsBuffer(): GPUBuffer {
    return this.#weights ??= this.#tracker.create(this.#device, {
      label: "sortpool weights",
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /** A bind group of `kind`: binding i is `size` bytes of buffer i from `offset` (default 0). */
  #bind(kind: LayoutName, entries: (readonly [GPUBuffer, number, number?])[]): GPUBindGroup {
    return this.#device.createBindGroup({
      layout: this.#layout(kind),
      entries: entries.map(([buffer, size, offset], binding) => ({
        binding,
        resource: { buffer, offset: offset ?? 0, size },
      })),
    });
  }

  /**
   * Fills the weights uniform for `plan`: host weights are written now (queue order puts the
   * write before the submit of the encoder being recorded); logits record the weights kernel
   * into `pass` (one column, 4 rows: the vec4 the 2x2 kernels read).
   */
  #encodeWeights(pass: GPUComputePassEncoder, plan: SortPoolPlan, source: WeightsSource): void {
    if (source.weights) {
      if (source.weights.length !== plan.k) {
        throw new RangeError(`weights: expected k = ${plan.k} floats, received ${source.weights.length}`);
      }
      const padded = new Float32Array(4);
      padded.set(source.weights);
      this.#device.queue.writeBuffer(this.#weightsBuffer(), 0, padded);
      return;
    }
    // sort_pool2d_weights.wgsl reads the 2x2 kernels' 32-byte Params, of which only k (the sixth u32).
    const params = this.#uniform("weights", 32);
    // Only this method writes that uniform (queue order: see encodeForward's forward uniform).
    if (this.#weightsWrittenK.get(params) !== plan.k) {
      this.#device.queue.writeBuffer(params, 0, new Uint32Array([0, 0, 0, 0, 0, plan.k, 0, 0]));
      this.#weightsWrittenK.set(params, plan.k);
    }
    pass.setPipeline(this.#pipeline("weights"));
    const bound = [this.#weightsBuffer(), params];
    const held = this.#weightsGroups.get(source.logits);
    let group = held?.k === plan.k && held.buffers.every((b, i) => b === bound[i]) ? held.group : undefined;
    if (!group) {
      group = this.#bind("weights", [[source.logits, plan.k * 4], [this.#weightsBuffer(), 16], [params, 32]]);
      this.#weightsGroups.set(source.logits, { k: plan.k, buffers: bound, group });
    }
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1);
  }

  /** The general kernels' rank weights table (k rows of C floats), grown as calls need. */
  #generalWeightsBuffer(bytes: number): GPUBuffer {
    if (this.#generalWeights && this.#generalWeights.size >= bytes) return this.#generalWeights;
    if (this.#generalWeights) this.#tracker.destroy(this.#generalWeights);
    this.#generalWeights = this.#tracker.create(this.#device, {
      label: "sortpool general weights",
      size: Math.max(256, 2 ** Math.ceil(Math.log2(bytes))),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    return this.#generalWeights;
  }

  /**
   * Fills the general kernels' weights table for `plan` (row r = w[r] of every channel; the
   * shared weights repeated in every column): host weights are expanded and written now, logits
   * record the weights kernel (one invocation per channel) into `pass`. Returns the table.
   */
  #encodeGeneralWeights(pass: GPUComputePassEncoder, plan: SortPoolPlan, source: WeightsSource): GPUBuffer {
    const general = plan.general!;
    const { k } = plan;
    const channels = plan.shape[3];
    const table = this.#generalWeightsBuffer(general.weightsBytes);
    if (source.weights) {
      const w = source.weights;
      if (w.length !== general.logitsLength) {
        throw new RangeError(
          `weights: expected ${general.logitsLength} floats (the logits' length), received ${w.length}`,
        );
      }
      const rows = new Float32Array(k * channels);
      for (let r = 0; r < k; r++) {
        for (let c = 0; c < channels; c++) rows[r * channels + c] = w[general.perChannel ? c * k + r : r];
      }
      this.#device.queue.writeBuffer(table, 0, rows);
      return table;
    }
    const params = this.#uniform("generalWeights", 16);
    this.#device.queue.writeBuffer(params, 0, new Uint32Array([k, channels, general.perChannel ? 1 : 0, k]));
    pass.setPipeline(this.#pipeline("generalWeights"));
    pass.setBindGroup(
      0,
      this.#bind("weights", [[source.logits, general.logitsLength * 4], [table, general.weightsBytes], [params, 16]]),
    );
    pass.dispatchWorkgroups(Math.ceil(channels / WEIGHTS_WORKGROUP_SIZE));
    return table;
  }

  /** The forward pass of a general plan (see encodeForward). */
  #encodeGeneralForward(
    encoder: GPUCommandEncoder,
    plan: SortPoolPlan,
    buffers: ForwardBuffers,
    scratch: ScratchBuffers | undefined,
  ): void {
    const general = plan.general!;
    const chunks = plan.chunks as readonly GeneralChunk[];
    if (plan.stageXBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.y, GPUBufferUsage.COPY_DST, "y");
    }
    const stageX = plan.stageXBytes > 0 ? scratchOf(scratch).get("stage x", plan.stageXBytes, STAGE()) : undefined;
    const stageY = plan.stageYBytes > 0 ? scratchOf(scratch).get("stage y", plan.stageYBytes, STAGE()) : undefined;
    const stride = this.#generalStride;
    const uniform = this.#uniform("generalForward", chunks.length * stride);
    this.#writeChunkUniforms(uniform, chunks.map((chunk) => chunk.params), stride);
    const pipeline = this.#windowPipeline(plan.vec4 ? "generalForwardVec4" : "generalForward", general.constants);
    let pass = encoder.beginComputePass({ label: "sortpool general forward" });
    const table = this.#encodeGeneralWeights(pass, plan, buffers);
    for (const chunk of chunks) {
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(buffers.x, chunk.x.offset, stageX!, 0, chunk.x.size);
        pass = encoder.beginComputePass({ label: "sortpool general forward (staged chunk)" });
      }
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        this.#bind("generalForward", [
          chunk.staged ? [stageX!, chunk.x.size] : [buffers.x, chunk.x.size, chunk.x.offset],
          [table, general.weightsBytes],
          chunk.staged ? [stageY!, chunk.y.size] : [buffers.y, chunk.y.size, chunk.y.offset],
          [uniform, 64, chunk.index * stride],
        ]),
      );
      pass.dispatchWorkgroups(chunk.groups[0], chunk.groups[1]);
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(stageY!, 0, buffers.y, chunk.y.offset, chunk.y.size);
        pass = encoder.beginComputePass({ label: "sortpool general forward" });
      }
    }
    pass.end();
  }

  /** The backward pass of a general plan (see encodeBackward). */
  #encodeGeneralBackward(
    encoder: GPUCommandEncoder,
    plan: SortPoolPlan,
    buffers: BackwardBuffers,
    scratch: ScratchBuffers,
  ): void {
    const general = plan.general!;
    const chunks = plan.chunks as readonly GeneralChunk[];
    const split = chunks.length > 1;
    if (plan.stageXBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.dy, GPUBufferUsage.COPY_SRC, "dy");
      requireUsage(buffers.dx, GPUBufferUsage.COPY_DST, "dx");
    }
    const stageX = plan.stageXBytes > 0 ? scratch.get("stage x", plan.stageXBytes, STAGE()) : undefined;
    const stageDx = plan.stageXBytes > 0 ? scratch.get("stage dx", plan.stageXBytes, STAGE()) : undefined;
    const stageDy = plan.stageYBytes > 0 ? scratch.get("stage y", plan.stageYBytes, STAGE()) : undefined;
    if (buffers.dLogits.size < general.logitsLength * 4) {
      throw new RangeError(
        `dLogits: expected a buffer of at least ${general.logitsLength * 4} bytes, received ${buffers.dLogits.size}`,
      );
    }
    const stride = this.#generalStride;
    const rankUniform = this.#uniform("generalRanks", chunks.length * stride);
    this.#writeChunkUniforms(rankUniform, chunks.map((chunk) => chunk.rankParams), stride);
    const gatherUniform = this.#uniform("generalGather", chunks.length * stride);
    this.#writeChunkUniforms(gatherUniform, chunks.map((chunk) => chunk.gatherParams), stride);
    const dLogitsBlocks = chunks.map((chunk) => chunk.dLogitsParams);
    if (general.finishParams) dLogitsBlocks.push(general.finishParams);
    const dLogitsUniform = this.#uniform("generalDLogits", dLogitsBlocks.length * stride);
    this.#writeChunkUniforms(dLogitsUniform, dLogitsBlocks, stride);
    const partials = scratch.get("partials", plan.partialBytes, GPUBufferUsage.STORAGE);
    const ranks = scratch.get("ranks", general.ranksBytes, GPUBufferUsage.STORAGE);
    const chunkSums = split ? scratch.get("chunk sums", plan.chunkSumBytes, GPUBufferUsage.STORAGE) : undefined;
    const ranksPipeline = this.#windowPipeline(plan.vec4 ? "generalRanksVec4" : "generalRanks", general.constants);
    const gatherPipeline = this.#windowPipeline(plan.vec4 ? "generalGatherVec4" : "generalGather", general.constants);
    const dLogitsPipeline = this.#pipeline("generalDLogits");
    const dLogitsGrid = dispatchGrid(general.weightGroups, this.#maxPerDim);
    let pass = encoder.beginComputePass({ label: "sortpool general backward" });
    const table = this.#encodeGeneralWeights(pass, plan, buffers);
    for (const chunk of chunks) {
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(buffers.x, chunk.x.offset, stageX!, 0, chunk.x.size);
        encoder.copyBufferToBuffer(buffers.dy, chunk.y.offset, stageDy!, 0, chunk.y.size);
        pass = encoder.beginComputePass({ label: "sortpool general backward (staged chunk)" });
      }
      const x: readonly [GPUBuffer, number, number?] = chunk.staged
        ? [stageX!, chunk.x.size]
        : [buffers.x, chunk.x.size, chunk.x.offset];
      const dy: readonly [GPUBuffer, number, number?] = chunk.staged
        ? [stageDy!, chunk.y.size]
        : [buffers.dy, chunk.y.size, chunk.y.offset];
      // Pass 1: kept cells and this chunk's dLogits partials.
      pass.setPipeline(ranksPipeline);
      pass.setBindGroup(
        0,
        this.#bind("generalRanks", [
          x,
          dy,
          [ranks, chunk.ranksBytes],
          [partials, chunk.partialBytes],
          [rankUniform, 64, chunk.index * stride],
        ]),
      );
      pass.dispatchWorkgroups(chunk.rankGroups[0], chunk.rankGroups[1]);
      if (split) {
        // The next chunk overwrites the partials: add this chunk's sums to the running ones first,
        // in chunk order.
        pass.setPipeline(dLogitsPipeline);
        pass.setBindGroup(
          0,
          this.#bind("generalDLogits", [
            [partials, chunk.partialBytes],
            [table, general.weightsBytes],
            [chunkSums!, plan.chunkSumBytes],
            [dLogitsUniform, 32, chunk.index * stride],
          ]),
        );
        pass.dispatchWorkgroups(dLogitsGrid[0], dLogitsGrid[1]);
      }
      // Pass 2: dx of every input cell of the chunk (every element written, none cleared).
      pass.setPipeline(gatherPipeline);
      pass.setBindGroup(
        0,
        this.#bind("generalGather", [
          [ranks, chunk.ranksBytes],
          [table, general.weightsBytes],
          dy,
          chunk.staged ? [stageDx!, chunk.x.size] : [buffers.dx, chunk.x.size, chunk.x.offset],
          [gatherUniform, 64, chunk.index * stride],
        ]),
      );
      pass.dispatchWorkgroups(chunk.gatherGroups[0], chunk.gatherGroups[1]);
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(stageDx!, 0, buffers.dx, chunk.x.offset, chunk.x.size);
        pass = encoder.beginComputePass({ label: "sortpool general backward" });
      }
    }
    pass.setPipeline(dLogitsPipeline);
    pass.setBindGroup(
      0,
      this.#bind("generalDLogits", [
        split ? [chunkSums!, plan.chunkSumBytes] : [partials, chunks[0].partialBytes],
        [table, general.weightsBytes],
        [buffers.dLogits, general.logitsLength * 4],
        [dLogitsUniform, 32, (split ? chunks.length : 0) * stride],
      ]),
    );
    pass.dispatchWorkgroups(dLogitsGrid[0], dLogitsGrid[1]);
    pass.end();
  }

  /**
   * Records the forward pass of `plan` into `encoder`: weights, then the window kernel once per
   * chunk, each bound to its ranges of x and y (staged chunks through aligned scratch from
   * `scratch`, which only split calls with unaligned chunks need). With host weights
   * (`buffers.weights`) the weights uniform is written at once: submit this encoder before
   * encoding another call.
   */
  encodeForward(
    encoder: GPUCommandEncoder,
    plan: SortPoolPlan,
    buffers: ForwardBuffers,
    scratch?: ScratchBuffers,
  ): void {
    if (plan.general) return this.#encodeGeneralForward(encoder, plan, buffers, scratch);
    if (plan.stageXBytes > 0 || plan.stageYBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.y, GPUBufferUsage.COPY_DST, "y");
    }
    const stride = this.#uniformStride;
    const uniform = this.#uniform("forward", plan.chunks.length * stride);
    // Only encodeForward writes this uniform, and queue order puts every earlier write before
    // this call's submit: when the last one wrote these very blocks, the buffer holds them.
    const written = this.#forwardWritten.get(uniform);
    const blocks = plan.chunks.map((chunk) => chunk.params);
    const same = written !== undefined && written.length === blocks.length * 8 &&
      blocks.every((block, i) => block.every((v, j) => written[i * 8 + j] === v));
    if (!same) {
      this.#writeChunkUniforms(uniform, blocks);
      const copy = new Uint32Array(blocks.length * 8);
      blocks.forEach((block, i) => copy.set(block, i * 8));
      this.#forwardWritten.set(uniform, copy);
    }
    const stageX = plan.stageXBytes > 0 ? scratchOf(scratch).get("stage x", plan.stageXBytes, STAGE()) : undefined;
    const stageY = plan.stageYBytes > 0 ? scratchOf(scratch).get("stage y", plan.stageYBytes, STAGE()) : undefined;
    const weights = this.#weightsBuffer();
    // Every window lies inside x for "valid" padding, or for "same" with even H and W (SPEC.md §3).
    const [, h, w] = plan.shape;
    const fullWindows = plan.padding === "valid" || (h % 2 === 0 && w % 2 === 0);
    // Every chunk's work items (the largest slot index and divisor in the kernel) within 2^20.
    const fewItems = plan.chunks.every((chunk) => chunk.workItems <= FEW_ITEMS_LIMIT);
    const pipeline = this.#pipeline(plan.vec4 ? "forwardVec4" : "forward", plan.groupsPerInvocation, {
      k: plan.k,
      fullWindows,
      fewItems,
    });
    let pass = encoder.beginComputePass({ label: "sortpool forward" });
    this.#encodeWeights(pass, plan, buffers);
    for (const chunk of plan.chunks) {
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(buffers.x, chunk.x.offset, stageX!, 0, chunk.x.size);
        pass = encoder.beginComputePass({ label: "sortpool forward (staged chunk)" });
      }
      const bound = [chunk.staged ? stageX! : buffers.x, weights, chunk.staged ? stageY! : buffers.y, uniform];
      const held = this.#forwardGroups.get(chunk);
      let group = held?.buffers.every((b, i) => b === bound[i]) ? held.group : undefined;
      if (!group) {
        group = this.#bind("forward", [
          chunk.staged ? [stageX!, chunk.x.size] : [buffers.x, chunk.x.size, chunk.x.offset],
          [weights, 16],
          chunk.staged ? [stageY!, chunk.y.size] : [buffers.y, chunk.y.size, chunk.y.offset],
          [uniform, 32, chunk.index * stride],
        ]);
        this.#forwardGroups.set(chunk, { buffers: bound, group });
      }
      // Dispatches in one pass are ordered: each sees what the previous one wrote.
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      if (!chunk.forwardGroups) throw new Error("SortPoolKernels: a 2x2 plan's chunk lacks its forward grid");
      pass.dispatchWorkgroups(chunk.forwardGroups[0], chunk.forwardGroups[1]);
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(stageY!, 0, buffers.y, chunk.y.offset, chunk.y.size);
        pass = encoder.beginComputePass({ label: "sortpool forward" });
      }
    }
    pass.end();
  }

  /**
   * Records the backward pass of `plan`: weights; per chunk, dx with dLogits stage 1 into the
   * partial-sum scratch and, for a split call, that chunk's partials summed into its slot of the
   * chunk sums (kernels/sort_pool2d_partial_sums.wgsl); the dx rows no chunk covers cleared; then
   * dLogits stage 2 over the partials (one chunk) or the chunk sums. Scratch comes from `scratch`.
   */
  encodeBackward(
    encoder: GPUCommandEncoder,
    plan: SortPoolPlan,
    buffers: BackwardBuffers,
    scratch: ScratchBuffers,
  ): void {
    if (plan.general) return this.#encodeGeneralBackward(encoder, plan, buffers, scratch);
    if (plan.stageXBytes > 0 || plan.stageYBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.dy, GPUBufferUsage.COPY_SRC, "dy");
    }
    if (plan.stageXBytes > 0 || plan.clears.length > 0) requireUsage(buffers.dx, GPUBufferUsage.COPY_DST, "dx");
    const stride = this.#uniformStride;
    const split = plan.chunks.length > 1;
    const uniform = this.#uniform("backward", plan.chunks.length * stride);
    this.#writeChunkUniforms(uniform, plan.chunks.map((chunk) => chunk.params));
    const dLogitsUniform = this.#uniform("dLogits");
    this.#device.queue.writeBuffer(dLogitsUniform, 0, plan.dLogitsParams);
    const partials = scratch.get("partials", plan.partialBytes, GPUBufferUsage.STORAGE);
    let chunkSums: GPUBuffer | undefined;
    let sumsUniform: GPUBuffer | undefined;
    if (split) {
      chunkSums = scratch.get("chunk sums", plan.chunkSumBytes, GPUBufferUsage.STORAGE);
      sumsUniform = this.#uniform("partialSums", plan.chunks.length * stride);
      this.#writeChunkUniforms(
        sumsUniform,
        plan.chunks.map((chunk) => new Uint32Array([chunk.partialBytes / 16, chunk.index, 0, 0])),
      );
    }
    const stageX = plan.stageXBytes > 0 ? scratch.get("stage x", plan.stageXBytes, STAGE()) : undefined;
    const stageDx = plan.stageXBytes > 0 ? scratch.get("stage dx", plan.stageXBytes, STAGE()) : undefined;
    const stageDy = plan.stageYBytes > 0 ? scratch.get("stage y", plan.stageYBytes, STAGE()) : undefined;
    const weights = this.#weightsBuffer();
    const pipeline = this.#pipeline(plan.vec4 ? "backwardVec4" : "backward", plan.groupsPerInvocation);
    let pass = encoder.beginComputePass({ label: "sortpool backward" });
    this.#encodeWeights(pass, plan, buffers);
    for (const chunk of plan.chunks) {
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(buffers.x, chunk.x.offset, stageX!, 0, chunk.x.size);
        encoder.copyBufferToBuffer(buffers.dy, chunk.y.offset, stageDy!, 0, chunk.y.size);
        pass = encoder.beginComputePass({ label: "sortpool backward (staged chunk)" });
      }
      const group = this.#bind("backward", [
        chunk.staged ? [stageX!, chunk.x.size] : [buffers.x, chunk.x.size, chunk.x.offset],
        [weights, 16],
        chunk.staged ? [stageDy!, chunk.y.size] : [buffers.dy, chunk.y.size, chunk.y.offset],
        chunk.staged ? [stageDx!, chunk.x.size] : [buffers.dx, chunk.x.size, chunk.x.offset],
        [partials, chunk.partialBytes],
        [uniform, 32, chunk.index * stride],
      ]);
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(chunk.groups[0], chunk.groups[1]);
      if (split) {
        // The next chunk overwrites the partials: sum this chunk's first, in a fixed order.
        pass.setPipeline(this.#pipeline("partialSums"));
        pass.setBindGroup(
          0,
          this.#bind("partialSums", [
            [partials, chunk.partialBytes],
            [chunkSums!, plan.chunkSumBytes],
            [sumsUniform!, 16, chunk.index * stride],
          ]),
        );
        pass.dispatchWorkgroups(1);
      }
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(stageDx!, 0, buffers.dx, chunk.x.offset, chunk.x.size);
        pass = encoder.beginComputePass({ label: "sortpool backward" });
      }
    }
    if (plan.clears.length > 0) {
      pass.end();
      for (const clear of plan.clears) encoder.clearBuffer(buffers.dx, clear.offset, clear.size);
      pass = encoder.beginComputePass({ label: "sortpool backward dLogits" });
    }
    const reduce = this.#bind("dLogits", [
      split ? [chunkSums!, plan.chunkSumBytes] : [partials, plan.chunks[0].partialBytes],
      [weights, 16],
      [buffers.dLogits, plan.k * 4],
      [dLogitsUniform, 16],
    ]);
    pass.setPipeline(this.#pipeline("dLogits"));
    pass.setBindGroup(0, reduce);
    pass.dispatchWorkgroups(1);
    pass.end();
  }

  /** Destroys the uniform buffers and forgets the pipelines. */
  destroy(): void {
    for (const b of [...this.#uniforms.values(), this.#weights, this.#generalWeights]) {
      if (b) this.#tracker.destroy(b);
    }
    this.#uniforms.clear();
    this.#weights = undefined;
    this.#generalWeights = undefined;
    this.#pipelines.clear();
    this.#modules.clear();
    this.#layouts.clear();
  }
}
