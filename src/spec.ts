/**
 * The one place that owns sort_pool2d's window, padding, tie, softmax and summation arithmetic
 * (SPEC.md).
 * Implementations and checks call these helpers instead of re-deriving indices.
 *
 * @module
 */
import type { Padding, Shape4 } from "./types.ts";

/** Window side length. */
export const WINDOW_SIZE = 2;
/** Stride between windows (equal to the window size: windows never overlap). */
export const STRIDE = 2;
/** Cells per window. */
export const WINDOW_CELLS = 4;
/** Allowed values of k (how many sorted values are kept). */
export const POOL_RANGES = [1, 2, 3, 4] as const;
/** Allowed padding modes. */
export const PADDINGS: readonly Padding[] = ["same", "valid"];

/**
 * The 5-comparator sorting network for 4 values. Each pair `[i, j]` with `i < j` is a
 * compare-exchange that leaves the higher-ranked item at slot `i`. Applied in order to slots
 * holding window cells 0..3, it leaves them in rank order.
 */
export const SORTING_NETWORK: readonly (readonly [number, number])[] = [
  [0, 1],
  [2, 3],
  [0, 2],
  [1, 3],
  [1, 2],
];

/** Output spatial size for one input dimension. */
export function pooledSize(size: number, padding: Padding): number {
  return padding === "same" ? Math.ceil(size / STRIDE) : Math.floor(size / STRIDE);
}

/** NHWC output shape for an NHWC input shape. */
export function outputShape(shape: Shape4, padding: Padding): [number, number, number, number] {
  const [b, h, w, c] = shape;
  return [b, pooledSize(h, padding), pooledSize(w, padding), c];
}

/** Number of elements in a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row offset of window cell `cell` (0..3, row-major 00, 01, 10, 11). */
export function cellRow(cell: number): number {
  return cell >> 1;
}

/** Column offset of window cell `cell` (0..3, row-major 00, 01, 10, 11). */
export function cellCol(cell: number): number {
  return cell & 1;
}

/**
 * Flat NHWC index of window cell `cell` of the window at output position (`b`, `oh`, `ow`,
 * channel `ch`), or -1 when the cell lies in the padded bottom row / right column.
 */
export function cellIndex(
  shape: Shape4,
  b: number,
  oh: number,
  ow: number,
  ch: number,
  cell: number,
): number {
  const [, h, w, c] = shape;
  const row = oh * STRIDE + cellRow(cell);
  const col = ow * STRIDE + cellCol(cell);
  if (row >= h || col >= w) return -1;
  return ((b * h + row) * w + col) * c + ch;
}

/** Flat NHWC index of an output element. */
export function outputIndex(outShape: Shape4, b: number, oh: number, ow: number, ch: number): number {
  const [, ho, wo, c] = outShape;
  return ((b * ho + oh) * wo + ow) * c + ch;
}

/** NHWC coordinates of a flat index. */
export function coordinatesOf(
  shape: Shape4,
  flat: number,
): { b: number; row: number; col: number; ch: number } {
  const [, h, w, c] = shape;
  const ch = flat % c;
  const col = Math.floor(flat / c) % w;
  const row = Math.floor(flat / (c * w)) % h;
  const b = Math.floor(flat / (c * w * h));
  return { b, row, col, ch };
}

/**
 * The spec's ranking order: does value `a` at window cell `cellA` rank before value `b` at
 * `cellB`? NaN ranks above everything (two NaNs rank by cell); otherwise larger first; equal
 * values (+0 and -0 are equal) rank by cell index, lower first.
 */
export function ranksBefore(a: number, cellA: number, b: number, cellB: number): boolean {
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN !== bNaN) return aNaN;
  if (aNaN || a === b) return cellA < cellB;
  return a > b;
}

/** A window cell taking part in the ranking. */
export interface WindowCell {
  /** Window position 0..3 (row-major). */
  readonly cell: number;
  /** The cell's value (0 for a zero-padded cell). */
  readonly value: number;
  /** Flat NHWC index into x, or -1 for a padded cell. */
  readonly index: number;
}

/**
 * The cells of one window that take part in ranking, in window order. Padded cells are
 * zero-valued participants when k > 1 and are left out when k = 1 (max pooling ignores them).
 */
export function windowCells(
  x: ArrayLike<number>,
  shape: Shape4,
  k: number,
  b: number,
  oh: number,
  ow: number,
  ch: number,
): WindowCell[] {
  const cells: WindowCell[] = [];
  for (let cell = 0; cell < WINDOW_CELLS; cell++) {
    const index = cellIndex(shape, b, oh, ow, ch, cell);
    if (index >= 0) cells.push({ cell, value: x[index], index });
    else if (k > 1) cells.push({ cell, value: 0, index: -1 });
  }
  return cells;
}

/** Sorts window cells into rank order (rank 0 first) by the spec's tie rule. */
export function rankCells(cells: readonly WindowCell[]): WindowCell[] {
  return [...cells].sort((p, q) =>
    ranksBefore(p.value, p.cell, q.value, q.cell) ? -1 : ranksBefore(q.value, q.cell, p.value, p.cell) ? 1 : 0
  );
}

