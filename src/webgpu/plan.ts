/**
 * What a planned sort_pool2d call is (src/webgpu/sort_pool_kernels.ts `plan`), for each of the two
 * kernel families (SPEC.md §2), and what the encoders receive: the data buffers, the weights
 * source, the scratch pool. A plan is sized and checked against the binding limits before any
 * work is queued; it is never modified after creation (repeated calls reuse it).
 *
 * @module
 */
import type { PoolGeometry, WindowOptions } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import type { BindingLimits, ByteRange, ChunkGeometry } from "./chunks.ts";
import type { GeneralChunkGeometry } from "./general_chunks.ts";
import type { Grid } from "./program.ts";
import type { WindowConstants } from "./programs/general.ts";
import type { ForwardConstants, GroupsPerInvocation } from "./programs/pool2x2.ts";

/**
 * The window and logits layout of a call (SPEC.md §1–2): absent fields are the article's
 * defaults (2x2 windows, stride 2, k shared logits).
 */
export interface PlanWindow extends WindowOptions {
  /** Length of the logits: k (shared by every channel, the default) or C·k (per channel). */
  readonly logitsLength?: number;
}

/** One chunk of a 2x2 call (src/webgpu/chunks.ts planChunks): its geometry, uniforms and grids. */
export interface Pool2x2Chunk extends ChunkGeometry {
  readonly family: "2x2";
  /** The `Params` block of the 2x2 forward and backward kernels (they share the struct). */
  readonly params: Uint32Array<ArrayBuffer>;
  /** Workgroups of the chunk's forward dispatch (the forward workgroup size). */
  readonly forwardGroups: Grid;
  /** Workgroups of the chunk's backward dispatch. */
  readonly backwardGroups: Grid;
}

/**
 * One chunk of a general-window call (whole images, src/webgpu/chunks.ts planGeneralChunks): its
 * geometry (`x` and `y` are binding ranges) plus the uniforms and grids of the forward, ranks,
 * gather and dLogits kernels.
 */
export interface GeneralWindowChunk extends GeneralChunkGeometry {
  readonly family: "general";
  /** The forward kernel's `Params` block. */
  readonly forwardParams: Uint32Array<ArrayBuffer>;
  /** Workgroups of the forward dispatch. */
  readonly forwardGroups: Grid;
  /** The ranks kernel's `Params` block. */
  readonly rankParams: Uint32Array<ArrayBuffer>;
  /** Workgroups of the ranks dispatch. */
  readonly rankGroups: Grid;
  /** The gather kernel's `Params` block. */
  readonly gatherParams: Uint32Array<ArrayBuffer>;
  /** Workgroups of the gather dispatch. */
  readonly gatherGroups: Grid;
  /**
   * The dLogits kernel's dispatches over this chunk's partials, one per sum block (src/webgpu/chunks.ts
   * `sumBlocks`): its `Params` (store mode when the call has more than one block, else finish) and
   * the block's byte range of the partials.
   */
  readonly dLogitsBlocks: readonly GeneralDLogitsBlock[];
}

/** One dLogits dispatch of a general-window chunk: `Params` and the range of partials it adds. */
export interface GeneralDLogitsBlock {
  readonly params: Uint32Array<ArrayBuffer>;
  readonly partials: ByteRange;
}

/**
 * One chunk of a planned call. Both families' chunks share this one type (told apart by
 * `family`), so code that rewrites every chunk of a plan (negative controls: `mutatePlan`) keeps
 * a plan of the same kind.
 */
export type SortPoolChunk = Pool2x2Chunk | GeneralWindowChunk;

/** What every plan holds, whichever family runs it. */
interface PlanCommon {
  /** Input shape `[B, H, W, C]`. */
  readonly shape: Shape4;
  /** Output shape `[B, Ho, Wo, C]`. */
  readonly outShape: Shape4;
  /** Kept ranks, 1..kh·kw. */
  readonly k: number;
  /** Padding mode. */
  readonly padding: Padding;
  /** Whether the vec4 kernels run (C % 4 == 0). */
  readonly vec4: boolean;
  /** Invocations of the forward kernel that compute outputs, over all chunks. */
  readonly workItems: number;
  /** Bytes of x (and of dx). */
  readonly xBytes: number;
  /** Bytes of y (and of dy). */
  readonly yBytes: number;
  /** Bytes of the dLogits partial-sum scratch: the largest chunk's stage-1 partials. */
  readonly partialBytes: number;
  /** The limits every binding of this plan was checked against. */
  readonly limits: BindingLimits;
  /** The call's chunks in dispatch order (one when everything fits); all of this plan's family. */
  readonly chunks: readonly SortPoolChunk[];
  /** Scratch bytes for staged x / dx ranges (0: nothing staged). */
  readonly stageXBytes: number;
  /** Scratch bytes for staged y / dy ranges (0: nothing staged). */
  readonly stageYBytes: number;
  /** Bytes of the dLogits sums of a call with more than one sum block (0 for one block). */
  readonly chunkSumBytes: number;
  /** dLogits sum blocks over all chunks (src/webgpu/chunks.ts `sumBlocks`): 1 unless the call is split. */
  readonly sumBlockCount: number;
}

