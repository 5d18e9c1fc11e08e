/**
 * A cost-based plan of runs per entry: each entry is timed on calibration cases, and the runs per
 * property are split over a time budget so that cheap entries keep the full run count and GPU
 * entries get fewer.
 *
 * @module
 */
import fc from "fast-check";
import type { Implementation } from "../src/types.ts";
import { skipReason } from "./agreement.ts";
import { buildCase, type CaseParams, DEFAULT_WINDOW, paramsArbitrary } from "./generators.ts";
import { toEntryCase } from "./properties/calls.ts";
import type { PropertyDefinition } from "./properties/definition.ts";
import { slotsFor } from "./runner.ts";

/** A mid-sized case ([2, 8, 8, 4], k = 3, "same", distinct values, the default 2x2/2 window) used to time an entry. */
export const CALIBRATION_PARAMS: CaseParams = {
  batch: 2,
  height: 8,
  width: 8,
  channels: 4,
  k: 3,
  padding: "same",
  kind: "distinct",
  scaleParam: 0,
  spread: 7,
  alphabet: 5,
  nearTieParam: 0,
  logitCodes: [64, 0, -64, 32],
  descendingLogits: false,
  slotOrder: [0, 1, 2, 3],
  dataSeed: 12345,
  dyKind: "finite",
  logitKind: "ordinary",
  window: DEFAULT_WINDOW,
  perChannel: false,
};

/** The same case with 3x3 windows, stride 2 (overlapping), k = 5 and per-channel logits: the general cases' cost. */
export const GENERAL_CALIBRATION_PARAMS: CaseParams = {
  ...CALIBRATION_PARAMS,
  k: 5,
  window: { poolSize: [3, 3], strides: [2, 2], explicit: true },
  perChannel: true,
  slotOrder: [0, 4, 8, 2],
};

/**
 * Share of general-window cases in the properties' draws (props/generators/windows.ts: every family but
 * the default one), which weights the two calibration cases.
 */
export const GENERAL_SHARE = 0.6;

/** Median seconds per call (one forward plus one gradient, halved) on `params`, after two untimed warm-ups. */
async function timeCase(entry: Implementation, params: CaseParams): Promise<number> {
  const c = buildCase(params, entry.precision);
  const input = toEntryCase(entry, c);
  const dy = Float32Array.from(c.dy);
  for (let i = 0; i < 2; i++) {
    await entry.forward(input);
    await entry.gradient(input, dy);
  }
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await entry.forward(input);
    await entry.gradient(input, dy);
    times.push((performance.now() - t0) / 1000 / 2);
  }
  times.sort((a, b) => a - b);
  return times[2];
}

/**
 * Window configurations not used before in the calibration (2x3 windows, strides (1, 2), k = 2;
 * 3x2 windows, strides (2, 1), k = 3; shared logits): their first calls show what a new
 * configuration costs (pipelines specialised per window and k are compiled on first use). The
 * cheaper of the two counts, so that a kernel's very first use (a one-off) is not taken for the
 * cost of every configuration.
 */
export const COLD_CALIBRATION_PARAMS: readonly CaseParams[] = [
  { ...CALIBRATION_PARAMS, k: 2, window: { poolSize: [2, 3], strides: [1, 2], explicit: true } },
  { ...CALIBRATION_PARAMS, k: 3, window: { poolSize: [3, 2], strides: [2, 1], explicit: true } },
];

/** What timing an entry found. */
export interface Calibration {
  /** Seconds per call (a forward or a gradient), warm: see {@link calibrate}. */
  readonly secondsPerCall: number;
  /**
   * Extra seconds the first forward and gradient of a window configuration not seen before cost
   * (e.g. the wgsl entries' pipelines, specialised per window size and k and compiled on first
   * use: about 0.1 s each on lavapipe); 0 for an entry without general windows.
   */
  readonly secondsPerNewWindow: number;
}

/**
 * Times `entry`: the median over 5 repetitions of one forward plus one gradient, halved, after
 * two untimed warm-ups of each (shader compilation, JIT), on the default-window calibration case
 * and, when the entry supports it, the general one, weighted by {@link GENERAL_SHARE}; and the
 * cheaper first call pair of two new window configurations ({@link COLD_CALIBRATION_PARAMS}) less
 * two warm general calls. Throws what the entry throws.
 */
export async function calibrate(entry: Implementation): Promise<Calibration> {
  const standard = await timeCase(entry, CALIBRATION_PARAMS);
  if (skipReason(entry, buildCase(GENERAL_CALIBRATION_PARAMS, entry.precision)) !== undefined) {
    return { secondsPerCall: standard, secondsPerNewWindow: 0 };
  }
  const general = await timeCase(entry, GENERAL_CALIBRATION_PARAMS);
  let coldPair = Infinity;
  for (const params of COLD_CALIBRATION_PARAMS) {
    const cold = buildCase(params, entry.precision);
    const input = toEntryCase(entry, cold);
    const t0 = performance.now();
    await entry.forward(input);
    await entry.gradient(input, Float32Array.from(cold.dy));
    coldPair = Math.min(coldPair, (performance.now() - t0) / 1000);
  }
  return {
    secondsPerCall: (1 - GENERAL_SHARE) * standard + GENERAL_SHARE * general,
    secondsPerNewWindow: Math.max(0, coldPair - 2 * general),
  };
}

/**
 * The pipeline-relevant configuration of a case: "default" for the 2x2/2 window with shared
 * logits (its own kernels), else window size, k and whether C is a multiple of 4 (vec4 kernels).
 */
