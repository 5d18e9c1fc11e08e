/**
 * dx and dLogits: against central finite differences of the entry's own forward (along random
 * directions in x and in the logits, and per cell slot), and against the float64 reference (finite
 * inputs, and NaN / ±Infinity inputs by class).
 *
 * @module
 */
import {
  containingWindows,
  dLogitsTolerance,
  formatNumber,
  forwardRounding,
  harnessRounding,
  isRepresentable,
  LOGIT_TRUNCATION_FACTOR,
  logitStep,
  rankSums,
  referenceTolerance,
  type WindowFacts,
  windowFacts,
} from "../../testkit/mod.ts";
import { groupMax } from "../agreement.ts";
import { fdStepX, perturb, slotsOf, unitDirection } from "../generators.ts";
import { locateInput, locateOutput } from "../verdict.ts";
import { forwardOf, gradientOf, guarded } from "./calls.ts";
import { classOf, compareDLogits, compareDxAtTies, dyScale, locateElement } from "./comparisons.ts";
import { general, type PropertyDefinition } from "./definition.ts";
import { expectedGradient, oracleWeights } from "./oracle.ts";

/**
 * max |value| over a window's top k at the perturbed input `x` (padded cells are 0). The finite
 * difference steps never change a rank order (props/generators.ts `fdStepX`), so the top k are
 * the same cells as at the case's x: no re-ranking needed.
 */
function topAbsAt(info: WindowFacts, k: number, x: Float64Array): number {
  let top = 0;
  for (let r = 0; r < k && r < info.ranked.length; r++) {
    const i = info.ranked[r].index;
    if (i >= 0 && !Number.isNaN(x[i])) top = Math.max(top, Math.abs(x[i]));
  }
  return top;
}

