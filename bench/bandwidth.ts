/**
 * The 2x2/2 forward kernels against the copy kernel ("% of copy bandwidth"), measured so that the
 * figure is stable on a shared machine.
 *
 * Why a suite of its own: in the shape suites the copy kernel is one of 20-40 interleaved tasks,
 * so the two calls of a round's ratio can be seconds apart (a tfjs entry's call in between), each
 * call is a single 5-15 ms sample, and on the CPU adapters here the GPU-timestamp clock is the
 * wall time of llvmpipe's threads: a time slice taken by another process lands in one call and
 * not the other, and additive stalls drag every ratio towards 1. Two full runs read 87-128 % and
 * 64-74 % that way. Here:
 * - each (entry, k) is paired with a copy-kernel call of its own, and the pair runs back to back
 *   in every round (a `group` in harness/measure/rounds.ts, order alternating), pairs rotating;
 * - a sample is the fastest of `repetitions` calls on each clock (contention only adds time);
 * - the ratio is harness/measure/stats.ts `pairedRatio` (median of per-round ratios, seeded bootstrap
 *   95% interval) on every clock: GPU timestamps, process CPU time and wall time;
 * - the headline clock is process CPU time on a CPU adapter (harness/measure/clocks.ts `isCpuAdapter`:
 *   llvmpipe, lavapipe): its "GPU" is a thread pool inside this process, so the CPU time a call
 *   uses is its device work, and other processes' load does not enter it (it includes the call's
 *   host work, about 0.2-0.5 ms against 5-10 ms of kernel). On a real GPU it is GPU timestamps.
 *
 * @module
 */
import type { DeviceClock, Readings } from "../harness/measure/clocks.ts";
import { localTask, runRounds, type TaskTiming, type TimedTask } from "../harness/measure/rounds.ts";
import { median, pairedRatio } from "../harness/measure/stats.ts";
import { uniformFloat32 } from "../src/random.ts";
import { unsupportedReason } from "../src/registry.ts";
import { sizeOf } from "../src/spec.ts";
import { tf } from "../src/tfjs/runtime.ts";
import type { BenchHandle, Implementation, Shape4, SortPoolCase } from "../src/types.ts";
import type { CopyBench } from "./copy_kernel.ts";
import { logitsFor } from "./plan.ts";

/** What the bandwidth suite measures and how long. */
export interface BandwidthPlan {
  /** Label for reports. */
  readonly label: string;
  /** NHWC input shape (even H and W: the 2x2/2 windows pad nothing). */
  readonly shape: Shape4;
  /** k values of each entry. */
  readonly ks: readonly number[];
  /** Interleaved rounds: per-round ratios per (entry, k). */
  readonly rounds: number;
  /** Calls per sample (the fastest on each clock is the sample). */
  readonly repetitions: number;
  /** Untimed calls per task first (the first pays compilation). */
  readonly warmupCalls: number;
}

/** The bandwidth target: forward at least this percentage of the copy kernel's bandwidth. */
export const BANDWIDTH_TARGET_PERCENT = 90;

/** Full plan: the kernel-target shape, k = 1..4, 21 rounds of best-of-3 samples (about 1 min here). */
export const BANDWIDTH_FULL: BandwidthPlan = {
  label: "target",
  shape: [32, 64, 64, 32],
  ks: [1, 2, 3, 4],
  rounds: 21,
  repetitions: 3,
  warmupCalls: 3,
};

/** `--quick`: k = 1 and 4, 9 rounds of best-of-2 samples. */
export const BANDWIDTH_QUICK: BandwidthPlan = { ...BANDWIDTH_FULL, ks: [1, 4], rounds: 9, repetitions: 2 };

/** The clocks a bandwidth figure is given on. */
export type BandwidthClock = "gpu-timestamps" | "process-cpu" | "wall-clock";

const CLOCK_FIELD: Record<BandwidthClock, keyof Readings> = {
  "gpu-timestamps": "gpu",
  "process-cpu": "cpu",
  "wall-clock": "wall",
};

/** Percent of the copy kernel's bandwidth on one clock: 100 x copy time / entry time, per round. */
export interface CopyPercent {
  /** Median of the per-round percentages. */
  readonly median: number;
  /** Seeded bootstrap 95% interval of the median. */
  readonly low: number;
  readonly high: number;
  /** Median absolute deviation of the per-round percentages. */
  readonly mad: number;
  /** Rounds that timed both. */
  readonly n: number;
  /** Median time of one call, ms: the entry's and the copy kernel's. */
  readonly entryMs: number;
  readonly copyMs: number;
}

