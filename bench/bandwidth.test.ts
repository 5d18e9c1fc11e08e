/**
 * Tests of the bandwidth suite: per-clock percentages of the copy kernel's bandwidth, the
 * headline clock, verdicts, its table, chart and kernel targets.
 */
import { describe, expect, test } from "vitest";
import { BANDWIDTH_FULL, bandwidthMarkdown, bandwidthRow, bandwidthVerdicts, headlineClock } from "./bandwidth.ts";
import { bandwidthChart, bandwidthTargets } from "./bandwidth_suite.ts";
import { renderSvg } from "./charts.ts";
import { bandwidthResult, fakeRun, timing } from "./test_fixtures.ts";

describe("bandwidth suite", () => {
  test("the headline clock: process CPU time on a CPU adapter, else GPU timestamps, else wall clock", () => {
    expect(headlineClock(true, true).clock).toBe("process-cpu");
    expect(headlineClock(false, true).clock).toBe("gpu-timestamps");
    expect(headlineClock(false, false).clock).toBe("wall-clock");
  });

  test("percent of copy bandwidth per clock, from the rounds that timed both; raw samples kept", () => {
    // copy 8 ms, entry 10 ms, but round 3 of the entry was preempted (40 ms): the median ignores it.
    const own = timing("wgsl k=1", (r) => (r === 3 ? 40 : 10));
    const copy = timing("copy|wgsl k=1", () => 8);
    const row = bandwidthRow("wgsl", 1, own, copy);
    expect(row.status).toBe("ok");
    expect(row.percent["gpu-timestamps"]!.median).toBeCloseTo(80, 10);
    expect(row.percent["process-cpu"]!.median).toBeCloseTo(80, 10); // 2 * 8 / (2 * 10)
    expect(row.percent["wall-clock"]!.median).toBeCloseTo(100 * 19 / 21, 10); // the 11 ms floor pulls towards 100
    expect(row.percent["gpu-timestamps"]!.n).toBe(7);
    expect(row.percent["gpu-timestamps"]!.low).toBeLessThanOrEqual(80);
    expect(row.percent["gpu-timestamps"]!.entryMs).toBe(10);
    expect(row.samples.round).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // A clock some sample lacks is left out; a failed task makes the row failed, naming it.
    const noGpu = bandwidthRow("wgsl", 1, timing("a", () => 10, 7, false), copy);
    expect(noGpu.percent["gpu-timestamps"]).toBeUndefined();
    expect(noGpu.percent["process-cpu"]!.median).toBeCloseTo(80, 10);
    const failed = bandwidthRow("wgsl", 1, { ...own, status: "failed", samples: [], reason: "boom" }, copy);
    expect(failed).toMatchObject({ status: "failed", reason: "wgsl: boom" });
  });

  const rows = [
    bandwidthRow("wgsl", 1, timing("a", () => 10), timing("b", () => 9.5)), // 95 %
    bandwidthRow("wgsl", 4, timing("a", () => 10), timing("b", () => 8)), // 80 %
    bandwidthRow("wgsl@tfjs", 1, timing("a", (r) => [10.2, 10.5, 9.6, 10.8, 9.4, 10.2, 9.8][r]), timing("b", () => 9)),
  ];

  test("verdicts on the headline clock: met at >= 90 %, inconclusive when the interval straddles it", () => {
    const v = bandwidthVerdicts(bandwidthResult(rows, true));
    expect(v.map((x) => [x.entry, x.k, x.met])).toEqual([["wgsl", 1, true], ["wgsl", 4, false], [
      "wgsl@tfjs",
      1,
      false,
    ]]);
    expect(v[2].inconclusive).toBe(true);
    expect(v[0].detail).toContain("process-cpu");
    const md = bandwidthMarkdown(bandwidthResult(rows, true));
    expect(md).toContain("| wgsl | 4 | 80 % [80, 80] | 80 % [80, 80] | 20.00 / 16.00 | NOT met |");
    expect(BANDWIDTH_FULL.ks).toEqual([1, 2, 3, 4]);
  });

  test("kernel targets: one per gated entry and k, in percent, with the clock and rounds", () => {
    const targets = bandwidthTargets(bandwidthResult(rows, false), ["wgsl"]);
    expect(targets.map((t) => [t.target, t.case, t.unit, t.met, t.detail])).toEqual([
      ["forward >= 90 % of copy bandwidth (2x2/2)", "32x64x64x32, k=1", "%", true, "gpu-timestamps, 7 rounds"],
      ["forward >= 90 % of copy bandwidth (2x2/2)", "32x64x64x32, k=4", "%", false, "gpu-timestamps, 7 rounds"],
    ]);
    expect(bandwidthTargets({ ...bandwidthResult(rows, false), skipped: "no adapter" }, ["wgsl"])).toEqual([]);
  });

  test("the chart: a point and an interval per (entry, k) and clock, the target as a rule, rendered to SVG", async () => {
    const chart = bandwidthChart(bandwidthResult(rows, true), fakeRun([]));
    expect(chart.file).toBe("bandwidth.svg");
    const data = (chart.spec as { data: { values: { row: string; series: string; target: number }[] } }).data.values;
    expect(data.map((d) => `${d.row} ${d.series}`)).toEqual([
      "wgsl k=1 process-cpu",
      "wgsl k=1 gpu-timestamps",
      "wgsl k=4 process-cpu",
      "wgsl k=4 gpu-timestamps",
      "wgsl@tfjs k=1 process-cpu",
      "wgsl@tfjs k=1 gpu-timestamps",
    ]);
    expect(new Set(data.map((d) => d.target))).toEqual(new Set([90]));
    const svg = await renderSvg(chart.spec);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("wgsl@tfjs k=1");
  });
});
