/**
 * Turns a benchmark run into its outputs: the console text, the JSON files (full, and
 * github-action-benchmark's customSmallerIsBetter array) and the Markdown report with its
 * vega-lite charts. Suite by suite through the suite table (bench/suites.ts): no suite is named
 * here. Pure functions of the run, except chart rendering; bench/main.ts writes the files.
 *
 * @module
 */
import { median } from "../harness/measure/stats.ts";
import type { ChartSpec } from "./charts.ts";
import { runLabel, runSlug } from "./environment.ts";
import { formatMs, formatRatio } from "./format.ts";
import { BYTES_FORMULA } from "./metrics.ts";
import { PASS_LABEL, rowLabel } from "./row_tables.ts";
import type { BenchRun } from "./run.ts";
import type { SuiteReport } from "./suite_types.ts";
import { type AnySuite, runVerdicts, SUITES } from "./suites.ts";
import { targetsMarkdown } from "./targets.ts";

export type { BenchRun } from "./run.ts";

/** One element of github-action-benchmark's customSmallerIsBetter input. */
export interface BenchmarkActionEntry {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly range?: string;
  readonly extra?: string;
}

/** A suite that ran, with its part of the reports. */
export interface SuiteSection {
  readonly suite: AnySuite;
  readonly report: SuiteReport;
}

/** The report of every suite of the table that ran in `run`, in table order. */
export function suiteSections(run: BenchRun): SuiteSection[] {
  return SUITES.flatMap((suite) => {
    const result = suite.load(run);
    return result === undefined ? [] : [{ suite, report: suite.report(result, run) }];
  });
}

/** Every chart of the report. */
export function chartSpecs(sections: readonly SuiteSection[]): ChartSpec[] {
  return sections.flatMap((s) => s.report.charts);
}

/** Median of the GPU suites' empty queue round trips, e.g. "11.4 ms", or "-" when none was measured. */
export function queueRoundTripText(run: Pick<BenchRun, "suites">): string {
  const medians = run.suites.flatMap((s) => (s.queueRoundTrip ? [s.queueRoundTrip.median] : []));
  return medians.length === 0 ? "-" : `${formatMs(median(medians))} ms`;
}

/** How every suite times its calls, in words (the suites add their sample counts). */
export function commonMethod(clockInUse: boolean, clockNote: string): Record<string, string> {
  return {
    timer: clockInUse
      ? "WebGPU rows: GPU time = sum over the call's compute passes of (end - begin) from timestamp-query writes " +
        "that harness/measure/gpu_timestamps.ts injects into every compute pass (BenchHandle hides its encoders); " +
        "copies and gaps between passes are not counted. Every row also records wall clock (performance.now() " +
        "around one awaited call, which resolves only after onSubmittedWorkDone or a readback) and process CPU " +
        "time. CPU rows: wall clock."
      : `wall clock only (performance.now() around one awaited call; the call resolves after ` +
        `onSubmittedWorkDone or a readback); timestamp-query not used: ${clockNote}`,
    interleaving: "one suite per (shape, device group): every handle (all k, both passes) is prepared first, then " +
      "each round calls every unfinished task once, in an order rotated by one place per round " +
      "(harness/measure/rounds.ts, shared with the speed gate)",
    ratios: "x maxPool and % of copy bandwidth are per-round ratios (this row's call and the reference's call of the " +
      "same round), summarised by their median with a seeded bootstrap 95% interval (harness/measure/stats.ts " +
      "pairedRatio, the gate's definition); the table columns on the best clock both rows have, the kernel " +
      "targets on the run's headline clock (process CPU time on a CPU adapter, GPU timestamps on a GPU)",
    "warm-up": "untimed and interleaved: 2 calls per task (the first pays shader compilation and first-use " +
      "allocation), more (up to 10) until the warm-up calls add up to the plan's warm-up time",
    spread: "median, MAD (median absolute deviation, unscaled), min, max and n per row; raw samples in the JSON",
    "tensor check": "tf.memory().numTensors before preparing and after disposing every handle of a suite must match",
  };
}

/** The run's duration and CPU time, e.g. "95 s (180 s process CPU time)". */
export function durationText(run: Pick<BenchRun, "durationMs" | "cpuMs">): string {
  const cpu = run.cpuMs === undefined ? "" : ` (${(run.cpuMs / 1000).toFixed(0)} s process CPU time)`;
  return `${(run.durationMs / 1000).toFixed(0)} s${cpu}`;
}

/** The console text: what ran where, every suite's part, then the kernel targets. */
export function consoleReport(run: BenchRun, sections: readonly SuiteSection[]): string {
  const lines = [
    `sort_pool2d benchmarks (${run.plan} plan: ${sections.map((s) => s.suite.name).join(", ")}) on ${
      runLabel(run.environment)
    }`,
    `timer: ${run.method.timer}`,
    `bytes: ${BYTES_FORMULA}; elem/s = input elements per second; x maxPool = median per-round time ratio to ` +
    `tf.maxPool [95% interval]; % copy bw = median per-round copy kernel time / this time [95% interval]`,
    `copy kernel: ${run.copyKernel.detail}`,
  ];
  for (const s of sections) lines.push("", s.report.console);
  lines.push("", `kernel targets (${run.plan} plan):`, targetsMarkdown(runVerdicts(run)));
  return lines.join("\n");
}