/** One (entry, k) of the bandwidth suite. */
export interface BandwidthRow {
  readonly entry: string;
  readonly k: number;
  readonly status: "ok" | "skipped" | "failed";
  /** Why skipped or failed. */
  readonly reason?: string;
  /** The percentage on every clock that timed every sample of both tasks. */
  readonly percent: Partial<Record<BandwidthClock, CopyPercent>>;
  /** Raw samples, ms, in round order: `[round, entry, copy]` per clock. */
  readonly samples: {
    readonly round: number[];
    readonly entry: Readings[];
    readonly copy: Readings[];
  };
}

/** Outcome of the bandwidth suite. */
export interface BandwidthResult {
  readonly label: string;
  readonly shape: Shape4;
  readonly ks: readonly number[];
  readonly rounds: number;
  readonly repetitions: number;
  /** The clock the target is judged on, and why. */
  readonly headline: BandwidthClock;
  readonly headlineWhy: string;
  readonly rows: BandwidthRow[];
  /** Why the whole suite did not run. */
  readonly skipped?: string;
  /** Problems that make the run fail (a workload that threw, a tensor leak). */
  readonly failures: string[];
  readonly durationMs: number;
}

/**
 * The clock the bandwidth target is judged on: process CPU time on a CPU adapter (its device
 * work is this process's threads, and other processes' load stays out of it), else GPU
 * timestamps when they are in use, else wall time.
 */
export function headlineClock(cpuAdapter: boolean, gpuTimestamps: boolean): { clock: BandwidthClock; why: string } {
  if (cpuAdapter) {
    return {
      clock: "process-cpu",
      why: "CPU adapter (llvmpipe, lavapipe): its device threads run in this process, so process CPU time is the " +
        "kernels' work and other processes' load stays out of it; GPU timestamps are wall time of those threads",
    };
  }
  if (gpuTimestamps) return { clock: "gpu-timestamps", why: "GPU timestamps: device time inside the compute passes" };
  return { clock: "wall-clock", why: "no GPU timestamps on this adapter: wall clock" };
}

/**
 * The row of one (entry, k) from the timings of its task and its copy task: per clock, the
 * percentage 100 x copy / entry of every round that timed both (harness/measure/stats.ts
 * `pairedRatio`). A clock is left out when some sample has no reading on it.
 */
export function bandwidthRow(entry: string, k: number, own: TaskTiming, copy: TaskTiming): BandwidthRow {
  const failed = [own, copy].find((t) => t.status !== "ok");
  const empty = { round: [], entry: [], copy: [] };
  if (failed) {
    return {
      entry,
      k,
      status: failed.status,
      reason: `${failed === own ? entry : "copy kernel"}: ${failed.reason ?? failed.status}`,
      percent: {},
      samples: empty,
    };
  }
  const percent: Partial<Record<BandwidthClock, CopyPercent>> = {};
  for (const clock of Object.keys(CLOCK_FIELD) as BandwidthClock[]) {
    const field = CLOCK_FIELD[clock];
    const series = (t: TaskTiming) => {
      const m = new Map<number, number>();
      for (const s of t.samples) {
        const v = s[field];
        if (typeof v !== "number") return null;
        m.set(s.round, v);
      }
      return m.size > 0 ? m : null;
    };
    const [a, b] = [series(copy), series(own)];
    if (!a || !b || ![...a.keys()].some((r) => b.has(r))) continue;
    const r = pairedRatio(a, b);
    percent[clock] = {
      median: 100 * r.median,
      low: 100 * r.low,
      high: 100 * r.high,
      mad: 100 * r.mad,
      n: r.n,
      entryMs: median([...b.values()]),
      copyMs: median([...a.values()]),
    };
  }
  const copyByRound = new Map(copy.samples.map((s) => [s.round, s]));
  const paired = own.samples.filter((s) => copyByRound.has(s.round));
  const strip = ({ wall, cpu, gpu }: Readings) => (gpu === undefined ? { wall, cpu } : { wall, cpu, gpu });
  return {
    entry,
    k,
    status: "ok",
    percent,
    samples: {
      round: paired.map((s) => s.round),
      entry: paired.map(strip),
      copy: paired.map((s) => strip(copyByRound.get(s.round)!)),
    },
  };
}