function windowConfiguration(p: CaseParams): string {
  if (!p.window.explicit && !(p.perChannel && p.channels > 1)) return "default";
  const [kh, kw] = p.window.poolSize;
  return `${kh}x${kw} k${p.k} ${p.channels % 4 === 0 ? "vec4" : "scalar"}`;
}

let drawSample: CaseParams[] | undefined;

/** A fixed sample of the parameters the properties draw (general windows and per-channel logits included). */
function sampleDraws(): CaseParams[] {
  drawSample ??= fc.sample(paramsArbitrary({ kinds: ["distinct"], windows: "any", perChannelLogits: true }), {
    numRuns: 3000,
    seed: 20_251_130,
  });
  return drawSample;
}

let distinctConfigurations: number[] | undefined;

/**
 * Expected number of distinct window configurations among the first `cases` cases the properties
 * draw (from a fixed sample of the generators: every draw after the last new one adds nothing).
 */
export function expectedConfigurations(cases: number): number {
  if (!distinctConfigurations) {
    const seen = new Set<string>();
    distinctConfigurations = sampleDraws().map((p) => (seen.add(windowConfiguration(p)), seen.size));
  }
  if (cases <= 0) return 0;
  return distinctConfigurations[Math.min(cases, distinctConfigurations.length) - 1];
}

/**
 * Cases drawn and skipped per case run for `entry` (its `supports`; 0 when it supports everything):
 * f / (1 − f) for the fraction f of draws it does not support, from the same fixed sample.
 */
export function expectedSkipsPerCase(entry: Implementation): number {
  const s = entry.supports;
  if (!s) return 0;
  const draws = sampleDraws();
  const unsupported = draws.filter((p) => {
    const [kh, kw] = p.window.poolSize;
    const [sh, sw] = p.window.strides;
    const general = !(kh === 2 && kw === 2 && sh === 2 && sw === 2);
    return (s.windows === "2x2/2" && general) || (!s.perChannelLogits && p.perChannel && p.channels > 1);
  }).length;
  const f = unsupported / draws.length;
  return f >= 1 ? 0 : f / (1 - f);
}

/** Harness seconds per case outside the entry (generation, reference, comparisons), measured on the reference. */
export const HARNESS_SECONDS_PER_CASE = 0.001;

/** One entry's share of a run plan. */
export interface PlannedEntry {
  readonly entry: Implementation;
  readonly secondsPerCall: number;
  /** See {@link Calibration}. */
  readonly secondsPerNewWindow: number;
  readonly runs: number;
  readonly estimatedSeconds: number;
}

/**
 * Share of the budget `planRuns` keeps in reserve: it plans runs for the rest. The reserve covers
 * timing the entries (before the plan) and the estimates' error: each entry is timed once, under
 * whatever load the machine has then, and on this 2-core machine shared with other jobs whole
 * entries ran up to ~1.7x their estimate (a default run of 100 s planned without a reserve took
 * 117 s).
 */
export const PLAN_RESERVE = 0.15;

/** An entry with its measured costs (`secondsPerNewWindow` 0 when absent). */
export interface TimedEntry {
  readonly entry: Implementation;
  readonly secondsPerCall: number;
  readonly secondsPerNewWindow?: number;
}

/**
 * Splits `budgetSeconds` (less {@link PLAN_RESERVE}) over the entries by measured cost: cheapest
 * first, each takes at most its equal share of what is left (and at most `maxRuns`, at least
 * `minRuns` runs per property), so cheap entries keep the full run count and GPU entries get fewer.
 * An entry's cost for r runs per property is r rounds of its calls (and of drawing the cases it
 * skips as unsupported, {@link expectedSkipsPerCase}) plus, for each new window configuration its
 * r·properties cases are expected to meet ({@link expectedConfigurations}), its `secondsPerNewWindow`.
 */
export function planRuns(
  entries: readonly TimedEntry[],
  properties: readonly PropertyDefinition[],
  budgetSeconds: number,
  maxRuns: number,
  minRuns: number,
): PlannedEntry[] {
  // A skipped case costs its generation (about the harness's time per case) and nothing else.
  const roundOf = (e: TimedEntry) =>
    properties.reduce(
      (sum, p) =>
        sum + p.calls(slotsFor(e.entry)) * e.secondsPerCall +
        HARNESS_SECONDS_PER_CASE * (1 + expectedSkipsPerCase(e.entry)),
      0,
    );
  const costOf = (e: TimedEntry, runs: number) =>
    runs * roundOf(e) + (e.secondsPerNewWindow ?? 0) * expectedConfigurations(runs * properties.length);
  const order = [...entries].sort((a, b) => costOf(a, 1) - costOf(b, 1));
  let left = budgetSeconds * (1 - PLAN_RESERVE);
  const planned = new Map<Implementation, PlannedEntry>();
  order.forEach((e, i) => {
    const share = left / (order.length - i);
    const least = Math.min(minRuns, maxRuns);
    let runs = maxRuns;
    while (runs > least && costOf(e, runs) > share) runs--;
    const estimatedSeconds = costOf(e, runs);
    left = Math.max(0, left - estimatedSeconds);
    planned.set(e.entry, {
      entry: e.entry,
      secondsPerCall: e.secondsPerCall,
      secondsPerNewWindow: e.secondsPerNewWindow ?? 0,
      runs,
      estimatedSeconds,
    });
  });
  return entries.map((e) => planned.get(e.entry)!);
}
