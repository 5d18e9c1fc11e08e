/**
 * The edge-case input classes, each against the whole answer of the reference at the entry's
 * weights: k = 1 whatever the window holds (masked windows), logits beyond float32, non-finite
 * logits, the signs of zeros, and non-finite dy.
 *
 * @module
 */
import type { Implementation } from "../../src/types.ts";
import {
  containingWindows,
  dLogitsTolerance,
  formatNumber,
  rankSums,
  referenceTolerance,
  type WindowFacts,
  windowFacts,
} from "../../testkit/mod.ts";
import { groupMax } from "../agreement.ts";
import type { PropCase } from "../generators.ts";
import type { VerdictBuilder } from "../verdict.ts";
import { forwardOf, gradientOf, guarded } from "./calls.ts";
import { compareDxAtTies, compareOutput, finiteAbs } from "./comparisons.ts";
import { general, type PropertyDefinition } from "./definition.ts";
import { expectedForward, expectedGradient, oracleWeights } from "./oracle.ts";

/**
 * Whether two cells of equal value (+0 and -0 equal, NaN with NaN) sit next to each other in a
 * window's rank order with the first of them kept (rank < k): only there can a different tie rule
 * change which cells are kept, or in which order.
 */
function tieReachesKeptRanks(info: WindowFacts, k: number): boolean {
  const r = info.ranked;
  for (let i = 0; i < Math.min(k, r.length - 1); i++) {
    const [a, b] = [r[i].value, r[i + 1].value];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  }
  return false;
}

/**
 * The whole answer of `entry` against the reference at the entry's weights ({@link oracleWeights}),
 * for inputs where no tie-rule deviation can hide (the edge-case input classes): y (when
 * `forward`), dx and dLogits. NaN must meet NaN and ±Infinity itself; the zeros whose sign SPEC.md
 * §5 fixes (y, dx, and dLogits for k = 1, which must be exactly +0) are compared with Object.is;
 * a finite dLogits element within dLogitsTolerance of the finite rank-sum magnitudes of its group.
 */
async function checkAgainstOracle(
  v: VerdictBuilder,
  entry: Implementation,
  c: PropCase,
  parts: { forward: boolean },
): Promise<void> {
  const p = entry.precision;
  const facts = windowFacts(c, c.x);
  const w = oracleWeights(entry, c.logits, c.k);
  const weightsText = () => `weights [${Array.from(w).map(formatNumber).join(", ")}]`;
  if (parts.forward) {
    const y = await forwardOf(entry, c, v);
    if (!y) return;
    const ref = expectedForward(entry, c);
    for (const info of facts) {
      compareOutput(
        v,
        "y vs reference",
        info,
        ref[info.out],
        y[info.out],
        referenceTolerance(p, info.topAbs),
        weightsText,
      );
    }
  }
  const g = await gradientOf(entry, c, v);
  if (!g) return;
  const ref = expectedGradient(entry, c);
  compareDxAtTies(v, p, c, facts, containingWindows(c, facts), w, ref.dx, g.dx);
  if (c.k === 1) {
    for (let j = 0; j < c.logits.length; j++) {
      v.compareSigned(`dLogits[${j}] for k = 1 (exactly +0)`, 0, g.dLogits[j], 0, () => undefined);
    }
    return;
  }
  const { t, windowsPerGroup } = rankSums(c, facts);
  // A tie that reaches the kept ranks lets another tie rule keep other cells (a padded zero for a
  // real one, say), which changes the rank sums: there dLogits may differ by a declared deviation.
  const tieInKept = facts.some((info) => tieReachesKeptRanks(info, c.k));
  for (let j = 0; j < c.logits.length; j++) {
    v.compare(
      `dLogits[${j}] vs reference (NaN/±Infinity exactly)`,
      ref.dLogits[j],
      g.dLogits[j],
      dLogitsTolerance(p, finiteAbs(w[j]), windowsPerGroup, groupMax(t, c.k, j)),
      () => undefined,
      tieInKept ? "deviation" : "fail",
      () => `reference dLogits [${Array.from(ref.dLogits).map(formatNumber).join(", ")}], ${weightsText()}`,
    );
  }
}