/**
 * The rank weights `w = softmax(logits)` in float64, evaluated as its limit so that every input
 * has an answer (SPEC.md §5 "Weights"): with `m = max(logits)`, `e[j] = 1` where
 * `logits[j] == m` (this covers `m = +Infinity` and logits that are all `-Infinity`), else
 * `e[j] = exp(logits[j] − m)`; then `w = e / Σe`, the sum taken in index order. Any NaN logit
 * makes every weight NaN. Examples: `[1e39, 0]` → `[1, 0]`; `[Infinity, Infinity, 0]` →
 * `[0.5, 0.5, 0]`; `[-Infinity, -Infinity]` → `[0.5, 0.5]`; `[NaN, 0]` → `[NaN, NaN]`.
 *
 * @param logits k numbers (any, including ±Infinity and NaN); length 1..4 in this project.
 * @returns k weights in [0, 1] summing to 1 (up to rounding), or k NaNs.
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (Number.isNaN(logits[i])) return out.fill(NaN);
    if (logits[i] > max) max = logits[i];
  }
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = logits[i] === max ? 1 : Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** float32's smallest normal number, 2^-126: float32 weights below it are flushed to +0 (SPEC.md §5). */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * The weights a float32 implementation uses (SPEC.md §5 "Weights"): {@link softmax} computed in
 * float64 once per call, rounded to float32, and any weight below float32's smallest NORMAL number
 * ({@link FLOAT32_MIN_NORMAL}, 2^-126) replaced by +0. The flush is part of the spec because WGSL
 * lets GPUs flush subnormals (and real ones do): a subnormal weight would not be portable. So
 * `0 · ±Infinity` is NaN there, where float64 gives ±Infinity (logit gaps past about 87.3).
 * NaN weights stay NaN.
 */
export function float32Weights(logits: ArrayLike<number>): Float32Array {
  return Float32Array.from(softmax(logits), (w) => (Math.fround(w) < FLOAT32_MIN_NORMAL ? 0 : w));
}

/**
 * One window's output (SPEC.md §5 "Forward"): `w[0]·v[0] + w[1]·v[1] + … + w[k−1]·v[k−1]`,
 * summed in rank order STARTING FROM THE FIRST PRODUCT (not from +0), so that a zero output keeps
 * IEEE's sign: it is -0 exactly when every product is -0, and for `w[0] = 1`, `k = 1` returns
 * `v[0]` itself (bitwise, -0 included).
 *
 * @param w the rank weights (length ≥ k).
 * @param ranked the window's values in rank order (length ≥ k; padded cells are +0).
 */
export function weightedRankSum(w: ArrayLike<number>, ranked: ArrayLike<number>, k: number): number {
  let acc = w[0] * ranked[0];
  for (let r = 1; r < k; r++) acc += w[r] * ranked[r];
  return acc;
}

/**
 * The term a ranked cell adds to the rank sum `s[r]` of dLogits (SPEC.md §5 "Gradient"):
 * `value · dy` for a real cell, exactly 0 for a padded cell (skipped, never `0 · dy`, so a
 * non-finite dy does not turn a padded zero into NaN).
 */
export function rankSumTerm(cell: WindowCell, dy: number): number {
  return cell.index < 0 ? 0 : cell.value * dy;
}

/**
 * dL/dlogits from the softmax weights `w` and the per-rank sums
 * `s[r] = Σ_windows v[r] · dy` (real cells only, {@link rankSumTerm}): the transposed softmax
 * Jacobian applied to s, `w[j] · (s[j] − t)` with `t = Σ_r w[r] s[r]` summed in rank order.
 * Use {@link logitsGradient}, which also applies the k = 1 rule.
 */
export function softmaxVjp(w: ArrayLike<number>, s: ArrayLike<number>): Float64Array {
  let dot = 0;
  for (let r = 0; r < w.length; r++) dot += w[r] * s[r];
  const out = new Float64Array(w.length);
  for (let j = 0; j < w.length; j++) out[j] = w[j] * (s[j] - dot);
  return out;
}

/**
 * dLogits (SPEC.md §5 "Gradient"): exactly `[0]` (+0) for k = 1, whatever x, dy or the logit
 * hold (one logit is no free weight; never computed through the softmax Jacobian, where a
 * non-finite s would give `1 · (s − s)` = NaN); {@link softmaxVjp} of `w` and `s` for k > 1,
 * where one non-finite `s[r]` makes `t` and hence every element non-finite.
 *
 * @param w k rank weights; @param s k rank sums (s is not read for k = 1).
 */
export function logitsGradient(w: ArrayLike<number>, s: ArrayLike<number>): Float64Array {
  return w.length === 1 ? new Float64Array(1) : softmaxVjp(w, s);
}

/** Converts this project's logits (index 0 weights the largest) to the original's order and back. */
export function reverseLogits(logits: ArrayLike<number>): number[] {
  return Array.from(logits).reverse();
}
