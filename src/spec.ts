/**
 * The one place that owns sort_pool2d's window, padding, tie, softmax and summation arithmetic
 * (SPEC.md).
 * Implementations and checks call these helpers instead of re-deriving indices.
 *
 * @module
 */
import type { Padding, Pair, Shape4 } from "./types.ts";

/** Default window side length (the article's 2x2 window). */
export const WINDOW_SIZE = 2;
/** Default stride (equal to the window size: default windows never overlap). */
export const STRIDE = 2;
/** Cells per default (2x2) window. */
export const WINDOW_CELLS = 4;
/** Allowed values of k for the default 2x2 window; a `[kh, kw]` window allows 1..kh·kw. */
export const POOL_RANGES = [1, 2, 3, 4] as const;
/** Allowed padding modes. */
export const PADDINGS: readonly Padding[] = ["same", "valid"];
/** Default `poolSize`, `[kh, kw]` (SPEC.md §2). */
export const DEFAULT_POOL_SIZE: Pair = [WINDOW_SIZE, WINDOW_SIZE];
/** Largest window side and largest stride this project defines (SPEC.md §2). */
export const MAX_WINDOW_SIDE = 4;
/** Largest stride this project defines (SPEC.md §2). */
export const MAX_STRIDE = 4;

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

/** Window options of a case: absent fields take their defaults (SPEC.md §2). */
export interface WindowOptions {
  /** `[kh, kw]`, default `[2, 2]`. */
  readonly poolSize?: Pair;
  /** `[sh, sw]`, default `poolSize`. */
  readonly strides?: Pair;
}

/** Output size and padding along one spatial axis (SPEC.md §3). */
export interface AxisGeometry {
  /** Input size along the axis. */
  readonly size: number;
  /** Window side along the axis. */
  readonly window: number;
  /** Stride along the axis. */
  readonly stride: number;
  /** Output size along the axis. */
  readonly out: number;
  /** Padded cells before the input ("same" only; TensorFlow's floor(total / 2)). */
  readonly padBefore: number;
  /** Padded cells after the input. */
  readonly padAfter: number;
}

/**
 * One axis of SPEC.md §3: "valid": `out = floor((size − window) / stride) + 1` (needs size ≥ window;
 * returns out = 0 otherwise, which validation rejects); "same": `out = ceil(size / stride)`,
 * `total = max((out − 1)·stride + window − size, 0)`, `before = floor(total / 2)`, the rest after
 * (TensorFlow's convention; for 2x2/2 that is one padded row or column after an odd size).
 */
