/**
 * How a sort_pool2d call of the 2x2 kernels is split so that every storage buffer a kernel binds
 * fits the device's limits, and the limit arithmetic both families share (the general kernels'
 * split is src/webgpu/general_chunks.ts): pure arithmetic on the shape, no GPU.
 *
 * A WebGPU kernel can bind at most `maxStorageBufferBindingSize` bytes of one buffer (128 MiB on
 * the CPU adapters here), at offsets that are multiples of `minStorageBufferOffsetAlignment`. The
 * kernels bind x, y (forward), x, dy, dx and the dLogits stage-1 partial sums (backward); the
 * partials (16 bytes per work item) can exceed the limit while x does not (e.g. [3000000, 3, 3, 1]
 * "same": x 108 MB, partials 192 MB). A call whose bindings do not all fit is split into chunks:
 *
 * 1. along the batch: whole images per chunk (windows never cross images), as many as fit, rounded
 *    down to a multiple that keeps every chunk's byte offsets aligned;
 * 2. when one image alone does not fit: along its output rows, each chunk holding whole window
 *    rows (2 input rows; the bottom chunk of "same" with odd H holds one, and its windows see the
 *    padded row). With "valid" and odd H the uncovered last input row of each image belongs to no
 *    chunk: its dx is cleared separately (`clears`).
 *
 * Only when a single window row (2 input rows of one image, or its outputs or partials) exceeds
 * the limit is the call refused, with a SortPoolArgumentError naming x. A chunk whose x or y
 * offset is not aligned (an odd image size with few images per chunk, or rows of a later image)
 * is `staged`: its ranges are copied into aligned scratch buffers and back.
 *
 * dLogits stays deterministic: each chunk's partials are summed in a fixed order into one vec4
 * per chunk (kernels/sort_pool2d_partial_sums.wgsl), and the dLogits kernel adds those in a fixed
 * order. The split depends only on the shape and the limits, so a given device gives bitwise
 * identical results from run to run.
 *
 * The same sums are also split by a second limit, the loop budget (below): a kernel that adds n
 * partial sums loops about n / WORKGROUP_SIZE times in each invocation, and Mesa's CPU adapters cut
 * an invocation's loops short, silently, past 65,535 iterations in total. So a chunk's partials are
 * summed in blocks (`sumBlocks`) small enough that no invocation of the summing kernels exceeds
 * {@link LOOP_ITERATION_BUDGET}; a call with more than one block sums them the way a split call sums
 * its chunks.
 *
 * @module
 */
import { outputShape } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import { GENERAL_DLOGITS_WORKGROUP_SIZE } from "./programs/general.ts";
import { DLOGITS_WORKGROUP_SIZE } from "./programs/pool2x2.ts";

/** The device limits that bound a call's buffers (WebGPU names; bytes). */
export interface BindingLimits {
  /** Largest storage-buffer binding (maxStorageBufferBindingSize). */
  readonly maxStorageBufferBindingSize: number;
  /** Storage-binding offsets must be multiples of this (minStorageBufferOffsetAlignment, a power of two). */
  readonly minStorageBufferOffsetAlignment: number;
  /** Largest buffer (maxBufferSize). */
  readonly maxBufferSize: number;
}

/** A byte range of a buffer: `size` bytes from `offset`. */
export interface ByteRange {
  readonly offset: number;
  readonly size: number;
}

