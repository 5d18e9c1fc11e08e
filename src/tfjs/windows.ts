/**
 * Window arithmetic shared by the tfjs implementations (tfjs-topk, tfjs-network): turning an NHWC
 * input into its windows, the finite sort keys that encode SPEC.md's tie rule, the weighted sum of
 * ranked values (shared or per-channel weights) and the hand-written gradient. Both families call
 * these, so they agree on cell order, padding and ties by construction.
 *
 * Two layouts build the same `[B·Ho·Wo·C, kh·kw]` windows tensor:
 * - the default 2x2 / stride 2 windows by pad (or slice), reshape and transpose
 *   ({@link extractWindows}; unchanged since before general windows, so the default stays
 *   bit-for-bit what it was);
 * - any other window and stride by one tf.gather along the spatial axis, with host index tables
 *   built from src/spec.ts `cellIndex` ({@link gatherPlan}); the gradient gathers back with the
 *   inverse tables, one per overlapping window, in output order (SPEC.md §5 "Gradient").
 *
 * @module
 */
import {
  cellIndex,
  isDefaultWindow,
  outputShape,
  type PoolGeometry,
  STRIDE,
  WINDOW_CELLS,
  WINDOW_SIZE,
} from "../spec.ts";
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
 * Rank r's weight, shaped to multiply a `[N]` column of ranked values (N = B·Ho·Wo·C, channel
 * fastest) element by element: `[1]` for weights shared by all channels (`weights` of length k),
 * or `[C]` for per-channel weights (length C·k, channel-major: SPEC.md §1), to multiply the column
 * viewed as `[N / C, C]` ({@link timesRankWeight}).
 */
function rankWeight(weights: tf.Tensor1D, r: number, k: number): tf.Tensor {
  const length = weights.shape[0];
  if (length === k) return tf.slice(weights, [r], [1]);
  const channels = length / k;
  return tf.reshape(tf.slice(tf.reshape(weights, [channels, k]), [0, r], [channels, 1]), [channels]);
}

/**
 * `column · w[r]` for a `[N]` column (one value per window, NHWC output order) and rank r: one
 * float32 product per element with that window's own weight (its channel's, when the weights are
 * per channel). Returns `[N]`.
 */
function timesRankWeight(column: tf.Tensor, weights: tf.Tensor1D, r: number, k: number): tf.Tensor {
  const w = rankWeight(weights, r, k);
  if (weights.shape[0] === k) return tf.mul(column, w);
  return tf.reshape(tf.mul(tf.reshape(column, [-1, w.shape[0]]), w), [-1]);
}

/**
 * y = Σ_r w[r] · ranked[r], summed in rank order r = 0, 1, …, k-1 starting from the first product
 * (SPEC.md §5: a zero y keeps IEEE's sign, and k = 1 with w = [1] returns ranked[0] bitwise), for
 * `ranked` = the k ranked-value tensors (rank 0 = largest), each `[N]` in NHWC output order, and
 * `weights` = the rank weights (softmax of the logits, computed by the caller: see family.ts):
 * k of them shared by all channels, or C·k per channel (channel c's at `[c·k, c·k + k)`). Written
 * as k products rather than one [N, k] · [k] product, which keeps the summation order explicit.
 */
