/**
 * Tests of the 3x3/2 suite: its subjects and skips, PASS/FAIL per entry and k, its chart and
 * kernel targets.
 */
import { describe, expect, test } from "vitest";
import type { ResultRow, SuiteResult } from "./rows.ts";
import { fakeEntry, fakeRun, row } from "./test_fixtures.ts";
import { WINDOWS_FULL, windowsMarkdown, windowsSubjects, windowsVerdicts } from "./windows.ts";
import { windowsChart, windowsTargets } from "./windows_suite.ts";

const rows: ResultRow[] = [
  row({
    subject: "wgsl",
    k: 1,
    pass: "forward",
    ms: 4,
    vsMaxPool: { median: 0.4, low: 0.35, high: 0.5, mad: 0, n: 5, timer: "gpu-timestamps" },
  }),
  row({
    subject: "wgsl",
    k: 1,
    pass: "forwardBackward",
    ms: 40,
    vsMaxPool: { median: 1.2, low: 0.9, high: 1.3, mad: 0, n: 5, timer: "gpu-timestamps" },
  }),
  row({ subject: "tfjs-network@webgpu", k: 1, pass: "forward", status: "skipped", reason: "unsupported: 2x2/2 only" }),
  row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 10 }),
];
const suite: SuiteResult = { ...fakeRun(rows).suites[0], window: { poolSize: [3, 3], strides: [2, 2] } };

describe("3x3/2 suite", () => {
  test("subjects: every WebGPU entry at each k plus tf.maxPool 3x3/2; unsupported and slow ones skipped with the reason", () => {
    const entries = [
      fakeEntry("wgsl", { gated: true }),
      fakeEntry("tfjs-network@webgpu", {
        supports: { windows: "2x2/2", perChannelLogits: false, limitation: "the original's 2x2 network" },
      }),
      fakeEntry("tfjs-topk@webgpu"),
      fakeEntry("reference", { device: "cpu" }),
    ];
    const { subjects, preSkip } = windowsSubjects(
      WINDOWS_FULL,
      entries,
      () => new Float32Array(0),
      (entry) => (entry.name === "tfjs-topk@webgpu" ? { ms: 30_000, from: "1000 ms at 802816 elements" } : null),
    );
    expect(subjects.map((s) => `${s.name}${s.k === null ? "" : ` k=${s.k}`}`)).toEqual([
      ...[1, 2, 3, 4].map((k) => `wgsl k=${k}`),
      ...[1, 2, 3, 4].map((k) => `tfjs-network@webgpu k=${k}`),
      ...[1, 2, 3, 4].map((k) => `tfjs-topk@webgpu k=${k}`),
      "tf.maxPool@webgpu",
    ]);
    expect(preSkip.get("tfjs-network@webgpu k=2|forward")).toMatch(
      /^unsupported: tfjs-network@webgpu does not support poolSize \[3,3\].*the original's 2x2 network/,
    );
    expect(preSkip.get("tfjs-topk@webgpu k=4|forwardBackward")).toMatch(/^predicted ~30000 ms a call/);
    expect([...preSkip.keys()].some((k) => k.startsWith("wgsl"))).toBe(false);
  });

  test("PASS/FAIL per entry and k from the per-round ratios to tf.maxPool 3x3/2; skips keep their reason", () => {
    const v = windowsVerdicts(suite);
    expect(v.map((x) => [x.entry, x.k, x.forward.status, x.forwardBackward.status])).toEqual([
      ["wgsl", 1, "PASS", "FAIL"],
      ["tfjs-network@webgpu", 1, "SKIP", "NOT MEASURED"],
    ]);
    expect(v[0].forwardBackward).toMatchObject({ inconclusive: true });
    const md = windowsMarkdown(suite);
    expect(md).toContain(
      "| wgsl | 1 | 0.400x [0.350, 0.500] PASS | 1.20x [0.900, 1.30] FAIL (interval straddles 1.0) |",
    );
    expect(md).toContain("| tfjs-network@webgpu | 1 | SKIP [1] | NOT MEASURED [2] |");
    expect(md).toContain("[1] unsupported: 2x2/2 only");
  });

  test("kernel targets: both passes per gated entry and k; the chart has a point per measured pass", () => {
    expect(windowsTargets(suite, ["wgsl"]).map((t) => [t.target, t.case, t.met, t.inconclusive, t.detail])).toEqual([
      ["forward <= 1.0x tf.maxPool 3x3/2 time", "32x64x64x32, k=1", true, false, "gpu-timestamps, 5 rounds"],
      ["forward+backward <= 1.0x tf.maxPool 3x3/2 time", "32x64x64x32, k=1", false, true, "gpu-timestamps, 5 rounds"],
    ]);
    expect(windowsTargets(suite, [])).toEqual([]);
    const chart = windowsChart(suite, fakeRun([]))!;
    const data = (chart.spec as { data: { values: { row: string; median: number }[] } }).data.values;
    expect(data.map((d) => [d.row, d.median])).toEqual([["wgsl k=1", 0.4], ["wgsl k=1", 1.2]]);
    expect(windowsChart({ ...suite, rows: [] }, fakeRun([]))).toBeNull();
  });
});
