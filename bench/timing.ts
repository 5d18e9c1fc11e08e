/**
 * The timing core shared by the benchmarks (bench/main.ts) and the CI gate: runs several
 * asynchronous workloads interleaved, round by round, so that drift of a shared machine
 * (other processes, thermal or frequency changes) hits every workload alike.
 *
 * Method, per call of {@link runInterleaved}:
 * 1. Warm-up, interleaved: every task is called `warmupCalls` times (more, up to
 *    `maxWarmupCalls`, until its warm-up calls add up to `warmupMs`). The first call pays shader
 *    compilation, pipeline creation and first-use allocations; none of these calls is a sample.
 *    A task whose first call takes longer than `skipFirstCallOverMs` is dropped ("skipped"); one
 *    whose first call takes longer than `warmupOnceOverMs` is warmed by that call alone (for
 *    calls of seconds, compilation is a small part of the first one). Tasks of the same
 *    `cohort` that have not run yet are skipped along with a skipped one.
 * 2. Measurement, in rounds: each round is one tinybench `Bench` (no tinybench warm-up, exactly
 *    one iteration per task) holding every task that still needs samples, in an order rotated
 *    by one place per round so that no task always runs right after the same neighbour. A task
 *    leaves the rounds when it has `samples` samples, or when its samples add up to `budgetMs`
 *    and it has at least `minSamples`.
 *
 * A sample is the wall-clock time (performance.now, taken by tinybench) of one `await run()`.
 * Tasks built from a {@link BenchHandle} resolve only once the device finished the work they
 * queued, so a sample ends when the GPU work is done. An optional {@link SampleClock} (e.g. GPU
 * timestamps, see bench/gpu_timestamps.ts) is opened right before and closed right after each
 * call, outside tinybench's timed window, and gives a second, device-side sample per call.
 *
 * Stable API: `runInterleaved`, `benchHandleTasks`, `TimedTask`, `InterleaveOptions`,
 * `TaskTiming`, `InterleaveProgress`, `BenchMethod`, `SampleClock`, `ClockReading`.
 *
 * @example
 * ```ts
 * const tasks = [...benchHandleTasks("mine", mine), ...benchHandleTasks("maxPool", baseline)];
 * const timings = await runInterleaved(tasks, { samples: 15, warmupCalls: 2 });
 * for (const t of timings) console.log(t.name, t.status, median(t.samples));
 * ```
 *
 * @module
 */
import { Bench } from "tinybench";
import type { BenchHandle } from "../src/types.ts";

/** The BenchHandle methods that are timed. */
export type BenchMethod = "forward" | "forwardBackward";

/** One workload to time. */
export interface TimedTask {
  /** Unique name within one {@link runInterleaved} call. */
  readonly name: string;
  /** One call of the workload; must resolve only when the work it queued has finished. */
  readonly run: () => Promise<void>;
  /** Caps this task's sample count below {@link InterleaveOptions.samples}. */
  readonly maxSamples?: number;
  /**
   * Tasks sharing a cohort (e.g. one subject's pass at several k) are expected to cost about
   * the same: when one is skipped for a slow first call, members that have not run yet are
   * skipped with it instead of each paying for its own slow first call.
   */
  readonly cohort?: string;
}

/** One reading of a {@link SampleClock}: milliseconds, or null with the reason. */
export type ClockReading = { readonly ms: number } | { readonly ms: null; readonly why: string };

/** A second clock read around every call, e.g. device time from GPU timestamps. */
export interface SampleClock {
  /** Short name for reports, e.g. "gpu-timestamps". */
  readonly name: string;
  /** Opens a reading right before a call. */
  begin(): void;
  /** Closes the reading right after the call resolved. */
  end(): Promise<ClockReading>;
}

/** Knobs of {@link runInterleaved}. Times are milliseconds. */
export interface InterleaveOptions {
  /** Samples wanted per task (a positive integer). */
  readonly samples: number;
  /** Fewest samples a task keeps when `budgetMs` stops it early. Default `min(3, samples)`. */
  readonly minSamples?: number;
  /** Sum of a task's samples after which it stops (once it has `minSamples`). Default: no limit. */
  readonly budgetMs?: number;
  /** Warm-up calls per task before any sample. Default 2 (the first pays compilation). */
  readonly warmupCalls?: number;
  /** Keep warming a task until its warm-up calls add up to this. Default 0. */
  readonly warmupMs?: number;
  /** Upper bound on warm-up calls per task. Default `max(warmupCalls, 10)`. */
  readonly maxWarmupCalls?: number;
  /** A task whose first call takes longer than this is skipped. Default: never skip. */
  readonly skipFirstCallOverMs?: number;
  /** A task whose first call takes longer than this gets no further warm-up call. Default: never. */
  readonly warmupOnceOverMs?: number;
  /** Read around every call as well (warm-up calls included, their readings discarded). */
  readonly clock?: SampleClock;
  /** Called after every warm-up or measurement round (e.g. to print progress on stderr). */
  readonly onProgress?: (progress: InterleaveProgress) => void;
}

