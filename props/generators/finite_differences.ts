/**
 * Finite differences on a case: the cell slots the coordinate checks move (one cell of every
 * window at a time), the step in x that keeps every rank order (a power of two below a quarter of
 * the smallest gap inside a window), and x moved by it, checked to be exact. testkit/tolerance.ts
 * explains why these make the differences exact up to the entry's rounding.
 *
 * @module
 */
import { isRepresentable, type WindowFacts } from "../../testkit/mod.ts";
import type { PropCase } from "./types.ts";

/**
 * The real input cells of slot `slot`: those at row `r`, column `q` with
 * `(r mod kh)·kw + (q mod kw) = slot` that lie in some window. No window holds two of them (two such
 * cells are at least kh rows or kw columns apart), so moving them all at once moves at most one cell
 * of each window; with the default windows the slot is the cell number inside each window.
 */
export function slotCells(
  c: Pick<PropCase, "shape" | "poolSize">,
  windows: readonly number[][],
  slot: number,
): number[] {
  const [nb, h, w, nc] = c.shape;
  const [kh, kw] = c.poolSize;
  const out: number[] = [];
  for (let b = 0; b < nb; b++) {
    for (let row = 0; row < h; row++) {
      if (row % kh !== Math.floor(slot / kw)) continue;
      for (let col = 0; col < w; col++) {
        if (col % kw !== slot % kw) continue;
        for (let ch = 0; ch < nc; ch++) {
          const i = ((b * h + row) * w + col) * nc + ch;
          if (windows[i].length > 0) out.push(i);
        }
      }
    }
  }
  return out;
}

/**
 * The slots a case's coordinate checks perturb: the first `count` of its slot order below kh·kw,
 * each with its cells (no window holds two of them); slots without a cell are passed over.
 */
export function slotsOf(c: PropCase, windows: readonly number[][], count: number): { slot: number; cells: number[] }[] {
  const area = c.poolSize[0] * c.poolSize[1];
  const out: { slot: number; cells: number[] }[] = [];
  for (const slot of c.params.slotOrder) {
    if (out.length >= count) break;
    if (slot >= area) continue;
    const cells = slotCells(c, windows, slot);
    if (cells.length > 0) out.push({ slot, cells });
  }
  return out;
}

/** A direction moving exactly the given elements by +1. */
export function unitDirection(n: number, cells: readonly number[]): Int8Array {
  const e = new Int8Array(n);
  for (const i of cells) e[i] = 1;
  return e;
}

/** Smallest nonzero |a - b| between participants of one window, over all windows (Infinity if none). */
export function smallestGap(infos: readonly WindowFacts[]): number {
  let gap = Infinity;
  for (const w of infos) {
    for (let p = 0; p < w.cells.length; p++) {
      for (let q = p + 1; q < w.cells.length; q++) {
        const d = Math.abs(w.cells[p].value - w.cells[q].value);
        if (d > 0 && d < gap) gap = d;
      }
    }
  }
  return gap;
}

/** Largest power of two ≤ v (v > 0, finite). */
export function powerOfTwoBelow(v: number): number {
  let p = 2 ** Math.floor(Math.log2(v));
  while (p > v) p /= 2;
  while (p * 2 <= v) p *= 2;
  return p;
}

/**
 * Finite-difference step in x: the largest power of two ≤ gap/4, where gap is the smallest
 * nonzero distance between two participants of one window (the case's unit when all are equal).
 * Moving every element by at most eps changes each pairwise difference by at most 2·eps ≤ gap/2,
 * so no rank order changes on [x - eps·v, x + eps·v]: the forward is linear there.
 */
export function fdStepX(c: PropCase, infos: readonly WindowFacts[]): number {
  const gap = smallestGap(infos);
  return powerOfTwoBelow((Number.isFinite(gap) ? Math.min(gap, c.unit) : c.unit) / 4);
}

/**
 * x + step·dir, checked to be exact in the case's precision (and in float64: the sum must round
 * to itself, which holds when step divides the values' spacing). Throws when it is not, since an
 * inexact perturbation would make the finite difference test something else.
 */
export function perturb(c: PropCase, x: Float64Array, step: number, dir: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] + step * dir[i];
    if (dir[i] !== 0 && (!isRepresentable(v, c.precision) || v - x[i] !== step * dir[i])) {
      throw new Error(`harness invariant broken: ${x[i]} + ${step}·${dir[i]} is not exact in ${c.precision}`);
    }
    out[i] = dir[i] === 0 ? x[i] : v;
  }
  return out;
}
