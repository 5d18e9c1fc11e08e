/**
 * Symmetries of the forward: shifting and scaling x ("valid", or k = 1) shifts and scales y, and
 * permuting the values inside each window (windows that do not overlap) leaves it unchanged.
 *
 * @module
 */
import { formatNumber, isRepresentable, referenceTolerance, windowFacts } from "../../testkit/mod.ts";
import { perturb } from "../generators.ts";
import { locateOutput } from "../verdict.ts";
import { forwardOf, guarded } from "./calls.ts";
import { general, type PropertyDefinition } from "./definition.ts";

export const shiftScale: PropertyDefinition = {
  name: "shift-scale",
  title: 'with "valid" (or k = 1, which ignores padding): f(x + c) = f(x) + c and f(a·x) = a·f(x) for a > 0',
  constraints: general({ kinds: ["distinct", "ties", "near-ties", "huge", "tiny"], shiftInvariant: true }),
  hasDeviations: false,
  calls: () => 3,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const ones = new Int8Array(c.x.length).fill(1);
      const shifted = perturb(c, c.x, c.shift, ones);
      const scaled = c.x.map((x) => c.scale * x);
      for (let i = 0; i < scaled.length; i++) {
        if (!isRepresentable(scaled[i], c.precision) || scaled[i] / c.scale !== c.x[i]) {
          throw new Error(`harness invariant broken: ${c.scale}·${c.x[i]} is not exact`);
        }
      }
      const y = await forwardOf(entry, c, v);
      const ys = await forwardOf(entry, c, v, shifted);
      const ya = await forwardOf(entry, c, v, scaled);
      if (!y || !ys || !ya) return;
      for (const w of windowFacts(c, c.x)) {
        v.compare(
          "f(x + c) vs f(x) + c",
          y[w.out] + c.shift,
          ys[w.out],
          2 * referenceTolerance(p, w.topAbs + Math.abs(c.shift)),
          () => locateOutput(w),
          "fail",
          () => `c = ${formatNumber(c.shift)}`,
        );
        v.compare(
          "f(a·x) vs a·f(x)",
          c.scale * y[w.out],
          ya[w.out],
          2 * referenceTolerance(p, c.scale * w.topAbs),
          () => locateOutput(w),
          "fail",
          () => `a = ${formatNumber(c.scale)}`,
        );
      }
    }),
};

export const permutation: PropertyDefinition = {
  name: "permute",
  title: "permuting the values inside each window (real cells) leaves the forward unchanged, NaN/±Infinity " +
    "included (windows that do not overlap: overlapping ones share cells, so no such permutation exists)",
  constraints: general({ kinds: ["distinct", "ties", "nonfinite", "near-ties", "mixed"], windows: "non-overlapping" }),
  hasDeviations: false,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      const yp = await forwardOf(entry, c, v, c.xPermuted);
      if (!y || !yp) return;
      const permutedFacts = windowFacts(c, c.xPermuted);
      for (const w of windowFacts(c, c.x)) {
        v.compare(
          "f(values permuted within each window) vs f(x)",
          y[w.out],
          yp[w.out],
          referenceTolerance(entry.precision, w.topAbs),
          () => locateOutput(w),
          "fail",
          () => `permuted window: ${locateOutput(permutedFacts[w.out]).window}`,
        );
      }
    }),
};