/** One dispatch unit of a split call: whole images, or whole window rows of one image. */
export interface ChunkGeometry {
  /** Position in the call, 0-based (also where its dLogits sum goes). */
  readonly index: number;
  /** First image. */
  readonly batch: number;
  /** Images covered (1 for a row chunk). */
  readonly images: number;
  /** First output row inside each image (0 for whole images). */
  readonly outRowStart: number;
  /** Output rows per image (Ho for whole images). */
  readonly outRows: number;
  /** Input rows per image the kernel sees (its `height`: H for whole images). */
  readonly inRows: number;
  /** Bytes of x (and dx) the chunk reads (writes). */
  readonly x: ByteRange;
  /** Bytes of y (and dy) the chunk writes (reads). */
  readonly y: ByteRange;
  /** x or y offset is not a multiple of the alignment: copied through aligned scratch. */
  readonly staged: boolean;
  /**
   * Invocations of the kernel that writes the chunk's stage-1 dLogits partial sums (the 2x2
   * backward kernel, which the 2x2 forward matches item for item; the general ranks pass).
   */
  readonly workItems: number;
  /** Bytes of the chunk's stage-1 partial sums (2x2: 16 per work item). */
  readonly partialBytes: number;
  /**
   * The chunk's stage-1 terms in the blocks one dLogits summing dispatch adds (at least one; one
   * unless the chunk has more terms than the loop budget lets one invocation add, {@link sumBlockTerms}).
   */
  readonly sumBlocks: readonly SumBlock[];
}

/** A run of stage-1 dLogits terms that one summing dispatch adds: terms first .. first + count - 1 of its chunk. */
export interface SumBlock {
  /** Position among all the call's blocks, 0-based (where the 2x2 path stores its sum). */
  readonly index: number;
  /** The block's first term within its chunk's partials. */
  readonly first: number;
  /** Terms in the block. */
  readonly count: number;
}

/** The split of one call. */
export interface ChunkLayout {
  readonly chunks: readonly ChunkGeometry[];
  /** Byte ranges of dx that no chunk writes and that must be zero ("valid", odd H, row chunks). */
  readonly clears: readonly ByteRange[];
  /** Largest staged x range (0 when nothing is staged): the x / dx scratch size. */
  readonly stageXBytes: number;
  /** Largest staged y range (0 when nothing is staged): the y / dy scratch size. */
  readonly stageYBytes: number;
  /** Largest chunk's partial-sum bytes: the partials scratch size. */
  readonly partialBytes: number;
  /** Bytes of the per-block dLogits sums (16 per sum block; 0 for a single block). */
  readonly chunkSumBytes: number;
  /** Sum blocks over all chunks (1: the dLogits kernel adds the partials itself). */
  readonly sumBlockCount: number;
}

/** What the kernels need to know about one call's layout in memory. */
export interface ChunkRequest {
  readonly shape: Shape4;
  readonly padding: Padding;
  /** Floats per channel group: 4 for the vec4 kernels, else 1. */
  readonly lanes: 1 | 4;
  /** Channel groups per invocation (1 or 2). */
  readonly groupsPerInvocation: 1 | 2;
  /** Loop iterations one invocation may run (default {@link LOOP_ITERATION_BUDGET}; lower only to test the split). */
  readonly loopBudget?: number;
}

/** Bytes of one stage-1 partial sum (a vec4<f32>). */
export const PARTIAL_BYTES = 16;

/**
 * Mesa's loop limit (LP_MAX_TGSI_LOOP_ITERATIONS in gallivm, the shader compiler of llvmpipe and
 * lavapipe): one counter per shader invocation (per SIMD batch of them), shared by all its loops,
 * decremented at the end of every pass through any loop body, the pass that exits included; at 0
 * the running loop exits early, and so does every later one after a single pass. Measured with
 * src/webgpu/loop_limit_probe.ts on both Mesa adapters here (Dawn on SwiftShader has no such
 * limit). A kernel past it returns a wrong result and reports no error.
 */
export const MESA_LOOP_LIMIT = 65_535;

/**
 * The most loop iterations, counted as Mesa counts them ({@link loopCost}), that the host lets one
 * invocation of any of the project's kernels run in total: half of {@link MESA_LOOP_LIMIT}, so
 * that a loop a compiler adds, or one this count misses, still leaves room. Only the summing
 * kernels (dLogits and the 2x2 chunk sums) loop over a number of terms that grows with the input;
 * the planners split their terms into blocks within this budget. The other kernels' loops have
 * fixed bounds far below it (src/webgpu/loop_budget.test.ts checks every kernel).
 */
export const LOOP_ITERATION_BUDGET = 32_768;

/** The least loop budget a plan accepts (tests lower it to split small calls into many blocks). */
export const MIN_LOOP_BUDGET = 128;

