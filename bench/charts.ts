/**
 * The benchmark charts: vega-lite specs, rendered to SVG headless by vega (its View with renderer
 * "none" and `toSVG()`: no DOM, no canvas), the way reproduce/ renders its chart.
 *
 * Two kinds: an interval chart (a point at the median of per-round ratios and a bar over its 95%
 * interval, per row and series, one panel per measure, the target as a dashed rule) for every
 * verdict-bearing figure, and a throughput chart (input elements per second against input size,
 * log-log) for the shape suites.
 *
 * @module
 */
import { parse as parseVega, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** One chart file of a report: where it goes, its title, and its spec. */
export interface ChartSpec {
  /** File name, written next to the report (e.g. "bandwidth.svg"). */
  readonly file: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

/** A rendered chart. */
export interface ChartFile {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

/** Renders a vega-lite spec to an SVG document, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parseVega(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders every chart of a report. */
export async function renderCharts(specs: readonly ChartSpec[]): Promise<ChartFile[]> {
  const out: ChartFile[] = [];
  for (const c of specs) out.push({ file: c.file, title: c.title, svg: await renderSvg(c.spec) });
  return out;
}

/** One point of an interval chart. */
export interface IntervalPoint {
  /** The panel (one per measure), e.g. "forward: time / tf.maxPool (target <= 0.5)". */
  readonly panel: string;
  /** The row within the panel, e.g. "wgsl 32x64x64x32 k=4". */
  readonly row: string;
  /** The series (colour), e.g. a run id or a clock. */
  readonly series: string;
  readonly median: number;
  readonly low: number;
  readonly high: number;
  /** The target of the panel, drawn as a dashed rule (null: none). */
  readonly target: number | null;
}

/** What an interval chart shows. */
export interface IntervalChart {
  readonly title: string;
  readonly subtitle: readonly string[];
  readonly points: readonly IntervalPoint[];
  /** Panels in order. */
  readonly panels: readonly string[];
  /** Series in order (the colour domain). */
  readonly series: readonly string[];
  /** Legend title of the series. */
  readonly seriesTitle: string;
}

/**
 * The interval chart: one panel per measure (independent x scales, from zero), a row per case, a
 * point per series at the median with a bar over its 95% interval, and the target as a dashed rule.
 */
export function intervalChartSpec(c: IntervalChart): TopLevelSpec {
  const domain = [...c.series];
  const color = {
    field: "series",
    type: "nominal",
    title: c.seriesTitle,
    scale: { domain },
    legend: { labelLimit: 400 },
  } as const;
  const yOffset = { field: "series", type: "nominal", scale: { domain } } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: c.title, subtitle: [...c.subtitle] },
    data: { values: c.points as unknown as Record<string, unknown>[] },
    facet: { column: { field: "panel", type: "nominal", title: null, sort: [...c.panels] } },
    spec: {
      width: 260,
      height: { step: 14 },
      layer: [
        {
          mark: { type: "rule", strokeWidth: 2, opacity: 0.6 },
          encoding: {
            y: { field: "row", type: "nominal", title: null, axis: { labelLimit: 400 } },
            yOffset,
            x: { field: "low", type: "quantitative", title: null, scale: { zero: true } },
            x2: { field: "high" },
            color,
          },
        },
        {
          mark: { type: "point", filled: true, size: 40 },
          encoding: {
            y: { field: "row", type: "nominal" },
            yOffset,
            x: { field: "median", type: "quantitative" },
            color,
            tooltip: [{ field: "series" }, { field: "row" }, { field: "median" }, { field: "low" }, {
              field: "high",
            }],
          },
        },
        {
          mark: { type: "rule", strokeDash: [6, 4], color: "black" },
          encoding: { x: { aggregate: "max", field: "target", type: "quantitative" } },
        },
      ],
    },
    resolve: { scale: { x: "independent" } },
  };
}

/** One point of a throughput chart. */
export interface ThroughputPoint {
  readonly subject: string;
  /** "entry" (a registry entry: solid line) or "baseline" / "copy" (dashed). */
  readonly kind: string;
  /** The row of the facet: "k = 4". Baselines without k appear in every row. */
  readonly k: string;
  /** The column of the facet: "forward" or "forward+backward". */
  readonly pass: string;
  readonly elements: number;
  readonly elementsPerSecond: number;
}

/**
 * The throughput chart: input elements per second against input elements (log-log), one panel
 * per pass (columns) and k (rows), one line with points per subject, baselines and the copy
 * kernel dashed.
 */
export function throughputChartSpec(title: string, subtitle: readonly string[], points: readonly ThroughputPoint[]) {
  const subjects = [...new Set(points.map((p) => p.subject))];
  const color = { field: "subject", type: "nominal", title: "subject", scale: { domain: subjects } } as const;
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: [...subtitle] },
    data: { values: points as unknown as Record<string, unknown>[] },
    facet: {
      column: { field: "pass", type: "nominal", title: null, sort: ["forward", "forward+backward"] },
      row: { field: "k", type: "nominal", title: null },
    },
    spec: {
      width: 320,
      height: 220,
      layer: [
        {
          mark: { type: "line", strokeWidth: 2 },
          encoding: {
            x: {
              field: "elements",
              type: "quantitative",
              title: "input elements (log)",
              scale: { type: "log" },
              axis: { format: "~s" },
            },
            y: {
              field: "elementsPerSecond",
              type: "quantitative",
              title: "input elements / s (log)",
              scale: { type: "log" },
              axis: { format: "~s" },
            },
            color,
            strokeDash: {
              field: "kind",
              type: "nominal",
              title: "kind",
              scale: { domain: ["entry", "baseline", "copy"], range: [[1, 0], [6, 3], [2, 2]] },
            },
          },
        },
        {
          mark: { type: "point", filled: true, size: 30 },
          encoding: {
            x: { field: "elements", type: "quantitative" },
            y: { field: "elementsPerSecond", type: "quantitative" },
            color,
            tooltip: [{ field: "subject" }, { field: "elements" }, { field: "elementsPerSecond", format: ".3s" }],
          },
        },
      ],
    },
  };
  return spec;
}
