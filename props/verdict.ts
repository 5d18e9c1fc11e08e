/**
 * What a property check returns: the mismatches it found, each with the place in the case where it
 * shows (window, cell, rank), expected vs actual and the tolerance used. Windows and numbers are
 * rendered by testkit/render.ts, as in the conformance kit's reports.
 *
 * @module
 */
import { coordinatesOf } from "../src/spec.ts";
import type { Shape4 } from "../src/types.ts";
import { describeWindowCells, formatNumber, type WindowFacts, windowSpan } from "../testkit/mod.ts";

/**
 * "fail": the entry is wrong. "deviation": the entry routes a gradient at an exact tie differently
 * from the spec's tie rule; a failure unless the entry declares `ties: {kind: "deviates"}`.
 */
export type Severity = "fail" | "deviation";

/** Where a mismatch shows. */
export interface Location {
  /** Batch, and the window's output row, column and channel. */
  readonly b: number;
  readonly oh: number;
  readonly ow: number;
  readonly ch: number;
  /** Input rows and columns the window spans (inclusive; may reach into the padding: negative or ≥ H). */
  readonly rows?: readonly [number, number];
  readonly cols?: readonly [number, number];
  /** The input element (row, column) and its window cell (row-major in the window) when the mismatch is about one. */
  readonly row?: number;
  readonly col?: number;
  readonly cell?: number;
  /** Spec rank of that cell (0 = largest), -1 when it is not a participant (k = 1 padding). */
  readonly rank?: number;
  /** How many windows hold the element (overlapping windows: more than one; this location names the first). */
  readonly windows?: number;
  /** The window's values and spec ranks, e.g. `00=3 r1 | 01=pad r3 | 10=-1 r2 | 11=7 r0`. */
  readonly window: string;
}

/** One mismatch. */
export interface Mismatch {
  /** Which comparison, e.g. "dx vs reference" or "per-window directional derivative". */
  readonly check: string;
  readonly severity: Severity;
  /** Undefined for whole-case mismatches (wrong output shape, an exception). */
  readonly where?: Location;
  readonly expected: string;
  readonly actual: string;
  /** |actual − expected| / tolerance (Infinity for a mismatch that has no tolerance, e.g. NaN vs number). */
  readonly ratio: number;
  readonly tolerance?: number;
  readonly note?: string;
}

/** Result of one property on one case. */
export interface Verdict {
  /** Mismatches found (at most a few per check, worst first). */
  readonly mismatches: Mismatch[];
  /** Largest |error| / tolerance over every comparison that passed (how close to the bound it came). */
  readonly worstPassingRatio: number;
  /** How many scalar comparisons were made. */
  readonly comparisons: number;
}

/** The window as text: each cell's value (or "pad") and spec rank; cells labelled by row and column offset. */
function describeWindow(w: WindowFacts): string {
  return describeWindowCells(w, formatNumber);
}

/** Location of an output (a whole window). */
export function locateOutput(w: WindowFacts): Location {
  return { b: w.b, oh: w.oh, ow: w.ow, ch: w.ch, ...windowSpan(w.geometry, w.oh, w.ow), window: describeWindow(w) };
}

/**
 * Location of an input element inside the first window holding it (`w` undefined: in no window).
 * `windows` is how many windows hold it (default 1).
 */
export function locateInput(shape: Shape4, index: number, w: WindowFacts | undefined, windows = 1): Location {
  const { b, row, col, ch } = coordinatesOf(shape, index);
  if (!w) {
    return { b, oh: -1, ow: -1, ch, row, col, windows: 0, window: 'in no window (dropped by "valid", or a gap)' };
  }
  const p = w.cells.find((c) => c.index === index);
  return {
    b,
    oh: w.oh,
    ow: w.ow,
    ch,
    ...windowSpan(w.geometry, w.oh, w.ow),
    row,
    col,
    cell: p?.cell,
    rank: p ? w.ranked.indexOf(p) : -1,
    windows,
    window: describeWindow(w),
  };
}

/** Renders a location on one line. */
export function formatLocation(loc: Location): string {
  const head = loc.rows && loc.cols
    ? `batch ${loc.b}, channel ${loc.ch}, window (${loc.oh}, ${loc.ow}) = rows ${loc.rows[0]}..${loc.rows[1]}, ` +
      `cols ${loc.cols[0]}..${loc.cols[1]}`
    : `batch ${loc.b}, channel ${loc.ch}`;
  const shared = loc.windows !== undefined && loc.windows > 1 ? ` (one of ${loc.windows} windows holding it)` : "";
  const cell = loc.row === undefined
    ? ""
    : `; element row ${loc.row}, col ${loc.col}${loc.cell === undefined ? "" : `, cell ${loc.cell}`}${
      loc.rank === undefined ? "" : `, spec rank ${loc.rank}`
    }${shared}`;
  return `${head}${cell}; window: ${loc.window}`;
}

