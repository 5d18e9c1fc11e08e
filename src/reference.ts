/**
 * The float64 CPU reference: the oracle every other implementation is checked against.
 * Written for clarity, one window at a time, straight from SPEC.md.
 *
 * @module
 */
import {
  logitsGradient,
  outputIndex,
  outputShape,
  poolGeometry,
  rankCells,
  rankSumTerm,
  sizeOf,
  softmax,
  weightedRankSum,
  weightOffset,
  windowCells,
} from "./spec.ts";
import type { BenchHandle, ForwardResult, GradientResult, Implementation, SortPoolCase } from "./types.ts";
import { isEmptyShape, SortPoolArgumentError, validateCase, validateDy, type ValidCase } from "./validate.ts";

/**
 * The result of an empty case (a zero-size dimension: SPEC.md §1 "Empty inputs"), or undefined for
 * a non-empty one: y and dx are empty (the output of an empty input is empty too) and every dLogits
 * element is exactly +0, whatever the logits: there is no window, so nothing is computed. Every
 * entry returns this before touching a device, so no zero-size work or binding is ever created.
 * `array` is the element type the entry returns (Float32Array for float32 entries).
 */
export function emptyResult(
  c: ValidCase,
  array: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array,
): { forward: ForwardResult; gradient: GradientResult } | undefined {
  if (!isEmptyShape(c.shape)) return undefined;
  return {
    forward: { y: new array(0), shape: outputShape(c.shape, c.padding, c) },
    gradient: { dx: new array(0), dLogits: new array(c.logits.length) },
  };
}

/**
 * {@link emptyResult} for an unchecked case (and `dy`, for a gradient): the result when the case is
 * valid and empty, undefined when it is non-empty or invalid (the entry's own path then throws the
 * error). `check` adds an entry's own refusals (e.g. its `supports`).
 */
export function emptyCaseResult(
  input: SortPoolCase,
  dy?: ArrayLike<number>,
  check?: (c: ValidCase) => void,
): { forward: ForwardResult; gradient: GradientResult } | undefined {
  try {
    const c = validateCase(input);
    check?.(c);
    if (dy !== undefined) validateDy(c, dy);
    return emptyResult(c);
  } catch {
    return undefined;
  }
}

/**
 * An entry's answers to an empty case, before any device work (no zero-size dispatch or binding):
 * a settled promise of the result when `c` is valid and empty, else undefined (the entry's own
 * path runs and reports any error).
 */
export const emptyAnswer = {
  forward: (c: SortPoolCase): Promise<ForwardResult> | undefined => {
    const e = emptyCaseResult(c);
    return e && Promise.resolve(e.forward);
  },
  gradient: (c: SortPoolCase, dy: ArrayLike<number>): Promise<GradientResult> | undefined => {
    const e = emptyCaseResult(c, dy);
    return e && Promise.resolve(e.gradient);
  },
  bench: (c: SortPoolCase): Promise<BenchHandle> | undefined =>
    emptyCaseResult(c) && Promise.resolve(EMPTY_BENCH_HANDLE),
};

/** A bench handle of an empty case: nothing to time, nothing queued (SPEC.md §1 "Empty inputs"). */
export const EMPTY_BENCH_HANDLE: BenchHandle = {
  forward: () => Promise.resolve(),
  forwardBackward: () => Promise.resolve(),
  dispose: () => undefined,
};

/**
 * Calls `visit(outIndex, channel, rankedCells)` for every window of the case, in output order
 * (batch, then output row, output column, channel: SPEC.md §5's fixed order for overlap sums).
 */
function forEachWindow(
  c: ValidCase,
  visit: (outIndex: number, channel: number, ranked: ReturnType<typeof rankCells>) => void,
): void {
  const g = poolGeometry(c.shape, c.padding, c);
  const out = [c.shape[0], g.rows.out, g.cols.out, c.shape[3]] as const;
  const [b, ho, wo, ch] = out;
  for (let n = 0; n < b; n++) {
    for (let oh = 0; oh < ho; oh++) {
      for (let ow = 0; ow < wo; ow++) {
        for (let q = 0; q < ch; q++) {
          const ranked = rankCells(windowCells(c.x, c.shape, c.k, n, oh, ow, q, g));
          visit(outputIndex(out, n, oh, ow, q), q, ranked);
        }
      }
    }
  }
}

/**
 * The rank weights: `weights` when given (checked to have the logits' length), else
 * softmax(logits) per group of k (SPEC.md §5).
 */
