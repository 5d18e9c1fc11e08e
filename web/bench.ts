/**
 * The page's short benchmark: the op inside tfjs's webgpu backend (the registry entry `wgsl@tfjs`,
 * the same bench handles as `deno task bench`) against tf.maxPool with the same window, forward and
 * forward+backward, on 2x2 windows with stride 2 and on 3x3 windows with stride 2 ("same", the
 * ResNet stem's pooling). The timing core is the bench's and the gate's (harness/measure/): every task
 * is warmed up, then timed in interleaved, rotated rounds; a ratio is the median of per-round
 * ratios with its seeded bootstrap 95% interval (harness/measure/stats.ts `pairedRatio`), on GPU
 * timestamps when the browser grants the `timestamp-query` feature, else on wall time.
 *
 * Results are rows and suites of bench's JSON schema (bench/rows.ts), so `deno task bench --merge`
 * reads a page's download next to bench's own files. A page cannot read its process's CPU time, so
 * its rows carry no CPU samples.
 *
 * @module
 */
import { bytesMoved, inputElements, throughput } from "../bench/metrics.ts";
import { logitsFor, type PlannedShape, type SuitePolicy } from "../bench/plan.ts";
import { maxPoolName, type ResultRow, rowRatio, type SuiteResult } from "../bench/rows.ts";
import type { DeviceClock } from "../harness/measure/clocks.ts";
import { BENCH_PASSES, type BenchPass } from "../harness/measure/passes.ts";
import { localTask, runRounds, summaryOn, type TaskTiming, type TimedTask } from "../harness/measure/rounds.ts";
import { summarize } from "../harness/measure/stats.ts";
import { uniformFloat32 } from "../src/random.ts";
import { sizeOf, type WindowOptions } from "../src/spec.ts";
import { preparePoolBaseline } from "../bench/baselines.ts";
import { tf } from "../src/tfjs/runtime.ts";
import type { BenchHandle, Implementation, Padding, Shape4 } from "../src/types.ts";

/** One suite of the page's plan. */
export interface PageSuite {
  readonly id: string;
  readonly label: string;
  readonly shape: Shape4;
  readonly padding: Padding;
  /** Absent: 2x2 with stride 2. */
  readonly window?: WindowOptions;
  readonly ks: readonly number[];
  readonly rounds: number;
  readonly note: string;
}

/** The page's plan: `quick` (CI, software adapters) or the default (a visitor's GPU). */
export interface PagePlan {
  readonly name: "browser-quick" | "browser";
  readonly suites: readonly PageSuite[];
}

const STEM: WindowOptions = { poolSize: [3, 3], strides: [2, 2] };

/** Two small suites of 7 rounds: about a minute on a software adapter (SwiftShader). */
export const QUICK_PLAN: PagePlan = {
  name: "browser-quick",
  suites: [
    {
      id: "2x2s2-medium",
      label: "medium",
      shape: [4, 64, 64, 32],
      padding: "same",
      ks: [4],
      rounds: 7,
      note: "2x2 windows, stride 2: bench's medium shape (its cross-engine plan), k = 4",
    },
    {
      id: "3x3s2-stem-small",
      label: "stem-small",
      shape: [2, 56, 56, 32],
      padding: "same",
      window: STEM,
      ks: [4],
      rounds: 7,
      note: "3x3 windows, stride 2, 'same' (the ResNet stem's pooling) on a small input, k = 4",
    },
  ],
};

/** bench's cross-engine shapes (so `deno task bench --merge` pairs them with bench runs) and the stem's 3x3/2. */
export const DEFAULT_PLAN: PagePlan = {
  name: "browser",
  suites: [
    {
      id: "2x2s2-medium",
      label: "medium",
      shape: [4, 64, 64, 32],
      padding: "same",
      ks: [1, 4],
      rounds: 11,
      note: "2x2 windows, stride 2: bench's medium shape (its cross-engine plan)",
    },
    {
      id: "2x2s2-target",
      label: "target",
      shape: [32, 64, 64, 32],
      padding: "same",
      ks: [4],
      rounds: 9,
      note: "2x2 windows, stride 2: the kernel targets' shape",
    },
    {
      id: "3x3s2-stem",
      label: "stem",
      shape: [8, 112, 112, 64],
      padding: "same",
      window: STEM,
      ks: [1, 4],
      rounds: 9,
      note: "3x3 windows, stride 2, 'same': the ResNet stem's pooling, batch 8",
    },
  ],
};