export const dxFiniteDifferences: PropertyDefinition = {
  name: "dx-fd",
  title: "dx against central finite differences of the entry's own forward: along a random direction (2 " +
    "forwards; checked per window when windows do not overlap, as <dx, v> always), and per cell slot, one cell " +
    "of every window at once, each moved cell against the sum over the windows holding it (2 forwards per slot)",
  constraints: general({ kinds: ["distinct", "near-ties", "huge", "tiny"] }),
  hasDeviations: false,
  calls: (slots) => 3 + 2 * slots,
  generationPrecision: (e) => e.precision,
  check: (ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const facts = windowFacts(c, c.x);
      const windows = containingWindows(c, facts);
      const overlapping = windows.some((held) => held.length > 1);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const eps = fdStepX(c, facts);

      // Directional derivative as the single projected number <dx, v>, and window by window when
      // windows do not overlap (both sides then split exactly by window).
      const xp = perturb(c, c.x, eps, c.direction);
      const xm = perturb(c, c.x, -eps, c.direction);
      const yp = await forwardOf(entry, c, v, xp);
      const ym = await forwardOf(entry, c, v, xm);
      if (!yp || !ym) return;
      let fdTotal = 0;
      let fdAbs = 0;
      let tolTotal = 0;
      for (const w of facts) {
        const dy = c.dy[w.out];
        const fd = dy * (yp[w.out] - ym[w.out]) / (2 * eps);
        const fdTol = Math.abs(dy) *
          (forwardRounding(p, topAbsAt(w, c.k, xp)) + forwardRounding(p, topAbsAt(w, c.k, xm))) / (2 * eps);
        fdTotal += fd;
        fdAbs += Math.abs(fd);
        tolTotal += fdTol;
        if (overlapping) continue;
        let dir = 0;
        let dirAbs = 0;
        for (const cell of w.cells) {
          if (cell.index < 0) continue;
          dir += g.dx[cell.index] * c.direction[cell.index];
          dirAbs += Math.abs(g.dx[cell.index] * c.direction[cell.index]);
        }
        v.compare(
          "per-window directional derivative: Σ_window dx·v vs dy·(f(x+εv)−f(x−εv))/2ε",
          fd,
          dir,
          fdTol + referenceTolerance(p, dirAbs) + harnessRounding(w.cells.length, Math.abs(fd) + dirAbs),
          () => locateOutput(w),
          "fail",
          () => `eps ${formatNumber(eps)}`,
        );
      }
      let dirTotal = 0;
      let dirAbsTotal = 0;
      for (let i = 0; i < c.x.length; i++) {
        dirTotal += g.dx[i] * c.direction[i];
        dirAbsTotal += Math.abs(g.dx[i] * c.direction[i]);
      }
      // Each dx is a sum over at most 16 windows: 16 more roundings of its terms (weights ≤ 1, so
      // the terms are at most Σ|dy|, which bounds them through the per-element dy scales).
      let overlapRounding = 0;
      if (overlapping) {
        for (let i = 0; i < c.x.length; i++) {
          if (c.direction[i] !== 0 && windows[i].length > 1) {
            overlapRounding += referenceTolerance(p, dyScale(c, windows[i]));
          }
        }
      }
      v.compare(
        "directional derivative <dx, v> vs (f(x+εv)−f(x−εv))/2ε projected on dy",
        fdTotal,
        dirTotal,
        tolTotal + referenceTolerance(p, dirAbsTotal) + overlapRounding +
          harnessRounding(facts.length + c.x.length, fdAbs + dirAbsTotal),
        () => undefined,
        "fail",
        () => `eps ${formatNumber(eps)}, ${facts.length} windows${overlapping ? " (overlapping)" : ""}`,
      );
      for (let i = 0; i < c.x.length; i++) {
        if (windows[i].length === 0) {
          v.compare("dx of an element in no window", 0, g.dx[i], 0, () => locateInput(c.shape, i, undefined, 0));
        }
      }

      // Coordinate checks: one cell slot of every window moves at a time; a moved cell's derivative
      // is the sum over the windows holding it (each holds no other moved cell).
      for (const { slot, cells } of slotsOf(c, windows, ctx.slots)) {
        const e = unitDirection(c.x.length, cells);
        const xs = perturb(c, c.x, eps, e);
        const xt = perturb(c, c.x, -eps, e);
        const ys = await forwardOf(entry, c, v, xs);
        const yt = await forwardOf(entry, c, v, xt);
        if (!ys || !yt) return;
        for (const i of cells) {
          const held = windows[i];
          let fd = 0;
          let fdAbsI = 0;
          let tol = 0;
          for (const o of held) {
            const dy = c.dy[o];
            const term = dy * (ys[o] - yt[o]) / (2 * eps);
            fd += term;
            fdAbsI += Math.abs(term);
            tol += Math.abs(dy) *
              (forwardRounding(p, topAbsAt(facts[o], c.k, xs)) + forwardRounding(p, topAbsAt(facts[o], c.k, xt))) /
              (2 * eps);
          }
          const dx = g.dx[i];
          tol += referenceTolerance(p, held.length > 1 ? dyScale(c, held) : Math.abs(dx)) +
            harnessRounding(held.length + 1, fdAbsI);
          v.compare(
            "coordinate derivative: dx_i vs Σ_windows holding i dy·(f(x+εe_i)−f(x−εe_i))/2ε",
            fd,
            dx,
            tol,
            () => locateElement(c, facts, held, i),
            "fail",
            () => `eps ${formatNumber(eps)}, slot ${slot}`,
          );
        }
      }
    }),
};

