/**
 * Tests of the pure parts of the benchmarks: the SVG writer, the customSmallerIsBetter JSON, flag
 * parsing, the bytes formula, per-round ratios between rows and the target verdicts. The timing
 * core and its statistics are tested in src/measure/measure.test.ts.
 */
import { describe, expect, test } from "vitest";
import { parseCli } from "../src/cli.ts";
import { engineName, type EnvironmentReport, runLabel, runSlug } from "./environment.ts";
import {
  chartData,
  crossEngine,
  crossEngineMarkdown,
  crossEngineSvg,
  crossRunLabel,
  crossRunSlug,
  ratioOn,
  runClock,
  type SavedRun,
} from "./cross_engine.ts";
import { asSavedRun, mergeFiles, untrustedReasons } from "./engines.ts";
import { BENCH_CLI, benchFlags, engineSpecSlug, parseEngineSpec } from "./flags.ts";
import { bytesMoved, throughput } from "./metrics.ts";
import { FULL_PLAN, QUICK_PLAN, selectPlan } from "./plan.ts";
import { CallTimeHistory } from "./predict.ts";
import {
  benchmarkActionEntries,
  type BenchRun,
  charts,
  evaluateTargets,
  formatRatio,
  markdownReport,
  queueRoundTripText,
} from "./report.ts";
import { type ResultRow, rowRatio, type SuiteResult } from "./rows.ts";
import { renderChart } from "./svg.ts";
import {
  BANDWIDTH_FULL,
  bandwidthMarkdown,
  type BandwidthResult,
  bandwidthRow,
  bandwidthVerdicts,
  headlineClock,
} from "./bandwidth.ts";
import { WINDOWS_FULL, windowsMarkdown, windowsSubjects, windowsVerdicts } from "./windows.ts";
import type { TaskTiming } from "../src/measure/rounds.ts";
import type { Implementation } from "../src/types.ts";

describe("svg", () => {
  const chart = {
    title: 't <&> "q"',
    xLabel: "elements",
    yLabel: "elements/s",
    series: [
      { name: "wgsl (k=4)", points: [{ x: 16384, y: 1e8 }, { x: 4e6, y: 5e8 }] },
      { name: "tf.maxPool@webgpu", dashed: true, points: [{ x: 4e6, y: 2e8 }, { x: 16384, y: 4e7 }] },
      { name: "a<b", points: [{ x: 1e5, y: 3e6 }] },
    ],
  };

  test("one polyline per series, well-formed document, escaped text", () => {
    const svg = renderChart(chart);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<polyline /g)?.length).toBe(3);
    expect(svg.match(/<\/polyline>/g)?.length).toBe(3);
    expect(svg.match(/<circle /g)?.length).toBe(5);
    expect(svg).toContain("t &lt;&amp;&gt; &quot;q&quot;");
    expect(svg).toContain(">a&lt;b<");
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    // every element opened with children is closed: <svg> and <polyline>
    expect(svg.match(/<svg /g)?.length).toBe(1);
    expect(svg.match(/<\/svg>/g)?.length).toBe(1);
  });

  test("points are drawn in increasing x and inside the plot area", () => {
    const svg = renderChart(chart);
    const polylines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]);
    for (const pts of polylines) {
      const coords = pts.split(" ").map((p) => p.split(",").map(Number));
      for (const [x, y] of coords) {
        expect(x).toBeGreaterThanOrEqual(70);
        expect(x).toBeLessThanOrEqual(730);
        expect(y).toBeGreaterThanOrEqual(36);
        expect(y).toBeLessThanOrEqual(336);
      }
      for (let i = 1; i < coords.length; i++) expect(coords[i][0]).toBeGreaterThan(coords[i - 1][0]);
    }
  });

  test("a point off the log axes is an error", () => {
    expect(() => renderChart({ ...chart, series: [{ name: "z", points: [{ x: 0, y: 1 }] }] })).toThrow(/positive/);
    expect(() => renderChart({ ...chart, series: [] })).toThrow(/no data points/);
  });
});

/**
 * A measured row: `ms` per round on GPU timestamps (with `jitter` added to round r's sample), wall
 * time 11 ms more; five rounds 0..4.
 */
