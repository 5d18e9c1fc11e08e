/**
 * The 2x2 family (SPEC.md §2): the article's 2x2 windows with stride 2 and shared logits, on
 * kernels/sort_pool2d_forward*.wgsl and sort_pool2d_backward*.wgsl (a 5-comparator sorting
 * network, non-overlapping windows written in place). Plans a call (split along the batch, then
 * rows, its dLogits partials summed in blocks within the loop budget: src/webgpu/chunks.ts
 * planChunks) and records its passes through the program runner.
 *
 * @module
 */
import { outputShape, sizeOf } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import type { BufferTracker } from "./buffers.ts";
import { type BindingLimits, PARTIAL_BYTES, planChunks, sumBlockRange } from "./chunks.ts";
import { backwardStaging, bindChunk, encodeChunks, forwardStaging, planGrid, requireUsage } from "./encoding.ts";
import {
  type BackwardBuffers,
  chunksOf,
  type ForwardBuffers,
  type Pool2x2Chunk,
  type Pool2x2Plan,
  type ScratchBuffers,
  type WeightsSource,
} from "./plan.ts";
import { type BoundBuffer, packParams } from "./program.ts";
import { BACKWARD_2X2, DLOGITS_2X2, FORWARD_2X2, PARTIAL_SUMS_2X2, WEIGHTS_2X2 } from "./programs/pool2x2.ts";
import type { ProgramRunner } from "./runner.ts";

/** Work items up to which the 2x2 forward kernels divide slot indices in one step (their FEW_ITEMS). */
const FEW_ITEMS_LIMIT = 2 ** 20;

/** The family's programs that take one uniform block per chunk (their slots share one size). */
const CHUNKED = [FORWARD_2X2, BACKWARD_2X2, PARTIAL_SUMS_2X2];

/**
 * The 2x2 kernels on one runner. Forward, backward and dLogits have separate uniforms, so one
 * encoder may hold one call of each; submit it before encoding the same pass again.
 */
export class Pool2x2Kernels {
  readonly #runner: ProgramRunner;
  readonly #tracker: BufferTracker;
  /** Bytes between per-chunk uniform blocks. */
  readonly slotBytes: number;
  #weights: GPUBuffer | undefined;

  /** The family on `runner`; its weights buffer is created through `tracker`. */
  constructor(runner: ProgramRunner, tracker: BufferTracker) {
    this.#runner = runner;
    this.#tracker = tracker;
    this.slotBytes = runner.slotBytes(CHUNKED);
  }

  /**
   * The plan of a 2x2 / stride 2 call with shared weights, checked against `limits`, its dLogits
   * partials summed in blocks within `loopBudget` (src/webgpu/chunks.ts, default LOOP_ITERATION_BUDGET).
   */
  plan(shape: Shape4, k: number, padding: Padding, limits: BindingLimits, loopBudget?: number): Pool2x2Plan {
    const runner = this.#runner;
    const outShape = outputShape(shape, padding);
    const [, h, w, c] = shape;
    const vec4 = c % 4 === 0;
    const lanes = vec4 ? 4 : 1;
    const groupsPerInvocation = (c / lanes) % 2 === 0 ? 2 : 1;
    const layout = planChunks({ shape, padding, lanes, groupsPerInvocation, loopBudget }, limits);
    const chunks: Pool2x2Chunk[] = layout.chunks.map((chunk) => ({
      ...chunk,
      family: "2x2",
      params: packParams(FORWARD_2X2, {
        height: chunk.inRows,
        width: w,
        channel_groups: c / lanes,
        out_height: chunk.outRows,
        out_width: outShape[2],
        k,
        work_items: chunk.workItems,
      }),
      backwardGroups: planGrid(runner, BACKWARD_2X2, chunk.workItems),
      forwardGroups: planGrid(runner, FORWARD_2X2, chunk.workItems),
    }));
    // One sum block: the dLogits kernel adds the partials itself; else it adds the blocks' sums.
    const single = layout.sumBlockCount === 1;
    return {
      family: "2x2",
      shape,
      outShape,
      k,
      padding,
      vec4,
      groupsPerInvocation,
      forward: {
        k,
        // Every window lies inside x for "valid" padding, or for "same" with even H and W (SPEC.md §3).
        fullWindows: padding === "valid" || (h % 2 === 0 && w % 2 === 0),
        // Every chunk's work items (the largest slot index and divisor in the kernel) within 2^20.
        fewItems: chunks.every((chunk) => chunk.workItems <= FEW_ITEMS_LIMIT),
      },
      workItems: sizeOf(outShape) / lanes / groupsPerInvocation,
      xBytes: sizeOf(shape) * 4,
      yBytes: sizeOf(outShape) * 4,
      partialBytes: layout.partialBytes,
      dLogitsParams: packParams(DLOGITS_2X2, {
        partial_count: single ? chunks[0].workItems : layout.sumBlockCount,
        k,
      }),
      limits,
      chunks,
      clears: layout.clears,
      stageXBytes: layout.stageXBytes,
      stageYBytes: layout.stageYBytes,
      chunkSumBytes: layout.chunkSumBytes,
      sumBlockCount: layout.sumBlockCount,
    };
  }

