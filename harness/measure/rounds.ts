/**
 * Interleaved, rotated rounds: the one timing loop of the benchmarks (bench/) and the speed gate
 * (gate/). Several workloads run round by round, so drift of a shared machine (other processes,
 * frequency changes, a GC) hits every workload alike and cancels out of their per-round ratios
 * (`pairedRatio` in ./stats.ts).
 *
 * Method, per call of {@link runRounds}:
 * 1. Warm-up, interleaved: every task is called `warmupCalls` times (more, up to
 *    `maxWarmupCalls`, until its warm-up calls add up to `warmupMs` of wall time). The first call
 *    pays shader compilation, pipeline creation and first-use allocations; no warm-up call is a
 *    sample. A task whose first call takes longer than `skipFirstCallOverMs` is dropped
 *    ("skipped"); one whose first call takes longer than `warmupOnceOverMs` is warmed by that call
 *    alone. Tasks of the same `cohort` that have not run yet are skipped along with a skipped one.
 * 2. Measurement, in rounds: each round takes one sample of every task that still needs samples,
 *    in an order rotated by one place per round (see {@link roundOrder}), so that no task always
 *    runs first or right after the same neighbour. A sample is the fastest of `repetitions`
 *    calls on each clock (./clocks.ts `timeCall`). A task leaves the rounds when it has `rounds`
 *    samples, or when its samples add up to `budgetMs` of wall time and it has `minSamples`.
 *
 * Every sample carries its round index, so two tasks' samples pair up by round.
 *
 * tinybench is not used here: its strength is its own calibrated loop of many iterations per
 * task, while interleaving needs one call per task per round and clocks read around each call.
 *
 * @module
 */
import { type ClockName, type DeviceClock, type Readings, timeCall, type TimedCall } from "./clocks.ts";
import { type SampleSummary, summarize } from "./stats.ts";

/** One workload to time. */
export interface TimedTask {
  /** Unique name within one {@link runRounds} call. */
  readonly name: string;
  /**
   * Takes one sample: the fastest of `repetitions` calls on each clock. Local tasks use
   * {@link localTask}; a task in another process answers with the same `timeCall` there.
   */
  measure(repetitions: number): Promise<TimedCall>;
  /** Caps this task's sample count below {@link RoundOptions.rounds}. */
  readonly maxSamples?: number;
  /**
   * Tasks sharing a cohort (e.g. one subject's pass at several k) are expected to cost about
   * the same: when one is skipped for a slow first call, members that have not run yet are
   * skipped with it instead of each paying for its own slow first call.
   */
  readonly cohort?: string;
  /**
   * Tasks sharing a group run back to back in every round (e.g. the same entry in two trees,
   * whose per-round ratio the gate takes); see {@link roundOrder}.
   */
  readonly group?: string;
}

/** A task timed in this process: `run` is one call that resolves when its (device) work is done. */
export function localTask(
  name: string,
  run: () => Promise<void>,
  options: { readonly device?: DeviceClock; readonly cohort?: string; readonly maxSamples?: number } = {},
): TimedTask {
  const { device, ...rest } = options;
  return { name, measure: (repetitions) => timeCall(run, repetitions, device), ...rest };
}

/** Knobs of {@link runRounds}. Times are milliseconds of wall time. */
export interface RoundOptions {
  /** Measurement rounds, i.e. samples wanted per task (a positive integer). */
  readonly rounds: number;
  /** Calls per sample; on each clock the sample is the fastest of them. Default 1. */
  readonly repetitions?: number;
  /** Fewest samples a task keeps when `budgetMs` stops it early. Default `min(3, rounds)`. */
  readonly minSamples?: number;
  /** Sum of a task's samples after which it stops (once it has `minSamples`). Default: no limit. */
  readonly budgetMs?: number;
  /** Warm-up calls per task before any sample (>= 1; the first pays compilation). Default 2. */
  readonly warmupCalls?: number;
  /** Keep warming a task until its warm-up calls add up to this. Default 0. */
  readonly warmupMs?: number;
  /** Upper bound on warm-up calls per task. Default `max(warmupCalls, 10)`. */
  readonly maxWarmupCalls?: number;
  /** A task whose first call takes longer than this is skipped. Default: never skip. */
  readonly skipFirstCallOverMs?: number;
  /** A task whose first call takes longer than this gets no further warm-up call. Default: never. */
  readonly warmupOnceOverMs?: number;
  /** Called after every warm-up or measurement round (e.g. to print progress on stderr). */
  readonly onProgress?: (progress: RoundProgress) => void;
}

