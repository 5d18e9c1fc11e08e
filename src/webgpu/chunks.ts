/**
 * How a sort_pool2d call is split so that every storage buffer a kernel binds fits the device's
 * limits (issue 10, class 7): pure arithmetic on the shape, no GPU.
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
 * @module
 */
import { outputShape } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";

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
  /** Kernel invocations doing work (one partial sum each). */
  readonly workItems: number;
  /** Bytes of the chunk's stage-1 partial sums (16 per work item). */
  readonly partialBytes: number;
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
  /** Bytes of the per-chunk dLogits sums (16 per chunk; 0 for a single chunk). */
  readonly chunkSumBytes: number;
}

/** What the kernels need to know about one call's layout in memory. */
export interface ChunkRequest {
  readonly shape: Shape4;
  readonly padding: Padding;
  /** Floats per channel group: 4 for the vec4 kernels, else 1. */
  readonly lanes: 1 | 4;
  /** Channel groups per invocation (1 or 2). */
  readonly groupsPerInvocation: 1 | 2;
}

/** Bytes of one stage-1 partial sum (a vec4<f32>). */
export const PARTIAL_BYTES = 16;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Refuses, naming x, a call whose whole x or y cannot be one WebGPU buffer (maxBufferSize). */
function requireWholeBuffers(xBytes: number, yBytes: number, limits: BindingLimits, shapeText: string): void {
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

  const chunkSumBytes = chunks.length > 1 ? chunks.length * PARTIAL_BYTES : 0;
  if (chunkSumBytes > L) {
    throw new SortPoolArgumentError(
      "x",
      `a shape split into at most ${Math.floor(L / PARTIAL_BYTES)} chunks (their dLogits sums share one binding)`,
      `${shapeText}: ${chunks.length} chunks`,
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
  return { chunks, clears, stageXBytes, stageYBytes, partialBytes, chunkSumBytes };
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
  /** Bytes of the running dLogits sums of a split call, one slot per weight group (0 for a single chunk). */
  readonly chunkSumBytes: number;
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
 * Splits a general-window call (src/webgpu/kernels.ts: any window and stride, or per-channel
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
    });
  }
  // Split calls keep one running sum per weight group (at most one image's partial sums).
  const chunkSumBytes = chunks.length > 1 ? weightGroups * quads * PARTIAL_BYTES : 0;
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
    weightsBytes,
    quads,
    weightGroups,
    termStride,
    stageXBytes,
    stageYBytes,
  };
}
