/**
 * The 3x3/2 suite's entry of the suite table (bench/suites.ts): its plan per level, the run (slow
 * tfjs-op entries probed and skipped by prediction first), report, chart and verdicts. The subjects
 * and verdicts themselves are bench/windows.ts.
 *
 * @module
 */
import { uniformFloat32 } from "../src/random.ts";
import { implementations } from "../src/registry.ts";
import { sizeOf } from "../src/spec.ts";
import { type ChartSpec, intervalChartSpec, type IntervalPoint } from "./charts.ts";
import { runSlug } from "./environment.ts";
import type { BenchFlags } from "./flags.ts";
import type { PlannedShape } from "./plan.ts";
import { markdownSuite } from "./row_tables.ts";
import type { SuiteResult } from "./rows.ts";
import type { BenchRun, PlanLevel } from "./run.ts";
import type { BenchSuite, SuiteRunContext } from "./suite_types.ts";
import { runSuite } from "./suite.ts";
import type { TargetVerdict } from "./targets.ts";
import {
  type PassVerdict,
  probeSlowEntries,
  STEM_PADDING,
  WINDOWS_FULL,
  WINDOWS_QUICK,
  WINDOWS_TARGET_RATIO,
  windowsMarkdown,
  windowsPrediction,
  windowsSubjects,
  windowsVerdicts,
} from "./windows.ts";

/** The suite's plan: the shape, window and k, and the entries that take part (filtered). */
export interface WindowsPlan {
  readonly planned: PlannedShape;
  readonly entries: readonly string[];
}

const PASSES = [["forward", "forward"], ["forwardBackward", "forward+backward"]] as const;

function emptySuite(planned: PlannedShape, why: string): SuiteResult {
  return {
    id: `webgpu ${planned.label} ${planned.shape.join("x")}`,
    group: "webgpu",
    shapeLabel: planned.label,
    shape: planned.shape,
    padding: STEM_PADDING,
    ...(planned.window ? { window: planned.window } : {}),
    policy: null,
    skipped: why,
    rows: [],
    queueRoundTrip: null,
    tensors: null,
    failures: [],
    durationMs: 0,
  };
}

async function runWindows({ planned, entries: names }: WindowsPlan, ctx: SuiteRunContext): Promise<SuiteResult> {
  const elements = sizeOf(planned.shape);
  const entries = implementations.filter((i) => names.includes(i.name));
  if (!ctx.unavailable) await probeSlowEntries(planned, entries, ctx.history, ctx.progress);
  let data: Float32Array | undefined;
  const { subjects, preSkip } = windowsSubjects(
    planned,
    entries,
    () => (data ??= uniformFloat32(elements, 7)),
    (entry, k, pass) => windowsPrediction(ctx.history, entry.name, k, pass, elements),
  );
  if (planned.ks.length === 0 || !subjects.some((s) => s.kind === "entry")) {
    ctx.progress("windows suite: no entry or k selected");
    return emptySuite(planned, "no entry or k selected");
  }
  ctx.progress(`windows suite: ${planned.label} ${planned.shape.join("x")}`);
  const suite = await runSuite({
    planned,
    group: "webgpu",
    padding: STEM_PADDING,
    subjects,
    preSkip,
    ...(ctx.clock ? { clock: ctx.clock } : { clockNote: ctx.clockNote }),
    ...(ctx.unavailable ? { unavailable: ctx.unavailable } : {}),
    progress: ctx.progress,
  });
  data = undefined;
  const skips = new Map<string, number>();
  for (const r of suite.rows.filter((r) => r.status === "skipped")) {
    const key = `${r.subject}: ${r.reason}`;
    skips.set(key, (skips.get(key) ?? 0) + 1);
  }
  for (const [key, n] of skips) ctx.progress(`windows: skipped ${n} task(s) of ${key}`);
  ctx.progress(`windows suite: done in ${(suite.durationMs / 1000).toFixed(1)} s`);
  return suite;
}

