/**
 * Number formatting shared by the benchmark reports (console, Markdown, README tables).
 *
 * @module
 */
import type { RowRatio } from "./rows.ts";

/** Milliseconds with 3-4 significant digits. */
export function formatMs(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** A ratio with its interval in few digits, e.g. "0.191 [0.185, 0.197]"; whole numbers for percent. */
export function formatRatio(r: Pick<RowRatio, "median" | "low" | "high">, percent = false): string {
  const f = (v: number) => (percent ? v.toFixed(0) : v.toPrecision(3));
  return `${f(r.median)} [${f(r.low)}, ${f(r.high)}]`;
}

/** Short engineering notation: 1.5k, 2.3M, 4G. */
export function formatSi(value: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [scale, suffix] of units) {
    if (Math.abs(value) >= scale) return `${Number((value / scale).toPrecision(3))}${suffix}`;
  }
  return `${Number(value.toPrecision(3))}`;
}

/** Escapes the cell separator of a Markdown table. */
export function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}