/** Accumulates comparisons into a verdict, keeping the worst few mismatches of each check. */
export class VerdictBuilder {
  private readonly found = new Map<string, Mismatch[]>();
  private worst = 0;
  private count = 0;
  /** Mismatches kept per check. */
  static readonly KEEP = 3;

  /** Records a mismatch directly. */
  add(m: Mismatch): void {
    const list = this.found.get(m.check) ?? [];
    list.push(m);
    list.sort((p, q) => q.ratio - p.ratio);
    if (list.length > VerdictBuilder.KEEP) list.length = VerdictBuilder.KEEP;
    this.found.set(m.check, list);
  }

  /**
   * Compares `actual` with `expected` within `tolerance`. NaN must meet NaN, ±Infinity must be
   * matched exactly, +0 and -0 are equal. `where` is only called for a mismatch.
   */
  compare(
    check: string,
    expected: number,
    actual: number,
    tolerance: number,
    where: () => Location | undefined,
    severity: Severity = "fail",
    note?: () => string,
  ): boolean {
    this.count++;
    let ok: boolean;
    let ratio: number;
    if (Number.isNaN(expected) || Number.isNaN(actual)) {
      ok = Number.isNaN(expected) && Number.isNaN(actual);
      ratio = ok ? 0 : Infinity;
    } else if (!Number.isFinite(expected) || !Number.isFinite(actual)) {
      ok = expected === actual;
      ratio = ok ? 0 : Infinity;
    } else {
      const err = Math.abs(actual - expected);
      ok = err === 0 || err <= tolerance;
      ratio = err === 0 ? 0 : tolerance > 0 ? err / tolerance : Infinity;
    }
    if (ok) {
      this.worst = Math.max(this.worst, ratio);
      return true;
    }
    this.add({
      check,
      severity,
      where: where(),
      expected: formatNumber(expected),
      actual: formatNumber(actual),
      ratio,
      tolerance,
      note: note?.(),
    });
    return false;
  }

  /**
   * Where `expected` and `actual` are both zeros, checks that their signs match (Object.is); passes
   * anything else (compare the values themselves with {@link compare}). For the values whose zero
   * sign SPEC.md §5 fixes: y (summed from the first product), dx (w[r]·dy at kept cells, +0
   * elsewhere), dLogits for k = 1 (+0).
   */
  sameSign(
    check: string,
    expected: number,
    actual: number,
    where: () => Location | undefined,
    severity: Severity = "fail",
    note?: () => string,
  ): boolean {
    this.count++;
    if (!(expected === 0 && actual === 0) || Object.is(expected, actual)) return true;
    this.add({
      check: `${check}: sign of a zero (SPEC.md §5 fixes it)`,
      severity,
      where: where(),
      expected: formatNumber(expected),
      actual: formatNumber(actual),
      ratio: Infinity,
      tolerance: 0,
      note: note?.(),
    });
    return false;
  }

  /** {@link compare}, then {@link sameSign} with the same severity. */
  compareSigned(
    check: string,
    expected: number,
    actual: number,
    tolerance: number,
    where: () => Location | undefined,
    severity: Severity = "fail",
    note?: () => string,
  ): boolean {
    if (!this.compare(check, expected, actual, tolerance, where, severity, note)) return false;
    return this.sameSign(check, expected, actual, where, severity, note);
  }

  /**
   * Checks lo − tolerance ≤ actual ≤ hi + tolerance (NaN never passes). `expected` is shown as
   * the interval.
   */
  within(
    check: string,
    lo: number,
    hi: number,
    actual: number,
    tolerance: number,
    where: () => Location | undefined,
    note?: () => string,
  ): boolean {
    this.count++;
    const below = lo - actual;
    const above = actual - hi;
    const err = Number.isNaN(actual) ? Infinity : Math.max(below, above, 0);
    const ok = err <= tolerance;
    const ratio = err === 0 ? 0 : tolerance > 0 ? err / tolerance : Infinity;
    if (ok) {
      this.worst = Math.max(this.worst, ratio);
      return true;
    }
    this.add({
      check,
      severity: "fail",
      where: where(),
      expected: `within [${formatNumber(lo)}, ${formatNumber(hi)}]`,
      actual: formatNumber(actual),
      ratio,
      tolerance,
      note: note?.(),
    });
    return false;
  }

  /** Records a whole-case failure (wrong shape, exception, ...). */
  fail(check: string, expected: string, actual: string, note?: string): void {
    this.count++;
    this.add({ check, severity: "fail", expected, actual, ratio: Infinity, note });
  }

  /** The verdict: failures first, then deviations, worst first. */
  build(): Verdict {
    const all = [...this.found.values()].flat();
    all.sort((p, q) => (p.severity === q.severity ? q.ratio - p.ratio : p.severity === "fail" ? -1 : 1));
    return { mismatches: all, worstPassingRatio: this.worst, comparisons: this.count };
  }
}
