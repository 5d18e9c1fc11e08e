/**
 * The cross-engine table's outputs (bench/cross_engine.ts): Markdown, JSON and the vega-lite chart
 * (bench/charts.ts), and the report `deno task bench --merge` writes.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { intervalChartSpec, type IntervalPoint, renderSvg } from "./charts.ts";
import {
  CLOCKS,
  CROSS_TARGETS,
  type CrossEngine,
  type CrossRatio,
  type CrossRow,
  type CrossVerdict,
  PASSES,
} from "./cross_engine.ts";

const f3 = (v: number) => v.toPrecision(3);

/** "0.113x [0.0685, 0.171]", or "-" when not measured. */
export function ratioText(r: CrossRatio | null): string {
  return r ? `${f3(r.median)}x [${f3(r.low)}, ${f3(r.high)}]` : "-";
}

/** "58 % [47, 114]", or "-" when not measured. */
export function percentText(r: CrossRatio | null): string {
  return r ? `${r.median.toFixed(0)} % [${r.low.toFixed(0)}, ${r.high.toFixed(0)}]` : "-";
}

/** "PASS", "FAIL (interval straddles 0.5)", "NOT MEASURED (reason)". */
export function verdictText(v: CrossVerdict, target: number): string {
  if (v.status === "NOT MEASURED") return `NOT MEASURED (${v.reason})`;
  return `${v.status}${v.inconclusive ? ` (interval straddles ${target.toFixed(1)})` : ""}`;
}

/** "process-cpu, 9/5 rounds": the clock of a row's ratios to tf.maxPool and their rounds (forward/forward+backward). */
function clockText(r: CrossRow): string {
  const parts = PASSES.map((p) => r.vsMaxPool[p]).filter((x): x is CrossRatio => x !== null);
  if (parts.length === 0) return "-";
  const clocks = [...new Set(parts.map((x) => x.clock))];
  const rounds = [...new Set(parts.map((x) => x.n))];
  return clocks.length === 1
    ? `${clocks[0]}, ${rounds.join("/")} rounds`
    : parts.map((x) => `${x.clock}, ${x.n} rounds`).join(" / ");
}

/** The table in Markdown, with the runs named above it and the targets' summary below. */
export function crossEngineMarkdown(c: CrossEngine): string {
  if (c.runs.length === 0) return "No runs to compare.";
  const esc = (t: string) => t.replace(/\|/g, "\\|");
  const untrusted = c.runs.filter((r) => r.untrusted?.length);
  const lines = [
    ...(untrusted.length > 0
      ? [
        `WARNING: UNTRUSTED runs merged on request (SORTPOOL_MERGE_UNTRUSTED=1): ${
          untrusted.map((r) => `\`${r.id}\``).join(", ")
        }; their figures are not measurements of working kernels.`,
        "",
      ]
      : []),
    "Runs (engine and adapter from adapter.info; every ratio is measured within its own run):",
    "",
    ...c.runs.map((r) =>
      `- \`${r.id}\`: ${r.label}; ${r.plan} plan, ${r.date}, ${(r.durationMs / 1000).toFixed(0)} s, ` +
      `load average at start ${r.loadavg}; clock: ${r.clock} (${r.clockWhy})${r.file ? `; ${r.file}` : ""}`
    ),
    "",
  ];
  if (c.rows.length === 0) {
    lines.push("No gated entry was measured on a (shape, k) case common to every run.");
  } else {
    lines.push(
      "| run | entry | shape | k | fwd x tf.maxPool [95%] | fwd <= 0.5x | fwd+bwd x tf.maxPool [95%] | " +
        "fwd+bwd <= 1.0x | fwd % copy bw [95%] | fwd+bwd % copy bw [95%] | clock, rounds | fwd ms | fwd+bwd ms |",
      "|---|---|---|---:|---:|---|---:|---|---:|---:|---|---:|---:|",
    );
    for (const r of c.rows) {
      const ms = (v: number | null) => (v === null ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(0));
      lines.push(
        "| " + [
          `\`${r.run}\``,
          r.entry,
          `${r.shapeLabel} ${r.shape.join("x")}`,
          String(r.k),
          ratioText(r.vsMaxPool.forward),
          verdictText(r.verdict.forward, CROSS_TARGETS.forward),
          ratioText(r.vsMaxPool.forwardBackward),
          verdictText(r.verdict.forwardBackward, CROSS_TARGETS.forwardBackward),
          percentText(r.copyPercent.forward),
          percentText(r.copyPercent.forwardBackward),
          clockText(r),
          ms(r.ms.forward),
          ms(r.ms.forwardBackward),
        ].map(esc).join(" | ") + " |",
      );
    }
    lines.push("", "Kernel targets per run (cases of the table that PASS):", "");
    for (const s of c.summary) {
      lines.push(
        `- \`${s.run}\` ${s.entry}: forward <= ${CROSS_TARGETS.forward}x tf.maxPool ${s.forward.pass}/${s.forward.of}` +
          `${s.forward.pass === s.forward.of ? " PASS" : " FAIL"}; forward+backward <= ` +
          `${CROSS_TARGETS.forwardBackward.toFixed(1)}x ${s.forwardBackward.pass}/${s.forwardBackward.of}` +
          `${s.forwardBackward.pass === s.forwardBackward.of ? " PASS" : " FAIL"}`,
      );
    }
  }
  const others = otherClocksTable(c);
  if (others.length > 0) lines.push("", ...others);
  if (c.notInEveryRun.length > 0) {
    lines.push("", "Not in every run (left out of the table):", "", ...c.notInEveryRun.map((n) => `- ${n}`));
  }
  return lines.join("\n");
}