/**
 * A call on the 2x2 kernels (kernels/sort_pool2d_forward*.wgsl, sort_pool2d_backward*.wgsl): 2x2
 * windows, stride 2, shared logits; split along the batch, then rows.
 */
export interface Pool2x2Plan extends PlanCommon {
  readonly family: "2x2";
  /** Channel groups (vec4s or floats) per invocation: 2 when their count per pixel is even, else 1. */
  readonly groupsPerInvocation: GroupsPerInvocation;
  /** The forward kernels' pipeline constants for this call. */
  readonly forward: ForwardConstants;
  /**
   * The dLogits kernel's `Params` block: the stage-1 work items for a call of one sum block, the
   * number of sum blocks (src/webgpu/chunks.ts `sumBlocks`) otherwise.
   */
  readonly dLogitsParams: Uint32Array<ArrayBuffer>;
  /** Byte ranges of dx no chunk writes, cleared to 0 by the backward pass. */
  readonly clears: readonly ByteRange[];
}

/**
 * A call on the general kernels (kernels/sort_pool2d_general_*.wgsl): any window and stride, or
 * per-channel logits; split along the batch only.
 */
export interface GeneralWindowPlan extends PlanCommon {
  readonly family: "general";
  /** The case's window arithmetic (src/spec.ts poolGeometry). */
  readonly geometry: PoolGeometry;
  /** Logits per channel (C·k) rather than shared (k). */
  readonly perChannel: boolean;
  /** Length of the logits and of dLogits: k, or C·k. */
  readonly logitsLength: number;
  /** Pipeline constants of the window kernels: KH, KW, K. */
  readonly window: WindowConstants;
  /** Bytes of the rank weights table (k rows of C floats). */
  readonly weightsBytes: number;
  /** Bytes of the largest chunk's kept-cell records. */
  readonly ranksBytes: number;
  /** Weight groups: C per channel, else 1 (dLogits workgroups). */
  readonly weightGroups: number;
  /** The weights kernel's `Params` block (when the logits are on the GPU). */
  readonly weightsParams: Uint32Array<ArrayBuffer>;
  /** Workgroups of the weights kernel's dispatch. */
  readonly weightsGroups: Grid;
  /** Workgroups of each dLogits dispatch (one per weight group). */
  readonly dLogitsGroups: Grid;
  /** The dLogits kernel's finishing `Params` over the running sums; present exactly when the call has more than one sum block. */
  readonly finishParams?: Uint32Array<ArrayBuffer>;
}

/** Everything a call of one shape needs: geometry, byte sizes, the packed uniforms and grids. */
export type SortPoolPlan = Pool2x2Plan | GeneralWindowPlan;

/** A source of scratch buffers (src/webgpu/buffers.ts BufferPool): at least `bytes` bytes with exactly `usage`. */
export interface ScratchBuffers {
  get(name: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer;
}

/**
 * Where a call's rank weights come from (SPEC.md §5 "Weights"), one of:
 * - `logits`: a GPU buffer of k (shared) or C·k (per channel) float32 logits; the weights kernel
 *   evaluates softmax as its limit on the GPU (the `sortPool2d` op: its logits are a tensor);
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

/** The chunks of `plan`, checked to be of its family (a rewritten plan could mix them). */
export function chunksOf<P extends SortPoolPlan>(plan: P): readonly Extract<SortPoolChunk, { family: P["family"] }>[] {
  for (const chunk of plan.chunks) {
    if (chunk.family !== plan.family) {
      throw new Error(`SortPoolKernels: a ${plan.family} plan holds a ${chunk.family} chunk (index ${chunk.index})`);
    }
  }
  return plan.chunks as readonly Extract<SortPoolChunk, { family: P["family"] }>[];
}
