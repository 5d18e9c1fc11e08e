/**
 * The data model of benchmark results (rows and suites) and the pure helpers shared by the suite
 * runner and the reports.
 *
 * @module
 */
import type { BenchPass } from "../harness/measure/passes.ts";
import { pairedRatio, type SampleSummary } from "../harness/measure/stats.ts";
import type { WindowOptions } from "../src/spec.ts";
import type { BenchHandle, Padding, Shape4 } from "../src/types.ts";
import type { Group, SuitePolicy } from "./plan.ts";

/** Something benchmarked: a registry entry at one k, a tfjs baseline, or the copy kernel. */
export interface Subject {
  /** Registry name, "tf.maxPool@webgpu", "tf.avgPool@cpu" or "copy@webgpu". */
  readonly name: string;
  readonly kind: "entry" | "baseline" | "copy";
  /** k for registry entries; null for baselines and the copy kernel (they have no k). */
  readonly k: number | null;
  /** Builds the device-resident workload. */
  readonly prepare: () => Promise<BenchHandle>;
}

/** Name of the tf.maxPool baseline of a group: the reference of every ratio. */
export function maxPoolName(group: Group): string {
  return `tf.maxPool@${group}`;
}

/** Name of the copy kernel subject (bench/copy_kernel.ts): the "% of copy bandwidth" reference. */
export const COPY_NAME = "copy@webgpu";

/** Which clock a figure comes from. */
export type Timer = "gpu-timestamps" | "wall-clock";

/**
 * A ratio between two rows of a suite: the median of their per-round ratios, its MAD and seeded
 * bootstrap 95% interval, over the `n` rounds that timed both, on `timer`
 * (harness/measure/stats.ts `pairedRatio`, the same definition the gate uses).
 */
export interface RowRatio {
  readonly median: number;
  readonly low: number;
  readonly high: number;
  readonly mad: number;
  readonly n: number;
  readonly timer: Timer;
}

/** One (subject, k, pass) of a suite. */
export interface ResultRow {
  readonly suite: string;
  readonly group: Group;
  readonly shapeLabel: string;
  readonly shape: Shape4;
  readonly padding: Padding;
  readonly subject: string;
  readonly kind: Subject["kind"];
  readonly k: number | null;
  readonly pass: BenchPass;
  readonly status: "ok" | "skipped" | "failed";
  /** Why skipped or failed, or why fewer samples than planned were taken. */
  readonly reason?: string;
  /** Clock of `ms`: GPU pass timestamps when every call was timed by them, else wall clock. */
  readonly timer: Timer | null;
  /** Median time of one call on `timer`, ms. */
  readonly ms: number | null;
  /** Wall-clock samples' summary (always present when status is "ok"). */
  readonly wall: SampleSummary | null;
  /** GPU-timestamp samples' summary, when available. */
  readonly device: SampleSummary | null;
  /** Why `device` is null for a GPU-group row. */
  readonly deviceNote?: string;
  readonly inputElements: number;
  readonly bytesMoved: number;
  readonly elementsPerSecond: number | null;
  readonly gigabytesPerSecond: number | null;
  /** Time ratio to tf.maxPool of the same group and pass, per round (below 1: faster). */
  readonly vsMaxPool: RowRatio | null;
  /**
   * Percent of the copy kernel's bandwidth: 100 × copy time / this time, per round (GPU group
   * only; both move the same bytes, so this is the bandwidth ratio; over 100 % occurs).
   */
  readonly copyPercent: RowRatio | null;
  /** Why `copyPercent` is null. */
  readonly copyNote?: string;
  readonly warmupCalls: number;
  readonly firstCallMs: number | null;
  /**
   * Raw samples in the order taken: the round of each, and milliseconds on each clock (process
   * CPU time included; `device` only when every call had a GPU-timestamp reading).
   */
  readonly samples: {
    readonly round: number[];
    readonly wall: number[];
    readonly cpu: number[];
    readonly device?: number[];
  };
}

/** Outcome of one suite. */
export interface SuiteResult {
  readonly id: string;
  readonly group: Group;
  readonly shapeLabel: string;
  readonly shape: Shape4;
  readonly padding: Padding;
  /** Window and strides of every case; absent: 2x2 with stride 2. */
  readonly window?: WindowOptions;
  readonly policy: SuitePolicy | null;
  /** Why the whole suite did not run. */
  readonly skipped?: string;
  readonly rows: ResultRow[];
  /**
   * Empty submit + onSubmittedWorkDone, interleaved with the GPU suite: the floor of every
   * wall-clock GPU sample (the only queue round-trip probe of the benchmarks).
   */
  readonly queueRoundTrip: SampleSummary | null;
  /** tf.memory().numTensors before preparing and after disposing every handle. */
  readonly tensors: { readonly before: number; readonly after: number } | null;
  /** Problems that make the run fail (tensor leak, dispose errors). */
  readonly failures: string[];
  readonly durationMs: number;
}

/** Key of a (subject, pass) task in the suite runner's pre-skip map. */
export function taskKey(subject: string, k: number | null, pass: BenchPass): string {
  return `${k === null ? subject : `${subject} k=${k}`}|${pass}`;
}

/** A row's samples on `timer`, keyed by round, or null when the row has none on it. */
function series(row: ResultRow, timer: Timer): Map<number, number> | null {
  const values = timer === "gpu-timestamps" ? row.samples.device : row.samples.wall;
  if (!values || values.length === 0 || values.length !== row.samples.round.length) return null;
  return new Map(row.samples.round.map((round, i) => [round, values[i]]));
}

/**
 * Time ratio a / b per round on the best clock both rows have (GPU timestamps first), or null
 * when they share no clock or no round. Both rows must come from the same suite (rounds pair up).
 */
export function rowRatio(a: ResultRow, b: ResultRow, seed?: number): RowRatio | null {
  if (a.status !== "ok" || b.status !== "ok") return null;
  for (const timer of ["gpu-timestamps", "wall-clock"] as const) {
    const [sa, sb] = [series(a, timer), series(b, timer)];
    if (!sa || !sb || ![...sa.keys()].some((r) => sb.has(r))) continue;
    const { median, low, high, mad, n } = pairedRatio(sa, sb, seed === undefined ? {} : { seed });
    return { median, low, high, mad, n, timer };
  }
  return null;
}

/** `r` scaled by `factor` (e.g. 100 for percent). */
export function scaleRatio(r: RowRatio, factor: number): RowRatio {
  return { ...r, median: r.median * factor, low: r.low * factor, high: r.high * factor, mad: r.mad * factor };
}
