/**
 * The shape suites' reports and kernel targets (bench/shapes_suite.ts): the tables of every row,
 * the gated entries' ratios on the run's headline clock (the cross-engine table of this one run,
 * bench/cross_engine.ts), the throughput and ratio charts, and the verdicts at the targets' shape.
 *
 * @module
 */
import type { BenchPass } from "../harness/measure/passes.ts";
import { type ChartSpec, throughputChartSpec, type ThroughputPoint } from "./charts.ts";
import { crossEngine } from "./cross_engine.ts";
import { crossEngineChartSpec, crossEngineMarkdown } from "./cross_engine_report.ts";
import { runSlug } from "./environment.ts";
import { compactGroupTable, consoleTable, markdownSuite } from "./row_tables.ts";
import { maxPoolName, type ResultRow, type SuiteResult } from "./rows.ts";
import type { BenchRun } from "./run.ts";
import { headlineRatio, runClock } from "./run_clock.ts";
import type { SuiteReport } from "./suite_types.ts";
import { judge, type TargetVerdict } from "./targets.ts";

/** The shape label at which the kernel targets are judged. */
export const TARGET_SHAPE = "target";
/** k at which the kernel targets are judged. */
export const TARGET_K = 4;

const PASS_NAME: Readonly<Record<BenchPass, string>> = { forward: "forward", forwardBackward: "forward+backward" };

/**
 * The throughput chart's points: every measured row, baselines (no k) repeated in every k's
 * panel row.
 */
export function throughputPoints(suites: readonly SuiteResult[]): ThroughputPoint[] {
  const rows = suites.flatMap((s) => s.rows).filter((r) => r.status === "ok" && r.elementsPerSecond !== null);
  const ks = [...new Set(rows.filter((r) => r.k !== null).map((r) => r.k!))].sort((a, b) => a - b);
  return rows.flatMap((r) =>
    (r.k !== null ? [r.k] : ks.length > 0 ? ks : [null]).map((k) => ({
      subject: r.subject,
      kind: r.kind,
      k: k === null ? "no k" : `k = ${k}`,
      pass: PASS_NAME[r.pass],
      elements: r.inputElements,
      elementsPerSecond: r.elementsPerSecond!,
    }))
  );
}

/** The shape suites' charts: throughput against size, and the gated entries' ratios with their targets. */
export function shapesCharts(suites: readonly SuiteResult[], run: BenchRun): ChartSpec[] {
  const slug = runSlug(run.environment);
  const charts: ChartSpec[] = [];
  const points = throughputPoints(suites);
  // Throughput against size needs two sizes at least (the default plan measures one).
  if (new Set(points.map((p) => p.elements)).size >= 2) {
    const title = `sort_pool2d throughput against input size (${slug}, ${run.plan} plan)`;
    charts.push({
      file: "throughput.svg",
      title,
      spec: throughputChartSpec(title, [
        "Input elements per second of one call (median), by pass (columns) and k (rows); baselines (no k) in every " +
        "row, dashed.",
      ], points),
    });
  }
  const cross = crossEngine([{ run: { ...run, suites } }]);
  if (cross.rows.length > 0) {
    const title = `sort_pool2d against tf.maxPool and the copy kernel (${slug})`;
    charts.push({ file: "kernel-targets.svg", title, spec: crossEngineChartSpec(cross, title) });
  }
  return charts;
}

/** The shape suites' part of the reports. */
export function shapesReport(suites: SuiteResult[], run: BenchRun): SuiteReport {
  const cross = crossEngine([{ run: { ...run, suites } }]);
  const gated = cross.rows.length > 0
    ? `Gated entries against tf.maxPool and the copy kernel on the run's headline clock:\n\n${
      crossEngineMarkdown(cross)
    }`
    : "";
  const shapes = `shapes: ${run.shapes.map((s) => `${s.label} ${s.shape.join("x")} (k=${s.ks.join(",")})`).join("; ")}`;
  const groups = (["webgpu", "cpu"] as const).flatMap((group) => {
    const mine = suites.filter((s) => s.group === group);
    return mine.length === 0 ? [] : [`#### ${group === "webgpu" ? "WebGPU" : "CPU"}`, "", ...mine.map(markdownSuite)];
  });
  const summary = (["webgpu", "cpu"] as const).flatMap((group) => {
    const table = compactGroupTable(suites, group);
    return table.length === 0 ? [] : [`${group === "webgpu" ? "WebGPU" : "CPU"} group:`, "", ...table, ""];
  });
  return {
    title: "Shape suites (2x2/2)",
    console: [shapes, consoleTable(suites), gated].filter((t) => t).join("\n"),
    markdown: [shapes, "", gated, "", ...groups.flatMap((g) => [g, ""])].join("\n"),
    summary: [
      "Cells: median ms of one call (GPU-timestamp time for WebGPU rows unless marked wall; wall clock for CPU " +
      "rows), then (median per-round time ratio to tf.maxPool of the same backend; percent of the copy kernel's " +
      "bandwidth with its 95% interval).",
      "",
      ...summary,
    ].join("\n"),
    charts: shapesCharts(suites, run),
  };
}

/**
 * Judges every gated registry entry at the targets' shape and k = 4, on the run's headline clock
 * (bench/run_clock.ts): forward <= 0.5x tf.maxPool, forward+backward <= 1.0x tf.maxPool, and
 * forward >= 100x faster than each non-gated entry measured there (the tfjs-op implementations).
 * Every figure is a per-round ratio (median, with its 95% interval).
 */
export function shapesVerdicts(suites: SuiteResult[], run: BenchRun): TargetVerdict[] {
  const suite = suites.find((s) => s.group === "webgpu" && s.shapeLabel === TARGET_SHAPE && !s.skipped);
  if (!suite) return [];
  const { clock } = runClock({ ...run, suites });
  const find = (subject: string, k: number | null, pass: BenchPass) =>
    suite.rows.find((r) => r.subject === subject && r.k === k && r.pass === pass);
  const judged = [...new Set(suite.rows.filter((r) => r.kind === "entry" && r.k === TARGET_K).map((r) => r.subject))];
  const others = judged.filter((name) => !run.gated.includes(name));
  const where = `${suite.shape.join("x")}, k=${TARGET_K}`;
  const maxPool = maxPoolName("webgpu");
  const missing = (rows: (ResultRow | undefined)[], names: string[]) => {
    const i = rows.findIndex((r) => !r || r.status !== "ok");
    return i < 0 ? "no common clock or round" : `${names[i]}: ${rows[i]?.reason ?? "not measured"}`;
  };
  const verdicts: TargetVerdict[] = [];
  for (const entry of judged.filter((name) => run.gated.includes(name))) {
    for (const [pass, limit] of [["forward", 0.5], ["forwardBackward", 1.0]] as const) {
      const [a, b] = [find(entry, TARGET_K, pass), find(maxPool, null, pass)];
      verdicts.push(judge(
        {
          entry,
          target: `${PASS_NAME[pass]} <= ${limit.toFixed(1)}x tf.maxPool time`,
          case: where,
          unit: "x",
          ok: (v) => v <= limit,
        },
        headlineRatio(a, b, clock),
        missing([a, b], [entry, maxPool]),
      ));
    }
    for (const other of others) {
      const [a, b] = [find(other, TARGET_K, "forward"), find(entry, TARGET_K, "forward")];
      verdicts.push(judge(
        { entry, target: `forward >= 100x faster than ${other}`, case: where, unit: "x", ok: (v) => v >= 100 },
        headlineRatio(a, b, clock),
        missing([a, b], [other, entry]),
      ));
    }
  }
  return verdicts;
}