function row(over: Partial<ResultRow> & Pick<ResultRow, "subject" | "pass">, jitter: number[] = []): ResultRow {
  const ms = over.ms ?? 10;
  const summary = { n: 5, min: ms * 0.9, median: ms, mad: ms * 0.05, max: ms * 1.2, mean: ms };
  const shape = over.shape ?? [32, 64, 64, 32];
  const bytes = bytesMoved(shape, "same", over.pass);
  const tp = throughput(shape, "same", over.pass, ms);
  const device = [0, 1, 2, 3, 4].map((r) => ms + (jitter[r] ?? 0));
  return {
    suite: "webgpu target 32x64x64x32",
    group: "webgpu",
    shapeLabel: "target",
    shape,
    padding: "same",
    kind: "entry",
    k: 4,
    status: "ok",
    timer: "gpu-timestamps",
    ms,
    wall: { ...summary, median: ms + 11 },
    device: summary,
    inputElements: shape.reduce((a, b) => a * b),
    bytesMoved: bytes,
    elementsPerSecond: tp.elementsPerSecond,
    gigabytesPerSecond: tp.gigabytesPerSecond,
    vsMaxPool: null,
    copyPercent: null,
    warmupCalls: 2,
    firstCallMs: ms * 3,
    samples: { round: [0, 1, 2, 3, 4], wall: device.map((d) => d + 11), cpu: device, device },
    ...over,
  };
}

function fakeRun(rows: ResultRow[]): BenchRun {
  const suite: SuiteResult = {
    id: "webgpu target 32x64x64x32",
    group: "webgpu",
    shapeLabel: "target",
    shape: [32, 64, 64, 32],
    padding: "same",
    policy: null,
    rows,
    queueRoundTrip: { n: 5, min: 11, median: 11.5, mad: 0.2, max: 12, mean: 11.5 },
    tensors: { before: 0, after: 0 },
    failures: [],
    durationMs: 1,
  };
  const environment = {
    date: "2026-01-01T00:00:00Z",
    engine: { name: "deno", implementation: "wgpu (Deno 2.9.6)" },
    adapterLine: "llvmpipe (LLVM 15.0.6, 256 bits) [65541] on wgpu (Deno 2.9.6)",
    denoWebgpuBackend: "vulkan",
    xdgRuntimeDir: "/tmp",
    deno: { deno: "2" },
    tfjs: { tfjs: "4.22.0" },
    wgpu: {},
    host: { os: "linux", cpus: 2 },
    adapter: { available: true, info: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" }, features: [], limits: {} },
    timestampQuery: { listed: false, usable: false, detail: "test" },
  } satisfies EnvironmentReport;
  return {
    plan: "quick",
    args: ["--quick"],
    environment,
    method: {},
    bytesFormula: "",
    shapes: [],
    notBenchmarked: [],
    gated: ["wgsl"],
    copyKernel: { available: true, detail: "test" },
    suites: [suite],
    failures: [],
    durationMs: 1,
  };
}

const TARGET_ROWS = [
  row({ subject: "wgsl", pass: "forward", ms: 2 }),
  row({ subject: "wgsl", pass: "forwardBackward", ms: 30 }),
  row({ subject: "wgsl", k: 1, pass: "forward", status: "failed", reason: "boom", ms: null, device: null, wall: null }),
  row({ subject: "tfjs-topk@webgpu", pass: "forward", ms: 400 }),
  row({ subject: "tfjs-network@webgpu", pass: "forward", ms: 100 }),
  row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 5 }),
  row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forwardBackward", ms: 20 }),
  row({ subject: "copy@webgpu", kind: "copy", k: null, pass: "forward", ms: 1.8 }),
];

describe("customSmallerIsBetter JSON", () => {
  test("an array of {name, unit, value, range?, extra?} with unique names, one per measured row", () => {
    const entries = JSON.parse(JSON.stringify(benchmarkActionEntries(fakeRun(TARGET_ROWS))));
    expect(Array.isArray(entries)).toBe(true);
    expect(entries.length).toBe(TARGET_ROWS.filter((r) => r.status === "ok").length);
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(["extra", "name", "range", "unit", "value"]);
      expect(typeof e.name).toBe("string");
      expect(e.unit).toBe("ms");
      expect(typeof e.value).toBe("number");
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
    const failed = row({ subject: "c", pass: "forward", status: "failed" });
    expect(rowRatio(a, failed)).toBeNull();
  });

  test("the queue round trip is the median over the GPU suites", () => {
    expect(queueRoundTripText(fakeRun([]))).toBe("11.5 ms");
    expect(queueRoundTripText({ suites: [] })).toBe("-");
  });
});

