/**
 * How a general-window call (any window and stride, or per-channel weights:
 * src/webgpu/general_windows.ts) is split so that every storage buffer its kernels bind fits the
 * device's limits: whole images per chunk (windows never cross images, so chunks need no halo).
 * Pure arithmetic on the shape, no GPU; the 2x2 path's split is src/webgpu/chunks.ts.
 *
 * @module
 */
import type { Shape4 } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import {
  alignmentUnit,
  type BindingLimits,
  checkLimits,
  checkLoopBudget,
  type ChunkGeometry,
  generalDLogitsCost,
  PARTIAL_BYTES,
  requireWholeBuffers,
  splitTerms,
  sumBlockTerms,
} from "./chunks.ts";

/** What the general-window kernels (any poolSize and strides, or per-channel weights) need to know about one call. */
export interface GeneralChunkRequest {
  /** Input shape `[B, H, W, C]`. */
  readonly shape: Shape4;
  /** Output shape `[B, Ho, Wo, C]` (src/spec.ts outputShape of the case). */
  readonly outShape: Shape4;
  /** Floats per channel group: 4 for the vec4 kernels, else 1. */
  readonly lanes: 1 | 4;
  /** Kept ranks, 1..16. */
  readonly k: number;
  /** Whether the logits (and dLogits) are per channel (C groups of k) rather than shared. */
  readonly perChannel: boolean;
  /** Output columns per work item of the ranks pass (>= 1). */
  readonly segment: number;
  /** Loop iterations one invocation may run (default LOOP_ITERATION_BUDGET, src/webgpu/chunks.ts; lower only to test the split). */
  readonly loopBudget?: number;
}

/**
 * One chunk of a general-window call: whole images. Its x and y ranges are the BINDING ranges,
 * which start at or before the chunk's data; `xBase` and `yBase` say where the chunk's data
 * starts inside them (in channel groups). A `staged` chunk's ranges are its data, copied through
 * aligned scratch (bases 0).
 */
export interface GeneralChunkGeometry extends ChunkGeometry {
  /** Where the chunk's x (and dx) starts inside the `x` binding, in channel groups (vec4s or floats). */
  readonly xBase: number;
  /** Where the chunk's y (and dy) starts inside the `y` binding, in channel groups. */
  readonly yBase: number;
  /** Invocations of the forward kernel (one per output channel group). */
  readonly forwardItems: number;
  /** Invocations of the gather kernel (one per input channel group). */
  readonly gatherItems: number;
  /** Groups (vec4s or floats) in one word plane of the chunk's kept-cell records. */
  readonly rankPlane: number;
  /** Bytes of the chunk's kept-cell records (one or two word planes). */
  readonly ranksBytes: number;
  /** dLogits stage-1 terms per weight group in this chunk (items, or rows when per channel). */
  readonly partialTerms: number;
}

/** The split of one general-window call. */
export interface GeneralChunkLayout {
  readonly chunks: readonly GeneralChunkGeometry[];
  /** Largest chunk's partial-sum bytes. */
  readonly partialBytes: number;
  /** Largest chunk's kept-cell record bytes. */
  readonly ranksBytes: number;
  /** Bytes of the running dLogits sums of a split call, one slot per weight group (0 for a single sum block). */
  readonly chunkSumBytes: number;
  /** dLogits sum blocks over all chunks (1: the finishing dLogits dispatch adds the partials itself). */
  readonly sumBlockCount: number;
  /** Bytes of the rank weights table (k rows of C floats). */
  readonly weightsBytes: number;
  /** vec4s of partial sums per weight group and term: ceil(k / 4). */
  readonly quads: number;
  /** Weight groups: C when per channel, else 1. */
  readonly weightGroups: number;
  /** vec4s between consecutive stage-1 terms of one weight group. */
  readonly termStride: number;
  /** Largest staged x range (0 when nothing is staged): the x / dx scratch size. */
  readonly stageXBytes: number;
  /** Largest staged y range (0 when nothing is staged): the y / dy scratch size. */
  readonly stageYBytes: number;
}

