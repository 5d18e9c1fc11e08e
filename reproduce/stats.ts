/**
 * Statistics of a multi-seed reproduction: per k, mean ± standard deviation over seeds of the best
 * validation cross-entropy and accuracy; per k > 1, the paired difference to k = 1 under the same
 * seed (same initial weights, same batches), with a seeded percentile-bootstrap 95% interval over
 * seeds and the number of seeds where k beats k = 1.
 *
 * Pure functions on the JSON report's runs; no tfjs.
 *
 * @module
 */
import { mulberry32 } from "../src/random.ts";

/** The fields of one (k, seed) run that the statistics read. */
export interface SeedRun {
  readonly k: number;
  readonly seed: number;
  readonly bestValCrossEntropy: number;
  /** Validation accuracy at the best-cross-entropy epoch. */
  readonly valAccuracyAtBest: number;
}

/** How the bootstrap intervals are drawn: resamples and the PRNG seed (so the report is deterministic). */
export const BOOTSTRAP = { resamples: 10000, seed: 12345, level: 0.95 } as const;

/** Arithmetic mean (NaN for an empty list). */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n - 1 in the denominator); NaN for fewer than two values. */
export function sampleSd(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** The q-quantile (0..1) of `sorted` (ascending), linear between order statistics. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile-bootstrap interval of the mean of `values`: `resamples` means of n values drawn with
 * replacement by mulberry32(`seed`), and their (1 - level) / 2 and (1 + level) / 2 quantiles.
 * With one value the interval is that value; with none, [NaN, NaN].
 */
export function bootstrapMeanInterval(
  values: readonly number[],
  options: { readonly resamples: number; readonly seed: number; readonly level: number } = BOOTSTRAP,
): [number, number] {
  const n = values.length;
  if (n === 0) return [NaN, NaN];
  const random = mulberry32(options.seed);
  const means = new Float64Array(options.resamples);
  for (let r = 0; r < options.resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)];
    means[r] = sum / n;
  }
  means.sort();
  const sorted = Array.from(means);
  return [quantile(sorted, (1 - options.level) / 2), quantile(sorted, (1 + options.level) / 2)];
}

/** One k's figures over seeds. */
export interface KSummary {
  readonly k: number;
  /** Seeds with a finished run for this k, ascending. */
  readonly seeds: number[];
  /** Each seed's best validation cross-entropy, in `seeds` order. */
  readonly bestValCrossEntropy: number[];
  readonly bestValCrossEntropyMean: number;
  /** Sample standard deviation over seeds (NaN with one seed). */
  readonly bestValCrossEntropySd: number;
  /** Each seed's validation accuracy at its best epoch, in `seeds` order. */
  readonly valAccuracyAtBest: number[];
  readonly valAccuracyAtBestMean: number;
  readonly valAccuracyAtBestSd: number;
}

/** One k > 1 against k = 1, paired by seed. */
export interface PairedDifference {
  readonly k: number;
  /** Seeds where both k and k = 1 have finished, ascending. */
  readonly seeds: number[];
  /** Per seed: best val cross-entropy of k minus that of k = 1 (negative: k is better). */
  readonly differences: number[];
  readonly mean: number;
  /** Percentile-bootstrap interval of the mean difference over seeds ({@link BOOTSTRAP}). */
  readonly interval: [number, number];
  /** Seeds where k's best val cross-entropy is below k = 1's. */
  readonly wins: number;
  /** The article's difference (its k minus its k = 1), when it reports both. */
  readonly article: number | null;
}

/** Per k (ascending): the best validation cross-entropy and accuracy over seeds. */
export function summarizeByK(runs: readonly SeedRun[]): KSummary[] {
  const ks = [...new Set(runs.map((r) => r.k))].sort((a, b) => a - b);
  return ks.map((k) => {
    const mine = runs.filter((r) => r.k === k).sort((a, b) => a.seed - b.seed);
    const ce = mine.map((r) => r.bestValCrossEntropy);
    const acc = mine.map((r) => r.valAccuracyAtBest);
    return {
      k,
      seeds: mine.map((r) => r.seed),
      bestValCrossEntropy: ce,
      bestValCrossEntropyMean: mean(ce),
      bestValCrossEntropySd: sampleSd(ce),
      valAccuracyAtBest: acc,
      valAccuracyAtBestMean: mean(acc),
      valAccuracyAtBestSd: sampleSd(acc),
    };
  });
}

/**
 * For every k other than `baselineK` (ascending): the per-seed difference of best validation
 * cross-entropy to `baselineK` over the seeds both have, its mean, bootstrap interval and wins.
 * `article` maps k to the article's best validation cross-entropy. No `baselineK` runs: no pairs.
 */
export function pairedDifferences(
  runs: readonly SeedRun[],
  article: Readonly<Record<number, number>> = {},
  baselineK = 1,
): PairedDifference[] {
  const base = new Map(runs.filter((r) => r.k === baselineK).map((r) => [r.seed, r.bestValCrossEntropy]));
  if (base.size === 0) return [];
  const ks = [...new Set(runs.map((r) => r.k))].filter((k) => k !== baselineK).sort((a, b) => a - b);
  return ks.map((k) => {
    const paired = runs.filter((r) => r.k === k && base.has(r.seed)).sort((a, b) => a.seed - b.seed);
    const differences = paired.map((r) => r.bestValCrossEntropy - base.get(r.seed)!);
    return {
      k,
      seeds: paired.map((r) => r.seed),
      differences,
      mean: mean(differences),
      interval: bootstrapMeanInterval(differences),
      wins: differences.filter((d) => d < 0).length,
      article: article[k] !== undefined && article[baselineK] !== undefined ? article[k] - article[baselineK] : null,
    };
  });
}