describe("kernel targets", () => {
  test("gated entries only; verdicts follow the per-round ratios; one speed-up target per non-gated entry", () => {
    const verdicts = evaluateTargets(fakeRun(TARGET_ROWS).suites, ["wgsl"]);
    expect(verdicts.every((v) => v.entry === "wgsl")).toBe(true);
    expect(verdicts.map((v) => [v.target, v.met, Number(v.value!.toFixed(2))])).toEqual([
      ["forward <= 0.5x tf.maxPool time", true, 0.4], // 2 / 5
      ["forward+backward <= 1.0x tf.maxPool time", false, 1.5], // 30 / 20
      ["forward >= 100x faster than tfjs-topk@webgpu", true, 200], // 400 / 2
      ["forward >= 100x faster than tfjs-network@webgpu", false, 50], // 100 / 2
    ]);
    for (const v of verdicts) expect(v.interval).not.toBeNull();
    expect(verdicts.some((v) => v.inconclusive)).toBe(false); // identical rounds: zero-width intervals
    expect(evaluateTargets(fakeRun(TARGET_ROWS).suites, [])).toEqual([]);
  });

  test("charts: one file per pass and k, one polyline per implementation", () => {
    const files = charts(fakeRun(TARGET_ROWS));
    expect(files.map((f) => f.file)).toEqual(["throughput-forward-k4.svg", "throughput-forward-backward-k4.svg"]);
    expect(files[0].svg.match(/<polyline /g)?.length).toBe(5); // wgsl, topk, network, maxPool, copy
  });
});

describe("flags", () => {
  const parse = (args: string[]) => benchFlags(parseCli(BENCH_CLI, args).values);

  test("defaults and values", () => {
    expect(parse([])).toEqual({
      quick: false,
      full: false,
      cross: false,
      engines: [],
      merge: [],
      filter: [],
      json: undefined,
      report: undefined,
      shapes: [],
      ks: [],
      suites: ["shapes", "bandwidth", "windows"],
    });
    expect(parse(["--quick", "--filter", "wgsl, tfjs", "--json=o.json", "--report", "r", "--k", "1,4"])).toEqual({
      quick: true,
      full: false,
      cross: false,
      engines: [],
      merge: [],
      filter: ["wgsl", "tfjs"],
      json: "o.json",
      report: "r",
      shapes: [],
      ks: [1, 4],
      suites: ["shapes", "bandwidth", "windows"],
    });
    expect(parse(["--suites", "bandwidth,windows"]).suites).toEqual(["bandwidth", "windows"]);
    expect(parseCli(BENCH_CLI, ["-h"]).help).toBe(true);
  });

  test.each([
    [["--bogus"], "--bogus"],
    [["--json"], "--json"],
    [["--report="], "--report"],
    [["--filter", ","], "--filter"],
    [["--k", "5"], "--k"],
    [["--k", "x"], "--k"],
    [["--quick=yes"], "--quick"],
    [["--suites", "gate"], "--suites"],
    [["--suites", ""], "--suites"],
    [["--engines", "webgl"], "--engines"],
    [["--engines", "dawn:gl"], "--engines"],
    [["--engines", "deno", "--quick"], "--engines"],
    [["--engines", "deno", "--suites", "shapes"], "--suites"],
    [["--cross", "--quick"], "--cross"],
    [["--full", "--quick"], "--full"],
    [["--merge", ","], "--merge"],
    [["--merge", "a.json", "--k", "4"], "--k"],
  ])("%j is rejected naming %s", (args, flag) => {
    expect(() => parse(args)).toThrow(new RegExp(`^${flag.replace(/-/g, "\\-")}: expected`));
  });

  test("engines, the cross plan and merge", () => {
    expect(parse(["--engines", "deno:GL, dawn,deno"]).engines).toEqual([
      { engine: "deno", backend: "gl" },
      { engine: "dawn" },
      { engine: "deno" },
    ]);
    expect(parse(["--engines", "deno,dawn"]).suites).toEqual(["shapes"]);
    expect(parse(["--cross"])).toMatchObject({ cross: true, suites: ["shapes"] });
    expect(parse(["--cross", "--suites", "windows"]).suites).toEqual(["windows"]);
    expect(parse(["--merge", "a.json,b.json", "--merge", "c.json"]).merge).toEqual(["a.json", "b.json", "c.json"]);
    expect(engineSpecSlug(parseEngineSpec("deno:vulkan"))).toBe("deno-vulkan");
    expect(engineSpecSlug(parseEngineSpec("dawn"))).toBe("dawn");
  });

  test("positionals are rejected", () => {
    expect(() => parse(["stray"])).toThrow(/expected flags only/);
  });

  test("--shapes and --k select from the plan and reject unknown values naming the flag", () => {
    expect(selectPlan(FULL_PLAN, ["small", "large"], [4]).shapes.map((s) => [s.label, s.ks])).toEqual([
      ["small", [4]],
      ["large", [4]],
    ]);
    expect(() => selectPlan(QUICK_PLAN, ["huge"], [])).toThrow(/--shapes/);
    expect(() => selectPlan(QUICK_PLAN, [], [2])).toThrow(/--k/);
  });
});