/** What one image of a general-window call binds: bytes of x, y, kept-cell records and partial sums, and its ranks-pass rows. */
export interface GeneralImageBytes {
  readonly x: number;
  readonly y: number;
  readonly ranks: number;
  readonly partials: number;
  /** Work-item rows of the ranks pass per image: Ho · ceil(Wo / segment). */
  readonly rows: number;
}

/** The per-image bindings of a general-window call (see {@link planGeneralChunks}). */
export function generalBytesPerImage(request: GeneralChunkRequest): GeneralImageBytes {
  const { shape, outShape, lanes, k, perChannel, segment } = request;
  const [, h, w, c] = shape;
  const [, ho, wo] = outShape;
  const rows = ho * Math.ceil(wo / segment);
  const y = ho * wo * c * 4;
  return {
    x: h * w * c * 4,
    y,
    ranks: (k > 8 ? 2 : 1) * y,
    partials: rows * (perChannel ? c : c / lanes) * Math.ceil(k / 4) * PARTIAL_BYTES,
    rows,
  };
}

/**
 * Splits a general-window call (src/webgpu/general_windows.ts: any window and stride, or per-channel
 * weights) into chunks of whole images so that every binding fits `limits`. Windows never cross
 * images, so chunks need no halo.
 *
 * Chunks are bound in place at aligned offsets when whole groups of images keep them aligned;
 * else from the aligned offset before their data (the kernels skip to it); else, when not even
 * that slack fits the limit, unaligned chunks are staged through aligned scratch buffers.
 *
 * Unlike the 2x2 path it does not split one image along rows (overlapping windows would need
 * halo rows): a call whose single image (its x, y, kept-cell records or dLogits partial sums)
 * does not fit one storage binding is refused with a SortPoolArgumentError naming x, as is x past
 * maxBufferSize and a weights table (k·C floats) past the binding limit.
 *
 * Each chunk's dLogits terms are then split into sum blocks (`sumBlocks`) that one dispatch of
 * the dLogits kernel adds within the loop budget (src/webgpu/chunks.ts LOOP_ITERATION_BUDGET): a
 * single image may hold millions of terms (a 2 x 1 window over one column: one per row), more than
 * one invocation may loop over on Mesa's adapters. A call of more than one block stores each
 * block's sums into running sums, in block order, and finishes over those.
 */
