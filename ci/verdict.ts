/**
 * The gate's decision rule, kept apart from any timing so that it is tested exactly.
 *
 * A check fails only when the whole 95% interval of the measured median ratio lies above the
 * limit `baseline × (1 + tolerance)`, i.e. when its lower bound exceeds the limit. Noise widens
 * the interval and so makes the gate more lenient, never trigger-happy; a real slowdown moves
 * the whole interval up.
 *
 * @module
 */
import type { MedianInterval } from "./stats.ts";

/** Outcome of one check. */
export type Verdict = "pass" | "regression" | "no-baseline";

/** What the gate decided for one entry and pass. */
export interface Judgement {
  readonly verdict: Verdict;
  /** `baseline × (1 + tolerance)`; absent without a baseline. */
  readonly limit?: number;
  /** Set when the interval lies wholly below `baseline / (1 + tolerance)`: faster than recorded. */
  readonly faster: boolean;
}

/** Checks a tolerance value: a finite number >= 0. */
export function checkTolerance(tolerance: number): number {
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new RangeError(`tolerance: expected a finite number >= 0, received ${tolerance}`);
  }
  return tolerance;
}

/**
 * Judges a measured median ratio (with its interval) against the committed `baseline` ratio.
 * Without a baseline the verdict is "no-baseline", which the gate treats as a warning (or as a
 * failure with --require-baseline).
 */
export function judge(measured: MedianInterval, baseline: number | undefined, tolerance: number): Judgement {
  checkTolerance(tolerance);
  if (baseline === undefined) return { verdict: "no-baseline", faster: false };
  const limit = baseline * (1 + tolerance);
  return {
    verdict: measured.low > limit ? "regression" : "pass",
    limit,
    faster: measured.high < baseline / (1 + tolerance),
  };
}