describe("call-time prediction", () => {
  test("scales the largest smaller shape linearly, same k first, else the slowest k there", () => {
    const h = new CallTimeHistory();
    expect(h.predict("webgpu", "x", 4, "forward", 100)).toBeNull();
    h.record("webgpu", "x", 1, "forward", 10, 100);
    h.record("webgpu", "x", 4, "forward", 30, 100);
    h.record("webgpu", "x", 4, "forward", 50, 1000);
    expect(h.predict("webgpu", "x", 4, "forward", 4000)!.ms).toBe(200);
    expect(h.predict("webgpu", "x", 2, "forward", 4000)!.ms).toBe(200); // slowest k at 1000 elements
    expect(h.predict("webgpu", "x", 1, "forward", 500)!.ms).toBe(50); // from k=1 at 100 elements
    expect(h.predict("webgpu", "x", 1, "forwardBackward", 500)).toBeNull();
    expect(h.predict("cpu", "x", 1, "forward", 500)).toBeNull();
  });
});

describe("bytes formula", () => {
  test("forward 4(N + M), forward+backward 4(3N + 2M)", () => {
    // N = 2*4*6*3 = 144, M = 2*2*3*3 = 36
    expect(bytesMoved([2, 4, 6, 3], "same", "forward")).toBe(4 * (144 + 36));
    expect(bytesMoved([2, 4, 6, 3], "same", "forwardBackward")).toBe(4 * (3 * 144 + 2 * 36));
    // odd sizes: "same" rounds the output up, "valid" down
    expect(bytesMoved([1, 3, 3, 1], "same", "forward")).toBe(4 * (9 + 4));
    expect(bytesMoved([1, 3, 3, 1], "valid", "forward")).toBe(4 * (9 + 1));
    const t = throughput([1, 10, 10, 10], "valid", "forward", 2);
    expect(t.elementsPerSecond).toBe(1000 / 0.002);
    expect(t.gigabytesPerSecond).toBeCloseTo((4 * (1000 + 250)) / 0.002 / 1e9, 12);
  });
});

/** A timing of `rounds` samples: `ms(round)` on every clock (GPU too unless `gpu` is false). */
function timing(name: string, ms: (round: number) => number, rounds = 7, gpu = true): TaskTiming {
  const samples = Array.from({ length: rounds }, (_, round) => {
    const t = ms(round);
    return gpu ? { round, wall: t + 11, cpu: 2 * t, gpu: t } : { round, wall: t + 11, cpu: 2 * t };
  });
  return { name, status: "ok", samples, warmupCalls: 2, firstCallMs: 50 };
}

