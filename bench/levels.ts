/**
 * What a run measures: its plan level from the flags, the suites of the table it runs with their
 * plans, and the `--dry-run` listing of them.
 *
 * @module
 */
import { UsageError } from "../harness/cli.ts";
import type { BenchFlags } from "./flags.ts";
import type { PlanLevel } from "./run.ts";
import { type AnySuite, selectedSuites, SUITES } from "./suites.ts";

/** The plan level of the flags; Dawn on a CPU adapter without a plan flag gets the cross plan. */
export function planLevel(flags: Pick<BenchFlags, "cross" | "quick" | "full">, slowDawn: boolean): PlanLevel {
  return flags.cross || slowDawn ? "cross" : flags.quick ? "quick" : flags.full ? "full" : "default";
}

/** The suites of a run with their plans; throws UsageError for flags that match nothing. */
export function planRun(level: PlanLevel, flags: BenchFlags): { suite: AnySuite; plan: unknown }[] {
  const suites = selectedSuites(level, flags);
  for (const owner of SUITES) {
    for (const name of owner.ownFlags ?? []) {
      const value = flags[name];
      const given = Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
      if (given && !suites.includes(owner)) {
        throw new UsageError(`--${name}`, `--suites including ${owner.name} (only that suite reads --${name})`, "");
      }
    }
  }
  return suites.map((suite) => ({ suite, plan: suite.plan(level, flags) }));
}

/** `--dry-run`: the plan in lines. */
export function planLines(level: PlanLevel, flags: BenchFlags): string[] {
  const lines = [`deno task bench: the ${level} plan (dry run: nothing is measured)`];
  for (const { suite, plan } of planRun(level, flags)) {
    lines.push("", `suite ${suite.name}: ${suite.summary}`, ...suite.describe(plan).map((l) => `  ${l}`));
  }
  if (level !== "cross" && !flags.quick && !flags.full) {
    lines.push(
      "",
      "Dawn on a CPU adapter (SwiftShader) gets the cross plan instead unless --full or --quick is given.",
    );
  }
  return lines;
}
