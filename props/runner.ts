/**
 * Runs the property table against implementations with fast-check: seeds, replay paths, capped
 * shrinking, tie-deviation handling and WebGPU availability (the cost-based plan of runs per
 * entry: props/plan.ts).
 *
 * @module
 */
import fc from "fast-check";
import type { Implementation } from "../src/types.ts";
import { skipReason } from "./agreement.ts";
import { classify, type PropCase } from "./generators.ts";
import { arbitraryFor, type CheckContext, type PropertyDefinition } from "./properties/definition.ts";
import type { Verdict } from "./verdict.ts";

/** Outcome of one property on one entry. */
export type Status = "pass" | "fail" | "deviation";

/**
 * What the checked cases of one property on one entry exercised (props/generators/classify.ts):
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