/** Mesa's count for a loop that runs `trips` iterations: each iteration and the pass that exits. */
export function loopCost(trips: number): number {
  return trips + 1;
}

/**
 * Loop iterations of one invocation of kernels/source/shared/workgroup_sum.wgsl adding `count`
 * terms: the strided loop over the terms, then the binary tree over the workgroup.
 */
export function workgroupSumCost(count: number, workgroupSize: number): number {
  return loopCost(Math.ceil(count / workgroupSize)) + loopCost(Math.log2(workgroupSize));
}

/** Loop iterations of one invocation of sort_pool2d_dlogits.wgsl adding `count` partials, for k ≤ 4. */
export function dLogits2x2Cost(count: number): number {
  // The sum, then the dot product and the output loop over k ≤ 4 ranks.
  return workgroupSumCost(count, DLOGITS_WORKGROUP_SIZE) + 2 * loopCost(4);
}

/** Loop iterations of one invocation of sort_pool2d_partial_sums.wgsl adding `count` partials. */
export function partialSums2x2Cost(count: number): number {
  return workgroupSumCost(count, DLOGITS_WORKGROUP_SIZE);
}

/**
 * Loop iterations of one invocation of sort_pool2d_general_dlogits.wgsl adding `count` terms per
 * group, in either mode (store: the quads loop; finish: the dot product and output loops over k).
 */
export function generalDLogitsCost(count: number, k: number): number {
  const quads = Math.ceil(k / 4);
  const sums = loopCost(quads) + quads * workgroupSumCost(count, GENERAL_DLOGITS_WORKGROUP_SIZE);
  return sums + Math.max(loopCost(quads), 2 * loopCost(k));
}

/**
 * The most terms one summing dispatch may add within `budget`: the largest multiple of `unit`
 * (terms whose bytes keep a block's binding offset aligned) whose `cost` fits. Throws a
 * RangeError when not even one unit fits.
 */