export const k1DLogits: PropertyDefinition = {
  name: "k1-dlogits",
  title: "k = 1: dLogits is exactly [+0] (every element, per channel too) whatever x (NaN, ±Infinity, ±0), dy " +
    "(±Infinity, NaN) and the logit (±Infinity, NaN, past float32) hold; dx routes w[0]·dy to the first maximal " +
    "cell of each window (input class: masked windows)",
  constraints: general({
    kinds: ["nonfinite", "infinities", "ties", "distinct", "signed-zeros"],
    ks: [1],
    dyKinds: ["finite", "nonfinite"],
    logitKinds: ["ordinary", "nonfinite", "range"],
  }),
  hasDeviations: true,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: false })),
};

export const logitsRange: PropertyDefinition = {
  name: "logits-range",
  title: "logits near and past float32's range (±3.4e38, 1e39, -2e39, B·(1 + j·2^-30) that float32 cannot tell " +
    "apart), and logit gaps of 80..110 whose float32 weights are subnormal (flushed to +0) or barely normal, " +
    "next to ±Infinity in x: y, dx and dLogits follow softmax in float64 rounded to the entry's precision " +
    "(input class: logits beyond float32)",
  constraints: general({ kinds: ["distinct", "ties", "near-ties", "infinities"], logitKinds: ["range"] }),
  hasDeviations: true,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: true })),
};

export const logitsNonFinite: PropertyDefinition = {
  name: "logits-nonfinite",
  title: "logits holding ±Infinity or NaN: softmax's limit (+Infinity logits share the weight, -Infinity ones get " +
    "0, NaN makes y, kept dx and dLogits NaN; per channel: only that channel's), one behaviour on every entry and " +
    "on the op on both tfjs backends (input class: non-finite logits)",
  constraints: general({ kinds: ["distinct", "ties", "nonfinite", "infinities"], logitKinds: ["nonfinite"] }),
  hasDeviations: true,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: true })),
};

export const signedZero: PropertyDefinition = {
  name: "signed-zero",
  title: "signed zeros (Object.is): y sums from the first product, so a zero y is -0 exactly when every kept " +
    "product is -0, and k = 1 returns the window's top value bitwise; a zero dx carries w[r]·dy's sign (a sum " +
    "over overlapping windows: -0 only when every term is) (input class: zero signs)",
  constraints: general({ kinds: ["signed-zeros", "ties"] }),
  hasDeviations: true,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const ref = expectedForward(entry, c);
      for (const info of windowFacts(c, c.x)) {
        compareOutput(
          v,
          "y vs reference",
          info,
          ref[info.out],
          y[info.out],
          referenceTolerance(entry.precision, info.topAbs),
        );
        if (c.k === 1) {
          compareOutput(v, "k = 1: y is the window's top value itself", info, info.ranked[0].value, y[info.out], 0);
        }
      }
      await checkAgainstOracle(v, entry, c, { forward: false });
    }),
};

export const nonFiniteDy: PropertyDefinition = {
  name: "nonfinite-dy",
  title: "dy holding ±Infinity or NaN: kept real cells get w[r]·dy, every other cell (ranked ≥ k, padded, in no " +
    "window) exactly +0; padded cells are skipped in dLogits' rank sums (never 0·dy); a non-finite v·dy poisons " +
    "every dLogits element of its group for k > 1, none for k = 1 (input class: non-finite dy)",
  constraints: general({
    kinds: ["distinct", "ties", "signed-zeros", "nonfinite"],
    dyKinds: ["nonfinite", "padded-nonfinite"],
  }),
  hasDeviations: true,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: false })),
};
