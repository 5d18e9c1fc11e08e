/**
 * Tests of the pure parts of the benchmarks: statistics, the SVG writer, the
 * customSmallerIsBetter JSON, flag parsing, the bytes formula, target verdicts and the
 * interleaving order of the timing core (with millisecond fake tasks, so it stays fast).
 */
import { describe, expect, test } from "vitest";
import { medianAbsoluteDeviation as tinybenchMad } from "tinybench";
import type { EnvironmentReport } from "./environment.ts";
import { parseFlags } from "./flags.ts";
import { bytesMoved, throughput } from "./metrics.ts";
import { FULL_PLAN, QUICK_PLAN, selectPlan } from "./plan.ts";
import { CallTimeHistory } from "./predict.ts";
import { benchmarkActionEntries, type BenchRun, charts, evaluateTargets } from "./report.ts";
import type { ResultRow, SuiteResult } from "./rows.ts";
import { median, medianAbsoluteDeviation, summarize } from "./stats.ts";
import { renderChart } from "./svg.ts";
import { runInterleaved } from "./timing.ts";

describe("stats", () => {
  test("median of odd and even counts, unsorted input", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  test("MAD of a known sample", () => {
    // median 2; |x - 2| = 1, 1, 0, 0, 2, 4, 7 -> median 1
    expect(medianAbsoluteDeviation([1, 1, 2, 2, 4, 6, 9])).toBe(1);
    expect(medianAbsoluteDeviation([3, 3, 3])).toBe(0);
  });

  test("MAD agrees with tinybench's on random samples", () => {
    let s = 12345;
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + (trial % 9);
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        xs.push(s / 2 ** 32);
      }
      const sorted = [...xs].sort((a, b) => a - b) as unknown as Parameters<typeof tinybenchMad>[0];
      expect(medianAbsoluteDeviation(xs)).toBeCloseTo(tinybenchMad(sorted), 12);
    }
  });

  test("summarize reports n, min, median, MAD, max, mean", () => {
    expect(summarize([2, 8, 4, 6])).toEqual({ n: 4, min: 2, median: 5, mad: 2, max: 8, mean: 5 });
  });

  test("empty or non-finite samples are rejected", () => {
    expect(() => median([])).toThrow(/at least one sample/);
    expect(() => summarize([1, NaN])).toThrow(/finite/);
  });
});

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

function row(over: Partial<ResultRow> & Pick<ResultRow, "subject" | "pass">): ResultRow {
  const ms = over.ms ?? 10;
  const summary = { n: 5, min: ms * 0.9, median: ms, mad: ms * 0.05, max: ms * 1.2, mean: ms };
  const shape = over.shape ?? [32, 64, 64, 32];
  const bytes = bytesMoved(shape, "same", over.pass);
  const tp = throughput(shape, "same", over.pass, ms);
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
    rooflinePercent: null,
    warmupCalls: 2,
    firstCallMs: ms * 3,
    samples: { wall: [ms + 11], device: [ms] },
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
    queueRoundTrip: null,
    tensors: { before: 0, after: 0 },
    failures: [],
    durationMs: 1,
  };
  const environment = {
    date: "2026-01-01T00:00:00Z",
    denoWebgpuBackend: "vulkan",
    xdgRuntimeDir: "/tmp",
    deno: { deno: "2" },
    tfjs: { tfjs: "4.22.0" },
    wgpu: {},
    host: { os: "linux", cpus: 2 },
    adapter: { available: false, reason: "test" },
    timestampQuery: { listed: false, usable: false, detail: "test" },
    queueRoundTripMs: null,
  } satisfies EnvironmentReport;
  return {
    plan: "quick",
    args: ["--quick"],
    environment,
    method: {},
    bytesFormula: "",
    shapes: [],
    notBenchmarked: [],
    roofline: { available: true, detail: "test" },
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
  row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 5 }),
  row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forwardBackward", ms: 20 }),
  row({ subject: "roofline@webgpu", kind: "roofline", k: null, pass: "forward", ms: 1.8 }),
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
    expect(wgsl.name).toContain("[vulkan]");
  });
});

