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
 * y = Σ_r w[r] · ranked[r], summed in rank order r = 0, 1, …, k-1 starting from the first product
 * (SPEC.md §5: a zero y keeps IEEE's sign, and k = 1 with w = [1] returns ranked[0] bitwise), for
 * `ranked` = the k ranked-value tensors (rank 0 = largest), all of one shape, and `weights` = the
 * k rank weights (softmax of the logits, computed by the caller: see family.ts). Written as k
 * scalar-weight products rather than one [N, k] · [k] product, which keeps the summation order
 * explicit.
 */
export function weightedSum(ranked: readonly tf.Tensor[], weights: tf.Tensor1D): tf.Tensor {
  let y = tf.mul(ranked[0], tf.slice(weights, [0], [1]));
  for (let r = 1; r < ranked.length; r++) y = tf.add(y, tf.mul(ranked[r], tf.slice(weights, [r], [1])));
  return y;
}

/**
 * The inverse layout of {@link windowRows}: per-window-cell values `[N, 4]` (N = B·Ho·Wo·C, NHWC
 * output order, cell order of spec.ts) back to an NHWC tensor of `shape`. Values of padded cells
 * are dropped ("same", odd H or W); elements in no window ("valid", odd H or W) are exactly +0.
 * Built from reshape, transpose, slice and pad, so every kept value is moved, never recomputed.
 */
export function windowsToInput(cells: tf.Tensor2D, shape: Shape4, padding: Padding): tf.Tensor4D {
  const [b, h, w, c] = shape;
  const [, ho, wo] = outputShape(shape, padding);
  const split = tf.reshape(cells, [b, ho, wo, c, WINDOW_SIZE, WINDOW_SIZE]);
  const rowsFirst = tf.transpose(split, [0, 1, 4, 2, 5, 3]);
  let grid = tf.reshape(rowsFirst, [b, ho * STRIDE, wo * STRIDE, c]) as tf.Tensor4D;
  if (ho * STRIDE > h || wo * STRIDE > w) {
    grid = tf.slice(grid, [0, 0, 0, 0], [b, Math.min(h, ho * STRIDE), Math.min(w, wo * STRIDE), c]);
  }
  if (ho * STRIDE < h || wo * STRIDE < w) {
    grid = tf.pad(grid, [[0, 0], [0, h - grid.shape[1]], [0, w - grid.shape[2]], [0, 0]], 0);
  }
  return grid;
}

/**
 * For each window cell 0..3, 1 where it is a real cell of its window and 0 where it is padding
 * (`[N]` float32), or null when every cell of this shape is real (no "same" padding here). Built
 * on the device by broadcasting a per-row and a per-column flag (nothing of size N is uploaded).
 */
export function realCells(shape: Shape4, padding: Padding): tf.Tensor[] | null {
  const [b, h, w, c] = shape;
  const [, ho, wo] = outputShape(shape, padding);
  const rowPadded = ho * STRIDE > h;
  const colPadded = wo * STRIDE > w;
  if (!rowPadded && !colPadded) return null;
  // In the last window row (column) of a padded axis, the cells below (to the right) are padding.
  const flags = (count: number, padded: boolean) =>
    tf.cast(tf.less(tf.range(0, count, 1, "int32"), padded ? count - 1 : count), "float32");
  const below = tf.reshape(flags(ho, rowPadded), [1, ho, 1, 1]);
  const right = tf.reshape(flags(wo, colPadded), [1, 1, wo, 1]);
  const spread = (t: tf.Tensor) => tf.reshape(tf.broadcastTo(t, [b, ho, wo, c]), [-1]);
  return [tf.ones([b * ho * wo * c]), spread(right), spread(below), spread(tf.mul(below, right))];
}

/**
 * Per row i, the entry of the 4 cell `columns` at the cell where `isCell[cell][i]` holds (one cell
 * per row): a where chain, so values move exactly.
 */
function pick(columns: readonly tf.Tensor[], isCell: readonly tf.Tensor[]): tf.Tensor {
  let out = columns[WINDOW_CELLS - 1];
  for (let cell = WINDOW_CELLS - 2; cell >= 0; cell--) out = tf.where(isCell[cell], columns[cell], out);
  return out;
}

/** What {@link windowGradient} returns. */
export interface WindowGradient {
  /** dL/dx, `[B, H, W, C]`. */
  readonly dx: tf.Tensor4D;
  /** The rank sums s (`[k]`, real cells only), the input of dLogits; null for k = 1 (dLogits is 0). */
  readonly rankSums: tf.Tensor1D | null;
}

/**
 * The hand-written vector-Jacobian product shared by the tfjs families (SPEC.md §5 "Gradient"),
 * from the ranking alone: `cellOfRank[r]` (`[N]`, any numeric dtype) is the window cell holding
 * rank r < k of each window row of `rows` (`[N, 4]`, the {@link windowRows} of x).
 *
 * - dx: the cell at rank r gets `w[r] · dy` (a where chain: assigned, never a 0/1 mask times dy,
 *   so a non-finite dy leaves every other cell at exactly +0); padded cells are dropped and cells
 *   in no window are +0 ({@link windowsToInput}).
 * - s[r] = Σ_windows v[r] · dy over real cells: a padded cell is skipped (where, not 0 · dy).
 *   Not computed for k = 1, whose dLogits is exactly 0 whatever x and dy hold.
 *
 * Not autograd: tfjs's where gradient multiplies dy by a 0/1 mask, and 0 · ±Infinity is NaN.
 */
export function windowGradient(
  rows: tf.Tensor2D,
  cellOfRank: readonly tf.Tensor[],
  weights: tf.Tensor1D,
  dy: tf.Tensor4D,
  shape: Shape4,
  padding: Padding,
): WindowGradient {
  const k = cellOfRank.length;
  const n = rows.shape[0];
  const g = tf.reshape(dy, [n]);
  const isCell = cellOfRank.map((cells) => Array.from({ length: WINDOW_CELLS }, (_, cell) => tf.equal(cells, cell)));
  const grads = isCell.map((_, r) => tf.mul(g, tf.slice(weights, [r], [1])));
  const zeros = tf.zerosLike(g);
  const perCell = Array.from({ length: WINDOW_CELLS }, (_, cell) => {
    let d = zeros;
    for (let r = k - 1; r >= 0; r--) d = tf.where(isCell[r][cell], grads[r], d);
    return d;
  });
  const dx = windowsToInput(tf.stack(perCell, 1) as tf.Tensor2D, shape, padding);
  if (k === 1) return { dx, rankSums: null };
  const columns = tf.unstack(rows, 1);
  const real = realCells(shape, padding);
  const sums = isCell.map((cellIs) => {
    const term = tf.mul(pick(columns, cellIs), g);
    return tf.sum(real ? tf.where(tf.greater(pick(real, cellIs), 0), term, zeros) : term);
  });
  return { dx, rankSums: tf.stack(sums) as tf.Tensor1D };
}
