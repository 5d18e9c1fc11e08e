/**
 * Exact ties (±0, padded zeros): forward and dLogits against the reference, dx under the spec's
 * tie rule (a declared deviation reported, not failed), and dx between the one-sided finite
 * differences wherever the weights are monotone over the tie group.
 *
 * @module
 */
import {
  containingWindows,
  formatNumber,
  forwardRounding,
  harnessRounding,
  referenceTolerance,
  windowFacts,
} from "../../testkit/mod.ts";
import { fdStepX, perturb, slotsOf, unitDirection } from "../generators.ts";
import { forwardOf, gradientOf, guarded } from "./calls.ts";
import { compareDLogits, compareDxAtTies, compareOutput, dyScale, locateElement } from "./comparisons.ts";
import { general, type PropertyDefinition } from "./definition.ts";
import { expectedForward, expectedGradient, oracleWeights, weightAt } from "./oracle.ts";

export const ties: PropertyDefinition = {
  name: "ties",
  title: "at exact ties (±0, padded zeros): forward and dLogits equal the reference; dx equals the reference's " +
    "under the spec's tie rule (a declared deviation is reported, not failed); dx lies between the one-sided " +
    "finite differences (summed over the windows holding the cell)",
  constraints: general({ kinds: ["ties"] }),
  hasDeviations: true,
  calls: (slots) => 2 + 2 * slots,
  generationPrecision: (e) => e.precision,
  check: (ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const facts = windowFacts(c, c.x);
      const windows = containingWindows(c, facts);
      const w = oracleWeights(entry, c.logits, c.k);
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const refY = expectedForward(entry, c);
      for (const info of facts) {
        compareOutput(
          v,
          "y vs reference at ties",
          info,
          refY[info.out],
          y[info.out],
          referenceTolerance(p, info.topAbs),
        );
      }
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const ref = expectedGradient(entry, c);
      compareDxAtTies(v, p, c, facts, windows, w, ref.dx, g.dx);
      compareDLogits(v, p, c, facts, w, ref.dLogits, g.dLogits);

      // One-sided finite differences: moving cell i up by eps puts it at the top of its tie group
      // (rank r0) in every window holding it, down at the bottom (r1); the derivatives are
      // Σ w[r0]·dy and Σ w[r1]·dy over those windows. Any tie order gives each window a rank in
      // r0..r1, whose weight lies between those two whenever the weights are monotone over r0..r1
      // (always true for a tie of two). The bracket is checked where that holds in every window.
      const eps = fdStepX(c, facts);
      for (const { cells } of slotsOf(c, windows, ctx.slots)) {
        const e = unitDirection(c.x.length, cells);
        const yUp = await forwardOf(entry, c, v, perturb(c, c.x, eps, e));
        const yDown = await forwardOf(entry, c, v, perturb(c, c.x, -eps, e));
        if (!yUp || !yDown) return;
        for (const i of cells) {
          const held = windows[i];
          let lo = 0;
          let hi = 0;
          let tol = 0;
          let monotone = true;
          const groups: string[] = [];
          for (const o of held) {
            const info = facts[o];
            const value = c.x[i];
            const group = info.ranked.map((q, r) => ({ q, r })).filter(({ q }) => q.value === value);
            const r0 = group[0].r;
            const r1 = group[group.length - 1].r;
            let up = true;
            let down = true;
            for (let r = r0; r < r1; r++) {
              const a = weightAt(w, c, info.ch, r);
              const b = weightAt(w, c, info.ch, r + 1);
              if (a < b) down = false;
              if (a > b) up = false;
            }
            if (!up && !down) {
              monotone = false;
              break;
            }
            const dy = c.dy[o];
            const fdUp = dy * (yUp[o] - y[o]) / eps;
            const fdDown = dy * (y[o] - yDown[o]) / eps;
            lo += Math.min(fdUp, fdDown);
            hi += Math.max(fdUp, fdDown);
            const scale = Math.max(info.topAbs, info.allAbs) + eps;
            tol += Math.abs(dy) * 2 * forwardRounding(p, scale) / eps +
              harnessRounding(2, Math.abs(fdUp) + Math.abs(fdDown));
            groups.push(`${r0}..${r1}`);
          }
          if (!monotone || held.length === 0) continue;
          const dx = g.dx[i];
          tol += referenceTolerance(p, held.length > 1 ? dyScale(c, held) : Math.abs(dx)) +
            harnessRounding(held.length, Math.abs(lo) + Math.abs(hi));
          v.within(
            "dx between the one-sided finite differences Σ dy·(f(x+εe_i)−f(x))/ε and Σ dy·(f(x)−f(x−εe_i))/ε",
            lo,
            hi,
            dx,
            tol,
            () => locateElement(c, facts, held, i),
            () => `tie group ranks ${groups.join(", ")}, eps ${formatNumber(eps)}`,
          );
        }
      }
    }),
};
