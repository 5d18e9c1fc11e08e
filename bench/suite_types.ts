/**
 * The one interface of a benchmark suite. bench/suites.ts lists the suites in a table, the way
 * src/registry.ts lists the implementations; bench/main.ts and bench/report.ts only iterate it, so
 * adding a suite is one entry there plus its module.
 *
 * A suite turns the run's plan level and flags into its own plan (`plan`, pure: `--dry-run` prints
 * `describe` of it without measuring), measures it (`run`), stores its result in the run's JSON
 * under its own keys (`store`, read back by `load`), reports it (`report`: console text, Markdown,
 * a compact Markdown summary for the README, vega-lite charts) and judges the kernel targets it
 * measures (`verdicts`).
 *
 * @module
 */
import type { DeviceClock } from "../harness/measure/clocks.ts";
import type { ChartSpec } from "./charts.ts";
import type { BenchFlags } from "./flags.ts";
import type { CallTimeHistory } from "./predict.ts";
import type { BenchRun, PlanLevel } from "./run.ts";
import type { TargetVerdict } from "./targets.ts";

/** What a suite's `run` gets from the run as a whole. */
export interface SuiteRunContext {
  /** Set when WebGPU cannot run (no adapter), with the reason: WebGPU subjects fail with it. */
  readonly unavailable?: string;
  /** GPU-timestamp clock, when in use (absent: wall clock only, for `clockNote`). */
  readonly clock?: DeviceClock;
  readonly clockNote: string;
  /** Whether the adapter is a CPU emulation (harness/measure/clocks.ts `isCpuAdapter`). */
  readonly cpuAdapter: boolean;
  /** Call times seen so far in the run, shared by the suites (slow tasks are skipped by prediction). */
  readonly history: CallTimeHistory;
  /** performance.now() when the run started (plan deadlines count from it). */
  readonly started: number;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
}

/** A suite's part of the reports. */
export interface SuiteReport {
  /** Section heading, e.g. "2x2/2 forward against the copy kernel". */
  readonly title: string;
  /** Text for stdout. */
  readonly console: string;
  /** The report's Markdown section (without the heading). */
  readonly markdown: string;
  /** A compact Markdown summary for the README's results section. */
  readonly summary: string;
  /** Charts, rendered next to the report. */
  readonly charts: readonly ChartSpec[];
}

/**
 * One benchmark suite. Members are methods (bivariant parameters), so suites of different plan
 * and result types share the table's element type.
 */
export interface BenchSuite<Plan, Result> {
  /** Name for `--suites`. */
  readonly name: string;
  /** One line for `--help` and `--dry-run`. */
  readonly summary: string;
  /** Plan levels at which the suite runs when `--suites` is not given. */
  readonly defaultAt: readonly PlanLevel[];
  /** Flags only this suite reads (e.g. "shapes"): given without the suite selected, a usage error. */
  readonly ownFlags?: readonly (keyof BenchFlags)[];
  /** Its plan at `level` under `flags` (pure; throws UsageError naming a flag that matches nothing). */
  plan(level: PlanLevel, flags: BenchFlags): Plan;
  /** What the plan runs, in lines (`--dry-run`). */
  describe(plan: Plan): string[];
  /** How it samples, in words, merged into the run's `method`. */
  method(plan: Plan): Record<string, string>;
  /** Measures the plan. */
  run(plan: Plan, ctx: SuiteRunContext): Promise<Result>;
  /** What in the result makes the run exit non-zero. */
  failures(result: Result): readonly string[];
  /** Its top-level keys of the run's JSON. */
  store(plan: Plan, result: Result): Record<string, unknown>;
  /** Its result from a run (measured now or read back from JSON); undefined when it did not run. */
  load(run: BenchRun): Result | undefined;
  /** Its part of the reports. */
  report(result: Result, run: BenchRun): SuiteReport;
  /** The kernel targets it judges, for the run's gated entries. */
  verdicts(result: Result, run: BenchRun): TargetVerdict[];
}