/** What the rows of a suite were measured with, in words (the JSON's `method`). */
export const METHOD: Readonly<Record<string, string>> = {
  interleaving: "every task of a suite (wgsl@tfjs at each k and tf.maxPool, each pass) is called once per round, " +
    "in an order rotated by one place per round (harness/measure/rounds.ts)",
  warmup: "2 untimed calls per task before any sample (the first compiles the pipelines)",
  sample: "one awaited call that resolves when the GPU has finished its work",
  clock: "GPU timestamps (device time inside compute passes) when the browser grants timestamp-query, else wall " +
    "time; a page cannot read its process's CPU time",
  ratio: "median of per-round ratios to tf.maxPool of the same pass and window, with a seeded bootstrap 95% interval",
};

/** Progress of the benchmark, for the page's status line. */
export interface BenchProgress {
  readonly suite: string;
  readonly phase: string;
  readonly fraction: number;
}

function policyOf(s: PageSuite): SuitePolicy {
  return {
    samples: s.rounds,
    minSamples: s.rounds,
    budgetMs: Infinity,
    warmupCalls: 2,
    warmupMs: 0,
    skipFirstCallOverMs: Infinity,
    warmupOnceOverMs: Infinity,
  };
}

/** The bench JSON's shape entry of a suite. */
export function plannedShape(s: PageSuite): PlannedShape {
  return {
    label: s.label,
    shape: s.shape,
    note: s.note,
    ks: s.ks,
    groups: { webgpu: policyOf(s), cpu: { skip: "the page measures WebGPU only" } },
    ...(s.window ? { window: s.window } : {}),
  };
}

interface Task {
  readonly subject: string;
  readonly kind: "entry" | "baseline";
  readonly k: number | null;
  readonly pass: BenchPass;
  readonly name: string;
}

function rowOf(s: PageSuite, t: Task, timing: TaskTiming | undefined, firstError?: string): ResultRow {
  const samples = timing?.samples ?? [];
  const gpu = samples.every((x) => typeof x.gpu === "number") && samples.length > 0;
  const timer = samples.length === 0 ? null : gpu ? "gpu-timestamps" : "wall-clock";
  const wall = summaryOn({ samples }, "wall");
  const device = gpu ? summarize(samples.map((x) => x.gpu as number)) : null;
  const ms = timer === "gpu-timestamps" ? device!.median : wall?.median ?? null;
  const tp = ms && ms > 0 ? throughput(s.shape, s.padding, t.pass, ms, s.window) : null;
  const status = timing?.status ?? "failed";
  return {
    suite: s.id,
    group: "webgpu",
    shapeLabel: s.label,
    shape: s.shape,
    padding: s.padding,
    subject: t.subject,
    kind: t.kind,
    k: t.k,
    pass: t.pass,
    status,
    ...(timing?.reason || firstError ? { reason: timing?.reason ?? firstError } : {}),
    timer,
    ms,
    wall,
    device,
    ...(!gpu && samples.length > 0 ? { deviceNote: timing?.gpuNote ?? "no GPU timestamps in this browser" } : {}),
    inputElements: inputElements(s.shape),
    bytesMoved: bytesMoved(s.shape, s.padding, t.pass, s.window),
    elementsPerSecond: tp?.elementsPerSecond ?? null,
    gigabytesPerSecond: tp?.gigabytesPerSecond ?? null,
    vsMaxPool: null,
    copyPercent: null,
    copyNote: "the page does not run the copy kernel",
    warmupCalls: timing?.warmupCalls ?? 0,
    firstCallMs: timing?.firstCallMs ?? null,
    samples: {
      round: samples.map((x) => x.round),
      wall: samples.map((x) => x.wall),
      // Empty: a page has no process CPU clock (bench/cross_engine.ts then reads the other clocks).
      cpu: [],
      ...(gpu ? { device: samples.map((x) => x.gpu as number) } : {}),
    },
  };
}