export const dLogitsFiniteDifferences: PropertyDefinition = {
  name: "dlogits-fd",
  title: "dLogits against a central difference of the entry's own forward along a random logits direction " +
    "(every logit, per-channel ones included; smooth tolerance: truncation + rounding)",
  constraints: general({ kinds: ["distinct", "ties", "near-ties", "huge", "tiny"] }),
  hasDeviations: false,
  calls: () => 3,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const facts = windowFacts(c, c.x);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const eta = logitStep(p);
      const lp = c.logits.map((l, j) => l + eta * c.logitDirection[j]);
      const lm = c.logits.map((l, j) => l - eta * c.logitDirection[j]);
      if (![...lp, ...lm].every((l) => isRepresentable(l, c.precision))) {
        throw new Error("harness invariant broken: logits ± η is not exact");
      }
      const yp = await forwardOf(entry, c, v, c.x, lp);
      const ym = await forwardOf(entry, c, v, c.x, lm);
      if (!yp || !ym) return;
      let lPlus = 0;
      let lMinus = 0;
      let scale = 0;
      let absL = 0;
      for (const w of facts) {
        const dy = c.dy[w.out];
        lPlus += dy * yp[w.out];
        lMinus += dy * ym[w.out];
        absL += Math.abs(dy * yp[w.out]) + Math.abs(dy * ym[w.out]);
        scale += Math.abs(dy) * w.topAbs;
      }
      const fd = (lPlus - lMinus) / (2 * eta);
      const n = c.logits.length;
      let analytic = 0;
      let analyticAbs = 0;
      for (let j = 0; j < n; j++) {
        analytic += g.dLogits[j] * c.logitDirection[j];
        analyticAbs += Math.abs(g.dLogits[j] * c.logitDirection[j]);
      }
      const { s, t, windowsPerGroup } = rankSums(c, facts);
      const w = oracleWeights(entry, c.logits, c.k);
      // L is a sum of independent softmaxes (one per group of k): the truncation bound adds up per group.
      let sumMaxS = 0;
      for (let start = 0; start < n; start += c.k) {
        let maxS = 0;
        for (let j = start; j < start + c.k; j++) maxS = Math.max(maxS, Math.abs(s[j]));
        sumMaxS += maxS;
      }
      let own = 0;
      for (let j = 0; j < n; j++) {
        own += Math.abs(c.logitDirection[j]) * dLogitsTolerance(p, w[j], windowsPerGroup, groupMax(t, c.k, j));
      }
      const tol = LOGIT_TRUNCATION_FACTOR * eta * eta * sumMaxS + referenceTolerance(p, scale) / eta + own +
        harnessRounding(facts.length, absL) / eta + harnessRounding(n, analyticAbs);
      v.compare(
        "directional derivative <dLogits, u> vs (L(l+ηu)−L(l−ηu))/2η, L = <dy, f>",
        fd,
        analytic,
        tol,
        () => undefined,
        "fail",
        () =>
          `logits [${c.logits.map(formatNumber).join(", ")}], u [${c.logitDirection.join(", ")}], η ${
            formatNumber(eta)
          }, dLogits [${Array.from(g.dLogits).map(formatNumber).join(", ")}]`,
      );
    }),
};

export const vjpVsReference: PropertyDefinition = {
  name: "vjp-ref",
  title: "dx and dLogits equal the float64 reference's (distinct values, near ties, huge, tiny, mixed; overlapping " +
    "windows: a cell's dx sums its windows' terms; batches of 0 too)",
  constraints: general({ kinds: ["distinct", "near-ties", "huge", "tiny", "mixed"], emptyBatches: "sometimes" }),
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const facts = windowFacts(c, c.x);
      const windows = containingWindows(c, facts);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const ref = expectedGradient(entry, c);
      for (let i = 0; i < c.x.length; i++) {
        const held = windows[i];
        v.compareSigned(
          held.length > 1 ? "dx vs reference (sum over overlapping windows)" : "dx vs reference",
          ref.dx[i],
          g.dx[i],
          referenceTolerance(p, dyScale(c, held)),
          () => locateElement(c, facts, held, i),
        );
      }
      compareDLogits(v, p, c, facts, oracleWeights(entry, c.logits, c.k), ref.dLogits, g.dLogits);
    }),
};

export const vjpNonFinite: PropertyDefinition = {
  name: "vjp-nonfinite",
  title: "with NaN / ±Infinity inputs, dx follows the ranking like the reference (SPEC §5: a NaN cell ranks " +
    "first and receives w[r]·dy; a tie-rule difference is a deviation, as in ties); dLogits is NaN, ±Infinity " +
    "or finite exactly where the reference's is",
  constraints: general({ kinds: ["nonfinite", "infinities"] }),
  hasDeviations: true,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const facts = windowFacts(c, c.x);
      const windows = containingWindows(c, facts);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const ref = expectedGradient(entry, c);
      const w = oracleWeights(entry, c.logits, c.k);
      compareDxAtTies(v, p, c, facts, windows, w, ref.dx, g.dx);
      // s_r is a sum with infinite or NaN terms: its class (NaN, +Inf, -Inf, finite) does not depend
      // on the summation order, so the class of each dLogits entry must match; finite entries are
      // compared like vjp-ref's.
      const { t, windowsPerGroup } = rankSums(c, facts);
      for (let j = 0; j < c.logits.length; j++) {
        const expected = ref.dLogits[j];
        const actual = g.dLogits[j];
        if (classOf(expected) !== classOf(actual) || classOf(expected) !== "finite") {
          v.compare(`dLogits[${j}] class vs reference`, expected, actual, 0, () => undefined);
        } else {
          v.compare(
            `dLogits[${j}] vs reference`,
            expected,
            actual,
            dLogitsTolerance(p, w[j], windowsPerGroup, groupMax(t, c.k, j)),
            () => undefined,
          );
        }
      }
    }),
};