/** Progress report passed to {@link InterleaveOptions.onProgress}. */
export interface InterleaveProgress {
  /** Which phase the finished round belonged to. */
  readonly phase: "warmup" | "measure";
  /** Rounds finished in this phase, starting at 1. */
  readonly round: number;
  /** Samples recorded so far over all tasks. */
  readonly samplesTaken: number;
  /** Upper bound on the samples of all tasks still running, plus those taken. */
  readonly samplesPlanned: number;
  /** Milliseconds since {@link runInterleaved} started. */
  readonly elapsedMs: number;
}

/** Outcome of one task. */
export interface TaskTiming {
  /** The task's name. */
  readonly name: string;
  /** "ok": measured; "skipped": first call over `skipFirstCallOverMs`; "failed": a call threw. */
  readonly status: "ok" | "skipped" | "failed";
  /** Measured samples in milliseconds, in the order taken (empty unless status is "ok"). */
  readonly samples: number[];
  /** Warm-up calls made. */
  readonly warmupCalls: number;
  /** Wall-clock time of the very first call (compilation included); null if it never ran. */
  readonly firstCallMs: number | null;
  /** Why the task was skipped or failed, or why it stopped below `samples` (budget). */
  readonly reason?: string;
  /** The clock's samples, one per measured call, present only when the clock read every call. */
  readonly clockSamples?: number[];
  /** Why `clockSamples` is absent although a clock was given (the first failed reading). */
  readonly clockNote?: string;
}

/** Turns a BenchHandle into tasks named `${prefix}:${method}` for the given methods. */
export function benchHandleTasks(
  prefix: string,
  handle: BenchHandle,
  methods: readonly BenchMethod[] = ["forward", "forwardBackward"],
): TimedTask[] {
  return methods.map((method) => ({ name: `${prefix}:${method}`, run: () => handle[method]() }));
}

interface TaskState {
  readonly task: TimedTask;
  readonly target: number;
  status: TaskTiming["status"];
  samples: number[];
  spentMs: number;
  warmupCalls: number;
  warmupMs: number;
  firstCallMs: number | null;
  reason?: string;
  clockSamples: number[];
  clockNote?: string;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`runInterleaved: ${name}: expected a positive integer, received ${value}`);
  }
  return value;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Times `tasks` interleaved (see the module documentation for the method) and returns one
 * {@link TaskTiming} per task, in the order given. A task that throws is reported as "failed"
 * with the error message and the others continue.
 */
