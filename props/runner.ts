/**
 * Runs the property table against implementations with fast-check: seeds, replay paths, capped
 * shrinking, tie-deviation handling, WebGPU availability and a cost-based plan of runs per entry.
 *
 * @module
 */
import fc from "fast-check";
import type { Implementation } from "../src/types.ts";
import { skipReason } from "./agreement.ts";
import { buildCase, type CaseParams, classify, DEFAULT_WINDOW, paramsArbitrary, type PropCase } from "./generators.ts";
import { arbitraryFor, type CheckContext, type PropertyDefinition, toEntryCase } from "./properties.ts";
import type { Verdict } from "./verdict.ts";

/** Outcome of one property on one entry. */
export type Status = "pass" | "fail" | "deviation";

/**
 * What the checked cases of one property on one entry exercised (props/generators.ts `classify`):
 * cases evaluated, and how many of them had a general window (not 2x2/2), overlapping windows,
 * per-channel logits.
 */
export interface Coverage {
  evaluated: number;
  general: number;
  overlapping: number;
  perChannel: number;
}

/**
 * Cases drawn for an entry but not run because its `supports` declaration excludes them
 * (src/registry.ts `unsupportedReason`): how many, how many of them for a window the entry does
 * not take and for per-channel logits it does not take (a case can count in both), and the first
 * reason given.
 */
export interface Skips {
  count: number;
  windows: number;
  perChannel: number;
  reason?: string;
}

/** An empty {@link Coverage}. */
export function emptyCoverage(): Coverage {
  return { evaluated: 0, general: 0, overlapping: 0, perChannel: 0 };
}

/** An empty {@link Skips}. */
export function emptySkips(): Skips {
  return { count: 0, windows: 0, perChannel: 0 };
}

/** What one property run on one entry found. */
export interface PropertyOutcome {
  readonly entry: string;
  readonly property: string;
  /** "deviation": only a declared tie-rule deviation was found (not a failure). */
  readonly status: Status;
  /** Cases requested and cases actually checked (including shrink steps). */
  readonly runs: number;
  readonly evaluations: number;
  readonly seed: number;
  /** fast-check path of the (shrunk) counterexample. */
  readonly path?: string;
  readonly counterexample?: PropCase;
  readonly verdict?: Verdict;
  /** Why the property could not run at all (e.g. no WebGPU adapter). */
  readonly reason?: string;
  /** Largest |error|/tolerance among passing comparisons. */
  readonly worstPassingRatio: number;
  /** What the evaluated cases exercised. */
  readonly coverage: Coverage;
  /** Cases drawn but skipped as unsupported by the entry (never counted as passing). */
  readonly skips: Skips;
  readonly wallMs: number;
  /** The command that replays this counterexample. */
  readonly replay?: string;
  readonly note?: string;
}

/** How one property run is configured. */
export interface PropertyRunConfig {
  /** The run's seed (what --seed takes); each property derives its fast-check seed with {@link propertySeed}. */
  readonly seed: number;
  readonly runs: number;
  /** Replays this fast-check path (requires the seed it came from). */
  readonly path?: string;
  /** Property evaluations allowed after the first failure (shrinking); 0 reports the first failure unshrunk. */
  readonly shrinkLimit: number;
  readonly context: CheckContext;
  /** Prefix of the replay command, e.g. "deno task check-grads". */
  readonly replayCommand: string;
  /** Called after every evaluated case. */
  readonly onCase?: (evaluations: number) => void;
}

/** The command that replays one counterexample. */
export function replayCommandFor(
  prefix: string,
  entry: string,
  property: string,
  seed: number,
  path: string,
): string {
  return `${prefix} --impl ${entry} --seed ${seed} --path ${path} --property ${property}`;
}

/**
 * The fast-check seed a property runs with: the run's seed mixed with the property name, so that
 * properties draw independent case streams (with one shared seed every property would see the same
 * sequence of shapes and k, and a short run could miss, say, k = 3 everywhere at once). Replays
 * pass the run's seed and the property, and derive the same value.
 */
export function propertySeed(seed: number, property: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < property.length; i++) h = Math.imul(h ^ property.charCodeAt(i), 0x01000193);
  let x = (h ^ seed) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) | 0;
}

interface PhaseResult {
  failed: boolean;
  coverage: Coverage;
  skips: Skips;
  path?: string;
  counterexample?: PropCase;
  verdict?: Verdict;
  evaluations: number;
  worst: number;
}

