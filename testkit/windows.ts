/**
 * Window facts: every window of a case as the spec sees it (its cells, their rank order, the
 * magnitudes tolerances scale with), and the windows holding each input cell. One computation for
 * the property checks (props/) and the conformance kit (conformance/compare.ts); the window
 * arithmetic itself (geometry, cells, ranking) is src/spec.ts's.
 *
 * @module
 */
import {
  type AxisGeometry,
  coordinatesOf,
  inputCol,
  inputRow,
  outputIndex,
  type PoolGeometry,
  poolGeometry,
  rankCells,
  rankSumTerm,
  sizeOf,
  weightOffset,
  type WindowCell,
  windowCells,
  windowsContaining,
} from "../src/spec.ts";
import type { Padding, Pair, Shape4 } from "../src/types.ts";
import type { ValidCase } from "../src/validate.ts";

/** What window facts need of a case: its shape, k, padding and (optional: 2x2/2) window. */
export interface WindowedCase {
  readonly shape: Shape4;
  readonly k: number;
  readonly padding: Padding;
  readonly poolSize?: Pair;
  readonly strides?: Pair;
}

/** One window of a case as the spec ranks it, with its output index and magnitudes. */
export interface WindowFacts {
  /** Flat output index. */
  readonly out: number;
  readonly b: number;
  readonly oh: number;
  readonly ow: number;
  readonly ch: number;
  /** The case's window geometry (shared by all its windows). */
  readonly geometry: PoolGeometry;
  /** Participating cells in window order (padded zeros for k > 1 included; k = 1 leaves padded cells out). */
  readonly cells: readonly WindowCell[];
  /** Participants in spec rank order (the same cell objects as `cells`). */
  readonly ranked: readonly WindowCell[];
  /** max |value| over the top k ranked values, NaN left out (0 when they are all zero). */
  readonly topAbs: number;
  /** max |value| over all participants, NaN left out. */
  readonly allAbs: number;
  /** Smallest and largest participant (NaN-free windows only; NaN otherwise). */
  readonly min: number;
  readonly max: number;
}

/** The geometry of a case (src/spec.ts `poolGeometry`; no window given: 2x2/2). */
export function caseGeometry(c: Pick<WindowedCase, "shape" | "padding" | "poolSize" | "strides">): PoolGeometry {
  return poolGeometry(c.shape, c.padding, { poolSize: c.poolSize, strides: c.strides });
}

/** Every window of `x` under the case's shape, k, padding and window, in output order. */
export function windowFacts(c: WindowedCase, x: ArrayLike<number>): WindowFacts[] {
  const g = caseGeometry(c);
  const facts: WindowFacts[] = [];
  const [nb, , , nc] = c.shape;
  let o = 0;
  for (let b = 0; b < nb; b++) {
    for (let oh = 0; oh < g.rows.out; oh++) {
      for (let ow = 0; ow < g.cols.out; ow++) {
        for (let ch = 0; ch < nc; ch++) {
          const cells = windowCells(x, c.shape, c.k, b, oh, ow, ch, g);
          const ranked = rankCells(cells);
          let topAbs = 0;
          // NaN is left out of the magnitudes (an output with NaN in its top k is NaN and is compared
          // exactly), so that tolerances stay numbers.
          for (let r = 0; r < c.k && r < ranked.length; r++) {
            if (!Number.isNaN(ranked[r].value)) topAbs = Math.max(topAbs, Math.abs(ranked[r].value));
          }
          let allAbs = 0;
          let min = Infinity;
          let max = -Infinity;
          for (const cell of cells) {
            if (!Number.isNaN(cell.value)) allAbs = Math.max(allAbs, Math.abs(cell.value));
            min = Math.min(min, cell.value);
            max = Math.max(max, cell.value);
          }
          facts.push({ out: o++, b, oh, ow, ch, geometry: g, cells, ranked, topAbs, allAbs, min, max });
        }
      }
    }
  }
  return facts;
}

/** Whether some input position along `axis` lies in two or more windows. */
function axisOverlaps(axis: AxisGeometry): boolean {
  if (axis.stride >= axis.window || axis.out < 2) return false;
  for (let p = 0; p < axis.size; p++) {
    const [first, last] = windowsContaining(axis, p);
    if (last > first) return true;
  }
  return false;
}