function bandwidthResult(rows: BandwidthResult["rows"], cpuAdapter: boolean): BandwidthResult {
  const { clock, why } = headlineClock(cpuAdapter, true);
  return {
    label: "target",
    shape: [32, 64, 64, 32],
    ks: [1, 4],
    rounds: 7,
    repetitions: 3,
    headline: clock,
    headlineWhy: why,
    rows,
    failures: [],
    durationMs: 1,
  };
}

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

  test("verdicts on the headline clock: met at >= 90 %, inconclusive when the interval straddles it", () => {
    const rows = [
      bandwidthRow("wgsl", 1, timing("a", () => 10), timing("b", () => 9.5)), // 95 %
      bandwidthRow("wgsl", 4, timing("a", () => 10), timing("b", () => 8)), // 80 %
      bandwidthRow(
        "wgsl@tfjs",
        1,
        timing("a", (r) => [10.2, 10.5, 9.6, 10.8, 9.4, 10.2, 9.8][r]),
        timing("b", () => 9),
      ),
    ];
    const v = bandwidthVerdicts(bandwidthResult(rows, true));
    expect(v.map((x) => [x.entry, x.k, x.met])).toEqual([["wgsl", 1, true], ["wgsl", 4, false], [
      "wgsl@tfjs",
      1,
      false,
    ]]);
    expect(v[2].inconclusive).toBe(true);
    expect(v[0].detail).toContain("process-cpu");
    const targets = evaluateTargets([], ["wgsl"], bandwidthResult(rows, false));
    expect(targets.map((t) => [t.target, t.met])).toEqual([
      ["forward >= 90 % of copy bandwidth (2x2/2, k=1)", true],
      ["forward >= 90 % of copy bandwidth (2x2/2, k=4)", false],
    ]);
    const md = bandwidthMarkdown(bandwidthResult(rows, true));
    expect(md).toContain("| wgsl | 4 | 80 % [80, 80] | 80 % [80, 80] | 20.00 / 16.00 | NOT met |");
    expect(BANDWIDTH_FULL.ks).toEqual([1, 2, 3, 4]);
  });
});

/** A fake WebGPU entry with a bench handle that is never prepared in these tests. */
function fakeEntry(name: string, over: Partial<Implementation> = {}): Implementation {
  return {
    name,
    description: name,
    precision: "float32",
    device: "webgpu",
    backend: "raw",
    ties: { kind: "spec" },
    forward: () => Promise.reject(new Error("not called")),
    gradient: () => Promise.reject(new Error("not called")),
    prepareBench: () => Promise.reject(new Error("not called")),
    ...over,
  } as Implementation;
}

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
      row({
        subject: "tfjs-network@webgpu",
        k: 1,
        pass: "forward",
        status: "skipped",
        reason: "unsupported: 2x2/2 only",
      }),
      row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 10 }),
    ];
    const suite: SuiteResult = { ...fakeRun(rows).suites[0], window: { poolSize: [3, 3], strides: [2, 2] } };
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
});

describe("engine naming", () => {
  const adapter = {
    available: true as const,
    info: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" },
    features: [],
    limits: {},
  };
  const line = "llvmpipe (LLVM 15.0.6, 256 bits) [65541] on wgpu (Deno 2.9.6)";

  test("the label is the adapter line from adapter.info; the requested wgpu backend only as a note", () => {
    const deno = { engine: { name: "deno", implementation: "wgpu" }, adapterLine: line, adapter } as const;
    expect(runLabel({ ...deno, denoWebgpuBackend: "" })).toBe(line);
    expect(runLabel({ ...deno, denoWebgpuBackend: "gl" })).toBe(`${line} (DENO_WEBGPU_BACKEND=gl requested)`);
    expect(runSlug({ ...deno, denoWebgpuBackend: "gl" })).toBe("deno-llvmpipe-gl");
    expect(runSlug({ ...deno, denoWebgpuBackend: "" })).toBe("deno-llvmpipe");
    // Dawn ignores DENO_WEBGPU_BACKEND: neither the label nor the file name mention it.
    const dawn = {
      engine: { name: "dawn", implementation: "Dawn (npm webgpu 0.6.2)" },
      adapterLine: "SwiftShader Device (Subzero) [google, swiftshader] on Dawn (npm webgpu 0.6.2)",
      adapter: { ...adapter, info: { description: "SwiftShader Device (Subzero)" } },
      denoWebgpuBackend: "gl",
    } as const;
    expect(runLabel(dawn)).toBe(dawn.adapterLine);
    expect(runSlug(dawn)).toBe("dawn-swiftshader");
    expect(engineName(dawn)).toBe("dawn");
  });

  test("a JSON written before engines were named: deno, said so; no adapter", () => {
    const old = { adapter, denoWebgpuBackend: "vulkan" };
    expect(engineName(old)).toBe("deno");
    expect(runLabel(old)).toMatch(/^llvmpipe \(LLVM 15\.0\.6, 256 bits\) on an engine not recorded .*vulkan requested/);
    expect(runSlug({ adapter: { available: false, reason: "none" }, denoWebgpuBackend: "" })).toBe("deno-no-adapter");
  });

  test("reports name the engine and adapter, not the environment variable", () => {
    const run = fakeRun(TARGET_ROWS);
    expect(charts(run)[0].title).toContain("(deno-llvmpipe-vulkan)");
    const md = markdownReport(run, []);
    expect(md).toContain(`Engine and adapter (adapter.info): ${line} (DENO_WEBGPU_BACKEND=vulkan requested).`);
    expect(md.split("\n")[0]).toBe("# sort_pool2d benchmarks (quick, deno-llvmpipe-vulkan)");
  });
});

