/**
 * The float64 CPU reference: the oracle every other implementation is checked against.
 * Written for clarity, one window at a time, straight from SPEC.md.
 *
 * @module
 */
import { outputIndex, outputShape, rankCells, sizeOf, softmax, softmaxVjp, windowCells } from "./spec.ts";
import type { ForwardResult, GradientResult, Implementation, SortPoolCase } from "./types.ts";
import { validateCase, validateDy } from "./validate.ts";

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

/** Forward pass in float64: y = Σ_{r<k} softmax(logits)[r] · (r-th ranked window value). */
export function referenceForward(input: SortPoolCase): ForwardResult {
  const c = validateCase(input);
  const shape = outputShape(c.shape, c.padding);
  const w = softmax(c.logits);
  const y = new Float64Array(sizeOf(shape));
  forEachWindow(c, (o, ranked) => {
    let acc = 0;
    for (let r = 0; r < c.k; r++) acc += w[r] * ranked[r].value;
    y[o] = acc;
  });
  return { y, shape };
}

/**
 * Vector-Jacobian product in float64. The cell at rank r < k receives w[r]·dy; padded and
 * lower-ranked cells receive nothing; dLogits is the softmax VJP of the per-rank sums.
 */
export function referenceGradient(input: SortPoolCase, dyInput: ArrayLike<number>): GradientResult {
  const c = validateCase(input);
  const dy = validateDy(c, dyInput);
  const w = softmax(c.logits);
  const dx = new Float64Array(c.x.length);
  const rankSums = new Float64Array(c.k);
  forEachWindow(c, (o, ranked) => {
    const g = dy[o];
    for (let r = 0; r < c.k; r++) {
      const { index, value } = ranked[r];
      if (index >= 0) dx[index] += w[r] * g;
      rankSums[r] += value * g;
    }
  });
  return { dx, dLogits: softmaxVjp(w, rankSums) };
}

/** Registry entry of the reference. */
export const referenceImplementation: Implementation = {
  name: "reference",
  description: "float64 CPU reference, one window at a time, straight from SPEC.md",
  precision: "float64",
  device: "cpu",
  backend: "js",
  ties: { kind: "spec" },
  forward: (c) => Promise.resolve().then(() => referenceForward(c)),
  gradient: (c, dy) => Promise.resolve().then(() => referenceGradient(c, dy)),
};
