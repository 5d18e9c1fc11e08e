/**
 * The gate's statistics: median and a seeded percentile-bootstrap interval of the median. Seeded
 * so that the same timings always give the same interval (a verdict never depends on the luck
 * of the resampling, only on the measurements).
 *
 * @module
 */
import { median } from "../bench/stats.ts";
import { mulberry32 } from "../src/random.ts";

export { median };

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

/** A point estimate with its interval. */
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
  /** Seed of the resampling generator (default 0x5eed). */
  readonly seed?: number;
}

/**
 * Median of `values` with a percentile-bootstrap interval: the values are resampled with
 * replacement `resamples` times, indices drawn from mulberry32 seeded with `seed`, and the interval is the
 * central `confidence` share of the resampled medians. Deterministic for equal inputs.
 */
export function bootstrapMedianInterval(values: ArrayLike<number>, options: BootstrapOptions = {}): MedianInterval {
  const { resamples = 4000, confidence = 0.95, seed = 0x5eed } = options;
  if (values.length === 0) {
    throw new RangeError("bootstrapMedianInterval: values: expected at least one value, received none");
  }
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