  /** The rank weights: written by the weights kernel or the host, read as a uniform by the others. */
  #weightsBuffer(): GPUBuffer {
    return this.#weights ??= this.#tracker.create(this.#runner.device, {
      label: "sortpool weights",
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /**
   * Fills the weights for `plan`: host weights are written now (queue order puts the write before
   * the submit of the encoder being recorded); logits record the weights kernel into `pass` (the
   * vec4 the 2x2 kernels read).
   */
  #encodeWeights(pass: GPUComputePassEncoder, plan: Pool2x2Plan, source: WeightsSource): BoundBuffer {
    const runner = this.#runner;
    const weights = { buffer: this.#weightsBuffer(), size: 16 };
    if (source.weights) {
      if (source.weights.length !== plan.k) {
        throw new RangeError(`weights: expected k = ${plan.k} floats, received ${source.weights.length}`);
      }
      const padded = new Float32Array(4);
      padded.set(source.weights);
      runner.device.queue.writeBuffer(weights.buffer, 0, padded);
      return weights;
    }
    const params = runner.writeParams(WEIGHTS_2X2, packParams(WEIGHTS_2X2, { k: plan.k }), true);
    const pipeline = runner.pipeline(WEIGHTS_2X2, {});
    const group = runner.heldBind(source.logits, WEIGHTS_2X2, {
      logits: { buffer: source.logits, size: plan.k * 4 },
      weights,
      params,
    });
    runner.dispatch(pass, pipeline, group, runner.grid(WEIGHTS_2X2, 1));
    return weights;
  }