export function weightedSum(ranked: readonly tf.Tensor[], weights: tf.Tensor1D): tf.Tensor {
  const k = ranked.length;
  let y = timesRankWeight(ranked[0], weights, 0, k);
  for (let r = 1; r < k; r++) y = tf.add(y, timesRankWeight(ranked[r], weights, r, k));
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
 * Host index tables of one geometry (SPEC.md §2–3) for the gather layout, every entry from
 * src/spec.ts `cellIndex` (on a one-image, one-channel shape, so an index is the spatial position
 * `row·W + col` of a cell, or -1 in the padding). Depends on H, W, padding, poolSize and strides
 * only; never on B or C.
 */
export interface GatherPlan {
  /** The geometry the tables describe. */
  readonly geometry: PoolGeometry;
  /** Cells per window, kh·kw. */
  readonly cells: number;
  /**
   * `[Ho·Wo·cells]`, window-major in output order then cell order: the spatial position of each
   * window cell, or `H·W` (the padding slot appended after the input) for a padded cell.
   */
  readonly forward: Int32Array;
  /** `[Ho·Wo·cells]`: 1 for a real cell, 0 for a padded one (as `forward`). */
  readonly real: Float32Array;
  /** Whether any window cell lies in the padding. */
  readonly anyPadded: boolean;
  /**
   * The inverse tables, `M` of them (M = the most windows any input position lies in), each
   * `[H·W]`: table j holds, for every input position, the flat `(window, cell)` slot
   * `(oh·Wo + ow)·cells + cell` of the j-th window containing it in OUTPUT ORDER (ascending oh,
   * then ow: SPEC.md §5's fixed order for overlap sums), or `Ho·Wo·cells` (an appended slot that
   * holds nothing) when it lies in fewer than j + 1 windows.
   */
  readonly backward: readonly Int32Array[];
}

const plans = new Map<string, GatherPlan>();

/**
 * The {@link GatherPlan} of a geometry, cached by its H, W, padding, window and strides (host work
 * O(Ho·Wo·kh·kw) on a cache miss).
 */
export function gatherPlan(geometry: PoolGeometry, padding: Padding): GatherPlan {
  const { rows, cols, poolSize, strides, cells } = geometry;
  const key = `${rows.size}x${cols.size} ${padding} ${poolSize.join("x")}/${strides.join("x")}`;
  const cached = plans.get(key);
  if (cached) return cached;
  const plane: Shape4 = [1, rows.size, cols.size, 1];
  const positions = rows.size * cols.size;
  const slots = rows.out * cols.out * cells;
  const forward = new Int32Array(slots);
  const real = new Float32Array(slots);
  const containing: number[][] = Array.from({ length: positions }, () => []);
  let anyPadded = false;
  for (let oh = 0, slot = 0; oh < rows.out; oh++) {
    for (let ow = 0; ow < cols.out; ow++) {
      for (let cell = 0; cell < cells; cell++, slot++) {
        const at = cellIndex(plane, 0, oh, ow, 0, cell, geometry);
        forward[slot] = at >= 0 ? at : positions;
        real[slot] = at >= 0 ? 1 : 0;
        if (at < 0) anyPadded = true;
        // Windows are visited in output order, so each position's list is in output order.
        else containing[at].push(slot);
      }
    }
  }
  const most = containing.reduce((m, list) => Math.max(m, list.length), 0);
  const backward = Array.from({ length: most }, (_, j) => Int32Array.from(containing, (list) => list[j] ?? slots));
  const plan: GatherPlan = { geometry, cells, forward, real, anyPadded, backward };
  if (plans.size >= 64) plans.clear();
  plans.set(key, plan);
  return plan;
}

/** A case's windows as the tfjs families use them; see {@link windowSet}. */
export interface WindowSet {
  /** `[B, H, W, C]` of x. */
  readonly shape: Shape4;
  /** "same" or "valid". */
  readonly padding: Padding;
  /** How many ranked values are kept; decides the padded cells' role (SPEC.md §3). */
  readonly k: number;
  /** The case's geometry. */
  readonly geometry: PoolGeometry;
  /** `[N, kh·kw]`, N = B·Ho·Wo·C in NHWC output order, cells in spec.ts's row-major order. */
  readonly rows: tf.Tensor2D;
  /** The gather layout's tables, or null for the default 2x2/2 layout ({@link windowRows}). */
  readonly plan: GatherPlan | null;
  /**
   * Gather layout with padded cells only: `[N, kh·kw]` float32, 1 at real cells, 0 at padded ones.
   * Null otherwise (the default layout uses {@link realCells}).
   */
  readonly real: tf.Tensor2D | null;
}

/** `[1, Ho·Wo, 1, cells]`-shaped table values broadcast to `[N, cells]` (N = B·Ho·Wo·C, NHWC output order). */
function perWindowCell(values: Float32Array, shape: Shape4, plan: GatherPlan): tf.Tensor2D {
  const [b, , , c] = shape;
  const windows = plan.geometry.rows.out * plan.geometry.cols.out;
  const table = tf.tensor4d(values, [1, windows, 1, plan.cells]);
  return tf.reshape(tf.broadcastTo(table, [b, windows, c, plan.cells]), [-1, plan.cells]) as tf.Tensor2D;
}

/**
 * The windows of `x` (`[B, H, W, C]`) for a geometry: the default 2x2/2 windows by
 * {@link windowRows} (pad/reshape/transpose, bit-for-bit as before general windows), any other by
 * one tf.gather along the spatial axis with the {@link gatherPlan} table: x viewed as
 * `[B, H·W, C]`, with one padding slot appended when some cell is padded, gathered to
 * `[B, Ho·Wo·cells, C]` and transposed to `[N, cells]`. Values are moved, never recomputed.
 *
 * Padded cells: the default layout holds `paddingValue(k)` there (+0 for k > 1; -Infinity for
 * k = 1, where cell 0 is never padded). The gather layout holds +0 for every k, a participant
 * ranking at its cell number for k > 1; for k = 1, `real` marks it so that it ranks below every
 * real cell, -Infinity included ({@link maskPaddedForMax}): "same" may pad the top or left there
 * (TensorFlow's split), so cell 0 can be padded and a -Infinity tie would go to it.
 */
export function windowSet(x: tf.Tensor4D, k: number, padding: Padding, geometry: PoolGeometry): WindowSet {
  if (!isDefaultWindow(geometry)) return gatherWindowSet(x, k, padding, geometry);
  const shape = x.shape as unknown as Shape4;
  return { shape, padding, k, geometry, rows: windowRows(x, k, padding), plan: null, real: null };
}

/**
 * The gather layout of {@link windowSet} for any geometry, the default included (tests compare the
 * two layouts on 2x2/2; {@link windowSet} uses this one for every other window).
 */
export function gatherWindowSet(x: tf.Tensor4D, k: number, padding: Padding, geometry: PoolGeometry): WindowSet {
  const shape = x.shape as unknown as Shape4;
  const [b, h, w, c] = shape;
  const plan = gatherPlan(geometry, padding);
  const windows = geometry.rows.out * geometry.cols.out;
  let source: tf.Tensor = tf.reshape(x, [b, h * w, c]);
  if (plan.anyPadded) source = tf.concat([source, tf.zeros([b, 1, c])], 1);
  const gathered = tf.gather(source, tf.tensor1d(plan.forward, "int32"), 1);
  const cellsLast = tf.transpose(tf.reshape(gathered, [b, windows, plan.cells, c]), [0, 1, 3, 2]);
  const rows = tf.reshape(cellsLast, [-1, plan.cells]) as tf.Tensor2D;
  const real = plan.anyPadded ? perWindowCell(plan.real, shape, plan) : null;
  return { shape, padding, k, geometry, rows, plan, real };
}

/**
 * For k = 1 in the gather layout: the group keys of {@link rankKeys} with padded cells moved to
 * group -1, below -Infinity's 0, so a padded cell never ranks first (SPEC.md §3: k = 1 ignores
 * padded cells; every "same" window has a real cell). Unchanged for k > 1 (padded cells are zeros
 * ranking at their cell number) and where no cell is padded.
 */
export function maskPaddedForMax(set: WindowSet, group: tf.Tensor): tf.Tensor {
  if (set.k !== 1 || set.real === null) return group;
  return tf.where(tf.greater(set.real, 0), group, tf.fill(group.shape, -1));
}

/** What {@link windowGradient} returns. */
export interface WindowGradient {
  /** dL/dx, `[B, H, W, C]`. */
  readonly dx: tf.Tensor4D;
  /**
   * The rank sums s (real cells only), the input of dLogits: `[k]` for shared weights, `[C·k]`
   * (channel-major) for per-channel ones; null for k = 1 (dLogits is 0).
   */
  readonly rankSums: tf.Tensor1D | null;
}

/**
 * dx of the gather layout (SPEC.md §5 "Gradient", overlapping windows): each real cell's dx is the
 * sum of the terms of the windows that keep it, in output order, starting from the first term
 * (assigned, so a single term keeps its sign), and exactly +0 when no window keeps it. `terms`
 * and `kept` are `[N, cells]` (the term w[r]·dy of a kept cell, and 1 where a cell is kept).
 * Each inverse table of the plan gathers, for every input element, its j-th window's slot; a
 * where fold adds them in table order, never multiplying a term by a 0/1 mask.
 */
function gatherGradient(set: WindowSet, plan: GatherPlan, terms: tf.Tensor2D, kept: tf.Tensor2D): tf.Tensor4D {
  const [b, h, w, c] = set.shape;
  const slots = set.geometry.rows.out * set.geometry.cols.out * plan.cells;
  // [N, cells] -> [B, Ho·Wo·cells, C], plus a slot (holding nothing) for absent windows.
  const bySlot = (t: tf.Tensor2D) => {
    const spatial = tf.reshape(tf.transpose(tf.reshape(t, [b, slots / plan.cells, c, plan.cells]), [0, 1, 3, 2]), [
      b,
      slots,
      c,
    ]);
    return tf.concat([spatial, tf.zeros([b, 1, c])], 1);
  };
  const termSource = bySlot(terms);
  const keptSource = bySlot(kept);
  let dx: tf.Tensor = tf.zeros([b * h * w * c]);
  let any: tf.Tensor | null = null;
  for (const table of plan.backward) {
    const indices = tf.tensor1d(table, "int32");
    const term = tf.reshape(tf.gather(termSource, indices, 1), [-1]);
    const keeps = tf.greater(tf.reshape(tf.gather(keptSource, indices, 1), [-1]), 0);
    dx = any === null ? tf.where(keeps, term, dx) : tf.where(keeps, tf.where(any, tf.add(dx, term), term), dx);
    any = any === null ? keeps : tf.logicalOr(any, keeps);
  }
  return tf.reshape(dx, [b, h, w, c]);
}

/**
 * Per row i, the entry of the cell `columns` at the cell where `isCell[cell][i]` holds (one cell
 * per row): a where chain, so values move exactly.
 */
function pickCell(columns: readonly tf.Tensor[], isCell: readonly tf.Tensor[]): tf.Tensor {
  let out = columns[columns.length - 1];
  for (let cell = columns.length - 2; cell >= 0; cell--) out = tf.where(isCell[cell], columns[cell], out);
  return out;
}

/**
 * Σ over windows of `term` (`[N]`, NHWC output order): a scalar `[1]` for shared weights, or one
 * sum per channel (`[C]`) for per-channel ones.
 */
function rankSum(term: tf.Tensor, perChannel: boolean, channels: number): tf.Tensor {
  return perChannel ? tf.sum(tf.reshape(term, [-1, channels]), 0) : tf.sum(term);
}

/**
 * The hand-written vector-Jacobian product shared by the tfjs families (SPEC.md §5 "Gradient"),
 * from the ranking alone: `cellOfRank[r]` (`[N]`, any numeric dtype) is the window cell holding
 * rank r < k of each window row of `set.rows` (`[N, kh·kw]`, {@link windowSet}).
 *
 * - dx: the cell at rank r gets `w[r] · dy` (its channel's w[r] with per-channel weights; a where
 *   chain: assigned, never a 0/1 mask times dy, so a non-finite dy leaves every other cell at
 *   exactly +0); padded cells are dropped and cells in no window are +0. With overlapping windows
 *   a cell's terms are summed in output order starting from the first ({@link gatherGradient});
 *   the default layout has one window per cell ({@link windowsToInput}).
 * - s[r] = Σ_windows v[r] · dy over real cells: a padded cell is skipped (where, not 0 · dy), per
 *   channel when the weights are (`weights` of length C·k). Not computed for k = 1, whose dLogits
 *   is exactly 0 whatever x and dy hold.
 *
 * Not autograd: tfjs's where gradient multiplies dy by a 0/1 mask, and 0 · ±Infinity is NaN.
 */
export function windowGradient(
  set: WindowSet,
  cellOfRank: readonly tf.Tensor[],
  weights: tf.Tensor1D,
  dy: tf.Tensor4D,
): WindowGradient {
  const { rows, plan, shape, padding } = set;
  const k = cellOfRank.length;
  const [n, cells] = rows.shape;
  const channels = shape[3];
  const perChannel = weights.shape[0] !== k;
  const g = tf.reshape(dy, [n]);
  const isCell = cellOfRank.map((ofRank) => Array.from({ length: cells }, (_, cell) => tf.equal(ofRank, cell)));
  const grads = isCell.map((_, r) => timesRankWeight(g, weights, r, k));
  const zeros = tf.zerosLike(g);
  const perCell = Array.from({ length: cells }, (_, cell) => {
    let d = zeros;
    for (let r = k - 1; r >= 0; r--) d = tf.where(isCell[r][cell], grads[r], d);
    return d;
  });
  let dx: tf.Tensor4D;
  if (plan === null) {
    dx = windowsToInput(tf.stack(perCell, 1) as tf.Tensor2D, shape, padding);
  } else {
    // 1 where some rank keeps the cell. A where, not tf.cast: tfjs-webgpu casts bool to float32 by
    // relabelling the int data, which its transpose shader then rejects.
    const ones = tf.onesLike(g);
    const kept = Array.from({ length: cells }, (_, cell) => {
      let any = isCell[0][cell];
      for (let r = 1; r < k; r++) any = tf.logicalOr(any, isCell[r][cell]);
      return tf.where(any, ones, zeros);
    });
    dx = gatherGradient(set, plan, tf.stack(perCell, 1) as tf.Tensor2D, tf.stack(kept, 1) as tf.Tensor2D);
  }
  if (k === 1) return { dx, rankSums: null };
  const columns = cells === 1 ? [tf.reshape(rows, [-1])] : tf.unstack(rows, 1);
  const real = plan === null ? realCells(shape, padding) : set.real === null ? null : tf.unstack(set.real, 1);
  const sums = isCell.map((cellIs) => {
    const term = tf.mul(pickCell(columns, cellIs), g);
    return rankSum(real ? tf.where(tf.greater(pickCell(real, cellIs), 0), term, zeros) : term, perChannel, channels);
  });
  const rankSums = perChannel ? tf.reshape(tf.stack(sums, 1), [-1]) : tf.stack(sums);
  return { dx, rankSums: rankSums as tf.Tensor1D };
}
