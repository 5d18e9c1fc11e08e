/**
 * Forward against the float64 reference, window by window: finite values (ties, near ties, ±0,
 * huge, tiny, mixed magnitudes, float32 subnormals, empty batches) and the NaN / ±Infinity rules.
 *
 * @module
 */
import { flushSubnormals } from "../agreement.ts";
import { referenceTolerance, type WindowFacts, windowFacts } from "../../testkit/mod.ts";
import { forwardOf, guarded } from "./calls.ts";
import { compareOutput, FINITE_KINDS, sameOutput, subnormalSlack } from "./comparisons.ts";
import { general, type PropertyDefinition } from "./definition.ts";
import { expectedForward } from "./oracle.ts";

/** A check comparing an entry's forward with the reference's, window by window, under `label`. */
function forwardAgainstReference(label: string): PropertyDefinition["check"] {
  return (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const slack = subnormalSlack(entry, c);
      const facts = windowFacts(c, c.x);
      const tolerance = (w: WindowFacts) => referenceTolerance(entry.precision, w.topAbs) + slack;
      let ref = expectedForward(entry, c);
      if (slack > 0 && !facts.every((w) => sameOutput(ref[w.out], y[w.out], tolerance(w)))) {
        // SPEC.md §4 "Subnormal values": a device that flushes may rank the whole call at flush(x),
        // where a subnormal is a zero of its sign and ties +0 and -0 by cell.
        const flushed = expectedForward(entry, c, flushSubnormals(c.x));
        if (facts.every((w) => sameOutput(flushed[w.out], y[w.out], tolerance(w)))) ref = flushed;
      }
      for (const w of facts) compareOutput(v, label, w, ref[w.out], y[w.out], tolerance(w));
    });
}

export const forwardVsReference: PropertyDefinition = {
  name: "fwd-ref",
  title: "forward equals the float64 reference (distinct values, ties, near ties, ±0, huge, tiny, mixed magnitudes, " +
    "float32 subnormals; batches of 0 too)",
  constraints: general({ kinds: FINITE_KINDS, emptyBatches: "sometimes" }),
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: forwardAgainstReference("y vs reference"),
};

export const forwardNonFinite: PropertyDefinition = {
  name: "fwd-nonfinite",
  title: "forward follows the NaN / ±Infinity rules (NaN ranks above +Infinity) like the reference",
  constraints: general({ kinds: ["nonfinite", "infinities"] }),
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: forwardAgainstReference("y vs reference (NaN/±Infinity rules)"),
};
