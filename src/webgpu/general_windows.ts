/**
 * The general family (SPEC.md §2): every window and stride other than the article's 2x2 / stride
 * 2 (1..4 each, overlapping or gapped) and per-channel logits, on
 * kernels/sort_pool2d_general_*.wgsl: a selection network sized to the window by the pipeline
 * constants KH, KW and K, and a backward in two passes (each window's kept cells, then dx gathered
 * per input cell over the windows containing it, in output order) so that overlapping windows
 * need no atomics and give bitwise repeatable results. Plans a call (split along the batch only:
 * src/webgpu/general_chunks.ts planGeneralChunks; its dLogits sums in blocks within the loop
 * budget, src/webgpu/chunks.ts) and records its passes through the program runner.
 *
 * @module
 */
import { isDefaultWindow, isPerChannel, type PoolGeometry, poolGeometry, sizeOf } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import type { BufferTracker } from "./buffers.ts";
import { type BindingLimits, PARTIAL_BYTES, sumBlockRange } from "./chunks.ts";
import { generalBytesPerImage, type GeneralChunkRequest, planGeneralChunks } from "./general_chunks.ts";
import { backwardStaging, bindChunk, encodeChunks, forwardStaging, planGrid, requireUsage } from "./encoding.ts";
import {
  type BackwardBuffers,
  chunksOf,
  type ForwardBuffers,
  type GeneralWindowChunk,
  type GeneralWindowPlan,
  type PlanWindow,
  type ScratchBuffers,
  type WeightsSource,
} from "./plan.ts";
import { type BoundBuffer, packParams } from "./program.ts";
import {
  GENERAL_DLOGITS,
  GENERAL_FORWARD,
  GENERAL_GATHER,
  GENERAL_RANKS,
  GENERAL_WEIGHTS,
} from "./programs/general.ts";
import type { ProgramRunner } from "./runner.ts";

/** Output columns each work item of the general ranks kernel handles (its dLogits partials cover them). */
export const GENERAL_SEGMENT = 16;

/** The family's programs that take one uniform block per chunk (their slots share one size). */
const CHUNKED = [GENERAL_FORWARD, GENERAL_RANKS, GENERAL_GATHER, GENERAL_DLOGITS];

/** The chunk-planning request of a general-window call (src/webgpu/general_chunks.ts planGeneralChunks). */
function generalRequest(
  shape: Shape4,
  k: number,
  geometry: PoolGeometry,
  perChannel: boolean,
  loopBudget?: number,
): GeneralChunkRequest {
  const outShape: Shape4 = [shape[0], geometry.rows.out, geometry.cols.out, shape[3]];
  const lanes = shape[3] % 4 === 0 ? 4 : 1;
  return { shape, outShape, lanes, k, perChannel, segment: Math.min(geometry.cols.out, GENERAL_SEGMENT), loopBudget };
}

/**
 * The most bytes one image of a case binds in the general kernels (its x, y, kept-cell records
 * or dLogits partial sums), or undefined when the case runs the 2x2 kernels (2x2 windows, stride
 * 2, shared logits). SortPoolKernels refuses a general case, with a SortPoolArgumentError naming
 * x, exactly when this exceeds maxStorageBufferBindingSize (or x or y exceeds maxBufferSize, or
 * the k·C-float weights table the binding limit): general calls are split along the batch only.
 * For checks that predict the refusal (props/properties/limits.ts).
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

/**
 * The general kernels on one runner. Forward, backward and dLogits have separate uniforms, so one
 * encoder may hold one call of each; submit it before encoding the same pass again.
 */
export class GeneralWindowKernels {
  readonly #runner: ProgramRunner;
  readonly #tracker: BufferTracker;
  /** Bytes between per-chunk uniform blocks. */
  readonly slotBytes: number;
  #table: GPUBuffer | undefined;

  /** The family on `runner`; its weights table is created through `tracker`. */
  constructor(runner: ProgramRunner, tracker: BufferTracker) {
    this.#runner = runner;
    this.#tracker = tracker;
    this.slotBytes = runner.slotBytes(CHUNKED);
  }