export function axisGeometry(size: number, padding: Padding, window: number, stride: number): AxisGeometry {
  if (padding === "valid") {
    const out = size < window ? 0 : Math.floor((size - window) / stride) + 1;
    return { size, window, stride, out, padBefore: 0, padAfter: 0 };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  const padBefore = Math.floor(total / 2);
  return { size, window, stride, out, padBefore, padAfter: total - padBefore };
}

/** The window arithmetic of one case: both axes, the window and its cell count. */
export interface PoolGeometry {
  /** Rows: input height, kh, sh, Ho, pad top (`padBefore`) and bottom. */
  readonly rows: AxisGeometry;
  /** Columns: input width, kw, sw, Wo, pad left and right. */
  readonly cols: AxisGeometry;
  /** `[kh, kw]`. */
  readonly poolSize: Pair;
  /** `[sh, sw]`. */
  readonly strides: Pair;
  /** Cells per window, kh·kw. */
  readonly cells: number;
}

/**
 * The geometry of a case (SPEC.md §2–3). Arguments are assumed valid (src/validate.ts checks
 * them); `window` fields default to poolSize `[2, 2]` and strides = poolSize.
 */
export function poolGeometry(shape: Shape4, padding: Padding, window: WindowOptions = {}): PoolGeometry {
  const poolSize = window.poolSize ?? DEFAULT_POOL_SIZE;
  const strides = window.strides ?? poolSize;
  return {
    rows: axisGeometry(shape[1], padding, poolSize[0], strides[0]),
    cols: axisGeometry(shape[2], padding, poolSize[1], strides[1]),
    poolSize: [poolSize[0], poolSize[1]],
    strides: [strides[0], strides[1]],
    cells: poolSize[0] * poolSize[1],
  };
}

/** Whether a geometry is the article's default: 2x2 windows with stride 2. */
export function isDefaultWindow(g: PoolGeometry): boolean {
  return g.poolSize[0] === 2 && g.poolSize[1] === 2 && g.strides[0] === 2 && g.strides[1] === 2;
}

/** Output spatial size for one input dimension (SPEC.md §3); window 2 and stride 2 by default. */
export function pooledSize(size: number, padding: Padding, window = WINDOW_SIZE, stride = window): number {
  return axisGeometry(size, padding, window, stride).out;
}

/** NHWC output shape for an NHWC input shape (SPEC.md §3), for the given window options. */
export function outputShape(
  shape: Shape4,
  padding: Padding,
  window: WindowOptions = {},
): [number, number, number, number] {
  const g = poolGeometry(shape, padding, window);
  return [shape[0], g.rows.out, g.cols.out, shape[3]];
}

/** Number of elements in a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row offset of window cell `cell` (row-major over a window `kw` cells wide; default 2). */
export function cellRow(cell: number, kw = WINDOW_SIZE): number {
  return Math.floor(cell / kw);
}

/** Column offset of window cell `cell` (row-major over a window `kw` cells wide; default 2). */
export function cellCol(cell: number, kw = WINDOW_SIZE): number {
  return cell % kw;
}

/** Input row of window row offset `dr` of output row `oh` (negative or ≥ H inside the padding). */
export function inputRow(g: PoolGeometry, oh: number, dr: number): number {
  return oh * g.strides[0] - g.rows.padBefore + dr;
}

/** Input column of window column offset `dc` of output column `ow` (may lie in the padding). */
export function inputCol(g: PoolGeometry, ow: number, dc: number): number {
  return ow * g.strides[1] - g.cols.padBefore + dc;
}

/**
 * Flat NHWC index of window cell `cell` (row-major over the window) of the window at output
 * position (`b`, `oh`, `ow`, channel `ch`), or -1 when the cell lies in the padding.
 *
 * @param geometry the case's {@link poolGeometry}; default 2x2 windows with stride 2 (both
 *   paddings put the default windows' cells at the same places). Pass it in loops: it is rebuilt
 *   on every call otherwise.
 */
export function cellIndex(
  shape: Shape4,
  b: number,
  oh: number,
  ow: number,
  ch: number,
  cell: number,
  geometry: PoolGeometry = poolGeometry(shape, "same"),
): number {
  const [, h, w, c] = shape;
  const kw = geometry.poolSize[1];
  const row = inputRow(geometry, oh, Math.floor(cell / kw));
  const col = inputCol(geometry, ow, cell % kw);
  if (row < 0 || col < 0 || row >= h || col >= w) return -1;
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
 * The output windows along one axis that contain input position `pos` (SPEC.md §5 "Gradient":
 * the windows a cell's dx sums over), as the inclusive range `[first, last]` in ascending order;
 * `first > last` when no window contains it (a cell in no window).
 */
export function windowsContaining(axis: AxisGeometry, pos: number): [number, number] {
  const p = pos + axis.padBefore;
  const first = Math.max(0, Math.ceil((p - axis.window + 1) / axis.stride));
  const last = Math.min(axis.out - 1, Math.floor(p / axis.stride));
  return [first, last];
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
  /** Window position 0..kh·kw − 1 (row-major). */
  readonly cell: number;
  /** The cell's value (0 for a zero-padded cell). */
  readonly value: number;
  /** Flat NHWC index into x, or -1 for a padded cell. */
  readonly index: number;
}

/**
 * The cells of one window that take part in ranking, in window order. Padded cells are
 * zero-valued participants when k > 1 and are left out when k = 1 (max pooling ignores them).
 *
 * @param geometry the case's {@link poolGeometry}; default 2x2 windows with stride 2.
 */
export function windowCells(
  x: ArrayLike<number>,
  shape: Shape4,
  k: number,
  b: number,
  oh: number,
  ow: number,
  ch: number,
  geometry: PoolGeometry = poolGeometry(shape, "same"),
): WindowCell[] {
  const cells: WindowCell[] = [];
  for (let cell = 0; cell < geometry.cells; cell++) {
    const index = cellIndex(shape, b, oh, ow, ch, cell, geometry);
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
 * With `k` smaller than the length (per-channel logits, length C·k, SPEC.md §5), the softmax is
 * taken over each consecutive group of k separately (a NaN poisons its own group only).
 *
 * @param logits k or C·k numbers (any, including ±Infinity and NaN).
 * @param k group length; default the whole array. Must divide the length.
 * @returns weights in [0, 1] summing to 1 per group (up to rounding), or NaNs; same length.
 */
export function softmax(logits: ArrayLike<number>, k: number = logits.length): Float64Array {
  const out = new Float64Array(logits.length);
  for (let g = 0; g < logits.length; g += k) {
    let max = -Infinity;
    let nan = false;
    for (let i = g; i < g + k; i++) {
      if (Number.isNaN(logits[i])) nan = true;
      if (logits[i] > max) max = logits[i];
    }
    if (nan) {
      out.fill(NaN, g, g + k);
      continue;
    }
    let sum = 0;
    for (let i = g; i < g + k; i++) {
      out[i] = logits[i] === max ? 1 : Math.exp(logits[i] - max);
      sum += out[i];
    }
    for (let i = g; i < g + k; i++) out[i] /= sum;
  }
  return out;
}

/**
 * Whether logits of length `logitsLength` are per-channel (length C·k with C > 1) rather than one
 * set of k shared by all channels (SPEC.md §1). Lengths are assumed valid (src/validate.ts).
 */
export function isPerChannel(logitsLength: number, k: number, channels: number): boolean {
  return channels > 1 && logitsLength === channels * k && logitsLength !== k;
}

/** Offset of channel `ch`'s k weights (or logits) in a weight table of `logitsLength` (SPEC.md §1). */
export function weightOffset(logitsLength: number, k: number, ch: number): number {
  return logitsLength === k ? 0 : ch * k;
}

/** float32's smallest normal number, 2^-126: float32 weights below it are flushed to +0 (SPEC.md §5). */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * The weights a float32 implementation uses (SPEC.md §5 "Weights"): {@link softmax} computed in
 * float64 once per call, rounded to float32, and any weight below float32's smallest NORMAL number
 * ({@link FLOAT32_MIN_NORMAL}, 2^-126) replaced by +0. The flush is part of the spec because WGSL
 * lets GPUs flush subnormals (and real ones do): a subnormal weight would not be portable. So
 * `0 · ±Infinity` is NaN there, where float64 gives ±Infinity (logit gaps past about 87.3).
 * NaN weights stay NaN. `k` groups per-channel logits as in {@link softmax}.
 */
export function float32Weights(logits: ArrayLike<number>, k: number = logits.length): Float32Array {
  return Float32Array.from(softmax(logits, k), (w) => (Math.fround(w) < FLOAT32_MIN_NORMAL ? 0 : w));
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
 * With per-channel weights (`w` and `s` of length C·k, channel-major) each group of k is one
 * independent softmax: the rule applies per group.
 *
 * @param w rank weights (k, or C·k); @param s rank sums, same length (not read for k = 1).
 * @param k group length; default `w.length`.
 */
export function logitsGradient(w: ArrayLike<number>, s: ArrayLike<number>, k: number = w.length): Float64Array {
  const out = new Float64Array(w.length);
  if (k === 1) return out;
  for (let g = 0; g < w.length; g += k) {
    out.set(softmaxVjp(Array.prototype.slice.call(w, g, g + k), Array.prototype.slice.call(s, g, g + k)), g);
  }
  return out;
}

/** Converts this project's logits (index 0 weights the largest) to the original's order and back. */
export function reverseLogits(logits: ArrayLike<number>): number[] {
  return Array.from(logits).reverse();
}