/** Progress report passed to {@link RoundOptions.onProgress}. */
export interface RoundProgress {
  /** Which phase the finished round belonged to. */
  readonly phase: "warmup" | "measure";
  /** Rounds finished in this phase, starting at 1. */
  readonly round: number;
  /** Samples recorded so far over all tasks. */
  readonly samplesTaken: number;
  /** Upper bound on the samples of all tasks still running, plus those taken. */
  readonly samplesPlanned: number;
  /** Milliseconds since {@link runRounds} started. */
  readonly elapsedMs: number;
}

/** One sample with the round it was taken in. */
export interface RoundSample extends Readings {
  /** Measurement round, from 0. */
  readonly round: number;
}

/** Outcome of one task. */
export interface TaskTiming {
  /** The task's name. */
  readonly name: string;
  /** "ok": measured; "skipped": first call over `skipFirstCallOverMs`; "failed": a call threw. */
  readonly status: "ok" | "skipped" | "failed";
  /** Measured samples in the order taken (empty unless status is "ok"). */
  readonly samples: RoundSample[];
  /** Warm-up calls made. */
  readonly warmupCalls: number;
  /** Wall-clock time of the very first call (compilation included); null if it never ran. */
  readonly firstCallMs: number | null;
  /** Why the task was skipped or failed, or why it stopped below `rounds` (budget). */
  readonly reason?: string;
  /** Why some sample has no GPU reading (the first such reason), when a device clock was in use. */
  readonly gpuNote?: string;
}

/**
 * The order of `items` in round `round`. Items with the same `group` stay adjacent: the groups
 * are rotated by one place per round, and so are the members inside each group (offset by the
 * group's index), so each takes each position equally often. Without groups this is a plain
 * rotation: A B C, B C A, C A B, ...; two groups of two give A1 B1 B2 A2, A2 B2 B1 A1, A1 B1 B2 A2, ...
 */
export function roundOrder<T extends { readonly name: string; readonly group?: string }>(
  items: readonly T[],
  round: number,
): T[] {
  const groups: T[][] = [];
  const index = new Map<string, number>();
  for (const item of items) {
    const key = item.group ?? `\u0000${item.name}`;
    if (!index.has(key)) {
      index.set(key, groups.length);
      groups.push([]);
    }
    groups[index.get(key)!].push(item);
  }
  const inner = groups.map((members, g) => rotate(members, round + g));
  return rotate(inner, round).flat();
}

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

interface TaskState {
  readonly task: TimedTask;
  readonly target: number;
  status: TaskTiming["status"];
  samples: RoundSample[];
  spentMs: number;
  warmupCalls: number;
  warmupMs: number;
  firstCallMs: number | null;
  reason?: string;
  gpuNote?: string;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`runRounds: ${name}: expected a positive integer, received ${value}`);
  }
  return value;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Times `tasks` in interleaved rounds (see the module documentation) and returns one
 * {@link TaskTiming} per task, in the order given. A task that throws is reported as "failed"
 * with the error message and the others continue. Throws a RangeError on bad options or
 * duplicate task names.
 */