  /**
   * The plan of a general call: any window and stride, or per-channel weights, checked against
   * `limits`, its dLogits sums in blocks within `loopBudget` (src/webgpu/chunks.ts, default
   * LOOP_ITERATION_BUDGET).
   */
  plan(
    shape: Shape4,
    k: number,
    padding: Padding,
    limits: BindingLimits,
    geometry: PoolGeometry,
    logitsLength: number,
    loopBudget?: number,
  ): GeneralWindowPlan {
    const runner = this.#runner;
    const [, h, w, c] = shape;
    const { rows, cols } = geometry;
    const perChannel = isPerChannel(logitsLength, k, c);
    const request = generalRequest(shape, k, geometry, perChannel, loopBudget);
    const { outShape, lanes, segment } = request;
    const segments = Math.ceil(cols.out / segment);
    const layout = planGeneralChunks(request, limits);
    // More than one sum block: each block's sums are added to running sums, then finished.
    const split = layout.sumBlockCount > 1;
    const termBytes = layout.termStride * PARTIAL_BYTES;
    const { weightGroups, quads } = layout;
    const geometryParams = {
      height: h,
      width: w,
      channel_groups: c / lanes,
      out_height: rows.out,
      out_width: cols.out,
      stride_h: rows.stride,
      stride_w: cols.stride,
      pad_top: rows.padBefore,
      pad_left: cols.padBefore,
    };
    const chunks: GeneralWindowChunk[] = layout.chunks.map((chunk) => {
      const backward = {
        ...geometryParams,
        x_base: chunk.xBase,
        y_base: chunk.yBase,
        segment,
        segments,
        rank_plane: chunk.rankPlane,
        per_channel: perChannel ? 1 : 0,
      };
      return {
        ...chunk,
        family: "general",
        forwardParams: packParams(GENERAL_FORWARD, {
          ...geometryParams,
          work_items: chunk.forwardItems,
          x_base: chunk.xBase,
          y_base: chunk.yBase,
        }),
        forwardGroups: planGrid(runner, GENERAL_FORWARD, chunk.forwardItems),
        rankParams: packParams(GENERAL_RANKS, { ...backward, work_items: chunk.workItems }),
        rankGroups: planGrid(runner, GENERAL_RANKS, chunk.workItems),
        gatherParams: packParams(GENERAL_GATHER, { ...backward, work_items: chunk.gatherItems }),
        gatherGroups: planGrid(runner, GENERAL_GATHER, chunk.gatherItems),
        dLogitsBlocks: chunk.sumBlocks.map((block) => ({
          params: packParams(GENERAL_DLOGITS, {
            count: block.count,
            term_stride: layout.termStride,
            groups: weightGroups,
            k,
            channels: c,
            finish: split ? 0 : 1,
            accumulate: block.index > 0 ? 1 : 0,
            quads,
          }),
          partials: sumBlockRange(block, termBytes, chunk.partialBytes),
        })),
      };
    });
    const dLogitsGroups = planGrid(runner, GENERAL_DLOGITS, weightGroups);
    const finish = { term_stride: weightGroups * quads, groups: weightGroups, k, channels: c, quads };
    return {
      family: "general",
      shape,
      outShape,
      k,
      padding,
      geometry,
      perChannel,
      logitsLength,
      window: { KH: geometry.poolSize[0], KW: geometry.poolSize[1], K: k },
      weightsBytes: layout.weightsBytes,
      ranksBytes: layout.ranksBytes,
      weightGroups,
      weightsParams: packParams(GENERAL_WEIGHTS, { k, width: c, per_channel: perChannel ? 1 : 0, rows: k }),
      weightsGroups: planGrid(runner, GENERAL_WEIGHTS, c),
      dLogitsGroups,
      ...(split
        ? { finishParams: packParams(GENERAL_DLOGITS, { ...finish, count: 1, finish: 1, accumulate: 0 }) }
        : {}),
      vec4: lanes === 4,
      workItems: sizeOf(outShape) / lanes,
      xBytes: sizeOf(shape) * 4,
      yBytes: sizeOf(outShape) * 4,
      partialBytes: layout.partialBytes,
      limits,
      chunks,
      stageXBytes: layout.stageXBytes,
      stageYBytes: layout.stageYBytes,
      chunkSumBytes: layout.chunkSumBytes,
      sumBlockCount: layout.sumBlockCount,
    };
  }

