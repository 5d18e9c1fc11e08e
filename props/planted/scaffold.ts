/**
 * The planted bugs' scaffold: one configurable re-implementation of the float64 reference
 * (window → rank → weights → scatter), built from src/spec.ts helpers, whose steps a bug replaces
 * one at a time (each default is the spec's behaviour), and the helpers the bugs are built from.
 *
 * @module
 */
import {
  FLOAT32_MIN_NORMAL,
  logitsGradient,
  outputIndex,
  type PoolGeometry,
  poolGeometry,
  rankCells,
  rankSumTerm,
  sizeOf,
  softmax,
  weightOffset,
  type WindowCell,
  windowCells,
} from "../../src/spec.ts";
import type {
  ForwardResult,
  GradientResult,
  Implementation,
  Shape4,
  SortPoolCase,
  TieBehaviour,
} from "../../src/types.ts";
import { isEmptyShape, validateCase, validateDy, type ValidCase } from "../../src/validate.ts";

/** One dx term of a window: `value` goes to x index `index` (-1: a padded cell, dropped). */
export interface DxTerm {
  readonly index: number;
  readonly value: number;
}

/** The steps a bug may replace. Each default is the spec's behaviour. */
export interface Steps {
  /** The case's validation (default: src/validate.ts validateCase, which refuses unknown keys and accepts empty inputs). */
  validate(input: SortPoolCase): ValidCase;
  /** Argument checks beyond validateCase (default: none; SPEC.md §6 accepts any number as a logit). */
  checkLogits(logits: ArrayLike<number>): void;
  /**
   * The rank weights from the logits (default: spec softmax, its limit, per group of k), laid out
   * like the logits: channel c's weights at [c·k, c·k + k) when there are C·k of them.
   */
  weights(logits: ArrayLike<number>, k: number, channels: number): Float64Array;
  /** y of a window from the k products w[r]·v[r] (default: summed from the first product). */
  accumulate(products: readonly number[], round: (v: number) => number): number;
  /** Participating cells of a window (default: spec windowCells). */
  cells(c: ValidCase, g: PoolGeometry, b: number, oh: number, ow: number, ch: number): WindowCell[];
  /** Rank order (default: spec rankCells). */
  rank(cells: WindowCell[]): WindowCell[];
  /** Weights used by the forward and by the backward (the whole table, every group of k). */
  forwardWeights(w: Float64Array, k: number): Float64Array;
  backwardWeights(w: Float64Array, k: number): Float64Array;
  /** Where the gradient of the cell at rank r (window order `cells`, rank order `ranked`) goes, and with which weight index. */
  scatter(ranked: WindowCell[], cells: WindowCell[], k: number): { index: number; weightIndex: number }[];
  /**
   * A window's dx terms (default: `scatter`'s cells, each w[weightIndex]·dy with the window's
   * channel's weights `w`, rounded; ranks ≥ k and padded cells get no term, so they stay exactly +0).
   */
  dxTerms(
    ranked: WindowCell[],
    cells: WindowCell[],
    k: number,
    w: ArrayLike<number>,
    g: number,
    round: (v: number) => number,
    scatter: Steps["scatter"],
  ): DxTerm[];
  /**
   * Stores a dx term; windows come in output order (default: assigns the first term of an element,
   * adds any later one: SPEC.md §5's sum over overlapping windows).
   */
  dxWrite(dx: Float64Array, written: Uint8Array, index: number, value: number): void;
  /** Index of x that receives a gradient meant for `index`. */
  dxIndex(index: number, shape: Shape4): number;
  /** Output index whose dy the window (b, oh, ow, ch) reads in the backward. */
  dyIndex(out: Shape4, b: number, oh: number, ow: number, ch: number): number;
  /** The cell whose value enters s_r for rank r (default: the cell at rank r). */
  rankSumCell(ranked: WindowCell[], cells: WindowCell[], r: number): WindowCell;
  /** Its term of s_r (default: value·dy for a real cell, exactly 0 for a padded one). */
  rankSumTerm(cell: WindowCell, g: number): number;
  /** dLogits from weights and rank sums, laid out like the logits (default: exactly 0 for k = 1, else the softmax VJP per group). */
  dLogits(w: Float64Array, s: Float64Array, k: number, channels: number): Float64Array;
  /** Post-processing of each forward output. */
  output(y: number): number;
}

/** `f` applied to each group of k of `w` and `s` (per-channel tables), concatenated. */
export function perGroup(
  w: Float64Array,
  s: Float64Array,
  k: number,
  f: (w: Float64Array, s: Float64Array) => Float64Array,
): Float64Array {
  const out = new Float64Array(w.length);
  for (let start = 0; start < w.length; start += k) {
    out.set(f(w.subarray(start, start + k), s.subarray(start, start + k)), start);
  }
  return out;
}