export function sumBlockTerms(cost: (terms: number) => number, unit: number, budget: number): number {
  if (cost(unit) > budget) {
    throw new RangeError(`loop budget ${budget}: a block of ${unit} terms alone needs ${cost(unit)} iterations`);
  }
  // Each iteration adds at most a workgroup's worth of terms (256), so 256·budget terms never fit.
  let lo = 1;
  let hi = Math.ceil((256 * budget) / unit);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (cost(mid * unit) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo * unit;
}

/** `terms` terms in blocks of at most `blockTerms`, numbered from `firstIndex`; one empty block for none. */
export function splitTerms(terms: number, blockTerms: number, firstIndex: number): SumBlock[] {
  const blocks: SumBlock[] = [];
  for (let first = 0; first < terms || blocks.length === 0; first += blockTerms) {
    blocks.push({ index: firstIndex + blocks.length, first, count: Math.max(0, Math.min(blockTerms, terms - first)) });
  }
  return blocks;
}

/** A loop budget from a request: the default, or a lower one within [MIN_LOOP_BUDGET, LOOP_ITERATION_BUDGET]. */
export function checkLoopBudget(budget: number | undefined): number {
  if (budget === undefined) return LOOP_ITERATION_BUDGET;
  if (!Number.isSafeInteger(budget) || budget < MIN_LOOP_BUDGET || budget > LOOP_ITERATION_BUDGET) {
    throw new RangeError(
      `loopBudget: expected an integer in ${MIN_LOOP_BUDGET}..${LOOP_ITERATION_BUDGET}, received ${budget}`,
    );
  }
  return budget;
}

/** Byte range of `block` in a partials buffer whose terms are `termBytes` apart, clipped to the chunk's `partialBytes`. */
export function sumBlockRange(block: SumBlock, termBytes: number, partialBytes: number): ByteRange {
  const offset = block.first * termBytes;
  return { offset, size: Math.max(0, Math.min(block.count * termBytes, partialBytes - offset)) };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Refuses, naming x, a call whose whole x or y cannot be one WebGPU buffer (maxBufferSize). */
export function requireWholeBuffers(xBytes: number, yBytes: number, limits: BindingLimits, shapeText: string): void {
  for (const [what, bytes] of [["x", xBytes], ["y", yBytes]] as const) {
    if (bytes > limits.maxBufferSize) {
      throw new SortPoolArgumentError(
        "x",
        `a shape whose ${what} fits one WebGPU buffer (maxBufferSize ${limits.maxBufferSize} bytes)`,
        `${shapeText}: ${what} is ${bytes} bytes`,
      );
    }
  }
}

/** Smallest count n such that n·bytes is a multiple of `alignment` for every size in `sizes`. */
export function alignmentUnit(sizes: readonly number[], alignment: number): number {
  let unit = 1;
  for (const s of sizes) {
    const need = alignment / gcd(s, alignment);
    unit = unit * need / gcd(unit, need);
  }
  return unit;
}

/** Checks the limits themselves (positive integers; a power-of-two alignment of at least 4). */
export function checkLimits(limits: BindingLimits): BindingLimits {
  const { maxStorageBufferBindingSize: l, minStorageBufferOffsetAlignment: a, maxBufferSize: m } = limits;
  if (!Number.isSafeInteger(l) || l < 16) {
    throw new RangeError(`maxStorageBufferBindingSize: expected an integer >= 16 bytes, received ${l}`);
  }
  if (!Number.isSafeInteger(a) || a < 4 || (a & (a - 1)) !== 0) {
    throw new RangeError(`minStorageBufferOffsetAlignment: expected a power of two >= 4, received ${a}`);
  }
  if (!Number.isSafeInteger(m) || m < 16) {
    throw new RangeError(`maxBufferSize: expected an integer >= 16, received ${m}`);
  }
  return limits;
}

/**
 * Splits one call so that every binding fits `limits` (see the module docs). Throws a
 * SortPoolArgumentError naming x when x (or y) exceeds maxBufferSize, or when a single window row
 * does not fit a binding.
 */
export function planChunks(request: ChunkRequest, limits: BindingLimits): ChunkLayout {
  const { shape, padding, lanes, groupsPerInvocation: gpi } = request;
  checkLimits(limits);
  const L = limits.maxStorageBufferBindingSize;
  const A = limits.minStorageBufferOffsetAlignment;
  const [b, h, w, c] = shape;
  const [, ho, wo] = outputShape(shape, padding);
  const rowX = w * c * 4;
  const rowY = wo * c * 4;
  const itemsPerRow = (wo * (c / lanes)) / gpi;
  const partialRow = itemsPerRow * PARTIAL_BYTES;
  const imageX = h * rowX;
  const imageY = ho * rowY;
  const imagePartials = ho * partialRow;
  const shapeText = `shape [${shape.join(", ")}] with padding "${padding}"`;
  requireWholeBuffers(b * imageX, b * imageY, limits, shapeText);
  const budget = checkLoopBudget(request.loopBudget);
  const blockTerms = sumBlockTerms(dLogits2x2Cost, alignmentUnit([PARTIAL_BYTES], A), budget);
  let sumBlockCount = 0;

  const chunks: ChunkGeometry[] = [];
  const clears: ByteRange[] = [];
  const add = (
    batch: number,
    images: number,
    outRowStart: number,
    outRows: number,
    inRows: number,
    x: ByteRange,
    y: ByteRange,
  ) => {
    const workItems = images * outRows * itemsPerRow;
    const sumBlocks = splitTerms(workItems, blockTerms, sumBlockCount);
    sumBlockCount += sumBlocks.length;
    chunks.push({
      index: chunks.length,
      batch,
      images,
      outRowStart,
      outRows,
      inRows,
      x,
      y,
      staged: x.offset % A !== 0 || y.offset % A !== 0,
      workItems,
      partialBytes: workItems * PARTIAL_BYTES,
      sumBlocks,
    });
  };

  const perImage = Math.max(imageX, imageY, imagePartials);
  if (b * perImage <= L) {
    add(0, b, 0, ho, h, { offset: 0, size: b * imageX }, { offset: 0, size: b * imageY });
  } else if (perImage <= L) {
    let per = Math.floor(L / perImage);
    const unit = alignmentUnit([imageX, imageY], A);
    if (per >= unit) per -= per % unit;
    for (let b0 = 0; b0 < b; b0 += per) {
      const n = Math.min(per, b - b0);
      add(b0, n, 0, ho, h, { offset: b0 * imageX, size: n * imageX }, { offset: b0 * imageY, size: n * imageY });
    }
  } else {
    const perRow = Math.max(2 * rowX, rowY, partialRow);
    if (perRow > L) {
      throw new SortPoolArgumentError(
        "x",
        `a shape whose single window row fits one storage binding (maxStorageBufferBindingSize ${L} bytes): ` +
          "the wgsl kernels split a call along the batch and then along rows, not along columns",
        `${shapeText}: one window row needs ${perRow} bytes (2 input rows ${2 * rowX}, outputs ${rowY}, ` +
          `dLogits partial sums ${partialRow})`,
      );
    }
    let rows = Math.floor(L / perRow);
    const unit = alignmentUnit([2 * rowX, rowY], A);
    if (rows >= unit) rows -= rows % unit;
    for (let bi = 0; bi < b; bi++) {
      for (let oh0 = 0; oh0 < ho; oh0 += rows) {
        const oh1 = Math.min(oh0 + rows, ho);
        // "same" with odd H: the bottom chunk's last window row has one real input row.
        const inRows = oh1 === ho && padding === "same" ? h - 2 * oh0 : 2 * (oh1 - oh0);
        add(
          bi,
          1,
          oh0,
          oh1 - oh0,
          inRows,
          { offset: (bi * h + 2 * oh0) * rowX, size: inRows * rowX },
          { offset: (bi * ho + oh0) * rowY, size: (oh1 - oh0) * rowY },
        );
      }
      // "valid" with odd H: the last input row lies in no window; its dx is 0 (SPEC.md §3).
      if (padding === "valid" && h > 2 * ho) clears.push({ offset: (bi * h + h - 1) * rowX, size: rowX });
    }
  }

  const chunkSumBytes = sumBlockCount > 1 ? sumBlockCount * PARTIAL_BYTES : 0;
  if (chunkSumBytes > L) {
    throw new SortPoolArgumentError(
      "x",
      `a shape split into at most ${Math.floor(L / PARTIAL_BYTES)} chunks (their dLogits sums share one binding)`,
      `${shapeText}: ${chunks.length} chunks, ${sumBlockCount} dLogits sum blocks`,
    );
  }
  if (dLogits2x2Cost(sumBlockCount) > budget) {
    throw new SortPoolArgumentError(
      "x",
      `a shape whose dLogits sums one invocation can add within its loop budget (${budget} iterations)`,
      `${shapeText}: ${sumBlockCount} dLogits sum blocks`,
    );
  }
  let stageXBytes = 0;
  let stageYBytes = 0;
  let partialBytes = 0;
  for (const ch of chunks) {
    partialBytes = Math.max(partialBytes, ch.partialBytes);
    if (!ch.staged) continue;
    stageXBytes = Math.max(stageXBytes, ch.x.size);
    stageYBytes = Math.max(stageYBytes, ch.y.size);
  }
  return { chunks, clears, stageXBytes, stageYBytes, partialBytes, chunkSumBytes, sumBlockCount };
}

/** Bytes rendered with a binary unit, e.g. "128 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

/** "binding 4096 bytes, alignment 256" for the limits a variant overrides. */
export function describeLimits(limits: Partial<BindingLimits>): string {
  const parts: string[] = [];
  if (limits.maxStorageBufferBindingSize !== undefined) {
    parts.push(`binding ${limits.maxStorageBufferBindingSize} bytes`);
  }
  if (limits.minStorageBufferOffsetAlignment !== undefined) {
    parts.push(`alignment ${limits.minStorageBufferOffsetAlignment}`);
  }
  if (limits.maxBufferSize !== undefined) parts.push(`buffer ${limits.maxBufferSize} bytes`);
  return parts.join(", ") || "device's";
}
