/**
 * Robust summary statistics for benchmark samples (pure functions, no I/O).
 *
 * Benchmarks here run on a shared 2-core machine, so the summaries favour order statistics
 * (median, MAD, min, max) over the mean and standard deviation, which a single preempted sample
 * can drag arbitrarily far.
 *
 * @module
 */

/** Summary of one set of timing samples, all in milliseconds except `n`. */
export interface SampleSummary {
  /** Number of samples. */
  readonly n: number;
  /** Smallest sample. */
  readonly min: number;
  /** Median (mean of the two middle samples when `n` is even). */
  readonly median: number;
  /** Median absolute deviation from the median, unscaled (no 1.4826 normal factor). */
  readonly mad: number;
  /** Largest sample. */
  readonly max: number;
  /** Arithmetic mean, reported for completeness; prefer `median`. */
  readonly mean: number;
}

function requireSamples(samples: ArrayLike<number>, what: string): void {
  if (samples.length === 0) throw new RangeError(`${what}: expected at least one sample, received none`);
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) {
      throw new RangeError(`${what}: expected finite samples, received ${samples[i]} at index ${i}`);
    }
  }
}

/** Median of `samples` (need not be sorted). Throws on an empty or non-finite input. */
export function median(samples: ArrayLike<number>): number {
  requireSamples(samples, "median");
  const sorted = Float64Array.from(samples).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median absolute deviation from the median, unscaled. Throws on an empty or non-finite input. */
export function medianAbsoluteDeviation(samples: readonly number[]): number {
  const m = median(samples);
  return median(samples.map((s) => Math.abs(s - m)));
}

/** Summarises `samples` (milliseconds). Throws on an empty or non-finite input. */
export function summarize(samples: readonly number[]): SampleSummary {
  requireSamples(samples, "summarize");
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const s of samples) {
    min = Math.min(min, s);
    max = Math.max(max, s);
    sum += s;
  }
  return {
    n: samples.length,
    min,
    median: median(samples),
    mad: medianAbsoluteDeviation(samples),
    max,
    mean: sum / samples.length,
  };
}