/** One fast-check run; `strict` makes tie deviations count as failures. */
async function phase(
  entry: Implementation,
  property: PropertyDefinition,
  config: PropertyRunConfig,
  strict: boolean,
  evaluationsBefore: number,
): Promise<PhaseResult> {
  let evaluations = 0;
  let worst = 0;
  let failures = 0;
  let afterFailure = 0;
  let last: { c: PropCase; verdict: Verdict } | undefined;
  const coverage = emptyCoverage();
  const skips = emptySkips();
  const isFailure = (v: Verdict) => v.mismatches.some((m) => m.severity === "fail" || strict);
  const prop = fc.asyncProperty(arbitraryFor(property, entry), async (c) => {
    // Once the shrink budget is spent, answer "pass" without running the entry: fast-check then
    // stops improving and reports the last failing case, which `last` holds.
    if (failures > 0 && ++afterFailure > config.shrinkLimit) return true;
    const kind = classify(c);
    const reason = skipReason(entry, c);
    if (reason !== undefined) {
      // Outside the entry's declared supports: skipped (fast-check draws another case), counted
      // and reported with the reason, never run and never counted as passing.
      skips.count++;
      if (kind.general && entry.supports?.windows === "2x2/2") skips.windows++;
      if (kind.perChannel && entry.supports?.perChannelLogits === false) skips.perChannel++;
      skips.reason ??= reason;
      fc.pre(false);
    }
    const verdict = await property.check(config.context, entry, c);
    evaluations++;
    coverage.evaluated++;
    if (kind.general) coverage.general++;
    if (kind.overlapping) coverage.overlapping++;
    if (kind.perChannel) coverage.perChannel++;
    config.onCase?.(evaluationsBefore + evaluations);
    if (isFailure(verdict)) {
      failures++;
      last = { c, verdict };
      return false;
    }
    worst = Math.max(worst, verdict.worstPassingRatio);
    return true;
  });
  const details = await fc.check(prop, {
    seed: propertySeed(config.seed, property.name),
    numRuns: config.runs,
    path: config.path,
    endOnFailure: config.shrinkLimit === 0,
  });
  if (!details.failed) return { failed: false, evaluations, worst, coverage, skips };
  const counterexample = details.counterexample?.[0];
  let verdict = last?.verdict;
  if (counterexample && last?.c !== counterexample) {
    verdict = await property.check(config.context, entry, counterexample);
  }
  if (!verdict) {
    // fast-check failed outside the predicate (e.g. the generator threw).
    const message = details.errorInstance instanceof Error
      ? details.errorInstance.message
      : String(details.errorInstance);
    verdict = {
      mismatches: [{ check: "harness", severity: "fail", expected: "no error", actual: message, ratio: Infinity }],
      worstPassingRatio: 0,
      comparisons: 0,
    };
  }
  return {
    failed: true,
    path: details.counterexamplePath ?? undefined,
    counterexample,
    verdict,
    evaluations,
    worst,
    coverage,
    skips,
  };
}

/**
 * Runs one property on one entry. Entries declaring `ties: {kind: "deviates"}` run twice with the
 * same seed: first with tie deviations allowed (any other mismatch fails), then strictly, to find
 * and report a window that shows the declared deviation.
 */
export async function runProperty(
  entry: Implementation,
  property: PropertyDefinition,
  config: PropertyRunConfig,
): Promise<PropertyOutcome> {
  const started = performance.now();
  const deviates = entry.ties.kind === "deviates";
  const first = await phase(entry, property, config, !deviates, 0);
  let result = first;
  let status: Status = first.failed ? "fail" : "pass";
  let evaluations = first.evaluations;
  const coverage = { ...first.coverage };
  const skips = { ...first.skips };
  let note: string | undefined;
  if (!first.failed && deviates && property.hasDeviations) {
    const second = await phase(entry, property, config, true, evaluations);
    evaluations += second.evaluations;
    addCoverage(coverage, second.coverage);
    addSkips(skips, second.skips);
    if (second.failed) {
      result = second;
      const hard = second.verdict?.mismatches.some((m) => m.severity === "fail") ?? false;
      status = hard ? "fail" : "deviation";
    } else {
      note = "declared tie deviation not observed in these runs";
    }
  }
  const path = result.path;
  return {
    entry: entry.name,
    property: property.name,
    status,
    runs: config.runs,
    evaluations,
    seed: config.seed,
    path,
    counterexample: result.counterexample,
    verdict: result.failed ? result.verdict : undefined,
    worstPassingRatio: Math.max(first.worst, result.worst),
    coverage,
    skips,
    wallMs: performance.now() - started,
    replay: path === undefined
      ? undefined
      : replayCommandFor(config.replayCommand, entry.name, property.name, config.seed, path),
    note,
  };
}

/** Adds `b`'s counts to `a`. */
export function addCoverage(a: Coverage, b: Coverage): void {
  a.evaluated += b.evaluated;
  a.general += b.general;
  a.overlapping += b.overlapping;
  a.perChannel += b.perChannel;
}

/** Adds `b`'s counts to `a` (keeping `a`'s reason when it has one). */
export function addSkips(a: Skips, b: Skips): void {
  a.count += b.count;
  a.windows += b.windows;
  a.perChannel += b.perChannel;
  a.reason ??= b.reason;
}

/** An outcome for a property that could not run (no adapter, a failing warm-up). */
export function unavailableOutcome(
  entry: Implementation,
  property: PropertyDefinition,
  seed: number,
  reason: string,
): PropertyOutcome {
  return {
    entry: entry.name,
    property: property.name,
    status: "fail",
    runs: 0,
    evaluations: 0,
    seed,
    reason,
    worstPassingRatio: 0,
    coverage: emptyCoverage(),
    skips: emptySkips(),
    wallMs: 0,
  };
}

let webgpuProbe: Promise<string | null> | undefined;

/** null when a WebGPU adapter is available, else the reason (cached for the process). */
export function probeWebGpu(): Promise<string | null> {
  webgpuProbe ??= (async () => {
    if (typeof navigator === "undefined" || !navigator.gpu) {
      return "navigator.gpu is missing: this runtime has no WebGPU";
    }
    try {
      const adapter = await navigator.gpu.requestAdapter();
      return adapter ? null : "navigator.gpu.requestAdapter() returned null: no WebGPU adapter";
    } catch (err) {
      return `navigator.gpu.requestAdapter() threw: ${err instanceof Error ? err.message : String(err)}`;
    }
  })();
  return webgpuProbe;
}

/** Coordinate slots per case: every cell slot on CPU entries, one per case on GPU entries (2 forwards each). */
export function slotsFor(entry: Implementation): number {
  return entry.device === "webgpu" ? 1 : 4;
}

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
 * Share of general-window cases in the properties' draws (props/generators.ts: every family but
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
