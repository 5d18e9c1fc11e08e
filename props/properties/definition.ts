/**
 * What a property is: a generator (which cases it draws) and a check `(context, entry, case) =>
 * verdict` that works on any entry through its declared capabilities and the `Implementation`
 * interface alone.
 *
 * @module
 */
import type fc from "fast-check";
import type { Implementation } from "../../src/types.ts";
import type { Precision } from "../../testkit/mod.ts";
import { caseArbitrary, type CaseConstraints, type PropCase } from "../generators.ts";
import type { Verdict } from "../verdict.ts";

/** Per-entry settings a check needs beyond the case. */
export interface CheckContext {
  /**
   * How many cell slots (props/generators/finite_differences.ts `slotCells`) the coordinate
   * checks perturb per case; each costs two forward calls and covers one cell of every window at
   * once.
   */
  readonly slots: number;
}

/** One property. */
export interface PropertyDefinition {
  /** Short name, used by --property and in the summary table. */
  readonly name: string;
  /** One sentence: what it checks. */
  readonly title: string;
  /** Which cases it draws. */
  readonly constraints: CaseConstraints;
  /** Whether the check can report a tie-routing "deviation" (see props/verdict.ts). */
  readonly hasDeviations: boolean;
  /** Forward + gradient calls per case (cost estimate for the run planner). */
  calls(slots: number): number;
  /** Precision the case values are built for (values must be exact there and in the entry's precision). */
  generationPrecision(entry: Implementation): Precision;
  /**
   * The cases, when the property draws more than `constraints` describe (a schedule of concurrent
   * calls, a lowered device limit: ./concurrency.ts, ./limits.ts); default
   * `caseArbitrary(generationPrecision(entry), constraints)`.
   */
  arbitrary?(entry: Implementation): fc.Arbitrary<PropCase>;
  /** Runs the check; never throws (an exception from the entry becomes a failure). */
  check(ctx: CheckContext, entry: Implementation, c: PropCase): Promise<Verdict>;
}

/**
 * A property's constraints over every window family and per-channel logits (props/generators.ts);
 * fields of `constraints` take precedence.
 */
export function general(constraints: CaseConstraints): CaseConstraints {
  return { windows: "any", perChannelLogits: true, ...constraints };
}

/** The arbitrary of `property` for `entry`. */
export function arbitraryFor(property: PropertyDefinition, entry: Implementation): fc.Arbitrary<PropCase> {
  return property.arbitrary?.(entry) ?? caseArbitrary(property.generationPrecision(entry), property.constraints);
}
