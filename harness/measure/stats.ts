/**
 * The statistics of every timing in the project (benchmarks and the speed gate): order statistics
 * (median, MAD, min, max) and a seeded percentile-bootstrap interval of the median.
 *
 * Timings here come from a shared 2-core machine, so summaries favour order statistics over the
 * mean and standard deviation, which a single preempted sample can drag arbitrarily far. The
 * bootstrap is seeded so that the same timings always give the same interval: a verdict depends
 * only on the measurements, never on the luck of the resampling.
 *
 * @module
 */
import { mulberry32 } from "../../src/random.ts";

/** Summary of one set of samples; all fields in the samples' unit except `n`. */
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

/** Median of `samples` (need not be sorted). Throws a RangeError on an empty or non-finite input. */
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

/** Summarises `samples`. Throws a RangeError on an empty or non-finite input. */
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

/**
 * The `q` quantile (0..1) of already ascending-sorted values, interpolating linearly between the
 * two nearest order statistics (type 7, the default of R and NumPy).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError("quantileSorted: expected at least one value, received none");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantileSorted: q: expected a number in [0, 1], received ${q}`);
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/** A median with its interval. */
export interface MedianInterval {
  /** Median of the observed values. */
  readonly median: number;
  /** Lower end of the interval. */
  readonly low: number;
  /** Upper end of the interval. */
  readonly high: number;
}

/** Options of {@link bootstrapMedianInterval}. */
export interface BootstrapOptions {
  /** Number of resamples (default 4000). */
  readonly resamples?: number;
  /** Coverage of the interval (default 0.95). */
  readonly confidence?: number;
  /** Seed of the resampling generator (default {@link DEFAULT_SEED}). */
  readonly seed?: number;
}

/** Default seed of the bootstrap's generator. */
export const DEFAULT_SEED = 0x5eed;

/**
 * Median of `values` with a percentile-bootstrap interval: the values are resampled with
 * replacement `resamples` times, indices drawn from mulberry32 seeded with `seed`, and the interval
 * is the central `confidence` share of the resampled medians. Deterministic for equal inputs.
 * Throws a RangeError on an empty input or bad options.
 */
export function bootstrapMedianInterval(values: ArrayLike<number>, options: BootstrapOptions = {}): MedianInterval {
  const { resamples = 4000, confidence = 0.95, seed = DEFAULT_SEED } = options;
  requireSamples(values, "bootstrapMedianInterval: values");
  if (!Number.isSafeInteger(resamples) || resamples < 1) {
    throw new RangeError(`bootstrapMedianInterval: resamples: expected a positive integer, received ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`bootstrapMedianInterval: confidence: expected a number in (0, 1), received ${confidence}`);
  }
  const random = mulberry32(seed);
  const n = values.length;
  const sample = new Float64Array(n);
  const medians = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) sample[i] = values[Math.floor(random() * n)];
    medians[b] = median(sample);
  }
  medians.sort();
  const tail = (1 - confidence) / 2;
  return { median: median(values), low: quantileSorted(medians, tail), high: quantileSorted(medians, 1 - tail) };
}

/** A ratio of two participants' times: per-round values, their median, MAD and bootstrap interval. */
export interface RatioSummary extends MedianInterval {
  /** Median absolute deviation of the per-round ratios. */
  readonly mad: number;
  /** Rounds in which both participants were timed (the number of ratios). */
  readonly n: number;
  /** The per-round ratios, in round order. */
  readonly ratios: readonly number[];
}

/**
 * The one definition of "A relative to B" in this project: the ratio A / B of every round in
 * which both were timed (both calls of such a pair ran back to back in the same round, so a slow
 * phase of the machine hits both), summarised by its median, MAD and seeded bootstrap interval.
 * `a` and `b` map round index to time. Throws a RangeError when no round timed both.
 */
export function pairedRatio(
  a: ReadonlyMap<number, number>,
  b: ReadonlyMap<number, number>,
  options: BootstrapOptions = {},
): RatioSummary {
  const ratios: number[] = [];
  for (const [round, ta] of [...a].sort(([x], [y]) => x - y)) {
    const tb = b.get(round);
    if (tb !== undefined && tb > 0 && Number.isFinite(ta) && Number.isFinite(tb)) ratios.push(ta / tb);
  }
  if (ratios.length === 0) {
    throw new RangeError("pairedRatio: expected at least one round that timed both, received none");
  }
  return {
    ...bootstrapMedianInterval(ratios, options),
    mad: medianAbsoluteDeviation(ratios),
    n: ratios.length,
    ratios,
  };
}