/**
 * Runs one suite: prepares the handles (wgsl@tfjs at each k, tf.maxPool with the suite's window),
 * times them in interleaved rounds, and returns the suite in bench's schema.
 */
export async function runSuite(
  s: PageSuite,
  entry: Implementation,
  clock: DeviceClock | undefined,
  onProgress: (p: BenchProgress) => void,
): Promise<SuiteResult> {
  const start = performance.now();
  const before = tf.memory().numTensors;
  const handles: { task: Task; handle: BenchHandle }[] = [];
  const failures: string[] = [];
  const prepareErrors = new Map<string, string>();
  const x = uniformFloat32(sizeOf(s.shape), 3);
  const tasks: Task[] = [];
  for (const k of s.ks) {
    for (const pass of BENCH_PASSES) tasks.push({ subject: entry.name, kind: "entry", k, pass, name: "" });
  }
  for (const pass of BENCH_PASSES) {
    tasks.push({ subject: maxPoolName("webgpu"), kind: "baseline", k: null, pass, name: "" });
  }
  const named = tasks.map((t) => ({ ...t, name: `${t.subject}${t.k === null ? "" : ` k=${t.k}`} ${t.pass}` }));
  onProgress({ suite: s.id, phase: "preparing (the first calls compile the pipelines)", fraction: 0 });
  const prepared = new Map<string, BenchHandle>();
  for (const t of named) {
    const key = `${t.subject}|${t.k}`;
    if (prepared.has(key) || prepareErrors.has(key)) continue;
    try {
      const handle = t.kind === "entry"
        ? await entry.prepareBench!({
          x,
          shape: s.shape,
          logits: logitsFor(t.k!),
          k: t.k!,
          padding: s.padding,
          ...s.window,
        })
        : await preparePoolBaseline("maxPool", "webgpu", s.shape, s.padding, s.window ?? {});
      prepared.set(key, handle);
      handles.push({ task: t, handle });
    } catch (e) {
      prepareErrors.set(key, `prepare failed: ${e instanceof Error ? e.message : e}`);
    }
  }
  const timed: TimedTask[] = named
    .filter((t) => prepared.has(`${t.subject}|${t.k}`))
    .map((t) => {
      const h = prepared.get(`${t.subject}|${t.k}`)!;
      return localTask(t.name, () => (t.pass === "forward" ? h.forward() : h.forwardBackward()), {
        ...(clock ? { device: clock } : {}),
      });
    });
  const planned = timed.length * s.rounds;
  const timings = await runRounds(timed, {
    rounds: s.rounds,
    warmupCalls: 2,
    maxWarmupCalls: 2,
    onProgress: (p) =>
      onProgress({
        suite: s.id,
        phase: p.phase === "warmup" ? `warm-up round ${p.round}` : `round ${p.round} of ${s.rounds}`,
        fraction: p.phase === "warmup" ? 0.1 * Math.min(1, p.round / 2) : 0.1 + 0.9 * (p.samplesTaken / planned),
      }),
  });
  const byName = new Map(timings.map((t) => [t.name, t]));
  let rows = named.map((t) => rowOf(s, t, byName.get(t.name), prepareErrors.get(`${t.subject}|${t.k}`)));
  rows = rows.map((r) => {
    const base = rows.find((b) => b.kind === "baseline" && b.pass === r.pass);
    return r.kind === "entry" && base ? { ...r, vsMaxPool: rowRatio(r, base) } : r;
  });
  for (const r of rows) {
    if (r.status !== "ok") failures.push(`${r.subject} k=${r.k} ${r.pass}: ${r.status} ${r.reason ?? ""}`);
  }
  for (const { handle } of handles) {
    try {
      await handle.dispose();
    } catch (e) {
      failures.push(`dispose: ${e instanceof Error ? e.message : e}`);
    }
  }
  return {
    id: s.id,
    group: "webgpu",
    shapeLabel: s.label,
    shape: s.shape,
    padding: s.padding,
    ...(s.window ? { window: s.window } : {}),
    policy: policyOf(s),
    rows,
    queueRoundTrip: null,
    tensors: { before, after: tf.memory().numTensors },
    failures,
    durationMs: performance.now() - start,
  };
}
