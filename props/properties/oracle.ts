/**
 * What the float64 reference answers for an entry: with the rank weights SPEC.md §5 "Weights" lets
 * that entry use (softmax in float64, rounded to its precision; of float32 logits for the op).
 *
 * @module
 */
import { referenceForward, referenceGradient } from "../../src/reference.ts";
import { float32Weights, softmax, weightOffset } from "../../src/spec.ts";
import type { Implementation, SortPoolCase } from "../../src/types.ts";
import { sortPoolCase } from "../agreement.ts";
import type { PropCase } from "../generators.ts";
import { logitsPrecisionOf } from "../subjects.ts";

/** The case for the float64 reference. */
function referenceCase(c: PropCase, x: Float64Array = c.x): SortPoolCase {
  return sortPoolCase(c, "float64", x);
}

/**
 * The rank weights SPEC.md §5 "Weights" lets `entry` use for `logits` (k shared, or C·k per channel
 * with groups of `k`): softmax (its limit) in float64; for a float32 entry rounded to float32 with
 * weights below 2^-126 flushed to +0 (`float32Weights`); for a subject that holds its logits in
 * float32 (the op's tensor, props/subjects.ts), of the logits rounded to float32 first.
 */
export function oracleWeights(entry: Implementation, logits: readonly number[], k = logits.length): Float64Array {
  const held = logitsPrecisionOf(entry) === "float32" ? Float32Array.from(logits) : logits;
  return entry.precision === "float32" ? Float64Array.from(float32Weights(held, k)) : softmax(held, k);
}

/** The weight of rank `r` in channel `ch`'s group (0 for r ≥ k). */
export function weightAt(w: ArrayLike<number>, c: PropCase, ch: number, r: number): number {
  return r < c.k ? w[weightOffset(w.length, c.k, ch) + r] : 0;
}

/** The reference's y for `entry` (its weights: {@link oracleWeights}). */
export function expectedForward(entry: Implementation, c: PropCase, x: Float64Array = c.x): Float64Array {
  return Float64Array.from(referenceForward(referenceCase(c, x), oracleWeights(entry, c.logits, c.k)).y);
}

/** The reference's dx and dLogits for `entry` (its weights: {@link oracleWeights}). */
export function expectedGradient(entry: Implementation, c: PropCase): { dx: Float64Array; dLogits: Float64Array } {
  const g = referenceGradient(referenceCase(c), c.dy, oracleWeights(entry, c.logits, c.k));
  return { dx: Float64Array.from(g.dx), dLogits: Float64Array.from(g.dLogits) };
}