/** The 3x3/2 chart: each (entry, k)'s ratio to tf.maxPool 3x3/2 per pass, with its interval and the target. */
export function windowsChart(suite: SuiteResult, run: Pick<BenchRun, "environment">): ChartSpec | null {
  const panel = (name: string) => `${name}: time / tf.maxPool 3x3/2 (target <= ${WINDOWS_TARGET_RATIO.toFixed(1)})`;
  const points: IntervalPoint[] = windowsVerdicts(suite).flatMap((v) =>
    PASSES.flatMap(([pass, name]) => {
      const x: PassVerdict = v[pass];
      if ("reason" in x) return [];
      const timer = suite.rows.find((r) => r.subject === v.entry && r.k === v.k && r.pass === pass)?.vsMaxPool?.timer;
      return [{
        panel: panel(name),
        row: `${v.entry} k=${v.k}`,
        series: timer ?? "-",
        median: x.median,
        low: x.low,
        high: x.high,
        target: WINDOWS_TARGET_RATIO,
      }];
    })
  );
  if (points.length === 0) return null;
  const title = `3x3/2 windows against tf.maxPool 3x3/2 (${runSlug(run.environment)})`;
  return {
    file: "windows.svg",
    title,
    spec: intervalChartSpec({
      title,
      subtitle: [
        `${suite.shape.join("x")}, padding "${suite.padding}": median of per-round ratios, bar: bootstrap 95% ` +
        "interval; dashed: the target.",
      ],
      points,
      panels: PASSES.map(([, name]) => panel(name)),
      series: [...new Set(points.map((p) => p.series))],
      seriesTitle: "clock",
    }),
  };
}

/** The suite's verdicts for the gated entries: both passes at each k. */
export function windowsTargets(suite: SuiteResult, gated: readonly string[]): TargetVerdict[] {
  if (suite.skipped) return [];
  return windowsVerdicts(suite).filter((v) => gated.includes(v.entry)).flatMap((v) =>
    PASSES.map(([pass, name]) => {
      const x: PassVerdict = v[pass];
      const base = {
        entry: v.entry,
        target: `${name} <= ${WINDOWS_TARGET_RATIO.toFixed(1)}x tf.maxPool 3x3/2 time`,
        case: `${suite.shape.join("x")}, k=${v.k}`,
        unit: "x" as const,
      };
      if ("reason" in x) {
        return { ...base, value: null, interval: null, met: null, inconclusive: false, detail: x.reason };
      }
      const timer = suite.rows.find((r) => r.subject === v.entry && r.k === v.k && r.pass === pass)?.vsMaxPool?.timer;
      return {
        ...base,
        value: x.median,
        interval: [x.low, x.high] as const,
        met: x.status === "PASS",
        inconclusive: x.inconclusive,
        detail: `${timer ?? "?"}, ${x.n} rounds`,
      };
    })
  );
}

/** The 3x3/2 suite's entry of the suite table. */
export const windowsSuite: BenchSuite<WindowsPlan, SuiteResult> = {
  name: "windows",
  summary: '3x3 windows, stride 2, "same" on the ResNet stem\'s shape against tf.maxPool 3x3/2, every WebGPU entry',
  defaultAt: ["quick", "full"],
  plan(level: PlanLevel, flags: BenchFlags): WindowsPlan {
    const base = level === "quick" ? WINDOWS_QUICK : WINDOWS_FULL;
    const entries = implementations.filter((i) =>
      flags.filter.length === 0 || flags.filter.some((t) => i.name.includes(t))
    );
    return {
      planned: { ...base, ks: flags.ks.length === 0 ? base.ks : base.ks.filter((k) => flags.ks.includes(k)) },
      entries: entries.map((e) => e.name),
    };
  },
  describe({ planned, entries }: WindowsPlan): string[] {
    const policy = planned.groups.webgpu;
    const rounds = "skip" in policy ? "skipped" : `${policy.samples} rounds`;
    const { subjects } = windowsSubjects(
      planned,
      implementations.filter((i) => entries.includes(i.name)),
      () => new Float32Array(0),
      () => null,
    );
    const names = subjects.map((s) => (s.k === null ? s.name : `${s.name} k=${s.k}`));
    return [
      `${planned.label} ${planned.shape.join("x")}: ${names.length * 2} tasks (${names.join(", ")}; both passes), ` +
      `${rounds}; tfjs-op entries predicted over the per-call limit are skipped`,
    ];
  },
  method: ({ planned }) => {
    const policy = planned.groups.webgpu;
    return { windows: "skip" in policy ? policy.skip : `${policy.samples} rounds that every task takes` };
  },
  run: runWindows,
  failures: (suite) => [
    ...suite.failures,
    ...suite.rows.filter((r) => r.status === "failed").map((r) =>
      `${suite.id}: ${r.subject} k=${r.k} ${r.pass}: ${r.reason}`
    ),
  ],
  store: (_plan, suite) => ({ windows: suite, windowsVerdicts: windowsVerdicts(suite) }),
  load: (run) => run.windows,
  report(suite, run) {
    const table = windowsMarkdown(suite);
    const chart = windowsChart(suite, run);
    return {
      title: "3x3/2 suite against tf.maxPool 3x3/2",
      console: `3x3/2 suite against tf.maxPool 3x3/2:\n${table}`,
      markdown: [table, "", markdownSuite(suite)].join("\n"),
      summary: table,
      charts: chart ? [chart] : [],
    };
  },
  verdicts: (suite, run) => windowsTargets(suite, run.gated),
};
