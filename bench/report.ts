/**
 * Turns a benchmark run into its three outputs: the console table, the JSON files (full, and
 * github-action-benchmark's customSmallerIsBetter array) and the Markdown report with SVG
 * charts. Pure functions of the run; main.ts writes the files.
 *
 * @module
 */
import { BENCH_PASSES, type BenchPass } from "../src/measure/passes.ts";
import { median } from "../src/measure/stats.ts";
import { type EnvironmentReport, runLabel, runSlug } from "./environment.ts";
import { BYTES_FORMULA } from "./metrics.ts";
import type { Group, PlannedShape } from "./plan.ts";
import { type ChartSeries, formatSi, renderChart } from "./svg.ts";
import { maxPoolName, type ResultRow, type RowRatio, rowRatio, type SuiteResult } from "./rows.ts";
import { BANDWIDTH_TARGET_PERCENT, bandwidthMarkdown, type BandwidthResult, bandwidthVerdicts } from "./bandwidth.ts";
import { windowsMarkdown, windowsVerdicts } from "./windows.ts";

/** Everything a run produced. */
export interface BenchRun {
  readonly plan: "quick" | "full" | "cross";
  readonly args: readonly string[];
  readonly environment: EnvironmentReport;
  /** How samples were taken, in words (timer, interleaving, warm-up, sample counts). */
  readonly method: Readonly<Record<string, string>>;
  readonly bytesFormula: string;
  /** The shapes of the plan as run. */
  readonly shapes: readonly PlannedShape[];
  /** Registry entries not benchmarked, with the reason. */
  readonly notBenchmarked: readonly { readonly name: string; readonly reason: string }[];
  /** Registry entries with `gated: true`: the kernel targets are judged on them. */
  readonly gated: readonly string[];
  /** The copy kernel's source, or why it is not measured. */
  readonly copyKernel: { readonly available: boolean; readonly detail: string };
  readonly suites: readonly SuiteResult[];
  /** The 2x2/2 forward against the copy kernel (bench/bandwidth.ts), when run. */
  readonly bandwidth?: BandwidthResult;
  /** The 3x3/2 suite against tf.maxPool 3x3/2 (bench/windows.ts), when run. */
  readonly windows?: SuiteResult;
  /** Everything that makes the run exit non-zero. */
  readonly failures: readonly string[];
  readonly durationMs: number;
}

/** One element of github-action-benchmark's customSmallerIsBetter input. */
export interface BenchmarkActionEntry {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly range?: string;
  readonly extra?: string;
}

const PASS_LABEL: Record<BenchPass, string> = { forward: "fwd", forwardBackward: "fwd+bwd" };

/** A ratio with its interval in few digits, e.g. "0.191 [0.185, 0.197]"; `scale` digits for percent. */
export function formatRatio(r: RowRatio, percent = false): string {
  const f = (v: number) => (percent ? v.toFixed(0) : v.toPrecision(3));
  return `${f(r.median)} [${f(r.low)}, ${f(r.high)}]`;
}

/** Median of the GPU suites' empty queue round trips, e.g. "11.4 ms", or "-" when none was measured. */
export function queueRoundTripText(run: Pick<BenchRun, "suites">): string {
  const medians = run.suites.flatMap((s) => (s.queueRoundTrip ? [s.queueRoundTrip.median] : []));
  return medians.length === 0 ? "-" : `${formatMs(median(medians))} ms`;
}

