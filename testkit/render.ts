/**
 * Failure text: numbers with -0, NaN and ±Infinity visible, a window's cells with their spec
 * ranks, the input rows and columns a window spans, and where an output or input element is in
 * words. The property reports (props/verdict.ts, props/report.ts) and the conformance kit
 * (conformance/compare.ts) render windows through these.
 *
 * @module
 */
import { cellCol, cellRow, coordinatesOf, inputCol, inputRow, type PoolGeometry, weightOffset } from "../src/spec.ts";
import { type CaseWindows, type Membership, membershipsOf, type WindowFacts } from "./windows.ts";

/** A number for reports: -0, NaN and ±Infinity visible, at most 12 significant digits when long. */
export function formatNumber(v: number): string {
  if (Object.is(v, -0)) return "-0";
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const s = String(v);
  return s.length > 14 ? v.toPrecision(12) : s;
}

/** A number in full (shortest round-trip) precision, with -0 visible: for answers compared bit for bit. */
export function formatNumberExact(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

/**
 * A window's cells in words, `RC=value rN` per cell (R, C: row and column offset in the window; N:
 * spec rank), `pad 0` for a padded zero that ranks (k > 1) and `pad(ignored)` for a padded
 * position that does not (k = 1), joined by " | ". `format` renders the values.
 */
export function describeWindowCells(w: WindowFacts, format: (v: number) => string): string {
  const kw = w.geometry.poolSize[1];
  const parts: string[] = [];
  for (let cell = 0; cell < w.geometry.cells; cell++) {
    const label = `${cellRow(cell, kw)}${cellCol(cell, kw)}`;
    const p = w.cells.find((q) => q.cell === cell);
    if (!p) {
      parts.push(`${label}=pad(ignored)`);
      continue;
    }
    parts.push(`${label}=${p.index < 0 ? "pad 0" : format(p.value)} r${w.ranked.indexOf(p)}`);
  }
  return parts.join(" | ");
}

/**
 * The input rows and columns (inclusive) window (oh, ow) of `g` spans; they reach into the padding
 * where they are negative or past the input.
 */
export function windowSpan(
  g: PoolGeometry,
  oh: number,
  ow: number,
): { rows: [number, number]; cols: [number, number] } {
  return {
    rows: [inputRow(g, oh, 0), inputRow(g, oh, g.poolSize[0] - 1)],
    cols: [inputCol(g, ow, 0), inputCol(g, ow, g.poolSize[1] - 1)],
  };
}

/** "rows 3..5" or "row 3", with the rows outside 0..size-1 named as padding. */
function spanText(what: string, [first, last]: readonly [number, number], size: number): string {
  const range = first === last ? `${what} ${first}` : `${what}s ${first}..${last}`;
  const padded = [];
  if (first < 0) padded.push(`${-first} before the input`);
  if (last >= size) padded.push(`${last - size + 1} after it`);
  return padded.length > 0 ? `${range} (padding: ${padded.join(", ")})` : range;
}

/** Where output element `w.out` is, in words: position, its window's input rows and columns, every cell and rank. */
export function whereOutput(cw: CaseWindows, w: WindowFacts): string {
  const [kh, kw] = cw.g.poolSize;
  const span = windowSpan(cw.g, w.oh, w.ow);
  const rows = spanText("row", span.rows, cw.c.shape[1]);
  const cols = spanText("column", span.cols, cw.c.shape[2]);
  return `batch ${w.b}, row ${w.oh}, column ${w.ow}, channel ${w.ch} of y; its ${kh}x${kw} window: input ${rows}, ` +
    `${cols}, cells (row-column: value, spec rank) ${describeWindowCells(w, formatNumberExact)}`;
}

/**
 * Where input element `i` is, in words: its coordinates, then every window containing it with the
 * cell's number and spec rank there and whether it is kept (rank < k). With one window, that
 * window's cells too; with several (overlapping windows), each kept one's term w[r]·dy when
 * `terms` gives the weights and dy: the cell's dx is their sum, in this order (SPEC §5).
 */
export function whereInput(
  cw: CaseWindows,
  i: number,
  terms?: { readonly w: ArrayLike<number>; readonly dy: ArrayLike<number> },
): string {
  const { b, row, col, ch } = coordinatesOf(cw.c.shape, i);
  const head = `batch ${b}, row ${row}, column ${col}, channel ${ch} of x`;
  const k = cw.c.k;
  const members = membershipsOf(cw, i);
  if (members.length === 0) {
    return `${head}: in no window (a row or column that "valid" drops, or that a stride longer than the window ` +
      "skips): its dx is exactly +0";
  }
  const kept = (m: Membership) => m.rank >= 0 && m.rank < k ? `kept (rank < k = ${k})` : `not kept (rank >= k = ${k})`;
  if (members.length === 1) {
    const m = members[0];
    return `${head}: cell ${m.cell} of the window at y row ${m.window.oh}, column ${m.window.ow}, spec rank ` +
      `${m.rank}, ${kept(m)}; window cells (row-column: value, spec rank) ${
        describeWindowCells(m.window, formatNumberExact)
      }`;
  }
  const base = weightOffset(cw.c.logits.length, k, ch);
  const parts = members.map((m) => {
    let term = "";
    if (terms && m.rank >= 0 && m.rank < k) {
      term = `, w[${m.rank}]·dy = ${formatNumberExact(terms.w[base + m.rank] * terms.dy[m.window.out])}`;
    }
    return `y row ${m.window.oh}, column ${m.window.ow}: cell ${m.cell}, spec rank ${m.rank}, ${kept(m)}${term}`;
  });
  const keptCount = members.filter((m) => m.rank >= 0 && m.rank < k).length;
  return `${head}: in ${members.length} overlapping windows, kept by ${keptCount}; its dx is the sum of ` +
    `w[r]·dy over those, in this order, starting from the first term (SPEC §5): ${parts.join("; ")}`;
}
