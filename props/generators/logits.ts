/**
 * The `range` and `nonfinite` logit kinds (see `LogitKind` in ./types.ts): logits near and past
 * float32's range, logits float32 cannot tell apart, logit gaps whose float32 weights are
 * subnormal, and ±Infinity or NaN.
 *
 * @module
 */
import { randInt, randPermutation } from "./random.ts";
import { LOGIT_DENOMINATOR, type LogitKind } from "./types.ts";

/** Logits near and past float32's range (see {@link LogitKind}). */
export const RANGE_LOGITS: readonly number[] = [
  3.4e38,
  -3.4e38,
  3.4028234663852886e38, // float32's largest finite value
  3.5e38,
  -3.5e38,
  1e39,
  -1e39,
  5e38,
  -2e39,
];

/** Bases of the `B·(1 + j·2^-30)` logits: float32 rounds |j| ≤ 3 to B itself, float64 does not. */
export const CLOSE_LOGIT_BASES: readonly number[] = [1e8, -1e8, 1e30, 3e38];

/**
 * Band of logit gaps (below the maximal logit) of the `range` kind's subnormal-weight cases: e^-gap
 * crosses float32's smallest normal number 2^-126 at a gap of about 87.3, so the float32 weights in
 * the band are barely normal or flushed to +0 (SPEC.md §5). Gaps are multiples of 1/64, which keeps
 * every weight at least 0.28% away from 2^-126 for 1..4 maximal logits (ln of their count added),
 * so a GPU's float32 exp (a few hundred ulps off at most here) flushes exactly the weights the host does.
 */
export const SUBNORMAL_GAP_MIN = 80;
/** See {@link SUBNORMAL_GAP_MIN}. */
export const SUBNORMAL_GAP_MAX = 110;

/** Replaces `logits` by the `range` or `nonfinite` kind's values (see {@link LogitKind}). */
export function specialLogits(ordinary: readonly number[], kind: LogitKind, rand: () => number): number[] {
  const k = ordinary.length;
  if (kind === "nonfinite") {
    const specials = [Infinity, -Infinity, NaN];
    const out = ordinary.map((l) => (rand() < 0.33 ? specials[randInt(rand, 0, 2)] : l));
    // At least one special: otherwise the case would be an ordinary one.
    if (out.every(Number.isFinite)) out[randInt(rand, 0, k - 1)] = specials[randInt(rand, 0, 2)];
    return out;
  }
  const band = rand();
  if (band < 0.25) {
    // The first logit is maximal (so the gaps are relative to it); the others are equal to it or 80..110 below.
    const top = ordinary[0];
    const gap = () => randInt(rand, SUBNORMAL_GAP_MIN * LOGIT_DENOMINATOR, SUBNORMAL_GAP_MAX * LOGIT_DENOMINATOR);
    const out = ordinary.map((_, j) => (j === 0 || rand() < 0.25 ? top : top - gap() / LOGIT_DENOMINATOR));
    return randPermutation(rand, k).map((j) => out[j]);
  }
  if (band < 0.6) {
    const base = CLOSE_LOGIT_BASES[randInt(rand, 0, CLOSE_LOGIT_BASES.length - 1)];
    return ordinary.map(() => base * (1 + randInt(rand, -3, 3) * 2 ** -30));
  }
  return ordinary.map((l) => (rand() < 0.6 ? RANGE_LOGITS[randInt(rand, 0, RANGE_LOGITS.length - 1)] : l));
}