/** customSmallerIsBetter entries: one per measured row of the shape suites, value = median ms on the row's timer. */
export function benchmarkActionEntries(run: BenchRun): BenchmarkActionEntry[] {
  const backend = runSlug(run.environment);
  const out: BenchmarkActionEntry[] = [];
  for (const s of run.suites) {
    for (const r of s.rows) {
      if (r.status !== "ok" || r.ms === null) continue;
      const summary = r.timer === "gpu-timestamps" ? r.device! : r.wall!;
      const extras = [
        `timer=${r.timer}`,
        `n=${summary.n}`,
        `min=${formatMs(summary.min)} max=${formatMs(summary.max)}`,
        `wall_median=${formatMs(r.wall!.median)}`,
        r.gigabytesPerSecond !== null ? `GB/s=${r.gigabytesPerSecond.toPrecision(3)}` : "",
        r.vsMaxPool !== null ? `x_maxPool=${formatRatio(r.vsMaxPool)}` : "",
        r.copyPercent !== null ? `copy_bw=${formatRatio(r.copyPercent, true)}%` : "",
      ].filter((e) => e);
      out.push({
        name: `[${backend}] ${s.group} ${s.shape.join("x")} ${rowLabel(r)} ${PASS_LABEL[r.pass]}`,
        unit: "ms",
        value: Number(r.ms.toPrecision(6)),
        range: `± ${formatMs(summary.mad)} (MAD)`,
        extra: extras.join(", "),
      });
    }
  }
  return out;
}

/** The Markdown report; its charts are linked by file name (written next to it). */
export function markdownReport(run: BenchRun, sections: readonly SuiteSection[]): string {
  const env = run.environment;
  const adapter = env.adapter.available ? String(env.adapter.info.description ?? "?") : `none (${env.adapter.reason})`;
  const lines: string[] = [
    `# sort_pool2d benchmarks (${run.plan}, ${runSlug(env)})`,
    "",
    `Run ${env.date}, ${durationText(run)}, \`deno task bench ${run.args.join(" ")}\`; suites: ` +
    `${sections.map((s) => s.suite.name).join(", ") || "none"}.`,
    "",
    `- Engine and adapter (adapter.info): ${runLabel(env)}.`,
    `- Adapter: ${adapter}; timestamp-query: ${env.timestampQuery.listed ? "listed" : "not listed"}, ` +
    `${env.timestampQuery.usable ? "usable" : "not usable"} (${env.timestampQuery.detail}).`,
    `- Deno ${env.deno.deno} (V8 ${env.deno.v8}); tfjs ${env.tfjs["tfjs"] ?? "?"}, ` +
    `tfjs-backend-webgpu ${env.tfjs["tfjs-backend-webgpu"] ?? "?"}; ` +
    (env.engine?.name === "dawn"
      ? `${env.engine.implementation} (Deno's own wgpu not used)`
      : `wgpu-core ${env.wgpu["wgpu-core"] ?? "?"}, wgpu-hal ${env.wgpu["wgpu-hal"] ?? "?"}`) +
    `; Mesa ${env.wgpu.mesa ?? "?"}.`,
    `- Host: ${env.host.os}, ${env.host.cpus} CPUs, load average at start ${env.host.loadavg}.`,
    `- Empty queue round trip (submit + onSubmittedWorkDone, interleaved in each GPU suite): ${
      queueRoundTripText(run)
    }: the floor of every wall-clock GPU sample.`,
    `- Copy kernel: ${run.copyKernel.detail}.`,
    `- Bytes moved: ${run.bytesFormula}.`,
    "",
    "## Kernel targets",
    "",
    targetsMarkdown(runVerdicts(run)),
    "",
  ];
  if (run.failures.length > 0) lines.push("## Failures", "", ...run.failures.map((f) => `- ${f}`), "");
  for (const { report } of sections) {
    lines.push(`## ${report.title}`, "", report.markdown, "");
    for (const c of report.charts) lines.push(`![${c.title}](${c.file})`, "");
  }
  lines.push("## Method", "", ...Object.entries(run.method).map(([k, v]) => `- ${k}: ${v}`), "");
  if (run.notBenchmarked.length > 0) {
    lines.push("Not benchmarked:", "", ...run.notBenchmarked.map((n) => `- ${n.name}: ${n.reason}`), "");
  }
  return lines.join("\n");
}

/** The full JSON document: the run, every verdict (`targets`) and the bytes formula. */
export function fullJson(run: BenchRun): unknown {
  return { ...run, targets: runVerdicts(run), bytesFormula: BYTES_FORMULA };
}