describe("kernel targets", () => {
  test("verdicts follow the measured ratios", () => {
    const verdicts = evaluateTargets(fakeRun(TARGET_ROWS).suites);
    const wgsl = verdicts.filter((v) => v.entry === "wgsl");
    expect(wgsl.map((v) => [v.met, Number(v.value!.toFixed(2))])).toEqual([
      [true, 0.4], // 2 / 5
      [false, 1.5], // 30 / 20
      [true, 90], // 1.8 / 2
      [true, 200], // 400 / 2
    ]);
    expect(verdicts.some((v) => v.entry === "tfjs-topk@webgpu")).toBe(false);
  });

  test("charts: one file per pass and k, one polyline per implementation", () => {
    const files = charts(fakeRun(TARGET_ROWS));
    expect(files.map((f) => f.file)).toEqual(["throughput-forward-k4.svg", "throughput-forward-backward-k4.svg"]);
    expect(files[0].svg.match(/<polyline /g)?.length).toBe(4); // wgsl, topk, maxPool, roofline
  });
});

describe("flags", () => {
  test("defaults and values", () => {
    expect(parseFlags([])).toEqual({ quick: false, filter: [], shapes: [], ks: [], help: false });
    expect(parseFlags(["--quick", "--filter", "wgsl, tfjs", "--json=o.json", "--report", "r", "--k", "1,4"]))
      .toEqual({
        quick: true,
        filter: ["wgsl", "tfjs"],
        json: "o.json",
        report: "r",
        shapes: [],
        ks: [1, 4],
        help: false,
      });
  });

  test.each([
    [["--bogus"], "--bogus"],
    [["--json"], "--json"],
    [["--json", "--quick"], "--json"],
    [["--report="], "--report"],
    [["--filter", ","], "--filter"],
    [["--k", "5"], "--k"],
    [["--k", "x"], "--k"],
    [["--quick=yes"], "--quick"],
    [["--quick", "--quick"], "--quick"],
    [["stray"], "arguments"],
  ])("%j is rejected naming %s", (args, flag) => {
    expect(() => parseFlags(args)).toThrow(new RegExp(`^sort_pool2d: ${flag.replace(/-/g, "\\-")}: expected`));
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

describe("timing core", () => {
  const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

  test("rounds interleave tasks with a rotating order; failures and skips are reported", async () => {
    const calls: string[] = [];
    const task = (name: string, run: () => Promise<void>) => ({ name, run: () => (calls.push(name), run()) });
    const timings = await runInterleaved([
      task("a", tick),
      task("b", tick),
      task("c", () => Promise.reject(new Error("boom"))),
      task("d", () => new Promise((resolve) => setTimeout(resolve, 30))),
    ], { samples: 4, warmupCalls: 1, skipFirstCallOverMs: 20 });
    const byName = Object.fromEntries(timings.map((t) => [t.name, t]));
    expect(byName.a.status).toBe("ok");
    expect(byName.a.samples.length).toBe(4);
    expect(byName.b.samples.length).toBe(4);
    expect(byName.c.status).toBe("failed");
    expect(byName.c.reason).toMatch(/warm-up call 1 threw: boom/);
    expect(byName.d.status).toBe("skipped");
    expect(byName.d.reason).toMatch(/over the 20 ms limit/);
    // warm-up a b c d, then 4 measured rounds of a and b with the start rotating
    expect(calls.join("")).toBe("abcd" + "ab" + "ba" + "ab" + "ba");
    for (const s of byName.a.samples) expect(s).toBeGreaterThan(0.5);
  });

  test("a slow first call skips the not-yet-run members of its cohort", async () => {
    const calls: string[] = [];
    const slow = (name: string) => ({
      name,
      cohort: "slow",
      run: () => (calls.push(name), new Promise<void>((r) => setTimeout(r, 25))),
    });
    const timings = await runInterleaved([slow("s1"), slow("s2"), { name: "f", run: tick }], {
      samples: 2,
      warmupCalls: 1,
      skipFirstCallOverMs: 15,
    });
    expect(calls).toEqual(["s1"]);
    expect(timings.map((t) => t.status)).toEqual(["skipped", "skipped", "ok"]);
    expect(timings[1].reason).toMatch(/not run: s1 \(same cohort\)/);
  });

  test("the budget stops a task at minSamples; the clock is read around every measured call", async () => {
    let open = false;
    let readings = 0;
    const clock = {
      name: "fake",
      begin: () => void (open = true),
      end: () => {
        expect(open).toBe(true);
        open = false;
        readings++;
        return Promise.resolve({ ms: 1 });
      },
    };
    const timings = await runInterleaved([{ name: "slow", run: () => new Promise((r) => setTimeout(r, 5)) }], {
      samples: 10,
      minSamples: 2,
      budgetMs: 1,
      warmupCalls: 1,
      clock,
    });
    expect(timings[0].samples.length).toBe(2);
    expect(timings[0].reason).toMatch(/stopped at 2 of 10 samples/);
    expect(timings[0].clockSamples).toEqual([1, 1]);
    expect(readings).toBe(3); // 1 warm-up + 2 measured
  });
});
