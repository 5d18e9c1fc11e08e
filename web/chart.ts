/**
 * The browser page's benchmark chart (vega-lite, rendered as SVG).
 *
 * @module
 */
/// <reference lib="dom" />
import { parse as parseVega, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { ResultRow, SuiteResult } from "../bench/rows.ts";
import { passLabel } from "../harness/measure/passes.ts";
import { $ } from "./dom.ts";
import { windowText } from "./result_tables.ts";

/** The chart: each row's ratio to tf.maxPool with its interval (vega-lite, rendered as SVG). */
export async function drawChart(suites: readonly SuiteResult[]): Promise<void> {
  const values = suites.flatMap((s) =>
    s.rows.filter((r): r is ResultRow & { vsMaxPool: NonNullable<ResultRow["vsMaxPool"]> } =>
      r.kind === "entry" && r.vsMaxPool !== null
    ).map((r) => ({
      case: `${windowText(s)} ${s.shape.join("x")} k=${r.k}`,
      pass: passLabel(r.pass),
      median: r.vsMaxPool.median,
      low: r.vsMaxPool.low,
      high: r.vsMaxPool.high,
    }))
  );
  if (values.length === 0) return;
  const rowEncoding = {
    y: { field: "case", type: "nominal", title: null },
    yOffset: { field: "pass" },
    color: { field: "pass", type: "nominal", title: "pass" },
  } as const;
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "sortPool2d time / tf.maxPool time (median of per-round ratios, 95% interval; below 1: faster)",
    data: { values },
    width: 620,
    height: { step: 22 },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 2 },
        encoding: {
          ...rowEncoding,
          x: { field: "low", type: "quantitative", scale: { type: "log" }, title: "time / tf.maxPool (log scale)" },
          x2: { field: "high" },
        },
      },
      {
        mark: { type: "point", filled: true, size: 60 },
        encoding: { ...rowEncoding, x: { field: "median", type: "quantitative" } },
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: "rule", strokeDash: [4, 4], color: "#5f6368" },
        encoding: { x: { field: "one", type: "quantitative" } },
      },
    ],
  } as TopLevelSpec;
  const view = new View(parseVega(compile(spec).spec), { renderer: "svg", container: $("chart"), hover: false });
  await view.runAsync();
}
