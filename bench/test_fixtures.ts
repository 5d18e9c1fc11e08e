/**
 * Made-up benchmark results for the bench/ tests: rows, runs of either engine, timings and
 * registry entries that are never prepared. Not a test file itself.
 *
 * @module
 */
import type { TaskTiming } from "../harness/measure/rounds.ts";
import type { Implementation } from "../src/types.ts";
import { type BandwidthResult, headlineClock } from "./bandwidth.ts";
import type { EnvironmentReport } from "./environment.ts";
import { bytesMoved, throughput } from "./metrics.ts";
import { type ResultRow, rowRatio, type SuiteResult } from "./rows.ts";
import type { BenchRun } from "./run.ts";

/** The adapter line of the made-up runs. */
export const LLVMPIPE_LINE = "llvmpipe (LLVM 15.0.6, 256 bits) [65541] on wgpu (Deno 2.9.6)";

/**
 * A measured row: `ms` per round on GPU timestamps and process CPU time (with `jitter` added to
 * round r's sample), wall time 11 ms more; five rounds 0..4.
 */
export function row(over: Partial<ResultRow> & Pick<ResultRow, "subject" | "pass">, jitter: number[] = []): ResultRow {
  const ms = over.ms ?? 10;
  const summary = { n: 5, min: ms * 0.9, median: ms, mad: ms * 0.05, max: ms * 1.2, mean: ms };
  const shape = over.shape ?? [32, 64, 64, 32];
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
    bytesMoved: bytesMoved(shape, "same", over.pass),
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

/** The environment of a made-up run: llvmpipe through Vulkan on Deno's engine. */
export const ENVIRONMENT = {
  date: "2026-01-01T00:00:00Z",
  engine: { name: "deno", implementation: "wgpu (Deno 2.9.6)" },
  adapterLine: LLVMPIPE_LINE,
  denoWebgpuBackend: "vulkan",
  xdgRuntimeDir: "/tmp",
  deno: { deno: "2" },
  tfjs: { tfjs: "4.22.0" },
  wgpu: {},
  host: { os: "linux", cpus: 2, loadavg: "0.50 0.40 0.30" },
  adapter: { available: true, info: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" }, features: [], limits: {} },
  timestampQuery: { listed: false, usable: false, detail: "test" },
} satisfies EnvironmentReport;

/** A shape suite of `rows` on the targets' shape. */
export function suiteOf(rows: ResultRow[]): SuiteResult {
  return {
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
}

/** A quick-plan run whose one shape suite holds `rows`; `wgsl` is the gated entry. */
export function fakeRun(rows: ResultRow[]): BenchRun {
  return {
    plan: "quick",
    args: ["--quick"],
    environment: ENVIRONMENT,
    method: {},
    bytesFormula: "",
    shapes: [],
    notBenchmarked: [],
    gated: ["wgsl"],
    copyKernel: { available: true, detail: "test" },
    suites: [suiteOf(rows)],
    failures: [],
    durationMs: 1,
  };
}

/** Rows of the targets' shape: wgsl at 0.4x / 1.5x tf.maxPool, two tfjs-op entries, the copy kernel. */
export const TARGET_ROWS: ResultRow[] = [
  row({ subject: "wgsl", pass: "forward", ms: 2 }),
  row({ subject: "wgsl", pass: "forwardBackward", ms: 30 }),
  row({ subject: "wgsl", k: 1, pass: "forward", status: "failed", reason: "boom", ms: null, device: null, wall: null }),
  row({ subject: "tfjs-topk@webgpu", pass: "forward", ms: 400 }),
  row({ subject: "tfjs-network@webgpu", pass: "forward", ms: 100 }),
  row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 5 }),
  row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forwardBackward", ms: 20 }),
  row({ subject: "copy@webgpu", kind: "copy", k: null, pass: "forward", ms: 1.8 }),
];

/** A run of `engine` whose wgsl rows take `fwd` and `fb` ms against tf.maxPool's 5 and 20 ms. */
export function engineRun(engine: "deno" | "dawn", fwd: number, fb: number, extraK = false): BenchRun {
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
    const c = rowRatio(cp, r);
    return {
      ...r,
      vsMaxPool: rowRatio(r, mp),
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

/** A timing of `rounds` samples: `ms(round)` on every clock (GPU too unless `gpu` is false). */
export function timing(name: string, ms: (round: number) => number, rounds = 7, gpu = true): TaskTiming {
  const samples = Array.from({ length: rounds }, (_, round) => {
    const t = ms(round);
    return gpu ? { round, wall: t + 11, cpu: 2 * t, gpu: t } : { round, wall: t + 11, cpu: 2 * t };
  });
  return { name, status: "ok", samples, warmupCalls: 2, firstCallMs: 50 };
}

/** A bandwidth suite's result of `rows` on the targets' shape. */
export function bandwidthResult(rows: BandwidthResult["rows"], cpuAdapter: boolean): BandwidthResult {
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

/** A WebGPU entry with a bench handle that is never prepared. */
export function fakeEntry(name: string, over: Partial<Implementation> = {}): Implementation {
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
