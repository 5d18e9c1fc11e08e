/**
 * The case as implementations receive it, and element-wise agreement of one entry's results with
 * the float64 reference on the same case, with the tolerance model of testkit/tolerance.ts and
 * failures located by window (used by the concurrency and binding-limit properties, which check
 * every call against the reference of its own case).
 *
 * @module
 */
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { unsupportedReason } from "../src/registry.ts";
import { FLOAT32_MIN_NORMAL, outputShape, softmax } from "../src/spec.ts";
import type { Implementation, SortPoolCase } from "../src/types.ts";
import {
  containingWindows,
  dLogitsTolerance,
  rankSums,
  referenceTolerance,
  subnormalDLogitsSlack,
  subnormalForwardSlack,
  windowFacts,
} from "../testkit/mod.ts";
import { buildCase, type CaseParams, DEFAULT_WINDOW, type PropCase, windowFields } from "./generators.ts";
import { locateInput, locateOutput, type VerdictBuilder } from "./verdict.ts";

/**
 * A generated case as a `SortPoolCase`: `x` (default the case's) as a Float32Array or Float64Array
 * per `precision` (exact: generated values are representable there), the logits (default the
 * case's), and `poolSize` / `strides` only when the case passes them (a default-window case leaves
 * them out, as callers of the article's layer do).
 */
export function sortPoolCase(
  c: PropCase,
  precision: "float32" | "float64",
  x: Float64Array = c.x,
  logits: readonly number[] = c.logits,
): SortPoolCase {
  return {
    x: precision === "float32" ? Float32Array.from(x) : Float64Array.from(x),
    shape: c.shape,
    logits: [...logits],
    k: c.k,
    padding: c.padding,
    ...windowFields(c),
  };
}

/**
 * Why `entry` does not take case `c` (its `supports`), or undefined. Only the fields that
 * `unsupportedReason` reads are passed: x is not copied.
 */
export function skipReason(entry: Implementation, c: PropCase): string | undefined {
  return unsupportedReason(entry, {
    x: new Float32Array(0),
    shape: c.shape,
    logits: c.logits,
    k: c.k,
    padding: c.padding,
    ...windowFields(c),
  });
}

/**
 * `c` if `entry` supports it, else the same draw with the default window (2x2/2), shared logits and
 * k folded onto 1..4 ("same" padding when "valid" would not fit): for a partner call that must run
 * (props/properties/concurrency.ts), not for the entry under test, whose unsupported cases are
 * skipped.
 */
export function supportedCase(entry: Implementation, c: PropCase): PropCase {
  if (skipReason(entry, c) === undefined) return c;
  const p: CaseParams = {
    ...c.params,
    window: DEFAULT_WINDOW,
    perChannel: false,
    k: ((c.k - 1) % 4) + 1,
    padding: c.params.height >= 2 && c.params.width >= 2 ? c.padding : "same",
  };
  return buildCase(p, c.precision);
}

/** The case as the reference receives it (float64 x, logits as given). */
export function referenceCase(c: PropCase): SortPoolCase {
  return sortPoolCase(c, "float64");
}

/** The case as `entry` receives it (x in its precision). */
export function entryCase(entry: Implementation, c: PropCase): SortPoolCase {
  return sortPoolCase(c, entry.precision);
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
    const expected = outputShape(c.shape, c.padding, c);
    v.fail(`${prefix}forward length`, `${ref.length} values ([${expected.join(", ")}])`, `${y.length}`, note());
    return;
  }
  // SPEC.md §4 "Subnormal values": a float32 entry on a device that flushes may lose k·2^-126.
  const slack = entry.precision === "float32" && hasSubnormal(c.x) ? subnormalForwardSlack(c.k) : 0;
  for (const w of windowFacts(c, c.x)) {
    v.compare(
      `${prefix}y vs reference`,
      ref[w.out],
      y[w.out],
      referenceTolerance(entry.precision, w.topAbs) + slack,
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
  const subnormal = entry.precision === "float32" && hasSubnormal(c.x);
  let ref = referenceGradient(referenceCase(c), c.dy);
  const n = c.logits.length;
  if (g.dx.length !== ref.dx.length || g.dLogits.length !== n) {
    v.fail(
      `${prefix}gradient lengths`,
      `dx ${ref.dx.length}, dLogits ${n}`,
      `dx ${g.dx.length}, dLogits ${g.dLogits.length}`,
      note(),
    );
    return;
  }
  const facts = windowFacts(c, c.x);
  const windows = containingWindows(c, facts);
  const dxTolerance = (i: number) => {
    let dyAbs = 0;
    for (const o of windows[i]) dyAbs += Math.abs(c.dy[o]);
    return referenceTolerance(entry.precision, dyAbs);
  };
  if (subnormal && !agrees(g.dx, ref.dx, dxTolerance)) {
    // SPEC.md §4 "Subnormal values": a device that flushes may rank x as if every subnormal were
    // a zero of its sign; dx then follows that ranking everywhere (one device, one mode).
    const flushed = referenceGradient({ ...referenceCase(c), x: flushSubnormals(c.x) }, c.dy);
    if (agrees(g.dx, flushed.dx, dxTolerance)) ref = { ...ref, dx: flushed.dx };
  }
  for (let i = 0; i < c.x.length; i++) {
    const held = windows[i];
    let dyAbs = 0;
    for (const o of held) dyAbs += Math.abs(c.dy[o]);
    v.compare(
      `${prefix}dx vs reference`,
      ref.dx[i],
      g.dx[i],
      referenceTolerance(entry.precision, dyAbs),
      () => locateInput(c.shape, i, held.length > 0 ? facts[held[0]] : undefined, held.length),
      "fail",
      note,
    );
  }
  const { t, windowsPerGroup } = rankSums(c, facts);
  const w = softmax(c.logits, c.k);
  for (let j = 0; j < n; j++) {
    v.compare(
      `${prefix}dLogits[${j}] vs reference`,
      ref.dLogits[j],
      g.dLogits[j],
      dLogitsTolerance(entry.precision, w[j], windowsPerGroup, groupMax(t, c.k, j)) +
        (subnormal ? subnormalDLogitsSlack(w[j], c.dy) : 0),
      () => undefined,
      "fail",
      note,
    );
  }
}

/** Largest finite element of `t` in the group of k holding index `j` (0 when none is finite). */
export function groupMax(t: ArrayLike<number>, k: number, j: number): number {
  const start = j - (j % k);
  let max = 0;
  for (let r = start; r < start + k; r++) if (Number.isFinite(t[r])) max = Math.max(max, t[r]);
  return max;
}

/** Whether `x` holds a float32 subnormal: a nonzero |v| below 2^-126 (SPEC.md §4 "Subnormal values"). */
export function hasSubnormal(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (isSubnormal32(x[i])) return true;
  return false;
}

/** Whether `v` is a float32 subnormal (nonzero, |v| < 2^-126). */
export function isSubnormal32(v: number): boolean {
  return v !== 0 && Math.abs(v) < FLOAT32_MIN_NORMAL;
}

/** `x` with every float32 subnormal replaced by a zero of its sign: the x a flushing device ranks. */
export function flushSubnormals(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => (isSubnormal32(v) ? (v < 0 ? -0 : 0) : v));
}

/** Whether every element of `actual` meets `expected` (NaN meets NaN, ±∞ itself, else within `tolerance(i)`). */
function agrees(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: (i: number) => number): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (!(Number.isNaN(a) && Number.isNaN(e))) return false;
    } else if (a !== e && !(Math.abs(a - e) <= tolerance(i))) return false;
  }
  return true;
}
