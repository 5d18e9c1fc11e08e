/**
 * Tests of the run's outputs: the customSmallerIsBetter JSON, per-round ratios between rows, the
 * console and Markdown reports built through the suite table, and the full JSON's verdicts.
 */
import { describe, expect, test } from "vitest";
import { formatRatio } from "./format.ts";
import {
  benchmarkActionEntries,
  chartSpecs,
  consoleReport,
  durationText,
  fullJson,
  markdownReport,
  queueRoundTripText,
  suiteSections,
} from "./report.ts";
import { rowRatio } from "./rows.ts";
import { bandwidthResult, fakeRun, LLVMPIPE_LINE, row, TARGET_ROWS, timing } from "./test_fixtures.ts";
import { bandwidthRow } from "./bandwidth.ts";

describe("customSmallerIsBetter JSON", () => {
  test("an array of {name, unit, value, range?, extra?} with unique names, one per measured row", () => {
    const entries = JSON.parse(JSON.stringify(benchmarkActionEntries(fakeRun(TARGET_ROWS))));
    expect(Array.isArray(entries)).toBe(true);
    expect(entries.length).toBe(TARGET_ROWS.filter((r) => r.status === "ok").length);
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(["extra", "name", "range", "unit", "value"]);
      expect(typeof e.name).toBe("string");
      expect(e.unit).toBe("ms");
      expect(e.value).toBeGreaterThan(0);
      expect(typeof e.range).toBe("string");
      expect(typeof e.extra).toBe("string");
    }
    expect(new Set(entries.map((e: { name: string }) => e.name)).size).toBe(entries.length);
    const wgsl = entries.find((e: { name: string }) => e.name.includes("wgsl k=4 fwd") && !e.name.includes("bwd"));
    expect(wgsl.value).toBe(2);
    expect(wgsl.name).toContain("[deno-llvmpipe-vulkan]");
  });
});

describe("per-round ratios between rows", () => {
  test("the median of per-round ratios, on GPU timestamps when both rows have them, with an interval", () => {
    const a = row({ subject: "a", pass: "forward", ms: 10 }, [0, 1, -1, 0, 20]);
    const b = row({ subject: "b", pass: "forward", ms: 5 });
    const r = rowRatio(a, b)!;
    expect(r.timer).toBe("gpu-timestamps");
    expect(r.n).toBe(5);
    expect(r.median).toBe(2); // ratios 2, 2.2, 1.8, 2, 6: the outlier round does not move the median
    expect(r.low).toBeLessThanOrEqual(2);
    expect(r.high).toBeGreaterThanOrEqual(2);
    expect(formatRatio(r)).toMatch(/^2\.00 \[\d\.\d+, \d\.\d+\]$/);
    const wallOnly = { ...b, samples: { ...b.samples, device: undefined } };
    expect(rowRatio(a, wallOnly)!.timer).toBe("wall-clock");
    expect(rowRatio(a, row({ subject: "c", pass: "forward", status: "failed" }))).toBeNull();
  });

  test("the queue round trip is the median over the GPU suites", () => {
    expect(queueRoundTripText(fakeRun([]))).toBe("11.5 ms");
    expect(queueRoundTripText({ suites: [] })).toBe("-");
  });
});

describe("reports through the suite table", () => {
  const own = timing("wgsl k=1", () => 10);
  const copy = timing("copy|wgsl k=1", () => 9.5);
  const run = { ...fakeRun(TARGET_ROWS), bandwidth: bandwidthResult([bandwidthRow("wgsl", 1, own, copy)], true) };

  test("a section per suite that ran, in table order; a suite that did not run has none", () => {
    expect(suiteSections(run).map((s) => s.suite.name)).toEqual(["bandwidth", "shapes"]);
    expect(suiteSections({ ...run, suites: [] }).map((s) => s.suite.name)).toEqual(["bandwidth"]);
    expect(chartSpecs(suiteSections(run)).map((c) => c.file)).toEqual(["bandwidth.svg", "kernel-targets.svg"]);
  });

  test("the console ends with every suite's verdicts; the Markdown names engine and adapter, links the charts", () => {
    const sections = suiteSections(run);
    const text = consoleReport(run, sections);
    expect(text.split("\n")[0]).toBe(
      `sort_pool2d benchmarks (quick plan: bandwidth, shapes) on ${LLVMPIPE_LINE} ` +
        "(DENO_WEBGPU_BACKEND=vulkan requested)",
    );
    const targets = text.slice(text.indexOf("kernel targets (quick plan):"));
    expect(targets).toContain(
      "| wgsl | forward >= 90 % of copy bandwidth (2x2/2) | 32x64x64x32, k=1 | 95 % [95, 95] |",
    );
    expect(targets).toContain("| wgsl | forward <= 0.5x tf.maxPool time | 32x64x64x32, k=4 | 0.400x [0.400, 0.400] |");
    const md = markdownReport(run, sections);
    expect(md.split("\n")[0]).toBe("# sort_pool2d benchmarks (quick, deno-llvmpipe-vulkan)");
    expect(md).toContain(`Engine and adapter (adapter.info): ${LLVMPIPE_LINE} (DENO_WEBGPU_BACKEND=vulkan requested).`);
    expect(md).toContain("![2x2/2 forward against the copy kernel (deno-llvmpipe-vulkan)](bandwidth.svg)");
    expect(md.indexOf("## Kernel targets")).toBeLessThan(md.indexOf("## 2x2/2 forward against the copy kernel"));
  });

  test("the full JSON keeps the run's keys and adds every suite's verdicts", () => {
    const json = JSON.parse(JSON.stringify(fullJson(run)));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(["suites", "bandwidth", "targets", "environment"]));
    expect(json.targets.map((t: { target: string; met: boolean }) => [t.target, t.met])).toEqual([
      ["forward >= 90 % of copy bandwidth (2x2/2)", true],
      ["forward <= 0.5x tf.maxPool time", true],
      ["forward+backward <= 1.0x tf.maxPool time", false],
      ["forward >= 100x faster than tfjs-topk@webgpu", true],
      ["forward >= 100x faster than tfjs-network@webgpu", false],
    ]);
  });

  test("duration with the process CPU time when recorded", () => {
    expect(durationText({ durationMs: 95_400, cpuMs: 181_000 })).toBe("95 s (181 s process CPU time)");
    expect(durationText({ durationMs: 1_000 })).toBe("1 s");
  });
});
