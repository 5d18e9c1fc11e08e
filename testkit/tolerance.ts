/**
 * Tolerances of the property checks and the conformance kit, per precision, and why they can be
 * tight.
 *
 * Every bound is `factor · u · scale`, where u is the unit roundoff of the entry's declared
 * precision (2^-24 for float32, 2^-53 for float64) and `scale` is the size of the numbers the
 * compared quantity was computed from (the largest |value| among a window's top k, |dy|, the sum
 * of |value·dy| for dLogits, ...). So each check allows a fixed number of roundings of the data
 * actually involved, never a blanket relative tolerance.
 *
 * Why finite differences in x are exact up to rounding. Sort pooling is piecewise linear in x: on
 * any segment where no two participants of a window change order, y is an affine function of x.
 * The generators make values integer multiples of a power-of-two unit (or of δ = unit·2^-p for
 * near ties), the step eps is a power of two ≤ gap/4 (gap = smallest nonzero distance inside a
 * window), and directions have entries in {-1, 0, 1}. Then x ± eps·v is exact in float32 (the
 * integers stay below 2^24, checked by `perturb` in props/generators/finite_differences.ts), no
 * pair changes order on the segment, and (f(x + eps·v) − f(x − eps·v)) / (2·eps) equals the
 * directional derivative exactly in real arithmetic. What remains is the rounding of the entry's
 * own forward: a k-term weighted sum has at most 2k − 1 ≤ 7 roundings each at most u·max|value|,
 * hence {@link FD_FACTOR} = 8.
 *
 * Comparisons with the reference use the weights SPEC.md §5 lets the entry use
 * (props/properties/oracle.ts `oracleWeights`): registry entries compute softmax in float64 on the
 * host and round it to their precision, so their weights equal the oracle's exactly. The op's
 * subjects (props/subjects.ts) compute it in their kernels, on webgpu from exp, a sum and a
 * division in float32: WGSL allows exp an error of 3 + 2|x| ulp, and |x| ≤ 8 for logits in
 * [-4, 4], so weights may be off by ~25 ulp relative: {@link REFERENCE_FACTOR} = 64 covers that,
 * the weighted sum, and a margin.
 *
 * dLogits is a sum over all windows: s_r = Σ_windows value_r · dy. Summation of N terms in the
 * entry's precision may err by up to N·u·Σ|terms| (sequential order, worst case), so its bound
 * grows with the window count N; see {@link dLogitsTolerance}.
 *
 * Finite differences in logits are not piecewise linear but smooth: the central difference errs
 * by η²/6·|L'''|, and for L = Σ_r softmax_r·s_r along a direction u with entries in {-1, 0, 1},
 * |L'''| ≤ 28·max_r|s_r| (a third joint cumulant bound), hence 5·η²·max|s|; plus rounding,
 * REFERENCE_FACTOR·u·Σ_j|dy_j|·max|value_j| / η. η is chosen to balance the two (η = 2^-7 for
 * float32, 2^-16 for float64).
 *
 * For comparison: PyTorch's gradcheck (float64) uses eps 1e-6, atol 1e-5, rtol 1e-3; JAX's
 * check_grads uses 2e-3 for float32. With values of order 1..63 units, the bounds here are about
 * 1e-4 of |dy| (float32 x finite differences), 4e-6 relative (float32 vs reference) and ~1e-13 /
 * ~1e-14 (float64): 20x to 500x tighter than JAX in float32, ~8 orders tighter than gradcheck in
 * float64. {@link describeTolerances} prints the figures.
 *
 * @module
 */
import { type Precision, unitRoundoff } from "./precision.ts";

/** Roundings allowed between an entry and the float64 reference (softmax in the entry's precision). */
export const REFERENCE_FACTOR = 64;
/** Roundings allowed in one forward evaluation used for a finite difference (≤ 2k − 1 = 7, plus one). */
export const FD_FACTOR = 8;
/** Bound on |L'''|/6 per max|s| for the logits central difference, rounded up from 28/6. */
export const LOGIT_TRUNCATION_FACTOR = 5;

/** Finite-difference step in logits per precision. */
export function logitStep(precision: Precision): number {
  return precision === "float32" ? 2 ** -7 : 2 ** -16;
}