function weightsOf(c: ValidCase, weights: ArrayLike<number> | undefined): ArrayLike<number> {
  if (weights === undefined) return softmax(c.logits, c.k);
  if (weights.length !== c.logits.length) {
    throw new SortPoolArgumentError(
      "weights",
      `length ${c.logits.length} (the logits' length)`,
      `length ${weights.length}`,
    );
  }
  return weights;
}

/**
 * Forward pass in float64: y = Σ_{r<k} w[r] · (r-th ranked window value), summed in rank order
 * from the first product (SPEC.md §5), with w = softmax(logits) evaluated as its limit (channel
 * c's own k weights when the logits are per channel).
 *
 * @param weights rank weights to use instead of softmax(logits): e.g. `float32Weights(logits, k)`
 *   (src/spec.ts) makes this the oracle of a float32 implementation, which SPEC.md §5 lets round
 *   the weights to float32. Same length as the logits.
 * @returns y with shape `[B, Ho, Wo, C]` (SPEC.md §3).
 * @throws SortPoolArgumentError for a bad case (src/validate.ts) or a `weights` of the wrong length.
 */
export function referenceForward(input: SortPoolCase, weights?: ArrayLike<number>): ForwardResult {
  const c = validateCase(input);
  const g = poolGeometry(c.shape, c.padding, c);
  const shape: [number, number, number, number] = [c.shape[0], g.rows.out, g.cols.out, c.shape[3]];
  const w = weightsOf(c, weights);
  const y = new Float64Array(sizeOf(shape));
  const values = new Float64Array(c.k);
  const channelWeights = Array.from(
    { length: c.shape[3] },
    (_, q) => Array.prototype.slice.call(w, weightOffset(w.length, c.k, q)) as number[],
  );
  forEachWindow(c, (o, q, ranked) => {
    for (let r = 0; r < c.k; r++) values[r] = ranked[r].value;
    y[o] = weightedRankSum(channelWeights[q], values, c.k);
  });
  return { y, shape };
}

/**
 * Vector-Jacobian product in float64 (SPEC.md §5 "Gradient"). A real cell's dx is the sum, over
 * the windows that rank it at some r < k, of w[r]·dy, taken in output order starting from the
 * first term (IEEE, so 0·Infinity is NaN); a cell kept by no window (ranked ≥ k everywhere,
 * padded, or in no window) is exactly +0 (never 0·dy). dLogits is exactly +0 for k = 1, else the
 * softmax VJP of the per-rank sums over real cells (a padded cell adds exactly 0, never 0·dy),
 * per channel when the logits are.
 *
 * @param weights as in {@link referenceForward}.
 * @throws SortPoolArgumentError for a bad case, a `dy` of the wrong length, or bad `weights`.
 */
export function referenceGradient(
  input: SortPoolCase,
  dyInput: ArrayLike<number>,
  weights?: ArrayLike<number>,
): GradientResult {
  const c = validateCase(input);
  const dy = validateDy(c, dyInput);
  const w = weightsOf(c, weights);
  const empty = emptyResult(c, Float64Array);
  if (empty) return empty.gradient;
  const dx = new Float64Array(c.x.length);
  const assigned = new Uint8Array(c.x.length);
  const rankSums = new Float64Array(w.length);
  forEachWindow(c, (o, q, ranked) => {
    const g = dy[o];
    const base = weightOffset(w.length, c.k, q);
    for (let r = 0; r < c.k; r++) {
      const i = ranked[r].index;
      if (i >= 0) {
        // Overlapping windows: the first term is assigned (keeping its sign), later ones added.
        const term = w[base + r] * g;
        dx[i] = assigned[i] ? dx[i] + term : term;
        assigned[i] = 1;
      }
      rankSums[base + r] += rankSumTerm(ranked[r], g);
    }
  });
  return { dx, dLogits: logitsGradient(w, rankSums, c.k) };
}
/** Registry entry of the reference. */
export const referenceImplementation: Implementation = {
  name: "reference",
  description: "float64 CPU reference, one window at a time, straight from SPEC.md",
  precision: "float64",
  device: "cpu",
  backend: "js",
  ties: { kind: "spec" },
  gated: false,
  forward: (c) => Promise.resolve().then(() => referenceForward(c)),
  gradient: (c, dy) => Promise.resolve().then(() => referenceGradient(c, dy)),
};
