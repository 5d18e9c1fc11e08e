/**
 * The suite table. `deno task bench`, its reports, the README results and `--dry-run` iterate
 * this one array, in run order (the bandwidth suite first: its paired rounds before the long
 * suites warm the machine up); adding a suite is one entry here plus its module, which implements
 * bench/suite_types.ts `BenchSuite`.
 *
 * @module
 */
import { bandwidthSuite } from "./bandwidth_suite.ts";
import type { BenchFlags } from "./flags.ts";
import type { BenchRun, PlanLevel } from "./run.ts";
import { shapesSuite } from "./shapes_suite.ts";
import type { BenchSuite } from "./suite_types.ts";
import type { TargetVerdict } from "./targets.ts";
import { windowsSuite } from "./windows_suite.ts";

/** A suite of the table, whatever its plan and result types (the interface's methods make this assignable). */
export type AnySuite = BenchSuite<unknown, unknown>;

/** Every benchmark suite, in run order. */
export const SUITES: readonly AnySuite[] = [bandwidthSuite, shapesSuite, windowsSuite];

/** The names `--suites` accepts. */
export const SUITE_NAMES: readonly string[] = SUITES.map((s) => s.name);

/** The suites a run measures: those named by `--suites`, else those of the plan level. */
export function selectedSuites(level: PlanLevel, flags: Pick<BenchFlags, "suites">): AnySuite[] {
  return SUITES.filter((s) => (flags.suites ? flags.suites.includes(s.name) : s.defaultAt.includes(level)));
}

/** Every verdict of a run, suite by suite in table order (the JSON's `targets`). */
export function runVerdicts(run: BenchRun): TargetVerdict[] {
  return SUITES.flatMap((s) => {
    const result = s.load(run);
    return result === undefined ? [] : s.verdicts(result, run);
  });
}