/** Bound for one output compared with the reference: REFERENCE_FACTOR·u·scale. */
export function referenceTolerance(precision: Precision, scale: number): number {
  return REFERENCE_FACTOR * unitRoundoff(precision) * scale;
}

/** Bound for the rounding of one forward value used in a finite difference: FD_FACTOR·u·scale. */
export function forwardRounding(precision: Precision, scale: number): number {
  return FD_FACTOR * unitRoundoff(precision) * scale;
}

/**
 * Bound for dLogits[j]: w_j·u·(2N + 4 + 2·REFERENCE_FACTOR)·max_r T_r, where N is the window
 * count and T_r = Σ_windows |value_r·dy| (the s_r sums may err by (N + 2)·u·T_r; the softmax VJP
 * w_j(s_j − Σ w s) doubles that and adds its own roundings).
 */
export function dLogitsTolerance(precision: Precision, wj: number, windows: number, maxAbsRankSum: number): number {
  return wj * unitRoundoff(precision) * (2 * windows + 4 + 2 * REFERENCE_FACTOR) * maxAbsRankSum;
}

/** The tolerance figures per precision, for the report. */
export function describeTolerances(): string[] {
  const lines: string[] = [];
  for (const p of ["float32", "float64"] as const) {
    const u = unitRoundoff(p);
    lines.push(
      `${p}: u=${u.toExponential(2)}; vs reference ${REFERENCE_FACTOR}u·scale = ${
        (REFERENCE_FACTOR * u).toExponential(2)
      }·scale; x finite differences ${FD_FACTOR}u·max|value|/eps per forward (eps ≤ gap/4, a power of two; ` +
        `e.g. values ≤ 63 units, eps = unit/2: ${(FD_FACTOR * u * 126).toExponential(2)}·|dy|); logits step η = 2^${
          Math.log2(logitStep(p))
        }: ${LOGIT_TRUNCATION_FACTOR}η²·max|s| + ${REFERENCE_FACTOR}u·Σ|dy·value|/η = ${
          (LOGIT_TRUNCATION_FACTOR * logitStep(p) ** 2).toExponential(2)
        }·max|s| + ${(REFERENCE_FACTOR * u / logitStep(p)).toExponential(2)}·Σ|dy·value|`,
    );
  }
  lines.push("compare: gradcheck float64 eps 1e-6, atol 1e-5, rtol 1e-3; JAX check_grads float32 2e-3");
  return lines;
}

/**
 * Extra absolute allowance on a y of a float32 entry whose x holds subnormals (SPEC.md §4
 * "Subnormal values"): a device that flushes drops each kept product or partial sum below 2^-126
 * to a zero, at most 2^-126 per term of the k-term sum.
 */
export function subnormalForwardSlack(k: number): number {
  return k * 2 ** -126;
}

/**
 * Extra absolute allowance on dLogits[j] for the same cases: every rank sum s_r may lose up to
 * 2^-126·|dy| per window (a flushed subnormal product), and dLogits_j = w_j·(s_j − Σ_r w_r s_r)
 * at most doubles that.
 */
export function subnormalDLogitsSlack(wj: number, dy: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < dy.length; i++) if (Number.isFinite(dy[i])) sum += Math.abs(dy[i]);
  return 2 * Math.abs(wj) * sum * 2 ** -126;
}

/**
 * Smallest normal number per precision. The bounds above cover roundings of normal numbers only; a
 * product or sum that falls below this in a port's precision (or a device that flushes subnormals
 * to zero) may lose everything under it, so the conformance kit adds `4·UNDERFLOW·scale` to each
 * bound. (Weights themselves are not an issue: the expected values are computed with the weights
 * rounded to the port's precision, as SPEC §5 prescribes.)
 */
export const UNDERFLOW: Readonly<Record<Precision, number>> = { float32: 2 ** -126, float64: 2 ** -1022 };

/** float64 rounding of a sum of n terms with absolute sum `abs`, computed in the harness itself. */
export function harnessRounding(n: number, abs: number): number {
  return (n + 2) * 2 ** -53 * abs;
}