  /** The rank weights table (k rows of C floats), grown as calls need. */
  #tableBuffer(bytes: number): GPUBuffer {
    if (this.#table && this.#table.size >= bytes) return this.#table;
    if (this.#table) this.#tracker.destroy(this.#table);
    this.#table = this.#tracker.create(this.#runner.device, {
      label: "sortpool general weights",
      size: Math.max(256, 2 ** Math.ceil(Math.log2(bytes))),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    return this.#table;
  }

  /**
   * Fills the weights table for `plan` (row r = w[r] of every channel; the shared weights
   * repeated in every column): host weights are expanded and written now, logits record the
   * weights kernel (one invocation per channel) into `pass`. Returns the table's binding.
   */
  #encodeWeights(pass: GPUComputePassEncoder, plan: GeneralWindowPlan, source: WeightsSource): BoundBuffer {
    const runner = this.#runner;
    const { k, logitsLength, perChannel } = plan;
    const channels = plan.shape[3];
    const table = { buffer: this.#tableBuffer(plan.weightsBytes), size: plan.weightsBytes };
    if (source.weights) {
      const w = source.weights;
      if (w.length !== logitsLength) {
        throw new RangeError(`weights: expected ${logitsLength} floats (the logits' length), received ${w.length}`);
      }
      const rows = new Float32Array(k * channels);
      for (let r = 0; r < k; r++) {
        for (let c = 0; c < channels; c++) rows[r * channels + c] = w[perChannel ? c * k + r : r];
      }
      runner.device.queue.writeBuffer(table.buffer, 0, rows);
      return table;
    }
    const params = runner.writeParams(GENERAL_WEIGHTS, plan.weightsParams);
    const group = runner.bind(GENERAL_WEIGHTS, {
      logits: { buffer: source.logits, size: logitsLength * 4 },
      weights: table,
      params,
    });
    runner.dispatch(pass, runner.pipeline(GENERAL_WEIGHTS, {}), group, plan.weightsGroups);
    return table;
  }

  /** Records the forward pass: weights, then the window kernel once per chunk (staged chunks through scratch). */
  encodeForward(
    encoder: GPUCommandEncoder,
    plan: GeneralWindowPlan,
    buffers: ForwardBuffers,
    scratch: ScratchBuffers | undefined,
  ): void {
    const runner = this.#runner;
    const chunks = chunksOf(plan);
    if (plan.stageXBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.y, GPUBufferUsage.COPY_DST, "y");
    }
    const { x, y, ...staging } = forwardStaging(plan, buffers, scratch);
    const uniforms = runner.writeChunkParams(GENERAL_FORWARD, chunks.map((c) => c.forwardParams), this.slotBytes);
    const pipeline = runner.pipeline(GENERAL_FORWARD, { vec4: plan.vec4, window: plan.window });
    const label = "sortpool general forward";
    let pass = encoder.beginComputePass({ label });
    const table = this.#encodeWeights(pass, plan, buffers);
    pass = encodeChunks(encoder, pass, label, chunks, staging, (pass, chunk) => {
      const group = runner.bind(GENERAL_FORWARD, {
        x: bindChunk(x, chunk),
        weights: table,
        y: bindChunk(y, chunk),
        params: uniforms.at(chunk.index),
      });
      runner.dispatch(pass, pipeline, group, chunk.forwardGroups);
    });
    pass.end();
  }

