/**
 * The gate's decision rule, kept apart from any timing so that it is tested exactly.
 *
 * A check compares one entry and pass of a candidate tree (the working tree) with the base tree
 * through the per-round ratios candidate / base. It fails only when the whole 95% bootstrap
 * interval of their median lies above `1 + tolerance`, i.e. when the interval's low end exceeds
 * that limit. Noise widens the interval and so makes the gate more lenient, never trigger-happy;
 * a real slowdown moves the whole interval up.
 *
 * @module
 */
import type { BenchPass } from "../harness/measure/passes.ts";
import type { MedianInterval } from "../harness/measure/stats.ts";
import type { ABMeasurement, Comparison } from "./ab.ts";

/**
 * Outcome of one check: "pass", "regression"; "not-compared" when the base cannot be timed (it
 * lacks the entry, predates the registry, or failed), which is reported but does not fail the
 * gate; "error" when the candidate itself failed to prepare or run (a setup failure, exit 2).
 */
export type Verdict = "pass" | "regression" | "not-compared" | "error";

/** What the rule says about one ratio. */
export interface Judgement {
  readonly verdict: "pass" | "regression";
  /** `1 + tolerance`. */
  readonly limit: number;
  /** The interval lies wholly below `1 / (1 + tolerance)`: faster than the base. */
  readonly faster: boolean;
}

/** Checks a tolerance value: a finite number >= 0. Throws a RangeError otherwise. */
export function checkTolerance(tolerance: number): number {
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new RangeError(`tolerance: expected a finite number >= 0, received ${tolerance}`);
  }
  return tolerance;
}

/** Judges the median ratio candidate / base (with its interval) at `tolerance`. */
export function judge(ratio: MedianInterval, tolerance: number): Judgement {
  checkTolerance(tolerance);
  const limit = 1 + tolerance;
  return { verdict: ratio.low > limit ? "regression" : "pass", limit, faster: ratio.high < 1 / limit };
}

/** One candidate/entry/pass check of the gate. */
export interface Check {
  readonly candidate: string;
  readonly entry: string;
  readonly pass: BenchPass;
  readonly verdict: Verdict;
  /** Why the check is not compared or errored, or what a faster result suggests. */
  readonly note?: string;
  /** The measurement judged last (absent when none could be made). */
  readonly comparison?: Comparison;
  /** `1 + tolerance`. */
  readonly limit: number;
  readonly faster: boolean;
  /**
   * Verdicts of every measurement of this check, first to last (gate/confirm.ts); the verdict is
   * "regression" only when every one of them was.
   */
  readonly history: readonly Verdict[];
}

/** The key of a check: candidate, entry and pass. */
export function checkId(c: { readonly candidate: string; readonly entry: string; readonly pass: BenchPass }): string {
  return `${c.candidate}\u0000${c.entry}\u0000${c.pass}`;
}

/** Judges every comparison of `m`, and turns its failures into "not-compared" (base) or "error" (candidate) checks. */
export function evaluate(m: ABMeasurement, tolerance: number): Check[] {
  const limit = 1 + checkTolerance(tolerance);
  const checks: Check[] = m.comparisons.map((comparison) => {
    const j = judge(comparison.ratio, tolerance);
    return {
      candidate: comparison.candidate,
      entry: comparison.entry,
      pass: comparison.pass,
      verdict: j.verdict,
      comparison,
      limit: j.limit,
      faster: j.faster,
      history: [j.verdict],
    };
  });
  for (const f of m.failures) {
    const verdict: Verdict = f.side === "base" ? "not-compared" : "error";
    const note = f.side === "base" ? `the base tree failed: ${f.error}` : f.error;
    checks.push({
      candidate: f.candidate,
      entry: f.entry,
      pass: f.pass,
      verdict,
      note,
      limit,
      faster: false,
      history: [verdict],
    });
  }
  return checks;
}