/** Each group of k reversed. */
export function reverseGroups(w: Float64Array, k: number): Float64Array {
  const out = new Float64Array(w.length);
  for (let start = 0; start < w.length; start += k) {
    for (let r = 0; r < k; r++) out[start + r] = w[start + k - 1 - r];
  }
  return out;
}

const specSteps: Steps = {
  validate: (input) => validateCase(input),
  checkLogits: () => {},
  weights: (logits, k) => softmax(logits, k),
  accumulate: (products, round) => {
    let acc = products[0];
    for (let r = 1; r < products.length; r++) acc = round(acc + products[r]);
    return acc;
  },
  cells: (c, g, b, oh, ow, ch) => windowCells(c.x, c.shape, c.k, b, oh, ow, ch, g),
  rank: (cells) => rankCells(cells),
  forwardWeights: (w) => w,
  backwardWeights: (w) => w,
  scatter: (ranked, _cells, k) => ranked.slice(0, k).map((cell, r) => ({ index: cell.index, weightIndex: r })),
  dxTerms: (ranked, cells, k, w, g, round, scatter) =>
    scatter(ranked, cells, k).filter(({ weightIndex }) => weightIndex < k).map(({ index, weightIndex }) => ({
      index,
      value: round(w[weightIndex] * g),
    })),
  dxWrite: (dx, written, index, value) => {
    dx[index] = written[index] ? dx[index] + value : value;
    written[index] = 1;
  },
  dxIndex: (index) => index,
  dyIndex: (out, b, oh, ow, ch) => outputIndex(out, b, oh, ow, ch),
  rankSumCell: (ranked, _cells, r) => ranked[r],
  rankSumTerm: (cell, g) => rankSumTerm(cell, g),
  dLogits: (w, s, k) => logitsGradient(w, s, k),
  output: (y) => y,
};

/**
 * Softmax, its limit (SPEC.md §5), evaluated with every operation rounded by `round` (Math.fround:
 * float32 arithmetic).
 */
function roundedSoftmax(logits: ArrayLike<number>, round: (v: number) => number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  if (Number.isNaN(max)) return new Float64Array(logits.length).fill(NaN);
  const e = Array.from(logits, (l) => (l === max ? 1 : round(Math.exp(round(l - max)))));
  let sum = 0;
  for (const v of e) sum = round(sum + v);
  // SPEC.md §5 "Weights": float32 implementations flush a weight below float32's smallest normal to +0.
  return Float64Array.from(e, (v) => {
    const w = round(v / sum);
    return round === Math.fround && w < FLOAT32_MIN_NORMAL ? 0 : w;
  });
}

/** softmaxVjp with every operation rounded by `round`. */
function roundedSoftmaxVjp(w: Float64Array, s: Float64Array, round: (v: number) => number): Float64Array {
  let dot = 0;
  for (let r = 0; r < w.length; r++) dot = round(dot + round(w[r] * s[r]));
  return Float64Array.from(w, (wj, j) => round(wj * round(s[j] - dot)));
}

/**
 * Builds a reference-like entry whose steps are the spec's except `bug`. With `float32Arithmetic`
 * every operation rounds to float32 (Math.fround), as a float32 kernel would.
 */