/**
 * The ratios to tf.maxPool on the clocks a row was not judged on (GPU timestamps, when the run's
 * clock is process CPU time): context, since on a CPU adapter they are the wall time of threads
 * that share the cores with every other process. Empty when there are none.
 */
export function otherClocksTable(c: CrossEngine): string[] {
  const runClock = new Map(c.runs.map((r) => [r.id, r.clock]));
  const rows = c.rows.flatMap((r) =>
    CLOCKS.filter((clock) => clock !== runClock.get(r.run) && clock !== "wall-clock" && r.byClock[clock])
      .map((clock) => ({ r, clock, x: r.byClock[clock]! }))
  );
  if (rows.length === 0) return [];
  return [
    "The same ratios on GPU timestamps (context only on CPU adapters: the wall time of device threads that share the " +
    "cores with other processes):",
    "",
    "| run | entry | shape | k | clock | fwd x tf.maxPool [95%] | fwd+bwd x tf.maxPool [95%] | fwd % copy bw [95%] |",
    "|---|---|---|---:|---|---:|---:|---:|",
    ...rows.map(({ r, clock, x }) =>
      `| \`${r.run}\` | ${r.entry} | ${r.shapeLabel} ${r.shape.join("x")} | ${r.k} | ${clock} | ` +
      `${ratioText(x.vsMaxPool.forward)} | ${ratioText(x.vsMaxPool.forwardBackward)} | ` +
      `${percentText(x.copyPercent.forward)} |`
    ),
  ];
}

/** The JSON document of a merge. */
export function crossEngineJson(c: CrossEngine): unknown {
  return { kind: "sortpool-cross-engine", targets: CROSS_TARGETS, ...c };
}

const MEASURES = {
  forward: "forward: time / tf.maxPool (target <= 0.5)",
  forwardBackward: "forward+backward: time / tf.maxPool (target <= 1.0)",
  copy: "forward: % of copy kernel bandwidth",
} as const;

/**
 * The chart's points: one per run, case and measure (ratios to tf.maxPool with their targets,
 * forward % of copy bandwidth); the series is the run.
 */
export function chartData(c: CrossEngine): IntervalPoint[] {
  const out: IntervalPoint[] = [];
  for (const r of c.rows) {
    const row = `${r.entry} ${r.shape.join("x")} k=${r.k}`;
    const push = (panel: string, x: CrossRatio | null, target: number | null) => {
      if (x) out.push({ panel, row, series: r.run, median: x.median, low: x.low, high: x.high, target });
    };
    push(MEASURES.forward, r.vsMaxPool.forward, CROSS_TARGETS.forward);
    push(MEASURES.forwardBackward, r.vsMaxPool.forwardBackward, CROSS_TARGETS.forwardBackward);
    push(MEASURES.copy, r.copyPercent.forward, null);
  }
  return out;
}

/**
 * The vega-lite spec (bench/charts.ts `intervalChartSpec`): one panel per measure, a row per
 * (entry, shape, k), a point per run at the median with a bar over its 95% interval, and the
 * target as a dashed rule.
 */
export function crossEngineChartSpec(c: CrossEngine, title: string): TopLevelSpec {
  return intervalChartSpec({
    title,
    subtitle: [
      "Each run's ratios are measured within that run (one engine, one process): median of per-round ratios, " +
      "bar: bootstrap 95% interval;",
      "dashed: the kernel target. Runs (clock):",
      ...c.runs.map((r) => `${r.id} = ${r.label} (${r.clock})`),
    ],
    points: chartData(c),
    panels: Object.values(MEASURES),
    series: c.runs.map((r) => r.id),
    seriesTitle: "run (engine-adapter)",
  });
}

/** Renders {@link crossEngineChartSpec} to an SVG string, headless. */
export function crossEngineSvg(c: CrossEngine, title: string): Promise<string> {
  return renderSvg(crossEngineChartSpec(c, title));
}

/** The Markdown report of a merge: the table and the chart (written next to it as `chartFile`). */
export function crossEngineReport(c: CrossEngine, chartFile: string | null, command: string): string {
  const lines = [
    "# sort_pool2d across WebGPU engines",
    "",
    `\`${command}\`. Gated registry entries against tf.maxPool and the copy kernel of the same engine, on the ` +
    '(shape, k) cases every run measured (2x2 windows, stride 2, padding "same"). Targets: forward <= 0.5x ' +
    "tf.maxPool, forward+backward <= 1.0x tf.maxPool (PASS when the median meets it; the interval is shown). " +
    "Times (ms) are context only: the runs were taken at different times on a shared machine.",
    "",
    crossEngineMarkdown(c),
    "",
  ];
  if (chartFile) lines.push(`![ratios per engine](${chartFile})`, "");
  return lines.join("\n");
}