/** What {@link runBandwidthSuite} needs. */
export interface BandwidthContext {
  readonly plan: BandwidthPlan;
  /** Registry entries to measure (the gated ones with a bench handle). */
  readonly entries: readonly Implementation[];
  /** Prepares the copy kernel on the same adapter (bench/copy_kernel.ts `prepareCopyBench`). */
  readonly prepareCopy: (shape: Shape4) => Promise<CopyBench>;
  /** GPU-timestamp clock, when in use. */
  readonly clock?: DeviceClock;
  /** Whether the adapter is a CPU emulation (harness/measure/clocks.ts `isCpuAdapter`). */
  readonly cpuAdapter: boolean;
  /** Set when the suite cannot run (no adapter). */
  readonly unavailable?: string;
  readonly progress: (line: string) => void;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs the bandwidth suite (see the module documentation): prepares every (entry, k) forward
 * handle and one copy kernel, times them in interleaved rounds of adjacent pairs, disposes them
 * and checks that tfjs holds as many tensors as before.
 */
export async function runBandwidthSuite(ctx: BandwidthContext): Promise<BandwidthResult> {
  const { plan } = ctx;
  const started = performance.now();
  const { clock: headline, why: headlineWhy } = headlineClock(ctx.cpuAdapter, ctx.clock !== undefined);
  const base = {
    label: plan.label,
    shape: plan.shape,
    ks: plan.ks,
    rounds: plan.rounds,
    repetitions: plan.repetitions,
    headline,
    headlineWhy,
  };
  if (ctx.unavailable) {
    return { ...base, rows: [], skipped: ctx.unavailable, failures: [ctx.unavailable], durationMs: 0 };
  }
  if (ctx.entries.length === 0) {
    return { ...base, rows: [], skipped: "no gated entry with a bench handle selected", failures: [], durationMs: 0 };
  }
  const before = tf.memory().numTensors;
  const failures: string[] = [];
  const rows: BandwidthRow[] = [];
  const x = uniformFloat32(sizeOf(plan.shape), 7);
  let copy: CopyBench | undefined;
  const handles: { entry: string; k: number; handle: BenchHandle }[] = [];
  try {
    ctx.progress(`bandwidth ${plan.label} ${plan.shape.join("x")}: preparing`);
    copy = await ctx.prepareCopy(plan.shape);
    for (const entry of ctx.entries) {
      for (const k of plan.ks) {
        const c: SortPoolCase = { x, shape: plan.shape, logits: logitsFor(k), k, padding: "same" };
        const unsupported = unsupportedReason(entry, c);
        if (unsupported) {
          rows.push({ entry: entry.name, k, status: "skipped", reason: unsupported, percent: {}, samples: empty() });
          continue;
        }
        try {
          handles.push({ entry: entry.name, k, handle: await entry.prepareBench!(c) });
        } catch (e) {
          const reason = `prepare failed: ${errorMessage(e)}`;
          rows.push({ entry: entry.name, k, status: "failed", reason, percent: {}, samples: empty() });
          failures.push(`bandwidth: ${entry.name} k=${k}: ${reason}`);
        }
      }
    }
    const tasks: TimedTask[] = [];
    for (const { entry, k, handle } of handles) {
      const name = `${entry} k=${k}`;
      const copyBench = copy;
      tasks.push({ ...localTask(name, () => handle.forward(), { device: ctx.clock }), group: name });
      tasks.push({ ...localTask(`copy|${name}`, () => copyBench.forward(), { device: ctx.clock }), group: name });
    }
    let lastLine = 0;
    const timings = await runRounds(tasks, {
      rounds: plan.rounds,
      repetitions: plan.repetitions,
      warmupCalls: plan.warmupCalls,
      onProgress: (p) => {
        const now = performance.now();
        if (now - lastLine < 2000) return;
        lastLine = now;
        ctx.progress(`bandwidth: ${p.phase} round ${p.round} (${(p.elapsedMs / 1000).toFixed(0)} s)`);
      },
    });
    const byName = new Map(timings.map((t) => [t.name, t]));
    for (const { entry, k } of handles) {
      const row = bandwidthRow(entry, k, byName.get(`${entry} k=${k}`)!, byName.get(`copy|${entry} k=${k}`)!);
      if (row.status === "failed") failures.push(`bandwidth: ${entry} k=${k}: ${row.reason}`);
      rows.push(row);
    }
  } catch (e) {
    failures.push(`bandwidth: ${errorMessage(e)}`);
  } finally {
    for (const { entry, k, handle } of handles) {
      try {
        await handle.dispose();
      } catch (e) {
        failures.push(`bandwidth: ${entry} k=${k}: dispose threw: ${errorMessage(e)}`);
      }
    }
    await copy?.dispose();
  }
  const after = tf.memory().numTensors;
  if (after !== before) {
    failures.push(`bandwidth: tf.memory().numTensors was ${before} before the suite and ${after} after disposing`);
  }
  const order = (r: BandwidthRow) => ctx.entries.findIndex((e) => e.name === r.entry) * 100 + r.k;
  rows.sort((a, b) => order(a) - order(b));
  return { ...base, rows, failures, durationMs: performance.now() - started };
}

function empty(): BandwidthRow["samples"] {
  return { round: [], entry: [], copy: [] };
}

/** The verdict of one (entry, k): forward >= {@link BANDWIDTH_TARGET_PERCENT} % of the copy kernel's bandwidth. */
export interface BandwidthVerdict {
  readonly entry: string;
  readonly k: number;
  /** The headline clock's percentage, or null when not measured (with the reason). */
  readonly percent: CopyPercent | null;
  readonly met: boolean | null;
  /** The interval has values on both sides of the target. */
  readonly inconclusive: boolean;
  readonly detail: string;
}

/** Judges every row of the suite on its headline clock. */
export function bandwidthVerdicts(result: BandwidthResult): BandwidthVerdict[] {
  return result.rows.map((row) => {
    const p = row.percent[result.headline] ?? null;
    if (row.status !== "ok" || !p) {
      const detail = row.status !== "ok" ? `${row.status}: ${row.reason}` : `no ${result.headline} readings`;
      return { entry: row.entry, k: row.k, percent: null, met: null, inconclusive: false, detail };
    }
    const ok = (v: number) => v >= BANDWIDTH_TARGET_PERCENT;
    return {
      entry: row.entry,
      k: row.k,
      percent: p,
      met: ok(p.median),
      inconclusive: ok(p.low) !== ok(p.high),
      detail: `${result.shape.join("x")}, ${result.headline}, ${p.n} rounds`,
    };
  });
}

function percentCell(p: CopyPercent | undefined): string {
  return p ? `${p.median.toFixed(0)} % [${p.low.toFixed(0)}, ${p.high.toFixed(0)}]` : "-";
}

/** The suite as a Markdown table: per (entry, k), the percentage on every clock, and the verdict. */
export function bandwidthMarkdown(result: BandwidthResult | undefined): string {
  if (!result) return "The bandwidth suite did not run.";
  if (result.skipped) return `The bandwidth suite was skipped: ${result.skipped}`;
  const verdicts = bandwidthVerdicts(result);
  const lines = [
    `2x2/2 forward on ${result.shape.join("x")} ("same"), each call paired with a copy-kernel call in the same ` +
    `round (${result.rounds} rounds, each sample the fastest of ${result.repetitions} calls). Cells: 100 x copy ` +
    `time / entry time, median of the per-round values [95% bootstrap interval]. Target: >= ` +
    `${BANDWIDTH_TARGET_PERCENT} % on the headline clock, ${result.headline} (${result.headlineWhy}). Wall-clock ` +
    "figures are in the JSON only: every wall-clock GPU sample carries ~11 ms of completion polling, which pulls " +
    "the percentage towards 100.",
    "",
    "| entry | k | process CPU time | GPU timestamps | entry / copy ms (headline clock) | verdict |",
    "|---|---|---:|---:|---:|---|",
  ];
  for (const [i, row] of result.rows.entries()) {
    const v = verdicts[i];
    const h = row.percent[result.headline];
    const verdict = v.met === null
      ? `not measured: ${v.detail}`
      : `${v.met ? "met" : "NOT met"}${v.inconclusive ? " (the interval straddles the target)" : ""}`;
    lines.push(
      `| ${row.entry} | ${row.k} | ${percentCell(row.percent["process-cpu"])} | ` +
        `${percentCell(row.percent["gpu-timestamps"])} | ` +
        `${h ? `${h.entryMs.toFixed(2)} / ${h.copyMs.toFixed(2)}` : "-"} | ${verdict.replace(/\|/g, "\\|")} |`,
    );
  }
  return lines.join("\n");
}
