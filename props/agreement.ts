/**
 * Element-wise agreement of one entry's results with the float64 reference on the same case, with
 * the tolerance model of `tolerance.ts` and failures located by window (used by the concurrency
 * and binding-limit properties, which check every call against the reference of its own case).
 *
 * @module
 */
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { outputShape, softmax } from "../src/spec.ts";
import type { Implementation, SortPoolCase } from "../src/types.ts";
import { ownerOf, type PropCase, windowInfos } from "./generators.ts";
import { dLogitsTolerance, referenceTolerance } from "./tolerance.ts";
import { locateInput, locateOutput, type VerdictBuilder } from "./verdict.ts";

/** The case as the reference receives it (float64 x, logits as given). */
export function referenceCase(c: PropCase): SortPoolCase {
  return { x: c.x, shape: c.shape, logits: [...c.logits], k: c.k, padding: c.padding };
}

/** The case as `entry` receives it (x in its precision; exact: generated values are representable). */
export function entryCase(entry: Implementation, c: PropCase): SortPoolCase {
  return {
    x: entry.precision === "float32" ? Float32Array.from(c.x) : Float64Array.from(c.x),
    shape: c.shape,
    logits: [...c.logits],
    k: c.k,
    padding: c.padding,
  };
}

/**
 * Adds to `v` one comparison per output element of `y` against the reference forward of `c`.
 * `who` prefixes every check name (e.g. the call's place in a schedule; may be empty).
 */
export function checkForwardAgainstReference(
  v: VerdictBuilder,
  who: string,
  entry: Implementation,
  c: PropCase,
  y: ArrayLike<number>,
  note: () => string,
): void {
  const prefix = who ? `${who}: ` : "";
  const ref = referenceForward(referenceCase(c)).y;
  if (y.length !== ref.length) {
    const expected = outputShape(c.shape, c.padding);
    v.fail(`${prefix}forward length`, `${ref.length} values ([${expected.join(", ")}])`, `${y.length}`, note());
    return;
  }
  for (const w of windowInfos(c, c.x)) {
    v.compare(
      `${prefix}y vs reference`,
      ref[w.out],
      y[w.out],
      referenceTolerance(entry.precision, w.topAbs),
      () => locateOutput(w),
      "fail",
      note,
    );
  }
}

/** Adds to `v` one comparison per element of `dx` and `dLogits` against the reference VJP of `c`. */
export function checkGradientAgainstReference(
  v: VerdictBuilder,
  who: string,
  entry: Implementation,
  c: PropCase,
  g: { dx: ArrayLike<number>; dLogits: ArrayLike<number> },
  note: () => string,
): void {
  const prefix = who ? `${who}: ` : "";
  const ref = referenceGradient(referenceCase(c), c.dy);
  if (g.dx.length !== ref.dx.length || g.dLogits.length !== c.k) {
    v.fail(
      `${prefix}gradient lengths`,
      `dx ${ref.dx.length}, dLogits ${c.k}`,
      `dx ${g.dx.length}, dLogits ${g.dLogits.length}`,
      note(),
    );
    return;
  }
  const infos = windowInfos(c, c.x);
  const owner = ownerOf(c, infos);
  for (let i = 0; i < c.x.length; i++) {
    const o = owner[i];
    v.compare(
      `${prefix}dx vs reference`,
      ref.dx[i],
      g.dx[i],
      referenceTolerance(entry.precision, o >= 0 ? Math.abs(c.dy[o]) : 0),
      () => locateInput(c.shape, i, o >= 0 ? infos[o] : undefined),
      "fail",
      note,
    );
  }
  const t = new Float64Array(c.k);
  for (const w of infos) for (let r = 0; r < c.k; r++) t[r] += Math.abs(w.ranked[r].value * c.dy[w.out]);
  const maxT = Math.max(...t);
  const w = softmax(c.logits);
  for (let r = 0; r < c.k; r++) {
    v.compare(
      `${prefix}dLogits[${r}] vs reference`,
      ref.dLogits[r],
      g.dLogits[r],
      dLogitsTolerance(entry.precision, w[r], infos.length, maxT),
      () => undefined,
      "fail",
      note,
    );
  }
}
