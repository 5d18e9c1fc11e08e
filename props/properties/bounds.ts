/**
 * Every output lies within the range of its window (padded zeros included where they rank).
 *
 * @module
 */
import { referenceTolerance, windowFacts } from "../../testkit/mod.ts";
import { locateOutput } from "../verdict.ts";
import { forwardOf, guarded } from "./calls.ts";
import { FINITE_KINDS, subnormalSlack } from "./comparisons.ts";
import { general, type PropertyDefinition } from "./definition.ts";

export const windowBounds: PropertyDefinition = {
  name: "bounds",
  title: 'every output lies within [min, max] of its window (padded zeros included for k > 1 "same")',
  constraints: general({ kinds: FINITE_KINDS }),
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      for (const w of windowFacts(c, c.x)) {
        v.within(
          "y within [min, max] of its window",
          w.min,
          w.max,
          y[w.out],
          referenceTolerance(entry.precision, w.allAbs) + subnormalSlack(entry, c),
          () => locateOutput(w),
        );
      }
    }),
};
