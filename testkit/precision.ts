/**
 * The two arithmetic precisions the checks model, their unit roundoff, and which numbers each holds
 * exactly.
 *
 * @module
 */

/** Arithmetic precision a case is built for, or a port computes in (an entry's declared precision). */
export type Precision = "float32" | "float64";

/** Unit roundoff of a precision (half an ulp of 1). */
export function unitRoundoff(precision: Precision): number {
  return precision === "float32" ? 2 ** -24 : 2 ** -53;
}

/** Whether `v` is exactly representable in `precision` (NaN counts as representable). */
export function isRepresentable(v: number, precision: Precision): boolean {
  if (precision === "float64" || Number.isNaN(v)) return true;
  return Object.is(Math.fround(v), v);
}