export function mutant(
  name: string,
  description: string,
  bug: Partial<Steps>,
  options: { ties?: TieBehaviour; precision?: "float32" | "float64"; float32Arithmetic?: boolean } = {},
): Implementation {
  const round = options.float32Arithmetic ? Math.fround : (v: number) => v;
  const base: Steps = options.float32Arithmetic
    ? {
      ...specSteps,
      weights: (logits, k) => {
        const out = new Float64Array(logits.length);
        for (let start = 0; start < logits.length; start += k) {
          out.set(roundedSoftmax(Array.prototype.slice.call(logits, start, start + k), round), start);
        }
        return out;
      },
      rankSumTerm: (cell, g) => round(rankSumTerm(cell, g)),
      dLogits: (w, s, k) => (k === 1 ? new Float64Array(w.length) : perGroup(w, s, k, (a, b) =>
        roundedSoftmaxVjp(a, b, round))),
    }
    : specSteps;
  const steps: Steps = { ...base, ...bug };
  const weightsOf = (c: ValidCase) => {
    steps.checkLogits(c.logits);
    return steps.weights(c.logits, c.k, c.shape[3]);
  };
  /** Channel `ch`'s k weights in a weight table. */
  const channelWeights = (w: Float64Array, k: number, ch: number) => {
    const start = weightOffset(w.length, k, ch);
    return w.subarray(start, start + k);
  };
  const visit = (
    c: ValidCase,
    g: PoolGeometry,
    f: (b: number, oh: number, ow: number, ch: number, o: number, out: Shape4) => void,
  ) => {
    const out: Shape4 = [c.shape[0], g.rows.out, g.cols.out, c.shape[3]];
    for (let b = 0; b < out[0]; b++) {
      for (let oh = 0; oh < out[1]; oh++) {
        for (let ow = 0; ow < out[2]; ow++) {
          for (let ch = 0; ch < out[3]; ch++) f(b, oh, ow, ch, outputIndex(out, b, oh, ow, ch), out);
        }
      }
    }
  };
  const forward = (input: SortPoolCase): ForwardResult => {
    const c = steps.validate(input);
    const g = poolGeometry(c.shape, c.padding, c);
    const shape: [number, number, number, number] = [c.shape[0], g.rows.out, g.cols.out, c.shape[3]];
    const w = steps.forwardWeights(weightsOf(c), c.k);
    const y = new Float64Array(sizeOf(shape));
    visit(c, g, (b, oh, ow, ch, o) => {
      const wc = channelWeights(w, c.k, ch);
      const ranked = steps.rank(steps.cells(c, g, b, oh, ow, ch));
      const products = ranked.slice(0, c.k).map((cell, r) => round(wc[r] * cell.value));
      y[o] = steps.output(steps.accumulate(products, round));
    });
    return { y, shape };
  };
  const gradient = (input: SortPoolCase, dyInput: ArrayLike<number>): GradientResult => {
    const c = steps.validate(input);
    const dy = validateDy(c, dyInput);
    const g = poolGeometry(c.shape, c.padding, c);
    const w = weightsOf(c);
    // SPEC.md §1 "Empty inputs": no window, so dLogits is exactly +0 without going through the softmax.
    if (isEmptyShape(c.shape)) return { dx: new Float64Array(0), dLogits: new Float64Array(w.length) };
    const wb = steps.backwardWeights(w, c.k);
    const dx = new Float64Array(c.x.length);
    const written = new Uint8Array(c.x.length);
    const s = new Float64Array(w.length);
    visit(c, g, (b, oh, ow, ch, _o, out) => {
      const cells = steps.cells(c, g, b, oh, ow, ch);
      const ranked = steps.rank(cells);
      const gy = dy[steps.dyIndex(out, b, oh, ow, ch)];
      const wc = channelWeights(wb, c.k, ch);
      for (const { index, value } of steps.dxTerms(ranked, cells, c.k, wc, gy, round, steps.scatter)) {
        if (index >= 0) steps.dxWrite(dx, written, steps.dxIndex(index, c.shape), value);
      }
      const base = weightOffset(w.length, c.k, ch);
      for (let r = 0; r < c.k; r++) {
        s[base + r] = round(s[base + r] + steps.rankSumTerm(steps.rankSumCell(ranked, cells, r), gy));
      }
    });
    return { dx, dLogits: steps.dLogits(steps.forwardWeights(w, c.k), s, c.k, c.shape[3]) };
  };
  return {
    name,
    description,
    precision: options.precision ?? "float64",
    device: "cpu",
    backend: "js",
    ties: options.ties ?? { kind: "spec" },
    forward: (c) => Promise.resolve().then(() => forward(c)),
    gradient: (c, dy) => Promise.resolve().then(() => gradient(c, dy)),
  };
}

/** Per-channel logits read rank-major: element (c, r) of the result is `logits[r·C + c]` (shared logits unchanged). */
export function fromRankMajor(logits: ArrayLike<number>, k: number, channels: number): Float64Array {
  const out = Float64Array.from(logits);
  if (logits.length === k) return out;
  for (let c = 0; c < channels; c++) for (let r = 0; r < k; r++) out[c * k + r] = logits[r * channels + c];
  return out;
}

/** The inverse of {@link fromRankMajor}: element (c, r) goes to `r·C + c`. */
export function toRankMajor(values: Float64Array, k: number, channels: number): Float64Array {
  const out = Float64Array.from(values);
  if (values.length === k) return out;
  for (let c = 0; c < channels; c++) for (let r = 0; r < k; r++) out[r * channels + c] = values[c * k + r];
  return out;
}

/** Rank order by a custom "ranks before" predicate (stable insertion sort, so the predicate is all that matters). */
export function rankBy(cells: WindowCell[], before: (p: WindowCell, q: WindowCell) => boolean): WindowCell[] {
  const out: WindowCell[] = [];
  for (const cell of cells) {
    let i = out.length;
    while (i > 0 && before(cell, out[i - 1])) i--;
    out.splice(i, 0, cell);
  }
  return out;
}

/** Rounds to IEEE half precision's 11-bit significand (range not limited). */
export function roundToHalfPrecision(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const e = Math.floor(Math.log2(Math.abs(v)));
  const q = 2 ** (e - 10);
  return Math.round(v / q) * q;
}