  /**
   * Records the backward pass: weights; per chunk, the ranks pass (kept cells and dLogits
   * partials), for a split call those partials added to the running chunk sums, then the gather
   * pass (dx of every input cell: nothing to clear); then dLogits over the partials or chunk sums.
   */
  encodeBackward(
    encoder: GPUCommandEncoder,
    plan: GeneralWindowPlan,
    buffers: BackwardBuffers,
    scratch: ScratchBuffers,
  ): void {
    const runner = this.#runner;
    const chunks = chunksOf(plan);
    const split = plan.sumBlockCount > 1;
    if (plan.stageXBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.dy, GPUBufferUsage.COPY_SRC, "dy");
      requireUsage(buffers.dx, GPUBufferUsage.COPY_DST, "dx");
    }
    const { x, dy, dx, ...staging } = backwardStaging(plan, buffers, scratch);
    if (buffers.dLogits.size < plan.logitsLength * 4) {
      throw new RangeError(
        `dLogits: expected a buffer of at least ${plan.logitsLength * 4} bytes, received ${buffers.dLogits.size}`,
      );
    }
    const slot = this.slotBytes;
    const rankParams = runner.writeChunkParams(GENERAL_RANKS, chunks.map((c) => c.rankParams), slot);
    const gatherParams = runner.writeChunkParams(GENERAL_GATHER, chunks.map((c) => c.gatherParams), slot);
    // One uniform slot per sum block in call order (block.index), then the finishing one.
    const dLogitsBlocks = chunks.flatMap((chunk) => chunk.dLogitsBlocks.map((block) => block.params));
    if (plan.finishParams) dLogitsBlocks.push(plan.finishParams);
    const dLogitsParams = runner.writeChunkParams(GENERAL_DLOGITS, dLogitsBlocks, slot);
    const partials = scratch.get("partials", plan.partialBytes, GPUBufferUsage.STORAGE);
    const ranks = scratch.get("ranks", plan.ranksBytes, GPUBufferUsage.STORAGE);
    const chunkSums = split
      ? { buffer: scratch.get("chunk sums", plan.chunkSumBytes, GPUBufferUsage.STORAGE), size: plan.chunkSumBytes }
      : undefined;
    const variant = { vec4: plan.vec4, window: plan.window };
    const ranksPipeline = runner.pipeline(GENERAL_RANKS, variant);
    const gatherPipeline = runner.pipeline(GENERAL_GATHER, variant);
    const dLogitsPipeline = runner.pipeline(GENERAL_DLOGITS, {});
    const label = "sortpool general backward";
    let pass = encoder.beginComputePass({ label });
    const table = this.#encodeWeights(pass, plan, buffers);
    pass = encodeChunks(encoder, pass, label, chunks, staging, (pass, chunk) => {
      const dyRange = bindChunk(dy, chunk);
      const chunkRanks = { buffer: ranks, size: chunk.ranksBytes };
      const chunkPartials = { buffer: partials, size: chunk.partialBytes };
      // Pass 1: kept cells and this chunk's dLogits partials.
      const rankGroup = runner.bind(GENERAL_RANKS, {
        x: bindChunk(x, chunk),
        dy: dyRange,
        ranks: chunkRanks,
        partials: chunkPartials,
        params: rankParams.at(chunk.index),
      });
      runner.dispatch(pass, ranksPipeline, rankGroup, chunk.rankGroups);
      if (chunkSums) {
        // The next chunk overwrites the partials: add this chunk's sums to the running ones first,
        // block by block in call order (each block within the loop budget).
        for (const [i, block] of chunk.dLogitsBlocks.entries()) {
          const store = runner.bind(GENERAL_DLOGITS, {
            partials: { buffer: partials, ...block.partials },
            weights: table,
            out: chunkSums,
            params: dLogitsParams.at(chunk.sumBlocks[i].index),
          });
          runner.dispatch(pass, dLogitsPipeline, store, plan.dLogitsGroups);
        }
      }
      // Pass 2: dx of every input cell of the chunk (every element written, none cleared).
      const gatherGroup = runner.bind(GENERAL_GATHER, {
        ranks: chunkRanks,
        weights: table,
        dy: dyRange,
        dx: bindChunk(dx, chunk),
        params: gatherParams.at(chunk.index),
      });
      runner.dispatch(pass, gatherPipeline, gatherGroup, chunk.gatherGroups);
    });
    const finish = runner.bind(GENERAL_DLOGITS, {
      partials: chunkSums ?? { buffer: partials, size: chunks[0].partialBytes },
      weights: table,
      out: { buffer: buffers.dLogits, size: plan.logitsLength * 4 },
      params: dLogitsParams.at(split ? plan.sumBlockCount : 0),
    });
    runner.dispatch(pass, dLogitsPipeline, finish, plan.dLogitsGroups);
    pass.end();
  }

  /** Destroys the weights table. */
  destroy(): void {
    if (this.#table) this.#tracker.destroy(this.#table);
    this.#table = undefined;
  }
}
