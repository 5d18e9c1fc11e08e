/**
 * The data model of benchmark results (rows and suites) and the pure helpers shared by the suite
 * runner and the reports.
 *
 * @module
 */
import type { BenchHandle, Padding, Shape4 } from "../src/types.ts";
import type { Group, SuitePolicy } from "./plan.ts";
import type { SampleSummary } from "./stats.ts";
import type { BenchMethod } from "./timing.ts";

/** The passes timed for every subject. */
export const METHODS: readonly BenchMethod[] = ["forward", "forwardBackward"];

/** Something benchmarked: a registry entry at one k, a tfjs baseline, or the roofline. */
export interface Subject {
  /** Registry name, "tf.maxPool@webgpu", "tf.avgPool@cpu" or "roofline@webgpu". */
  readonly name: string;
  readonly kind: "entry" | "baseline" | "roofline";
  /** k for registry entries; null for baselines and the roofline (they have no k). */
  readonly k: number | null;
  /** Builds the device-resident workload. */
  readonly prepare: () => Promise<BenchHandle>;
}

/** Name of the tf.maxPool baseline of a group: the reference of every ratio. */
export function maxPoolName(group: Group): string {
  return `tf.maxPool@${group}`;
}

/** Name of the roofline subject. */
export const ROOFLINE_NAME = "roofline@webgpu";

/** Which clock a figure comes from. */
export type Timer = "gpu-timestamps" | "wall-clock";

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
  readonly pass: BenchMethod;
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
  /** Time ratio to tf.maxPool of the same group and pass on a common clock (below 1: faster). */
  readonly vsMaxPool: number | null;
  /** Roofline time / this time, in percent, on a common clock (GPU group only). */
  readonly rooflinePercent: number | null;
  /** Why `rooflinePercent` is null. */
  readonly rooflineNote?: string;
  readonly warmupCalls: number;
  readonly firstCallMs: number | null;
  /** Raw samples, ms, in the order taken. */
  readonly samples: { readonly wall: number[]; readonly device?: number[] };
}

/** Outcome of one suite. */
export interface SuiteResult {
  readonly id: string;
  readonly group: Group;
  readonly shapeLabel: string;
  readonly shape: Shape4;
  readonly padding: Padding;
  readonly policy: SuitePolicy | null;
  /** Why the whole suite did not run. */
  readonly skipped?: string;
  readonly rows: ResultRow[];
  /** Empty submit + onSubmittedWorkDone, interleaved with the GPU suite: the wall-clock floor. */
  readonly queueRoundTrip: SampleSummary | null;
  /** tf.memory().numTensors before preparing and after disposing every handle. */
  readonly tensors: { readonly before: number; readonly after: number } | null;
  /** Problems that make the run fail (tensor leak, dispose errors). */
  readonly failures: string[];
  readonly durationMs: number;
}

/** Key of a (subject, pass) task in the suite runner's pre-skip map. */
export function taskKey(subject: string, k: number | null, pass: BenchMethod): string {
  return `${k === null ? subject : `${subject} k=${k}`}|${pass}`;
}

/** Median of `row` on `timer`, or null when the row has no such samples. */
function medianOn(row: ResultRow, timer: Timer): number | null {
  const summary = timer === "gpu-timestamps" ? row.device : row.wall;
  return summary ? summary.median : null;
}

/** Time ratio a / b on the best clock both rows have (GPU timestamps first). */
export function commonRatio(a: ResultRow, b: ResultRow): { ratio: number; timer: Timer } | null {
  for (const timer of ["gpu-timestamps", "wall-clock"] as const) {
    const ta = medianOn(a, timer);
    const tb = medianOn(b, timer);
    if (ta !== null && tb !== null && ta > 0 && tb > 0) return { ratio: ta / tb, timer };
  }
  return null;
}