export async function runInterleaved(tasks: readonly TimedTask[], options: InterleaveOptions): Promise<TaskTiming[]> {
  const samples = positiveInteger(options.samples, "samples");
  const minSamples = positiveInteger(options.minSamples ?? Math.min(3, samples), "minSamples");
  const warmupCalls = options.warmupCalls ?? 2;
  if (!Number.isSafeInteger(warmupCalls) || warmupCalls < 1) {
    throw new RangeError(`runInterleaved: warmupCalls: expected an integer >= 1, received ${warmupCalls}`);
  }
  const maxWarmupCalls = Math.max(warmupCalls, options.maxWarmupCalls ?? 10);
  const warmupMs = options.warmupMs ?? 0;
  const budgetMs = options.budgetMs ?? Infinity;
  const skipOver = options.skipFirstCallOverMs ?? Infinity;
  const warmupOnceOver = options.warmupOnceOverMs ?? Infinity;
  const names = new Set<string>();
  for (const t of tasks) {
    if (names.has(t.name)) throw new RangeError(`runInterleaved: tasks: duplicate task name "${t.name}"`);
    names.add(t.name);
  }
  const start = performance.now();
  const states: TaskState[] = tasks.map((task) => ({
    task,
    target: Math.min(samples, task.maxSamples ?? samples),
    status: "ok",
    samples: [],
    spentMs: 0,
    warmupCalls: 0,
    warmupMs: 0,
    firstCallMs: null,
    clockSamples: [],
  }));
  const clock = options.clock;
  const taken = () => states.reduce((n, s) => n + s.samples.length, 0);
  const planned = () => states.reduce((n, s) => n + (s.status === "ok" ? Math.max(s.target, s.samples.length) : 0), 0);

  // Warm-up rounds: plain awaited calls, interleaved; their times decide skips, never samples.
  const warming = (s: TaskState) =>
    s.status === "ok" &&
    !(s.firstCallMs !== null && s.firstCallMs > warmupOnceOver) &&
    (s.warmupCalls < warmupCalls || (s.warmupMs < warmupMs && s.warmupCalls < maxWarmupCalls));
  for (let round = 0; states.some(warming); round++) {
    for (const s of rotate(states.filter(warming), round)) {
      if (s.status !== "ok") continue; // skipped meanwhile with its cohort
      clock?.begin();
      const t0 = performance.now();
      try {
        await s.task.run();
      } catch (e) {
        s.status = "failed";
        s.reason = `warm-up call ${s.warmupCalls + 1} threw: ${errorMessage(e)}`;
        await clock?.end();
        continue;
      }
      const ms = performance.now() - t0;
      await clock?.end();
      if (s.firstCallMs === null) s.firstCallMs = ms;
      s.warmupCalls++;
      s.warmupMs += ms;
      if (s.warmupCalls === 1 && ms > skipOver) {
        s.status = "skipped";
        s.reason = `first call took ${ms.toFixed(0)} ms, over the ${skipOver} ms limit for this suite`;
        if (s.task.cohort !== undefined) {
          for (const other of states) {
            if (other.task.cohort === s.task.cohort && other.status === "ok" && other.firstCallMs === null) {
              other.status = "skipped";
              other.reason = `not run: ${s.task.name} (same cohort) took ${ms.toFixed(0)} ms on its first call, ` +
                `over the ${skipOver} ms limit for this suite`;
            }
          }
        }
      }
    }
    options.onProgress?.({
      phase: "warmup",
      round: round + 1,
      samplesTaken: 0,
      samplesPlanned: planned(),
      elapsedMs: performance.now() - start,
    });
  }

  // Measurement rounds: one tinybench Bench per round, one iteration per task.
  const measuring = (s: TaskState) =>
    s.status === "ok" && s.samples.length < s.target && !(s.spentMs >= budgetMs && s.samples.length >= minSamples);
  for (let round = 0; states.some(measuring); round++) {
    const active = rotate(states.filter(measuring), round);
    const bench = new Bench({
      name: `round ${round + 1}`,
      time: 0,
      iterations: 1,
      warmup: false,
      retainSamples: true,
      throws: false,
    });
    const readings = new Map<TaskState, ClockReading>();
    for (const s of active) {
      bench.add(s.task.name, s.task.run, {
        async: true,
        // tinybench runs these hooks outside the timed call.
        ...(clock
          ? {
            beforeEach: () => clock.begin(),
            afterEach: async () => void readings.set(s, await clock.end()),
          }
          : {}),
      });
    }
    await bench.run();
    for (const s of active) {
      const result = bench.getTask(s.task.name)?.result;
      if (!result || result.state === "errored") {
        s.status = "failed";
        s.reason = `measured call ${s.samples.length + 1} threw: ${
          result?.state === "errored" ? result.error.message : "tinybench lost the task"
        }`;
        continue;
      }
      if (result.state !== "completed" || !result.latency.samples) {
        s.status = "failed";
        s.reason = `tinybench ended the task in state "${result.state}" without samples`;
        continue;
      }
      const ms = result.latency.samples[0];
      s.samples.push(ms);
      s.spentMs += ms;
      const reading = readings.get(s);
      if (reading && reading.ms !== null) s.clockSamples.push(reading.ms);
      else if (clock) s.clockNote ??= reading?.ms === null ? reading.why : "the clock gave no reading";
    }
    options.onProgress?.({
      phase: "measure",
      round: round + 1,
      samplesTaken: taken(),
      samplesPlanned: planned(),
      elapsedMs: performance.now() - start,
    });
  }

  return states.map((s) => {
    let reason = s.reason;
    if (s.status === "ok" && s.samples.length < s.target) {
      reason = `stopped at ${s.samples.length} of ${s.target} samples: the task's ${budgetMs} ms budget was spent`;
    }
    return {
      name: s.task.name,
      status: s.status,
      samples: s.status === "ok" ? s.samples : [],
      warmupCalls: s.warmupCalls,
      firstCallMs: s.firstCallMs,
      ...(reason === undefined ? {} : { reason }),
      ...(clock && s.status === "ok" && s.clockNote === undefined ? { clockSamples: s.clockSamples } : {}),
      ...(clock && s.status === "ok" && s.clockNote !== undefined ? { clockNote: s.clockNote } : {}),
    };
  });
}
