/**
 * Comparisons the properties share: one output against the reference (value, then the sign of a
 * zero, a tie of zeros making a sign mismatch a deviation), dx under the spec's tie rule, dLogits
 * against the rank sums' tolerance, and the scales and locations they report.
 *
 * @module
 */
import type { Implementation } from "../../src/types.ts";
import {
  dLogitsTolerance,
  formatNumber,
  type Precision,
  rankSums,
  referenceTolerance,
  subnormalForwardSlack,
  type WindowFacts,
} from "../../testkit/mod.ts";
import { groupMax, hasSubnormal } from "../agreement.ts";
import type { PropCase, ValueKind } from "../generators.ts";
import { locateInput, locateOutput, type VerdictBuilder } from "../verdict.ts";
import { weightAt } from "./oracle.ts";

/**
 * Compares one output with the reference: the value ("fail" beyond `tolerance`) and, where both are
 * zeros, the sign (SPEC.md §5). A sign mismatch in a window where two zeros tie (+0 and -0, or a
 * padded zero) is a tie-rule "deviation" (which zero ranks first decides the sign), elsewhere a
 * failure.
 */
export function compareOutput(
  v: VerdictBuilder,
  label: string,
  info: WindowFacts,
  expected: number,
  actual: number,
  tolerance: number,
  note?: () => string,
): void {
  const where = () => locateOutput(info);
  if (!v.compare(label, expected, actual, tolerance, where, "fail", note)) return;
  const zeroTie = info.cells.filter((q) => q.value === 0).length >= 2;
  v.sameSign(label, expected, actual, where, zeroTie ? "deviation" : "fail", note);
}

/** Whether `actual` meets `expected` as {@link compareOutput} requires: NaN, ±Infinity, value within `tolerance`, zero sign. */
export function sameOutput(expected: number, actual: number, tolerance: number): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return expected === actual;
  if (expected === 0 && actual === 0) return Object.is(expected, actual);
  return Math.abs(expected - actual) <= tolerance;
}

/** |v| for finite v, else 0 (a non-finite dy gives non-finite or exactly-zero dx: compared exactly). */
export function finiteAbs(v: number): number {
  return Number.isFinite(v) ? Math.abs(v) : 0;
}

/** Σ |dy| (finite ones) over the windows holding an element: the scale of its dx (weights are ≤ 1). */
export function dyScale(c: PropCase, held: readonly number[]): number {
  let sum = 0;
  for (const o of held) sum += finiteAbs(c.dy[o]);
  return sum;
}

/** Where an input element shows: the first window holding it, and how many do. */
export function locateElement(c: PropCase, facts: readonly WindowFacts[], held: readonly number[], i: number) {
  return locateInput(c.shape, i, held.length > 0 ? facts[held[0]] : undefined, held.length);
}

/** Value kinds without NaN or ±Infinity (float32 subnormals included). */
export const FINITE_KINDS: readonly ValueKind[] = [
  "distinct",
  "ties",
  "near-ties",
  "huge",
  "tiny",
  "mixed",
  "subnormals",
];

/**
 * Extra absolute allowance on a y of `entry` on case `c`: nonzero only for a float32 entry whose x
 * holds float32 subnormals, which a flushing device may treat as zeros (SPEC.md §4 "Subnormal
 * values").
 */
export function subnormalSlack(entry: Implementation, c: PropCase): number {
  return entry.precision === "float32" && hasSubnormal(c.x) ? subnormalForwardSlack(c.k) : 0;
}

/** "NaN", "+Inf", "-Inf" or "finite". */
export function classOf(d: number): string {
  return Number.isNaN(d) ? "NaN" : d === Infinity ? "+Inf" : d === -Infinity ? "-Inf" : "finite";
}

/** Equal for ranking purposes: the same number (+0 == -0), or both NaN. */
export function tiedValues(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * dx vs the reference where ties occur: a mismatch at a cell tied with another participant of one
 * of its windows is a "deviation" (a different tie rule; reported, and a failure unless the entry
 * declares it), any other mismatch a failure.
 */
export function compareDxAtTies(
  v: VerdictBuilder,
  p: Precision,
  c: PropCase,
  facts: readonly WindowFacts[],
  windows: readonly number[][],
  w: ArrayLike<number>,
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): void {
  for (let i = 0; i < c.x.length; i++) {
    const held = windows[i];
    const tied = held.some((o) => facts[o].cells.filter((q) => tiedValues(q.value, c.x[i])).length > 1);
    v.compareSigned(
      tied ? "dx vs reference under the spec's tie rule" : "dx vs reference (untied cell)",
      expected[i],
      actual[i],
      referenceTolerance(p, dyScale(c, held)),
      () => locateElement(c, facts, held, i),
      tied ? "deviation" : "fail",
      () => {
        // Which rank's weight did the entry route here? Helps read a tie-rule deviation.
        if (held.length === 0) return "element in no window";
        if (held.length > 1) {
          const terms = held.map((o) => {
            const rank = facts[o].ranked.findIndex((q) => q.index === i);
            return `window (${facts[o].oh}, ${facts[o].ow}): rank ${rank}, dy ${formatNumber(c.dy[o])}`;
          });
          return `a sum over ${held.length} windows: ${terms.join("; ")}`;
        }
        const info = facts[held[0]];
        const dy = c.dy[info.out];
        if (dy === 0) return "dy = 0";
        const rank = info.ranked.findIndex((q) => q.index === i);
        const own = Array.from({ length: c.k }, (_, r) => weightAt(w, c, info.ch, r));
        const matches = own.map((wr, r) => ({ r, err: Math.abs(wr * dy - actual[i]) })).sort((a, b) => a.err - b.err);
        return `spec rank ${rank} gets ${
          rank < c.k ? `w[${rank}]·dy = ${formatNumber(own[rank] * dy)}` : "0"
        }; entry's dx ` +
          `is closest to w[${matches[0].r}]·dy = ${formatNumber(own[matches[0].r] * dy)} (dy ${formatNumber(dy)})`;
      },
    );
  }
}

/** dLogits vs reference, shared by vjp-ref and ties (per-channel: each group against its own rank sums). */
export function compareDLogits(
  v: VerdictBuilder,
  p: Precision,
  c: PropCase,
  facts: readonly WindowFacts[],
  w: ArrayLike<number>,
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): void {
  const { s, t, windowsPerGroup } = rankSums(c, facts);
  for (let j = 0; j < c.logits.length; j++) {
    v.compare(
      `dLogits[${j}] vs reference`,
      expected[j],
      actual[j],
      dLogitsTolerance(p, w[j], windowsPerGroup, groupMax(t, c.k, j)),
      () => undefined,
      "fail",
      () => {
        const start = j - (j % c.k);
        const group = (a: ArrayLike<number>) => Array.from(a).slice(start, start + c.k).map(formatNumber).join(", ");
        return `${c.logits.length > c.k ? `channel ${start / c.k}: ` : ""}rank sums s = [${group(s)}], weights [${
          group(w)
        }]`;
      },
    );
  }
}