  /**
   * Records the forward pass: weights, then the forward kernel once per chunk, each bound to its
   * ranges of x and y (staged chunks through aligned scratch).
   */
  encodeForward(
    encoder: GPUCommandEncoder,
    plan: Pool2x2Plan,
    buffers: ForwardBuffers,
    scratch: ScratchBuffers | undefined,
  ): void {
    const runner = this.#runner;
    const chunks = chunksOf(plan);
    if (plan.stageXBytes > 0 || plan.stageYBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.y, GPUBufferUsage.COPY_DST, "y");
    }
    // A repeated plan skips the write (the buffer still holds its blocks).
    const uniforms = runner.writeChunkParams(FORWARD_2X2, chunks.map((c) => c.params), this.slotBytes, true);
    const { x, y, ...staging } = forwardStaging(plan, buffers, scratch);
    this.#weightsBuffer();
    const pipeline = runner.pipeline(FORWARD_2X2, {
      vec4: plan.vec4,
      groupsPerInvocation: plan.groupsPerInvocation,
      forward: plan.forward,
    });
    const label = "sortpool forward";
    let pass = encoder.beginComputePass({ label });
    const weights = this.#encodeWeights(pass, plan, buffers);
    pass = encodeChunks(encoder, pass, label, chunks, staging, (pass, chunk) => {
      // Dispatches in one pass are ordered: each sees what the previous one wrote.
      const group = runner.heldBind(chunk, FORWARD_2X2, {
        x: bindChunk(x, chunk),
        weights,
        y: bindChunk(y, chunk),
        params: uniforms.at(chunk.index),
      });
      runner.dispatch(pass, pipeline, group, chunk.forwardGroups);
    });
    pass.end();
  }

  /**
   * Records the backward pass: weights; per chunk, dx with dLogits stage 1 into the partial-sum
   * scratch and, for a split call, that chunk's partials summed into its slot of the chunk sums
   * (kernels/sort_pool2d_partial_sums.wgsl); the dx rows no chunk covers cleared; then dLogits
   * stage 2 over the partials (one chunk) or the chunk sums.
   */
  encodeBackward(
    encoder: GPUCommandEncoder,
    plan: Pool2x2Plan,
    buffers: BackwardBuffers,
    scratch: ScratchBuffers,
  ): void {
    const runner = this.#runner;
    const chunks = chunksOf(plan);
    if (plan.stageXBytes > 0 || plan.stageYBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.dy, GPUBufferUsage.COPY_SRC, "dy");
    }
    if (plan.stageXBytes > 0 || plan.clears.length > 0) requireUsage(buffers.dx, GPUBufferUsage.COPY_DST, "dx");
    const split = plan.sumBlockCount > 1;
    const uniforms = runner.writeChunkParams(BACKWARD_2X2, chunks.map((c) => c.params), this.slotBytes);
    const dLogitsParams = runner.writeParams(DLOGITS_2X2, plan.dLogitsParams);
    const partials = scratch.get("partials", plan.partialBytes, GPUBufferUsage.STORAGE);
    const chunkSums = split
      ? { buffer: scratch.get("chunk sums", plan.chunkSumBytes, GPUBufferUsage.STORAGE), size: plan.chunkSumBytes }
      : undefined;
    const sumsParams = split
      ? runner.writeChunkParams(
        PARTIAL_SUMS_2X2,
        chunks.flatMap((chunk) =>
          chunk.sumBlocks.map((block) => {
            // The partials the block binds, and as many to add (within the chunk's partial bytes).
            const count = sumBlockRange(block, PARTIAL_BYTES, chunk.partialBytes).size / PARTIAL_BYTES;
            return packParams(PARTIAL_SUMS_2X2, { count, index: block.index });
          })
        ),
        this.slotBytes,
      )
      : undefined;
    const { x, dy, dx, ...staging } = backwardStaging(plan, buffers, scratch);
    this.#weightsBuffer();
    const pipeline = runner.pipeline(BACKWARD_2X2, { vec4: plan.vec4, groupsPerInvocation: plan.groupsPerInvocation });
    const label = "sortpool backward";
    let pass = encoder.beginComputePass({ label });
    const weights = this.#encodeWeights(pass, plan, buffers);
    pass = encodeChunks(encoder, pass, label, chunks, staging, (pass, chunk) => {
      const chunkPartials = { buffer: partials, size: chunk.partialBytes };
      const group = runner.bind(BACKWARD_2X2, {
        x: bindChunk(x, chunk),
        weights,
        dy: bindChunk(dy, chunk),
        dx: bindChunk(dx, chunk),
        partials: chunkPartials,
        params: uniforms.at(chunk.index),
      });
      runner.dispatch(pass, pipeline, group, chunk.backwardGroups);
      if (chunkSums && sumsParams) {
        // The next chunk overwrites the partials: sum this chunk's first, in a fixed order, block
        // by block (each within the loop budget), one sum per block.
        for (const block of chunk.sumBlocks) {
          const sums = runner.bind(PARTIAL_SUMS_2X2, {
            partials: { buffer: partials, ...sumBlockRange(block, PARTIAL_BYTES, chunk.partialBytes) },
            sums: chunkSums,
            params: sumsParams.at(block.index),
          });
          runner.dispatch(pass, runner.pipeline(PARTIAL_SUMS_2X2, {}), sums, runner.grid(PARTIAL_SUMS_2X2, 1));
        }
      }
    });
    if (plan.clears.length > 0) {
      pass.end();
      for (const clear of plan.clears) encoder.clearBuffer(buffers.dx, clear.offset, clear.size);
      pass = encoder.beginComputePass({ label: "sortpool backward dLogits" });
    }
    const reduce = runner.bind(DLOGITS_2X2, {
      partials: chunkSums ?? { buffer: partials, size: chunks[0].partialBytes },
      weights,
      d_logits: { buffer: buffers.dLogits, size: plan.k * 4 },
      params: dLogitsParams,
    });
    runner.dispatch(pass, runner.pipeline(DLOGITS_2X2, {}), reduce, runner.grid(DLOGITS_2X2, 1));
    pass.end();
  }

  /** Destroys the weights buffer. */
  destroy(): void {
    if (this.#weights) this.#tracker.destroy(this.#weights);
    this.#weights = undefined;
  }
}