/** Whether some input cell lies in two or more windows of `g` (SPEC.md §2: overlapping windows). */
export function hasOverlap(g: PoolGeometry): boolean {
  return axisOverlaps(g.rows) || axisOverlaps(g.cols);
}

/**
 * For every input index, the output indices of the windows holding it as a real cell, in output
 * order (empty: in no window, e.g. dropped by "valid" or in a gap between windows). With the
 * default windows every list has at most one element; with overlapping windows up to
 * ceil(kh/sh)·ceil(kw/sw).
 */
export function containingWindows(c: { readonly shape: Shape4 }, facts: readonly WindowFacts[]): number[][] {
  const lists: number[][] = Array.from({ length: sizeOf(c.shape) }, () => []);
  for (const w of facts) for (const cell of w.cells) if (cell.index >= 0) lists[cell.index].push(w.out);
  return lists;
}

/**
 * Per-rank sums `s[j] = Σ_windows ranked_r·dy` and `t[j] = Σ |ranked_r·dy|` (spec ranking, float64;
 * padded cells add exactly 0), indexed like the logits: `j = r` for shared logits, `j = c·k + r`
 * per channel, each channel's windows only (SPEC.md §5 "Gradient"). `windowsPerGroup` is the number
 * of windows summed into each group.
 */
export function rankSums(
  c: { readonly k: number; readonly logits: readonly number[]; readonly dy: ArrayLike<number>; readonly shape: Shape4 },
  facts: readonly WindowFacts[],
): { s: Float64Array; t: Float64Array; windowsPerGroup: number } {
  const n = c.logits.length;
  const s = new Float64Array(n);
  const t = new Float64Array(n);
  for (const w of facts) {
    const base = weightOffset(n, c.k, w.ch);
    for (let r = 0; r < c.k; r++) {
      const term = rankSumTerm(w.ranked[r], c.dy[w.out]);
      s[base + r] += term;
      t[base + r] += Math.abs(term);
    }
  }
  return { s, t, windowsPerGroup: n === c.k ? facts.length : facts.length / c.shape[3] };
}

/** A valid case with its geometry, output shape and every window, in output order. */
export interface CaseWindows {
  readonly c: ValidCase;
  readonly g: PoolGeometry;
  readonly outShape: Shape4;
  readonly windows: readonly WindowFacts[];
}

/** The windows of a valid case ({@link windowFacts} of its x), in output order. */
export function caseWindows(c: ValidCase): CaseWindows {
  const g = caseGeometry(c);
  const outShape: Shape4 = [c.shape[0], g.rows.out, g.cols.out, c.shape[3]];
  return { c, g, outShape, windows: windowFacts(c, c.x) };
}

/** One window containing an input cell: the window, the cell's number in it and its spec rank there. */
export interface Membership {
  readonly window: WindowFacts;
  readonly cell: number;
  /** Spec rank of the cell there; -1 when it is not a participant (a padded position for k = 1 cannot be one). */
  readonly rank: number;
}

/**
 * The windows that contain input element `i` (src/spec.ts `windowsContaining` on both axes), in
 * output order (SPEC §5: the order of a cell's dx sum), each with the cell's number and rank there.
 */
export function membershipsOf(cw: CaseWindows, i: number): Membership[] {
  const { b, row, col, ch } = coordinatesOf(cw.c.shape, i);
  const [r0, r1] = windowsContaining(cw.g.rows, row);
  const [c0, c1] = windowsContaining(cw.g.cols, col);
  const out: Membership[] = [];
  for (let oh = r0; oh <= r1; oh++) {
    for (let ow = c0; ow <= c1; ow++) {
      const window = cw.windows[outputIndex(cw.outShape, b, oh, ow, ch)];
      const cell = (row - inputRow(cw.g, oh, 0)) * cw.g.poolSize[1] + (col - inputCol(cw.g, ow, 0));
      const p = window.cells.find((q) => q.index === i);
      out.push({ window, cell, rank: p ? window.ranked.indexOf(p) : -1 });
    }
  }
  return out;
}