export async function runRounds(tasks: readonly TimedTask[], options: RoundOptions): Promise<TaskTiming[]> {
  const rounds = positiveInteger(options.rounds, "rounds");
  const repetitions = positiveInteger(options.repetitions ?? 1, "repetitions");
  const minSamples = positiveInteger(options.minSamples ?? Math.min(3, rounds), "minSamples");
  const warmupCalls = positiveInteger(options.warmupCalls ?? 2, "warmupCalls");
  const maxWarmupCalls = Math.max(warmupCalls, options.maxWarmupCalls ?? 10);
  const warmupMs = options.warmupMs ?? 0;
  const budgetMs = options.budgetMs ?? Infinity;
  const skipOver = options.skipFirstCallOverMs ?? Infinity;
  const warmupOnceOver = options.warmupOnceOverMs ?? Infinity;
  const names = new Set<string>();
  for (const t of tasks) {
    if (names.has(t.name)) throw new RangeError(`runRounds: tasks: duplicate task name "${t.name}"`);
    names.add(t.name);
  }
  const start = performance.now();
  const states: TaskState[] = tasks.map((task) => ({
    task,
    target: Math.min(rounds, task.maxSamples ?? rounds),
    status: "ok",
    samples: [],
    spentMs: 0,
    warmupCalls: 0,
    warmupMs: 0,
    firstCallMs: null,
  }));
  const taken = () => states.reduce((n, s) => n + s.samples.length, 0);
  const planned = () => states.reduce((n, s) => n + (s.status === "ok" ? Math.max(s.target, s.samples.length) : 0), 0);
  const ordered = (list: TaskState[], round: number) =>
    roundOrder(list.map((s) => ({ name: s.task.name, group: s.task.group, s })), round).map((x) => x.s);

  // Warm-up rounds: their times decide skips, never samples.
  const warming = (s: TaskState) =>
    s.status === "ok" &&
    !(s.firstCallMs !== null && s.firstCallMs > warmupOnceOver) &&
    (s.warmupCalls < warmupCalls || (s.warmupMs < warmupMs && s.warmupCalls < maxWarmupCalls));
  for (let round = 0; states.some(warming); round++) {
    for (const s of ordered(states.filter(warming), round)) {
      if (s.status !== "ok") continue; // skipped meanwhile with its cohort
      let ms: number;
      try {
        ms = (await s.task.measure(1)).readings.wall;
      } catch (e) {
        s.status = "failed";
        s.reason = `warm-up call ${s.warmupCalls + 1} threw: ${errorMessage(e)}`;
        continue;
      }
      if (s.firstCallMs === null) s.firstCallMs = ms;
      s.warmupCalls++;
      s.warmupMs += ms;
      if (s.warmupCalls === 1 && ms > skipOver) skip(s, ms);
    }
    options.onProgress?.({
      phase: "warmup",
      round: round + 1,
      samplesTaken: 0,
      samplesPlanned: planned(),
      elapsedMs: performance.now() - start,
    });
  }

  function skip(s: TaskState, ms: number): void {
    s.status = "skipped";
    s.reason = `first call took ${ms.toFixed(0)} ms, over the ${skipOver} ms limit for this suite`;
    if (s.task.cohort === undefined) return;
    for (const other of states) {
      if (other.task.cohort === s.task.cohort && other.status === "ok" && other.firstCallMs === null) {
        other.status = "skipped";
        other.reason = `not run: ${s.task.name} (same cohort) took ${ms.toFixed(0)} ms on its first call, ` +
          `over the ${skipOver} ms limit for this suite`;
      }
    }
  }

  const measuring = (s: TaskState) =>
    s.status === "ok" && s.samples.length < s.target && !(s.spentMs >= budgetMs && s.samples.length >= minSamples);
  for (let round = 0; states.some(measuring); round++) {
    for (const s of ordered(states.filter(measuring), round)) {
      let call: TimedCall;
      try {
        call = await s.task.measure(repetitions);
      } catch (e) {
        s.status = "failed";
        s.reason = `measured call ${s.samples.length + 1} threw: ${errorMessage(e)}`;
        continue;
      }
      s.samples.push({ ...call.readings, round });
      s.spentMs += call.readings.wall;
      if (call.gpuNote !== undefined) s.gpuNote ??= call.gpuNote;
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
      ...(s.gpuNote === undefined ? {} : { gpuNote: s.gpuNote }),
    };
  });
}

/**
 * A task's samples on one clock, keyed by round; null when some sample has no reading on that
 * clock (the GPU clock on a call it could not time) or there are no samples.
 */
export function onClock(timing: Pick<TaskTiming, "samples">, clock: ClockName): Map<number, number> | null {
  const out = new Map<number, number>();
  for (const s of timing.samples) {
    const v = s[clock];
    if (v === undefined || v === null) return null;
    out.set(s.round, v);
  }
  return out.size > 0 ? out : null;
}

/** Summary of a task's samples on one clock, or null (see {@link onClock}). */
export function summaryOn(timing: Pick<TaskTiming, "samples">, clock: ClockName): SampleSummary | null {
  const series = onClock(timing, clock);
  return series ? summarize([...series.values()]) : null;
}
