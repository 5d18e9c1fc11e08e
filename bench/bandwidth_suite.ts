/**
 * The bandwidth suite's entry of the suite table (bench/suites.ts): its plan per level, report,
 * chart and verdicts. The measurement itself is bench/bandwidth.ts.
 *
 * @module
 */
import { implementations } from "../src/registry.ts";
import { prepareCopyBench } from "./copy_kernel.ts";
import {
  BANDWIDTH_FULL,
  BANDWIDTH_QUICK,
  BANDWIDTH_TARGET_PERCENT,
  type BandwidthClock,
  bandwidthMarkdown,
  type BandwidthPlan,
  type BandwidthResult,
  bandwidthVerdicts,
  runBandwidthSuite,
} from "./bandwidth.ts";
import { type ChartSpec, intervalChartSpec, type IntervalPoint } from "./charts.ts";
import { runSlug } from "./environment.ts";
import type { BenchFlags } from "./flags.ts";
import type { BenchRun, PlanLevel } from "./run.ts";
import type { BenchSuite } from "./suite_types.ts";
import type { TargetVerdict } from "./targets.ts";

/** The default plan's bandwidth suite: every k, 15 rounds of best-of-3 samples. */
export const BANDWIDTH_DEFAULT: BandwidthPlan = { ...BANDWIDTH_FULL, rounds: 15 };

/** The bandwidth plan of each level. */
export const BANDWIDTH_PLANS: Readonly<Record<PlanLevel, BandwidthPlan>> = {
  default: BANDWIDTH_DEFAULT,
  quick: BANDWIDTH_QUICK,
  full: BANDWIDTH_FULL,
  cross: BANDWIDTH_FULL,
};

/** The suite's plan: what to measure and the entries (gated, WebGPU, with a bench handle, filtered). */
export interface BandwidthSuitePlan {
  readonly plan: BandwidthPlan;
  readonly entries: readonly string[];
}

const TARGET = `forward >= ${BANDWIDTH_TARGET_PERCENT} % of copy bandwidth (2x2/2)`;

/** The bandwidth chart: each (entry, k)'s percentage with its interval on every clock but wall clock. */
export function bandwidthChart(result: BandwidthResult, run: Pick<BenchRun, "environment">): ChartSpec {
  const clocks: BandwidthClock[] = [result.headline, ...(["process-cpu", "gpu-timestamps"] as const)]
    .filter((c, i, all) => c !== "wall-clock" && all.indexOf(c) === i);
  const panel = `forward: % of copy kernel bandwidth (target >= ${BANDWIDTH_TARGET_PERCENT})`;
  const points: IntervalPoint[] = result.rows.flatMap((row) =>
    clocks.flatMap((clock) => {
      const p = row.percent[clock];
      if (!p) return [];
      const { median, low, high } = p;
      return [{
        panel,
        row: `${row.entry} k=${row.k}`,
        series: clock,
        median,
        low,
        high,
        target: BANDWIDTH_TARGET_PERCENT,
      }];
    })
  );
  const title = `2x2/2 forward against the copy kernel (${runSlug(run.environment)})`;
  return {
    file: "bandwidth.svg",
    title,
    spec: intervalChartSpec({
      title,
      subtitle: [
        `${result.shape.join("x")}, each forward call paired with a copy-kernel call in the same round ` +
        `(${result.rounds} rounds, best of ${result.repetitions}): 100 x copy time / entry time,`,
        `median of per-round values, bar: bootstrap 95% interval; judged on ${result.headline}; dashed: the target.`,
      ],
      points,
      panels: [panel],
      series: clocks,
      seriesTitle: "clock",
    }),
  };
}

/** The suite's verdicts for the gated entries, one per k. */
export function bandwidthTargets(result: BandwidthResult, gated: readonly string[]): TargetVerdict[] {
  if (result.skipped) return [];
  return bandwidthVerdicts(result).filter((v) => gated.includes(v.entry)).map((v) => ({
    entry: v.entry,
    target: TARGET,
    case: `${result.shape.join("x")}, k=${v.k}`,
    unit: "%" as const,
    value: v.percent ? v.percent.median : null,
    interval: v.percent ? [v.percent.low, v.percent.high] as const : null,
    met: v.met,
    inconclusive: v.inconclusive,
    detail: v.percent ? `${result.headline}, ${v.percent.n} rounds` : v.detail,
  }));
}

/** The bandwidth suite's entry of the suite table. */
export const bandwidthSuite: BenchSuite<BandwidthSuitePlan, BandwidthResult> = {
  name: "bandwidth",
  summary: "the gated entries' 2x2/2 forward against the copy kernel in adjacent pairs, best-of-N samples, on the " +
    'headline clock: the "% of copy bandwidth" target',
  defaultAt: ["default", "quick", "full"],
  plan(level: PlanLevel, flags: BenchFlags): BandwidthSuitePlan {
    const base = BANDWIDTH_PLANS[level];
    const entries = implementations.filter((i) =>
      i.gated === true && i.device === "webgpu" && i.prepareBench !== undefined &&
      (flags.filter.length === 0 || flags.filter.some((t) => i.name.includes(t)))
    );
    return {
      plan: { ...base, ks: flags.ks.length === 0 ? base.ks : base.ks.filter((k) => flags.ks.includes(k)) },
      entries: entries.map((e) => e.name),
    };
  },
  describe({ plan, entries }: BandwidthSuitePlan): string[] {
    return [
      `${plan.label} ${plan.shape.join("x")}, k=${plan.ks.join(",")}: ${entries.join(", ") || "no entry"} ` +
      `(forward), each paired with a copy-kernel call; ${plan.rounds} rounds of best-of-${plan.repetitions}, ` +
      `${plan.warmupCalls} warm-up calls`,
    ];
  },
  method: ({ plan }) => ({
    bandwidth: `${plan.rounds} rounds, each (entry, k) paired with a copy-kernel call, best of ${plan.repetitions}`,
  }),
  run({ plan, entries }, ctx) {
    ctx.progress(`bandwidth suite: ${entries.join(", ") || "no entry selected"}`);
    return runBandwidthSuite({
      plan,
      entries: implementations.filter((i) => entries.includes(i.name)),
      prepareCopy: prepareCopyBench,
      ...(ctx.clock ? { clock: ctx.clock } : {}),
      cpuAdapter: ctx.cpuAdapter,
      ...(ctx.unavailable ? { unavailable: ctx.unavailable } : {}),
      progress: ctx.progress,
    }).then((result) => {
      ctx.progress(`bandwidth suite: done in ${(result.durationMs / 1000).toFixed(1)} s`);
      return result;
    });
  },
  failures: (result) => result.failures,
  store: (_plan, result) => ({ bandwidth: result, bandwidthVerdicts: bandwidthVerdicts(result) }),
  load: (run) => run.bandwidth,
  report(result, run) {
    const table = bandwidthMarkdown(result);
    return {
      title: "2x2/2 forward against the copy kernel",
      console: `2x2/2 forward, % of the copy kernel's bandwidth:\n${table}`,
      markdown: table,
      summary: table,
      charts: result.skipped || result.rows.length === 0 ? [] : [bandwidthChart(result, run)],
    };
  },
  verdicts: (result, run) => bandwidthTargets(result, run.gated),
};
