/**
 * Window arithmetic shared by the tfjs implementations (tfjs-topk, tfjs-network): turning an NHWC
 * input into its 2x2 windows, the finite sort keys that encode SPEC.md's tie rule, and the
 * weighted sum of ranked values. Both families call these, so they agree on cell order, padding
 * and ties by construction.
 *
 * @module
 */
import { outputShape, STRIDE, WINDOW_CELLS, WINDOW_SIZE } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { tf } from "./runtime.ts";

/**
 * Value written into the padded bottom row / right column ("same" padding, odd H or W).
 * k > 1: zero, as the spec says (padded cells are zero-valued participants).
 * k = 1: -Infinity, which makes a padded cell lose to every real cell: the spec ignores padded
 * cells for k = 1, and cell 0 of a window is never padded and has the lowest cell index, so even
 * a window whose real cells are all -Infinity picks a real cell (cell 0) first.
 */
export function paddingValue(k: number): number {
  return k === 1 ? -Infinity : 0;
}

/**
 * The 2x2 windows of `x` (`[B, H, W, C]`), as a `[B, Ho, Wo, C, 4]` tensor whose last axis is the
 * window cell in spec.ts's order: cell = 2·cellRow(cell) + cellCol(cell), i.e. row-major 00, 01,
 * 10, 11 (see `cellIndex`). "same" pads the bottom row / right column with `paddingValue(k)`;
 * "valid" drops an odd last row / column. Built from pad/slice, reshape and transpose only, so
 * tfjs's autograd differentiates it (padded cells receive no gradient).
 *
 * The layout: after padding to `[B, 2·Ho, 2·Wo, C]`, reshape to `[B, Ho, 2, Wo, 2, C]` (the
 * first 2 is the cell row, the second the cell column), transpose to `[B, Ho, Wo, C, 2, 2]` and
 * merge the last two axes row-major, which yields cell = 2·row + column.
 */
export function extractWindows(x: tf.Tensor4D, k: number, padding: Padding): tf.Tensor5D {
  const shape = x.shape as unknown as Shape4;
  const [b, h, w, c] = shape;
  const [, ho, wo] = outputShape(shape, padding);
  const rows = ho * STRIDE;
  const cols = wo * STRIDE;
  let grid: tf.Tensor4D = x;
  if (rows > h || cols > w) {
    grid = tf.pad(x, [[0, 0], [0, rows - h], [0, cols - w], [0, 0]], paddingValue(k));
  } else if (rows < h || cols < w) {
    grid = tf.slice(x, [0, 0, 0, 0], [b, rows, cols, c]);
  }
  const split = tf.reshape(grid, [b, ho, WINDOW_SIZE, wo, WINDOW_SIZE, c]);
  const cellsLast = tf.transpose(split, [0, 1, 3, 5, 2, 4]);
  return tf.reshape(cellsLast, [b, ho, wo, c, WINDOW_CELLS]);
}

/**
 * The windows of `x` as `[N, 4]` rows, N = B·Ho·Wo·C in NHWC output order (see `extractWindows`).
 * Rank 2 because tfjs-webgpu's where, comparison and topk kernels do not take every rank.
 */
export function windowRows(x: tf.Tensor4D, k: number, padding: Padding): tf.Tensor2D {
  return tf.reshape(extractWindows(x, k, padding) as tf.Tensor, [-1, WINDOW_CELLS]) as tf.Tensor2D;
}

/** Finite sort keys for window values: compare `group` first, then `value`, then cell index. */
export interface RankKeys {
  /** 3 for NaN, 2 for +Infinity, 1 for finite values, 0 for -Infinity. */
  readonly group: tf.Tensor;
  /** The value itself when finite, 0 otherwise (so equal non-finite values tie). */
  readonly value: tf.Tensor;
}

/**
 * SPEC.md's order (NaN first, then larger first, +0 == -0, ties by lower cell index) as a
 * lexicographic order on two FINITE float32 keys plus the cell index. Keeping every compared
 * number finite matters because tf.topk on the cpu backend breaks on NaN and on equal
 * infinities (its comparator subtracts values), and tfjs-webgpu's comparison shaders build their
 * result from `sign(a) * 0`, which is NaN for a NaN operand, before converting it to a bool.
 * Here the one comparison on raw values (v > 0, to tell +Infinity from -Infinity) is multiplied
 * by isInf(v), which is 0 wherever v is NaN. Not differentiable (use it off the gradient tape).
 */
export function rankKeys(windows: tf.Tensor): RankKeys {
  return tf.tidy(() => {
    const finite = tf.isFinite(windows);
    const asNumber = (t: tf.Tensor) => tf.cast(t, "float32");
    const positiveInf = tf.mul(asNumber(tf.isInf(windows)), asNumber(tf.greater(windows, 0)));
    const group = tf.addN([tf.mul(asNumber(tf.isNaN(windows)), 3), asNumber(finite), tf.mul(positiveInf, 2)]);
    return { group, value: tf.where(finite, windows, tf.zerosLike(windows)) };
  });
}

/**
 * y = Σ_r softmax(logits)[r] · ranked[r], summed in rank order r = 0, 1, …, k-1 (SPEC.md §5), for
 * `ranked` = the k ranked-value tensors (rank 0 = largest), all of one shape. Differentiable in
 * both. Written as k scalar-weight products rather than one [N, k] · [k] product: the gradient of
 * that broadcast sums over axis 0 of an [N, k] tensor, which tfjs-webgpu runs through a transpose
 * whose dispatch exceeds WebGPU's 65535-workgroup limit at a million windows.
 */
export function weightedSum(ranked: readonly tf.Tensor[], logits: tf.Tensor1D): tf.Tensor {
  const w = tf.softmax(logits);
  let y = tf.mul(ranked[0], tf.slice(w, [0], [1]));
  for (let r = 1; r < ranked.length; r++) y = tf.add(y, tf.mul(ranked[r], tf.slice(w, [r], [1])));
  return y;
}
