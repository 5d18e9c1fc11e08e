/**
 * What the gate measures: the gated entries of the working tree matched with the base's, and those
 * that cannot be compared, with the reason. Also the gate's setup failure.
 *
 * @module
 */
import { UsageError } from "../harness/cli.ts";
import { BENCH_PASSES } from "../harness/measure/passes.ts";
import type { Pair } from "./ab.ts";
import type { Hello } from "./protocol.ts";
import type { Check } from "./verdict.ts";

/** A setup failure: the gate cannot measure (exit 2). */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SetupError";
  }
}

/** What to measure, and what cannot be compared with the reason. */
export interface CheckPlan {
  readonly pairs: readonly Pair[];
  readonly notCompared: readonly Check[];
  readonly warnings: readonly string[];
}

/**
 * Chooses the gated entries from the candidate tree's registry (or `names`) and matches them with
 * the base's: an entry the base lacks, cannot bench, or whose registry did not load is "not
 * compared" (both passes), not a failure. Throws UsageError for a name not benchable in the
 * candidate tree, SetupError when nothing is gated.
 */
export function planChecks(
  candidate: Hello,
  candidateLabel: string,
  base: Hello,
  tolerance: number,
  names?: readonly string[],
): CheckPlan {
  const benchable = candidate.entries.filter((e) => e.bench);
  let chosen: string[];
  if (names) {
    for (const n of names) {
      if (!benchable.some((e) => e.name === n)) {
        throw new UsageError(
          "--entries",
          `registry entries with prepareBench (${benchable.map((e) => e.name).join(", ") || "none"})`,
          JSON.stringify(n),
        );
      }
    }
    chosen = [...names];
  } else {
    chosen = benchable.filter((e) => e.gated === true).map((e) => e.name);
    if (chosen.length === 0) {
      throw new SetupError(
        "no registry entry declares gated: true with a prepareBench (src/types.ts Implementation.gated); " +
          "name entries with --entries",
      );
    }
  }
  const pairs: Pair[] = [];
  const notCompared: Check[] = [];
  const warnings: string[] = [];
  if (base.loadError) warnings.push(`the base tree's registry did not load: ${base.loadError}`);
  else if (base.entries.length > 0 && base.entries.every((e) => e.gated === null)) {
    warnings.push("the base tree's registry predates the gated field; entries were matched by name");
  }
  for (const entry of chosen) {
    const there = base.entries.find((e) => e.name === entry);
    const why = base.loadError
      ? `the base tree's registry did not load (${base.loadError})`
      : !there
      ? `the base has no entry named ${entry} (added since the base?)`
      : !there.bench
      ? `the base's ${entry} has no prepareBench`
      : undefined;
    for (const pass of BENCH_PASSES) {
      if (why === undefined) pairs.push({ entry, pass });
      else {
        notCompared.push({
          candidate: candidateLabel,
          entry,
          pass,
          verdict: "not-compared",
          note: why,
          limit: 1 + tolerance,
          faster: false,
          history: ["not-compared"],
        });
      }
    }
  }
  return { pairs, notCompared, warnings };
}
