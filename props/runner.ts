/**
 * Runs the property table against implementations with fast-check: seeds, replay paths, capped
 * shrinking, tie-deviation handling, WebGPU availability and a cost-based plan of runs per entry.
 *
 * @module
 */
import fc from "fast-check";
import type { Implementation } from "../src/types.ts";
import { buildCase, type CaseParams, type PropCase } from "./generators.ts";
import { arbitraryFor, type CheckContext, type PropertyDefinition, toEntryCase } from "./properties.ts";
import type { Verdict } from "./verdict.ts";

/** Outcome of one property on one entry. */
export type Status = "pass" | "fail" | "deviation";

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
  const isFailure = (v: Verdict) => v.mismatches.some((m) => m.severity === "fail" || strict);
  const prop = fc.asyncProperty(arbitraryFor(property, entry), async (c) => {
    // Once the shrink budget is spent, answer "pass" without running the entry: fast-check then
    // stops improving and reports the last failing case, which `last` holds.
    if (failures > 0 && ++afterFailure > config.shrinkLimit) return true;
    const verdict = await property.check(config.context, entry, c);
    evaluations++;
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
  if (!details.failed) return { failed: false, evaluations, worst };
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
  let note: string | undefined;
  if (!first.failed && deviates && property.hasDeviations) {
    const second = await phase(entry, property, config, true, evaluations);
    evaluations += second.evaluations;
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
    wallMs: performance.now() - started,
    replay: path === undefined
      ? undefined
      : replayCommandFor(config.replayCommand, entry.name, property.name, config.seed, path),
    note,
  };
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

/** A mid-sized case ([2, 8, 8, 4], k = 3, "same", distinct values) used to time an entry. */
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
};

/**
 * Seconds per call of `entry`: the median over 5 repetitions of one forward plus one gradient on
 * the calibration case, halved, after two untimed warm-ups of each (shader compilation, JIT).
 * Throws what the entry throws.
 */
export async function calibrate(entry: Implementation): Promise<number> {
  const c = buildCase(CALIBRATION_PARAMS, entry.precision);
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

/** Harness seconds per case outside the entry (generation, reference, comparisons), measured on the reference. */
export const HARNESS_SECONDS_PER_CASE = 0.001;

/** One entry's share of a run plan. */
export interface PlannedEntry {
  readonly entry: Implementation;
  readonly secondsPerCall: number;
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

/**
 * Splits `budgetSeconds` (less {@link PLAN_RESERVE}) over the entries by measured cost: cheapest
 * first, each takes at most its equal share of what is left (and at most `maxRuns`, at least
 * `minRuns` runs per property), so cheap entries keep the full run count and GPU entries get fewer.
 */
export function planRuns(
  entries: readonly { entry: Implementation; secondsPerCall: number }[],
  properties: readonly PropertyDefinition[],
  budgetSeconds: number,
  maxRuns: number,
  minRuns: number,
): PlannedEntry[] {
  const costOf = (e: { entry: Implementation; secondsPerCall: number }) =>
    properties.reduce((sum, p) => sum + p.calls(slotsFor(e.entry)) * e.secondsPerCall + HARNESS_SECONDS_PER_CASE, 0);
  const order = [...entries].sort((a, b) => costOf(a) - costOf(b));
  let left = budgetSeconds * (1 - PLAN_RESERVE);
  const planned = new Map<Implementation, PlannedEntry>();
  order.forEach((e, i) => {
    const share = left / (order.length - i);
    const perRound = costOf(e);
    const runs = Math.max(Math.min(minRuns, maxRuns), Math.min(maxRuns, Math.floor(share / perRound)));
    const estimatedSeconds = runs * perRound;
    left = Math.max(0, left - estimatedSeconds);
    planned.set(e.entry, { entry: e.entry, secondsPerCall: e.secondsPerCall, runs, estimatedSeconds });
  });
  return entries.map((e) => planned.get(e.entry)!);
}
