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
  rankCells,
  rankSumTerm,
  sizeOf,
  softmax,
  weightedRankSum,
  windowCells,
} from "./spec.ts";
import type { ForwardResult, GradientResult, Implementation, SortPoolCase } from "./types.ts";
import { SortPoolArgumentError, validateCase, validateDy } from "./validate.ts";

/** Calls `visit(outIndex, rankedCells)` for every window of the case, in output order. */
function forEachWindow(
  c: SortPoolCase,
  visit: (outIndex: number, ranked: ReturnType<typeof rankCells>) => void,
): void {
  const out = outputShape(c.shape, c.padding);
  const [b, ho, wo, ch] = out;
  for (let n = 0; n < b; n++) {
    for (let oh = 0; oh < ho; oh++) {
      for (let ow = 0; ow < wo; ow++) {
        for (let q = 0; q < ch; q++) {
          const ranked = rankCells(windowCells(c.x, c.shape, c.k, n, oh, ow, q));
          visit(outputIndex(out, n, oh, ow, q), ranked);
        }
      }
    }
  }
}

/** The rank weights: `weights` when given (checked to hold k numbers), else softmax(logits) (SPEC.md §5). */
function weightsOf(c: SortPoolCase, weights: ArrayLike<number> | undefined): ArrayLike<number> {
  if (weights === undefined) return softmax(c.logits);
  if (weights.length !== c.k) {
    throw new SortPoolArgumentError("weights", `length k = ${c.k}`, `length ${weights.length}`);
  }
  return weights;
}

/**
 * Forward pass in float64: y = Σ_{r<k} w[r] · (r-th ranked window value), summed in rank order
 * from the first product (SPEC.md §5), with w = softmax(logits) evaluated as its limit.
 *
 * @param weights rank weights to use instead of softmax(logits): e.g. `float32Weights(logits)`
 *   (src/spec.ts) makes this the oracle of a float32 implementation, which SPEC.md §5 lets round
 *   the weights to float32. Length k.
 * @throws SortPoolArgumentError for a bad case (src/validate.ts) or a `weights` of the wrong length.
 */
export function referenceForward(input: SortPoolCase, weights?: ArrayLike<number>): ForwardResult {
  const c = validateCase(input);
  const shape = outputShape(c.shape, c.padding);
  const w = weightsOf(c, weights);
  const y = new Float64Array(sizeOf(shape));
  const values = new Float64Array(c.k);
  forEachWindow(c, (o, ranked) => {
    for (let r = 0; r < c.k; r++) values[r] = ranked[r].value;
    y[o] = weightedRankSum(w, values, c.k);
  });
  return { y, shape };
}

/**
 * Vector-Jacobian product in float64 (SPEC.md §5 "Gradient"). The real cell at rank r < k is
 * assigned w[r]·dy (IEEE, so 0·Infinity is NaN); padded cells, cells ranked ≥ k and cells in no
 * window are exactly +0 (never 0·dy). dLogits is exactly [0] for k = 1, else the softmax VJP of
 * the per-rank sums over real cells (a padded cell adds exactly 0, never 0·dy).
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
  const dx = new Float64Array(c.x.length);
  const rankSums = new Float64Array(c.k);
  forEachWindow(c, (o, ranked) => {
    const g = dy[o];
    for (let r = 0; r < c.k; r++) {
      // Windows do not overlap: each real cell is assigned at most once.
      if (ranked[r].index >= 0) dx[ranked[r].index] = w[r] * g;
      rankSums[r] += rankSumTerm(ranked[r], g);
    }
  });
  return { dx, dLogits: logitsGradient(w, rankSums) };
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
