/**
 * The data model of a whole benchmark run: what `deno task bench --json` writes and what the
 * reports, the cross-engine merge and bench/readme_results.ts read back. Each suite of the table
 * (bench/suites.ts) stores its result under its own keys (`store`); the shape suites' `suites` and
 * `shapes`, the bandwidth suite's `bandwidth` and the 3x3/2 suite's `windows` are typed here for
 * the readers outside the table (web/ writes the same schema).
 *
 * @module
 */
import type { BandwidthResult } from "./bandwidth.ts";
import type { EnvironmentReport } from "./environment.ts";
import type { PlanLevel, PlannedShape } from "./plan.ts";
import type { SuiteResult } from "./rows.ts";

export { PLAN_LEVELS, type PlanLevel } from "./plan.ts";

/** Everything a run produced. */
export interface BenchRun {
  /** The plan level. */
  readonly plan: PlanLevel;
  readonly args: readonly string[];
  readonly environment: EnvironmentReport;
  /** How samples were taken, in words (timer, interleaving, warm-up, sample counts). */
  readonly method: Readonly<Record<string, string>>;
  readonly bytesFormula: string;
  /** The shapes of the shape suites' plan as run (empty when they did not run). */
  readonly shapes: readonly PlannedShape[];
  /** Registry entries not benchmarked, with the reason. */
  readonly notBenchmarked: readonly { readonly name: string; readonly reason: string }[];
  /** Registry entries with `gated: true`: the kernel targets are judged on them. */
  readonly gated: readonly string[];
  /** The copy kernel's source, or why it is not measured. */
  readonly copyKernel: { readonly available: boolean; readonly detail: string };
  /** The shape suites (empty when they did not run). */
  readonly suites: readonly SuiteResult[];
  /** The 2x2/2 forward against the copy kernel (bench/bandwidth.ts), when run. */
  readonly bandwidth?: BandwidthResult;
  /** The 3x3/2 suite against tf.maxPool 3x3/2 (bench/windows.ts), when run. */
  readonly windows?: SuiteResult;
  /** Everything that makes the run exit non-zero. */
  readonly failures: readonly string[];
  readonly durationMs: number;
  /** Process CPU time of the whole run (user + system, all threads), ms; absent in older files. */
  readonly cpuMs?: number;
  /** The host's load average when the run ended (`environment.host.loadavg` is at its start). */
  readonly loadavgAtEnd?: string;
}

/** A saved run as read back from `deno task bench --json` (older files and web/'s pages lack some fields). */
export type SavedRun = Pick<BenchRun, "plan" | "args" | "suites" | "gated" | "durationMs"> & {
  readonly environment: Pick<EnvironmentReport, "date" | "denoWebgpuBackend" | "adapter" | "host"> & {
    readonly engine?: EnvironmentReport["engine"];
    readonly adapterLine?: string;
    readonly timestampQuery?: EnvironmentReport["timestampQuery"];
  };
  /** Why the run's figures are not to be trusted (a failed or planted page run), when merged anyway. */
  readonly untrusted?: readonly string[];
};