/** A run of `engine` whose wgsl rows take `fwd` and `fb` ms against tf.maxPool's 5 and 20 ms. */
function engineRun(engine: "deno" | "dawn", fwd: number, fb: number, extraK = false): BenchRun {
  const base = fakeRun([]);
  const mk = (k: number) => [
    row({ subject: "wgsl", k, pass: "forward", ms: fwd }),
    row({ subject: "wgsl", k, pass: "forwardBackward", ms: fb }),
  ];
  const maxPool = [
    row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 5 }),
    row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forwardBackward", ms: 20 }),
  ];
  const copy = [
    row({ subject: "copy@webgpu", kind: "copy", k: null, pass: "forward", ms: 1 }),
    row({ subject: "copy@webgpu", kind: "copy", k: null, pass: "forwardBackward", ms: 4 }),
  ];
  // The ratio columns as bench/suite.ts fills them.
  const rows = [...mk(4), ...(extraK ? mk(1) : []), ...maxPool, ...copy].map((r) => {
    const mp = maxPool.find((m) => m.pass === r.pass)!;
    const cp = copy.find((c) => c.pass === r.pass)!;
    const vs = rowRatio(r, mp);
    const c = rowRatio(cp, r);
    return {
      ...r,
      vsMaxPool: vs,
      copyPercent: c && { ...c, median: c.median * 100, low: c.low * 100, high: c.high * 100 },
    };
  });
  const env = engine === "deno" ? base.environment : {
    ...base.environment,
    engine: { name: "dawn" as const, implementation: "Dawn (npm webgpu 0.6.2)" },
    adapterLine: "SwiftShader Device (Subzero) [google] on Dawn (npm webgpu 0.6.2)",
    adapter: {
      available: true as const,
      info: { description: "SwiftShader Device (Subzero)" },
      features: [],
      limits: {},
    },
  };
  return { ...base, plan: "cross", environment: env, suites: [{ ...base.suites[0], rows }] };
}