/** Milliseconds with 3-4 significant digits. */
export function formatMs(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

function rowLabel(r: ResultRow): string {
  return r.k === null ? r.subject : `${r.subject} k=${r.k}`;
}

function note(r: ResultRow): string {
  const parts: string[] = [];
  if (r.status !== "ok") parts.push(`${r.status.toUpperCase()}: ${r.reason ?? ""}`);
  else if (r.reason) parts.push(r.reason);
  if (r.status === "ok" && r.deviceNote) parts.push(`wall clock: ${r.deviceNote}`);
  return parts.join("; ");
}

const HEADER = [
  "subject",
  "pass",
  "timer",
  "median ms",
  "MAD",
  "min",
  "max",
  "n",
  "wall ms",
  "elem/s",
  "GB/s",
  "x maxPool [95%]",
  "% copy bw [95%]",
  "note",
];

function cells(r: ResultRow): string[] {
  const ok = r.status === "ok";
  const summary = r.timer === "gpu-timestamps" ? r.device : r.wall;
  return [
    rowLabel(r),
    PASS_LABEL[r.pass],
    ok ? (r.timer === "gpu-timestamps" ? "gpu-ts" : "wall") : "-",
    ok && r.ms !== null ? formatMs(r.ms) : "-",
    summary ? formatMs(summary.mad) : "-",
    summary ? formatMs(summary.min) : "-",
    summary ? formatMs(summary.max) : "-",
    summary ? String(summary.n) : "0",
    r.wall ? formatMs(r.wall.median) : "-",
    r.elementsPerSecond !== null ? formatSi(r.elementsPerSecond) : "-",
    r.gigabytesPerSecond !== null ? r.gigabytesPerSecond.toPrecision(3) : "-",
    r.vsMaxPool !== null ? formatRatio(r.vsMaxPool) : "-",
    r.copyPercent !== null ? formatRatio(r.copyPercent, true) : r.group === "cpu" ? "n/a" : "-",
    note(r),
  ];
}

function suiteHeading(s: SuiteResult): string {
  const window = s.window
    ? ` | window ${s.window.poolSize?.join("x") ?? "2x2"}, stride ${
      (s.window.strides ?? s.window.poolSize)?.join("x")
    }, ` +
      `"${s.padding}"`
    : "";
  const parts = [
    `${s.group} | ${s.shapeLabel} ${s.shape.join("x")} (${
      formatSi(s.shape.reduce((a, b) => a * b))
    } elements)${window}`,
  ];
  if (s.queueRoundTrip) {
    parts.push(`queue round trip (empty submit + onSubmittedWorkDone) median ${formatMs(s.queueRoundTrip.median)} ms`);
  }
  if (s.tensors) parts.push(`tensors ${s.tensors.before} -> ${s.tensors.after}`);
  if (s.durationMs > 0) parts.push(`${(s.durationMs / 1000).toFixed(1)} s`);
  return parts.join(" | ");
}

/** The console table: one block per suite, aligned columns. */
export function consoleTable(run: BenchRun): string {
  const out: string[] = [];
  for (const s of [...run.suites, ...(run.windows ? [run.windows] : [])]) {
    out.push("", `== ${suiteHeading(s)}`);
    if (s.skipped) {
      out.push(`   skipped: ${s.skipped}`);
      continue;
    }
    const table = [HEADER, ...s.rows.map(cells)];
    const widths = HEADER.map((_, c) => Math.max(...table.map((row) => row[c].length)));
    for (const row of table) {
      out.push(
        row.map((cell, c) => (c === row.length - 1 ? cell : c <= 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
          .join("  ").trimEnd(),
      );
    }
    for (const f of s.failures) out.push(`   FAILURE: ${f}`);
  }
  return out.join("\n") + "\n";
}

function markdownTable(s: SuiteResult): string {
  const esc = (t: string) => t.replace(/\|/g, "\\|");
  const lines = [
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map((_, c) => (c <= 2 || c === HEADER.length - 1 ? "---" : "---:")).join("|")}|`,
  ];
  for (const r of s.rows) lines.push(`| ${cells(r).map(esc).join(" | ")} |`);
  return lines.join("\n");
}

/** A kernel target and whether a registry entry meets it. */
export interface TargetVerdict {
  readonly entry: string;
  readonly target: string;
  /** Measured value (median of the per-round ratios) in the target's unit, or null when not measured. */
  readonly value: number | null;
  /** Its 95% bootstrap interval in the same unit. */
  readonly interval: readonly [number, number] | null;
  /** Whether the median meets the target (null: not measured). */
  readonly met: boolean | null;
  /** The interval has values on both sides of the target: this run cannot tell. */
  readonly inconclusive: boolean;
  readonly detail: string;
}

/** The shape label and k at which the kernel targets are judged. */
export const TARGET_SHAPE = "target";
/** k at which the kernel targets are judged. */
export const TARGET_K = 4;

/**
 * Judges every gated registry entry (`gated`, from the registry's `Implementation.gated`) at the
 * target shape and k = 4: forward <= 0.5x tf.maxPool, forward+backward <= 1.0x tf.maxPool, and
 * forward >= 100x faster than each non-gated entry of the same group measured there (the tfjs-op
 * implementations); and, from the bandwidth suite (`bandwidth`, bench/bandwidth.ts) at each of its
 * k, forward >= 90 % of the copy kernel's bandwidth on its headline clock. Every figure is a
 * per-round ratio (median, with its 95% interval); a target is met when the median meets it, and
 * marked inconclusive when its interval has values on both sides.
 */
export function evaluateTargets(
  suites: readonly SuiteResult[],
  gated: readonly string[],
  bandwidth?: BandwidthResult,
): TargetVerdict[] {
  const fromBandwidth: TargetVerdict[] = bandwidth && !bandwidth.skipped
    ? bandwidthVerdicts(bandwidth).filter((v) => gated.includes(v.entry)).map((v) => ({
      entry: v.entry,
      target: `forward >= ${BANDWIDTH_TARGET_PERCENT} % of copy bandwidth (2x2/2, k=${v.k})`,
      value: v.percent ? v.percent.median : null,
      interval: v.percent ? [v.percent.low, v.percent.high] as const : null,
      met: v.met,
      inconclusive: v.inconclusive,
      detail: v.detail,
    }))
    : [];
  const suite = suites.find((s) => s.group === "webgpu" && s.shapeLabel === TARGET_SHAPE && !s.skipped);
  if (!suite) return fromBandwidth;
  const rows = suite.rows;
  const find = (subject: string, k: number | null, pass: BenchPass) =>
    rows.find((r) => r.subject === subject && r.k === k && r.pass === pass);
  const judged = [...new Set(rows.filter((r) => r.kind === "entry" && r.k === TARGET_K).map((r) => r.subject))];
  const entries = judged.filter((name) => gated.includes(name));
  const others = judged.filter((name) => !gated.includes(name));
  const verdicts: TargetVerdict[] = [];
  const where = `${suite.shape.join("x")}, k=${TARGET_K}`;
  for (const entry of entries) {
    const fwd = find(entry, TARGET_K, "forward");
    const fb = find(entry, TARGET_K, "forwardBackward");
    // ratio(a, b) is a's time / b's time per round; value() turns it into the target's unit.
    const judge = (
      target: string,
      a: [string, ResultRow | undefined],
      b: [string, ResultRow | undefined],
      value: (ratio: number) => number,
      ok: (v: number) => boolean,
    ) => {
      const missing = [a, b].find(([, row]) => !row || row.status !== "ok");
      const r = missing ? null : rowRatio(a[1]!, b[1]!);
      if (!r) {
        const detail = missing
          ? `not measured at ${where}: ${missing[0]} (${missing[1]?.reason ?? "not measured"})`
          : `not measured at ${where}: no common clock or round`;
        verdicts.push({ entry, target, value: null, interval: null, met: null, inconclusive: false, detail });
        return;
      }
      const [lo, hi] = [value(r.low), value(r.high)].sort((x, y) => x - y);
      const v = value(r.median);
      verdicts.push({
        entry,
        target,
        value: v,
        interval: [lo, hi],
        met: ok(v),
        inconclusive: ok(lo) !== ok(hi),
        detail: `${where}, ${r.timer}, ${r.n} rounds`,
      });
    };
    const maxPool = maxPoolName("webgpu");
    judge(
      "forward <= 0.5x tf.maxPool time",
      [entry, fwd],
      [maxPool, find(maxPool, null, "forward")],
      (x) => x,
      (v) => v <= 0.5,
    );
    judge(
      "forward+backward <= 1.0x tf.maxPool time",
      [entry, fb],
      [maxPool, find(maxPool, null, "forwardBackward")],
      (x) => x,
      (v) => v <= 1.0,
    );
    for (const other of others) {
      judge(`forward >= 100x faster than ${other}`, [other, find(other, TARGET_K, "forward")], [entry, fwd], (x) => x, (
        v,
      ) => v >= 100);
    }
  }
  return [...verdicts, ...fromBandwidth];
}

function formatTarget(v: TargetVerdict): string {
  const percent = v.target.includes("%");
  const f = (x: number) => (percent ? x.toFixed(0) : x.toPrecision(3));
  const unit = percent ? " %" : "x";
  const value = v.value === null
    ? "-"
    : `${f(v.value)}${unit}${v.interval ? ` [${f(v.interval[0])}, ${f(v.interval[1])}]` : ""}`;
  const met = (v.met === null ? "not measured" : v.met ? "met" : "NOT met") +
    (v.inconclusive ? " (the interval straddles the target)" : "");
  return `| ${v.entry} | ${v.target} | ${value} | ${met} | ${v.detail.replace(/\|/g, "\\|")} |`;
}

/** Kernel target verdicts as a Markdown table (or a sentence when nothing could be judged). */
export function targetsMarkdown(verdicts: readonly TargetVerdict[]): string {
  if (verdicts.length === 0) {
    return `No gated registry entry was measured on the "${TARGET_SHAPE}" shape at k=${TARGET_K} or in the ` +
      "bandwidth suite; the kernel targets could not be judged.";
  }
  return [
    "| entry | target | measured [95% interval] | verdict | where, clock |",
    "|---|---|---:|---|---|",
    ...verdicts.map(formatTarget),
  ]
    .join("\n");
}

/** customSmallerIsBetter entries: one per measured row, value = median ms on the row's timer. */
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

/** One SVG chart file of the report. */
export interface ChartFile {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

/**
 * Charts of input elements per second against input size (log-log), one per pass and k, one
 * polyline per implementation (registry entries at that k, the tfjs baselines, the copy kernel).
 */
export function charts(run: BenchRun): ChartFile[] {
  const rows = run.suites.flatMap((s) => s.rows).filter((r) => r.status === "ok" && r.elementsPerSecond !== null);
  const ks = [...new Set(rows.filter((r) => r.k !== null).map((r) => r.k!))].sort();
  const files: ChartFile[] = [];
  const backend = runSlug(run.environment);
  for (const pass of BENCH_PASSES) {
    for (const k of ks.length > 0 ? ks : [null]) {
      const chosen = rows.filter((r) => r.pass === pass && (r.k === null || r.k === k));
      const names = [...new Set(chosen.map((r) => r.subject))];
      const series: ChartSeries[] = names.map((name) => ({
        name: chosen.find((r) => r.subject === name)!.k === null ? name : `${name} (k=${k})`,
        dashed: chosen.some((r) => r.subject === name && r.kind !== "entry"),
        points: chosen.filter((r) => r.subject === name).map((r) => ({ x: r.inputElements, y: r.elementsPerSecond! })),
      }));
      if (series.length === 0) continue;
      const title = `sort_pool2d ${PASS_LABEL[pass]}${k === null ? "" : `, k=${k}`}: throughput vs size (${backend})`;
      files.push({
        file: `throughput-${pass === "forward" ? "forward" : "forward-backward"}${k === null ? "" : `-k${k}`}.svg`,
        title,
        svg: renderChart({ title, xLabel: "input elements (log)", yLabel: "input elements / s (log)", series }),
      });
    }
  }
  return files;
}

function groupTitle(group: Group): string {
  return group === "webgpu" ? "WebGPU" : "CPU";
}

/** The Markdown report; `chartFiles` are linked by file name (written next to it). */
export function markdownReport(run: BenchRun, chartFiles: readonly ChartFile[]): string {
  const env = run.environment;
  const adapter = env.adapter.available ? String(env.adapter.info.description ?? "?") : `none (${env.adapter.reason})`;
  const lines: string[] = [
    `# sort_pool2d benchmarks (${run.plan}, ${runSlug(env)})`,
    "",
    `Run ${env.date}, ${(run.durationMs / 1000).toFixed(0)} s, \`deno task bench ${run.args.join(" ")}\`.`,
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
    "## Method",
    "",
    ...Object.entries(run.method).map(([k, v]) => `- ${k}: ${v}`),
    "",
  ];
  if (run.notBenchmarked.length > 0) {
    lines.push("Not benchmarked:", "", ...run.notBenchmarked.map((n) => `- ${n.name}: ${n.reason}`), "");
  }
  lines.push("## Kernel targets", "", targetsMarkdown(evaluateTargets(run.suites, run.gated, run.bandwidth)), "");
  if (run.bandwidth) lines.push("## 2x2/2 forward against the copy kernel", "", bandwidthMarkdown(run.bandwidth), "");
  if (run.windows) {
    lines.push("## 3x3/2 suite against tf.maxPool 3x3/2", "", windowsMarkdown(run.windows), "");
    lines.push(`### ${suiteHeading(run.windows)}`, "");
    lines.push(run.windows.skipped ? `Skipped: ${run.windows.skipped}` : markdownTable(run.windows), "");
  }
  if (run.failures.length > 0) lines.push("## Failures", "", ...run.failures.map((f) => `- ${f}`), "");
  lines.push("## Charts", "");
  for (const c of chartFiles) lines.push(`![${c.title}](${c.file})`, "");
  for (const group of ["webgpu", "cpu"] as const) {
    const suites = run.suites.filter((s) => s.group === group);
    if (suites.length === 0) continue;
    lines.push(`## ${groupTitle(group)} results`, "");
    for (const s of suites) {
      lines.push(`### ${suiteHeading(s)}`, "");
      if (s.skipped) {
        lines.push(`Skipped: ${s.skipped}`, "");
        continue;
      }
      lines.push(markdownTable(s), "");
      for (const f of s.failures) lines.push(`FAILURE: ${f}`, "");
    }
  }
  return lines.join("\n");
}

/** The full JSON document. */
export function fullJson(run: BenchRun): unknown {
  return {
    ...run,
    targets: evaluateTargets(run.suites, run.gated, run.bandwidth),
    ...(run.bandwidth ? { bandwidthVerdicts: bandwidthVerdicts(run.bandwidth) } : {}),
    ...(run.windows ? { windowsVerdicts: windowsVerdicts(run.windows) } : {}),
    bytesFormula: BYTES_FORMULA,
  };
}
