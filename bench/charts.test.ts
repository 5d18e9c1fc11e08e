/**
 * Tests of the vega-lite charts: the interval chart's layers and targets, and the shape suites'
 * throughput chart (baselines in every k's panel), rendered to SVG headless.
 */
import { describe, expect, test } from "vitest";
import { intervalChartSpec, renderCharts, renderSvg } from "./charts.ts";
import { shapesCharts, throughputPoints } from "./shapes_report.ts";
import type { SuiteResult } from "./rows.ts";
import { fakeRun, row, TARGET_ROWS } from "./test_fixtures.ts";

describe("charts", () => {
  test("the interval chart: a panel per measure, a rule over the interval, a point at the median, the target", async () => {
    const spec = intervalChartSpec({
      title: 't <&> "q"',
      subtitle: ["sub"],
      points: [
        { panel: "a", row: "wgsl k=1", series: "s1", median: 0.4, low: 0.3, high: 0.5, target: 0.5 },
        { panel: "b", row: "wgsl k=1", series: "s2", median: 95, low: 90, high: 99, target: null },
      ],
      panels: ["a", "b"],
      series: ["s1", "s2"],
      seriesTitle: "clock",
    }) as unknown as { facet: { column: { sort: string[] } }; spec: { layer: { mark: { type: string } }[] } };
    expect(spec.facet.column.sort).toEqual(["a", "b"]);
    expect(spec.spec.layer.map((l) => l.mark.type)).toEqual(["rule", "point", "rule"]);
    const svg = await renderSvg(spec as never);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('t &lt;&amp;&gt; "q"');
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  test("throughput: every measured row, baselines repeated for every k, failed rows left out", () => {
    const rows = [...TARGET_ROWS, row({ subject: "wgsl", k: 1, pass: "forward", ms: 3 })];
    const points = throughputPoints(fakeRun(rows).suites);
    expect(points.filter((p) => p.subject === "tf.maxPool@webgpu").map((p) => `${p.pass} ${p.k}`)).toEqual([
      "forward k = 1",
      "forward k = 4",
      "forward+backward k = 1",
      "forward+backward k = 4",
    ]);
    expect(points.filter((p) => p.subject === "wgsl").length).toBe(3); // k=4 both passes, k=1 forward
    expect(points.every((p) => p.elementsPerSecond > 0 && p.elements === 32 * 64 * 64 * 32)).toBe(true);
  });

  test("the shape suites' charts render: throughput over two sizes or more, the gated entries against their targets", async () => {
    const run = fakeRun(TARGET_ROWS);
    const small = row({ subject: "wgsl", pass: "forward", ms: 0.5, shape: [1, 32, 32, 16] });
    const suites: SuiteResult[] = [...run.suites, { ...run.suites[0], shape: [1, 32, 32, 16], rows: [small] }];
    const charts = await renderCharts(shapesCharts(suites, run));
    expect(charts.map((c) => c.file)).toEqual(["throughput.svg", "kernel-targets.svg"]);
    expect(charts[0].title).toContain("(deno-llvmpipe-vulkan, quick plan)");
    for (const c of charts) {
      expect(c.svg.startsWith("<svg")).toBe(true);
      expect(c.svg).toContain("wgsl");
    }
    // One size (the default plan): no throughput chart.
    expect(shapesCharts([...run.suites], run).map((c) => c.file)).toEqual(["kernel-targets.svg"]);
    expect(shapesCharts([], run)).toEqual([]);
  });
});