export function planGeneralChunks(request: GeneralChunkRequest, limits: BindingLimits): GeneralChunkLayout {
  const { shape, outShape, lanes, k, perChannel, segment } = request;
  checkLimits(limits);
  if (!Number.isSafeInteger(segment) || segment < 1) {
    throw new RangeError(`segment: expected a positive integer, received ${segment}`);
  }
  const L = limits.maxStorageBufferBindingSize;
  const A = limits.minStorageBufferOffsetAlignment;
  const [b, h, w, c] = shape;
  const [, ho, wo] = outShape;
  const groups = c / lanes;
  const quads = Math.ceil(k / 4);
  const { x: imageX, y: imageY, ranks: imageRanks, partials: imagePartials, rows: imageRows } = generalBytesPerImage(
    request,
  );
  const weightGroups = perChannel ? c : 1;
  // Shared weights: one term per work item (lanes added); per channel: one per row and channel.
  const termStride = perChannel ? c * quads : quads;
  const imageTerms = perChannel ? imageRows : imageRows * groups;
  const weightsBytes = k * c * 4;
  // Terms per summing dispatch: the dLogits kernel's loops over them stay within the loop budget,
  // and each block's binding offset (first term · termStride · 16 bytes) stays aligned.
  const blockTerms = sumBlockTerms(
    (terms) => generalDLogitsCost(terms, k),
    alignmentUnit([termStride * PARTIAL_BYTES], A),
    checkLoopBudget(request.loopBudget),
  );
  let sumBlockCount = 0;
  const shapeText = `shape [${shape.join(", ")}] with output [${outShape.join(", ")}]`;
  requireWholeBuffers(b * imageX, b * imageY, limits, shapeText);
  if (weightsBytes > L) {
    throw new SortPoolArgumentError(
      "x",
      `a channel count whose rank-weights table (k·C floats) fits one storage binding (${L} bytes)`,
      `${shapeText}, k = ${k}: ${weightsBytes} bytes`,
    );
  }
  const perImage = Math.max(imageX, imageY, imageRanks, imagePartials);
  if (perImage > L) {
    throw new SortPoolArgumentError(
      "x",
      `a shape whose single image fits one storage binding (maxStorageBufferBindingSize ${L} bytes): with a ` +
        "window other than 2x2 / stride 2, or per-channel logits, the wgsl kernels split a call along the batch only",
      `${shapeText}: one image needs ${perImage} bytes (x ${imageX}, y ${imageY}, kept cells ${imageRanks}, ` +
        `dLogits partial sums ${imagePartials})`,
    );
  }
  // How chunks are bound: in place at aligned offsets when whole chunks of `unit` images keep
  // every offset aligned; else in place from the aligned offset before the data (up to A - 4
  // bytes early: `xBase`, `yBase` say where the data starts); else, when even that slack does not
  // fit, chunks at unaligned offsets are staged through aligned scratch (as the 2x2 path does).
  const unit = alignmentUnit([imageX, imageY], A);
  let per = Math.floor(L / perImage);
  let mode: "aligned" | "slack" | "staged" = "aligned";
  if (b * perImage <= L) {
    per = b;
  } else if (per >= unit) {
    per -= per % unit;
  } else if (L - (A - 4) >= perImage) {
    mode = "slack";
    per = Math.floor((L - (A - 4)) / perImage);
  } else {
    mode = "staged";
  }
  const chunks: GeneralChunkGeometry[] = [];
  const bind = (offset: number, size: number) => {
    const start = mode === "slack" ? offset - (offset % A) : offset;
    return { range: { offset: start, size: offset - start + size }, base: (offset - start) / (4 * lanes) };
  };
  for (let b0 = 0; b0 < b; b0 += per) {
    const n = Math.min(per, b - b0);
    const x = bind(b0 * imageX, n * imageX);
    const y = bind(b0 * imageY, n * imageY);
    const rows = n * imageRows;
    const workItems = rows * groups;
    const sumBlocks = splitTerms(n * imageTerms, blockTerms, sumBlockCount);
    sumBlockCount += sumBlocks.length;
    chunks.push({
      index: chunks.length,
      batch: b0,
      images: n,
      outRowStart: 0,
      outRows: ho,
      inRows: h,
      x: x.range,
      y: y.range,
      staged: mode === "staged" && (x.range.offset % A !== 0 || y.range.offset % A !== 0),
      workItems,
      partialBytes: n * imagePartials,
      xBase: x.base,
      yBase: y.base,
      forwardItems: n * ho * wo * groups,
      gatherItems: n * h * w * groups,
      rankPlane: n * ho * wo * groups,
      ranksBytes: n * imageRanks,
      partialTerms: n * imageTerms,
      sumBlocks,
    });
  }
  // Split calls (more than one sum block) keep one running sum per weight group (at most one
  // image's partial sums).
  const chunkSumBytes = sumBlockCount > 1 ? weightGroups * quads * PARTIAL_BYTES : 0;
  let partialBytes = 0;
  let ranksBytes = 0;
  let stageXBytes = 0;
  let stageYBytes = 0;
  for (const ch of chunks) {
    partialBytes = Math.max(partialBytes, ch.partialBytes);
    ranksBytes = Math.max(ranksBytes, ch.ranksBytes);
    if (!ch.staged) continue;
    stageXBytes = Math.max(stageXBytes, ch.x.size);
    stageYBytes = Math.max(stageYBytes, ch.y.size);
  }
  return {
    chunks,
    partialBytes,
    ranksBytes,
    chunkSumBytes,
    sumBlockCount,
    weightsBytes,
    quads,
    weightGroups,
    termStride,
    stageXBytes,
    stageYBytes,
  };
}