describe("cross-engine table", () => {
  const deno = engineRun("deno", 2, 10, true); // 0.4x, 0.5x
  const dawn = engineRun("dawn", 3, 30); // 0.6x, 1.5x

  test("one row per run on the cases every run measured; verdicts against 0.5x and 1.0x per engine", () => {
    const c = crossEngine([{ run: deno, file: "a.json" }, { run: dawn }]);
    expect(c.runs.map((r) => [r.id, r.engine])).toEqual([["deno-llvmpipe-vulkan", "deno"], [
      "dawn-swiftshader",
      "dawn",
    ]]);
    expect(c.runs[1].label).toBe("SwiftShader Device (Subzero) [google] on Dawn (npm webgpu 0.6.2)");
    expect(c.rows.map((r) => [r.run, r.entry, r.k, r.verdict.forward.status, r.verdict.forwardBackward.status]))
      .toEqual([
        ["deno-llvmpipe-vulkan", "wgsl", 4, "PASS", "PASS"],
        ["dawn-swiftshader", "wgsl", 4, "FAIL", "FAIL"],
      ]);
    expect(c.rows[0].vsMaxPool.forward!.median).toBeCloseTo(0.4, 10);
    expect(c.rows[1].vsMaxPool.forwardBackward!.median).toBeCloseTo(1.5, 10);
    expect(c.rows[0].copyPercent.forward!.median).toBeCloseTo(50, 10); // copy 1 ms / wgsl 2 ms
    expect(c.notInEveryRun).toEqual(["wgsl 32x64x64x32 k=1: deno-llvmpipe-vulkan"]);
    expect(c.summary.map((s) => [s.run, s.forward.pass, s.forwardBackward.pass, s.forward.of])).toEqual([
      ["deno-llvmpipe-vulkan", 1, 1, 1],
      ["dawn-swiftshader", 0, 0, 1],
    ]);
    const md = crossEngineMarkdown(c);
    expect(md).toContain(
      "| `dawn-swiftshader` | wgsl | target 32x64x64x32 | 4 | 0.600x [0.600, 0.600] | FAIL | 1.50x [1.50, 1.50] | FAIL " +
        "| 33 % [33, 33] | 13 % [13, 13] | process-cpu, 5 rounds | 3.00 | 30 |",
    );
    // CPU adapters (llvmpipe, SwiftShader): judged on process CPU time, GPU timestamps shown as context.
    expect(c.runs.map((r) => r.clock)).toEqual(["process-cpu", "process-cpu"]);
    expect(md).toContain(
      "| `dawn-swiftshader` | wgsl | target 32x64x64x32 | 4 | gpu-timestamps | 0.600x [0.600, 0.600] |",
    );
    expect(md).toContain("- `deno-llvmpipe-vulkan`: llvmpipe (LLVM 15.0.6, 256 bits) [65541] on wgpu (Deno 2.9.6)");
    expect(md).toContain(
      "- `dawn-swiftshader` wgsl: forward <= 0.5x tf.maxPool 0/1 FAIL; forward+backward <= 1.0x 0/1 FAIL",
    );
  });

  test("the clock: process CPU time on a CPU adapter, GPU timestamps on a GPU; per-round ratios of raw samples", () => {
    const gpu = {
      ...dawn,
      environment: {
        ...dawn.environment,
        adapter: { available: true as const, info: { description: "NVIDIA H100" }, features: [], limits: {} },
      },
    };
    expect(runClock(gpu).clock).toBe("gpu-timestamps");
    expect(crossEngine([{ run: gpu }]).rows[0].vsMaxPool.forward!.clock).toBe("gpu-timestamps");
    // Without GPU timestamps a GPU run falls back to wall clock, never to process CPU time.
    const noTs = {
      ...gpu,
      suites: gpu.suites.map((x) => ({
        ...x,
        rows: x.rows.map((r) => ({ ...r, samples: { ...r.samples, device: undefined } })),
      })),
    };
    expect(crossEngine([{ run: noTs }]).rows[0].vsMaxPool.forward!.clock).toBe("wall-clock");
    expect(runClock(dawn).clock).toBe("process-cpu");
    // CPU time twice the GPU time in one round of a: that round's ratio moves, the median not.
    const a = row({ subject: "wgsl", pass: "forward", ms: 2 });
    const b = row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 4 });
    const cpuA = { ...a, samples: { ...a.samples, cpu: [2, 2, 8, 2, 2] } };
    expect(ratioOn(cpuA, b, "process-cpu")).toMatchObject({ median: 0.5, n: 5, clock: "process-cpu" });
    expect(ratioOn(cpuA, b, "process-cpu")!.high).toBeGreaterThanOrEqual(0.5);
    expect(ratioOn(a, { ...b, status: "failed" }, "process-cpu")).toBeNull();
    expect(ratioOn(a, b, "gpu-timestamps", 100)!.median).toBe(50);
  });

  test("two runs with the same engine and adapter get distinct ids; a failed row is NOT MEASURED", () => {
    const broken = engineRun("deno", 2, 10);
    const rows = broken.suites[0].rows.map((r) =>
      r.subject === "wgsl" && r.pass === "forwardBackward"
        ? { ...r, status: "failed" as const, reason: "boom", vsMaxPool: null }
        : r
    );
    const c = crossEngine([{ run: deno }, { run: { ...broken, suites: [{ ...broken.suites[0], rows }] } }]);
    expect(c.runs.map((r) => r.id)).toEqual(["deno-llvmpipe-vulkan", "deno-llvmpipe-vulkan#2"]);
    expect(c.rows[1].verdict.forwardBackward).toEqual({ status: "NOT MEASURED", reason: "failed: boom" });
    expect(crossEngineMarkdown(c)).toContain("NOT MEASURED (failed: boom)");
  });

  test("the chart: a vega-lite spec with a point and an interval per run and measure, rendered to SVG", async () => {
    const c = crossEngine([{ run: deno }, { run: dawn }]);
    const data = chartData(c);
    expect(data.length).toBe(6); // 2 runs x (fwd ratio, fwd+bwd ratio, fwd % copy)
    expect(data.filter((d) => d.target !== null).map((d) => d.target)).toEqual([0.5, 1, 0.5, 1]);
    const svg = await crossEngineSvg(c, "test chart");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("test chart");
    expect(svg).toContain("dawn-swiftshader");
  });

  /** A browser page's run (web/main.ts): Chrome on SwiftShader, GPU timestamps, no process CPU time. */
  // The page's engine names ("chrome") are outside bench's own EngineInfo names: cast.
  const page = {
    ...dawn,
    kind: "sortpool-browser-run",
    environment: {
      ...dawn.environment,
      engine: { name: "chrome", implementation: "HeadlessChrome 156.0 (WebGPU: Dawn)" },
      adapterLine: "swiftshader [google] on HeadlessChrome 156.0 (WebGPU: Dawn)",
      adapter: {
        available: true as const,
        info: { vendor: "google", architecture: "swiftshader", device: "", description: "", isFallbackAdapter: true },
        features: [],
        limits: {},
      },
    },
    suites: dawn.suites.map((x) => ({
      ...x,
      rows: x.rows.map((r) => ({ ...r, timer: "gpu-timestamps" as const, samples: { ...r.samples, cpu: [] } })),
    })),
    summary: { state: "done" },
    plant: null,
    checks: { results: [{ check: "golden", subject: "wgsl", failed: 0 }] },
  } as unknown as SavedRun;

  test("a page run: its own clock (GPU timestamps, not process CPU), named by adapter architecture", () => {
    expect(runClock(page).clock).toBe("gpu-timestamps");
    expect(runClock(page).why).toMatch(/no process CPU time/);
    const c = crossEngine([{ run: page, file: "page.json" }]);
    expect(c.runs[0].id).toBe("chrome-swiftshader");
    expect(c.rows[0].vsMaxPool.forward!.clock).toBe("gpu-timestamps");
    const md = crossEngineMarkdown(c);
    expect(md).toContain("clock: gpu-timestamps (a CPU adapter, but the file has no process CPU time");
    expect(md).not.toContain("clock: process-cpu");
    expect(crossRunSlug(page.environment)).toBe("chrome-swiftshader");
    // A page that found no adapter: described as such, not as a file that predates engine names.
    const none = {
      ...page.environment,
      adapterLine: "",
      adapter: { available: false as const, reason: "navigator.gpu is missing" },
    };
    expect(crossRunLabel(none)).toBe(
      "no adapter (navigator.gpu is missing) on HeadlessChrome 156.0 (WebGPU: Dawn)",
    );
    expect(crossRunLabel(none)).not.toMatch(/predates/);
  });

  test("merge: a failed, planted or check-failing run is refused, or merged marked UNTRUSTED on request", async () => {
    expect(untrustedReasons(page)).toEqual([]);
    expect(untrustedReasons(deno)).toEqual([]);
    const bad = {
      ...page,
      summary: { state: "failed" },
      plant: { name: "wrong-weights-order" },
      checks: { results: [{ check: "golden", subject: "wgsl", failed: 12 }] },
    };
    expect(untrustedReasons(bad)).toEqual([
      'its run ended "failed", not "done"',
      "it ran the planted failure wrong-weights-order",
      "checks failed: golden on wgsl (12 cases)",
    ]);
    const dir = await Deno.makeTempDir();
    const errors: string[] = [];
    const [error, log] = [console.error, console.log];
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    console.log = () => {};
    try {
      await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify(bad));
      const out = { json: `${dir}/m.json`, report: `${dir}/report` };
      expect(await mergeFiles([`${dir}/bad.json`], out, "test")).toBe(1);
      expect(errors.join("\n")).toMatch(/bad\.json is not a trustworthy measurement: its run ended "failed".*Refused/);
      expect(await mergeFiles([`${dir}/bad.json`], out, "test", true)).toBe(0);
      const report = await Deno.readTextFile(`${dir}/report/README.md`);
      expect(report).toContain("WARNING: UNTRUSTED runs merged on request");
      expect(report).toMatch(/`chrome-swiftshader`: UNTRUSTED \(its run ended "failed"/);
      const json = JSON.parse(await Deno.readTextFile(`${dir}/m.json`));
      expect(JSON.stringify(json)).toContain("UNTRUSTED");
    } finally {
      [console.error, console.log] = [error, log];
      await Deno.remove(dir, { recursive: true });
    }
  });

  test("merge input: a file that is not a bench JSON is named with what it lacks", () => {
    expect(() => asSavedRun({ suites: [] }, "x.json")).toThrow(/^x\.json: not a bench JSON \(no gated\)/);
    expect(asSavedRun(JSON.parse(JSON.stringify(deno)), "y.json").plan).toBe("cross");
  });
});
