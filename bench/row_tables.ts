/**
 * Tables of a suite's rows (bench/rows.ts): the aligned console table and the Markdown table of
 * every figure of every row, and the compact per-group table of the README's results section.
 * Used by the shape suites and the 3x3/2 suite.
 *
 * @module
 */
import type { BenchPass } from "../harness/measure/passes.ts";
import { escapeCell, formatMs, formatRatio, formatSi } from "./format.ts";
import type { Group } from "./plan.ts";
import type { ResultRow, SuiteResult } from "./rows.ts";

/** Short pass names of the tables. */
export const PASS_LABEL: Readonly<Record<BenchPass, string>> = { forward: "fwd", forwardBackward: "fwd+bwd" };

/** "wgsl k=4", or the subject when it has no k. */
export function rowLabel(r: ResultRow): string {
  return r.k === null ? r.subject : `${r.subject} k=${r.k}`;
}

function note(r: ResultRow): string {
  const parts: string[] = [];
  if (r.status !== "ok") parts.push(`${r.status.toUpperCase()}: ${r.reason ?? ""}`);
  else if (r.reason) parts.push(r.reason);
  if (r.status === "ok" && r.deviceNote) parts.push(`wall clock: ${r.deviceNote}`);
  return parts.join("; ");
}

const HEADER = [
  "subject",
  "pass",
  "timer",
  "median ms",
  "MAD",
  "min",
  "max",
  "n",
  "wall ms",
  "elem/s",
  "GB/s",
  "x maxPool [95%]",
  "% copy bw [95%]",
  "note",
];

function cells(r: ResultRow): string[] {
  const ok = r.status === "ok";
  const summary = r.timer === "gpu-timestamps" ? r.device : r.wall;
  return [
    rowLabel(r),
    PASS_LABEL[r.pass],
    ok ? (r.timer === "gpu-timestamps" ? "gpu-ts" : "wall") : "-",
    ok && r.ms !== null ? formatMs(r.ms) : "-",
    summary ? formatMs(summary.mad) : "-",
    summary ? formatMs(summary.min) : "-",
    summary ? formatMs(summary.max) : "-",
    summary ? String(summary.n) : "0",
    r.wall ? formatMs(r.wall.median) : "-",
    r.elementsPerSecond !== null ? formatSi(r.elementsPerSecond) : "-",
    r.gigabytesPerSecond !== null ? r.gigabytesPerSecond.toPrecision(3) : "-",
    r.vsMaxPool !== null ? formatRatio(r.vsMaxPool) : "-",
    r.copyPercent !== null ? formatRatio(r.copyPercent, true) : r.group === "cpu" ? "n/a" : "-",
    note(r),
  ];
}

/** One line naming a suite: group, shape, window, queue round trip, tensor check, duration. */
export function suiteHeading(s: SuiteResult): string {
  const window = s.window
    ? ` | window ${s.window.poolSize?.join("x") ?? "2x2"}, stride ${
      (s.window.strides ?? s.window.poolSize)?.join("x")
    }, ` +
      `"${s.padding}"`
    : "";
  const parts = [
    `${s.group} | ${s.shapeLabel} ${s.shape.join("x")} (${
      formatSi(s.shape.reduce((a, b) => a * b))
    } elements)${window}`,
  ];
  if (s.queueRoundTrip) {
    parts.push(`queue round trip (empty submit + onSubmittedWorkDone) median ${formatMs(s.queueRoundTrip.median)} ms`);
  }
  if (s.tensors) parts.push(`tensors ${s.tensors.before} -> ${s.tensors.after}`);
  if (s.durationMs > 0) parts.push(`${(s.durationMs / 1000).toFixed(1)} s`);
  return parts.join(" | ");
}

/** The console table of suites: one block per suite, aligned columns. */
export function consoleTable(suites: readonly SuiteResult[]): string {
  const out: string[] = [];
  for (const s of suites) {
    out.push("", `== ${suiteHeading(s)}`);
    if (s.skipped) {
      out.push(`   skipped: ${s.skipped}`);
      continue;
    }
    const table = [HEADER, ...s.rows.map(cells)];
    const widths = HEADER.map((_, c) => Math.max(...table.map((row) => row[c].length)));
    for (const row of table) {
      out.push(
        row.map((cell, c) => (c === row.length - 1 ? cell : c <= 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
          .join("  ").trimEnd(),
      );
    }
    for (const f of s.failures) out.push(`   FAILURE: ${f}`);
  }
  return out.join("\n") + "\n";
}

/** A suite's Markdown section: heading, then its table (or why it was skipped) and failures. */
export function markdownSuite(s: SuiteResult): string {
  const lines = [`### ${suiteHeading(s)}`, ""];
  if (s.skipped) return [...lines, `Skipped: ${s.skipped}`].join("\n");
  lines.push(
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map((_, c) => (c <= 2 || c === HEADER.length - 1 ? "---" : "---:")).join("|")}|`,
    ...s.rows.map((r) => `| ${cells(r).map(escapeCell).join(" | ")} |`),
  );
  for (const f of s.failures) lines.push("", `FAILURE: ${f}`);
  return lines.join("\n");
}

/** A compact cell: median ms (wall marked), then the ratio to tf.maxPool and % of copy bandwidth. */
function compactCell(r: ResultRow | undefined): string {
  if (!r) return "";
  if (r.status !== "ok" || r.ms === null) return r.status;
  const parts = [`${formatMs(r.ms)}${r.timer === "gpu-timestamps" ? "" : " (wall)"}`];
  const extra: string[] = [];
  if (r.vsMaxPool !== null && !r.subject.startsWith("tf.maxPool")) extra.push(`${r.vsMaxPool.median.toPrecision(2)}x`);
  if (r.copyPercent !== null && r.kind !== "copy") {
    extra.push(
      `${r.copyPercent.median.toFixed(0)}% [${r.copyPercent.low.toFixed(0)}-${r.copyPercent.high.toFixed(0)}]`,
    );
  }
  if (extra.length > 0) parts.push(`(${extra.join(", ")})`);
  return parts.join(" ");
}

/** Compact table of one group: rows (shape, k, pass), one column per subject; skips summarised below. */
export function compactGroupTable(suites: readonly SuiteResult[], group: Group): string[] {
  const measured = suites.filter((s) => s.group === group && !s.skipped);
  const rows = measured.flatMap((s) => s.rows);
  if (rows.length === 0) return [];
  const subjects = [...new Set(rows.map((r) => r.subject))];
  const ks = [...new Set(rows.filter((r) => r.k !== null).map((r) => r.k!))].sort();
  const lines = [
    `| shape | k | pass | ${subjects.join(" | ")} |`,
    `|---|---|---|${subjects.map(() => "---:").join("|")}|`,
  ];
  for (const suite of measured) {
    for (const k of ks) {
      if (!suite.rows.some((r) => r.k === k)) continue;
      for (const pass of ["forward", "forwardBackward"] as const) {
        const row = subjects.map((name) =>
          compactCell(suite.rows.find((r) => r.subject === name && r.pass === pass && (r.k === null || r.k === k)))
        );
        lines.push(
          `| ${suite.shapeLabel} ${suite.shape.join("x")} | ${k} | ${PASS_LABEL[pass]} | ${row.join(" | ")} |`,
        );
      }
    }
  }
  for (const s of suites.filter((s) => s.group === group && s.skipped)) {
    lines.push("", `${s.shapeLabel} ${s.shape.join("x")}: ${s.skipped}`);
  }
  const failed = rows.filter((r) => r.status === "failed");
  if (failed.length > 0) {
    lines.push("", "Failed:", "", ...failed.map((r) => `- ${r.shapeLabel} ${rowLabel(r)} ${r.pass}: ${r.reason}`));
  }
  // Skips are many and alike: one line per (shape, subject); every reason is in the JSON.
  const skipped = new Map<string, ResultRow[]>();
  for (const r of rows.filter((r) => r.status === "skipped")) {
    const key = `${r.shapeLabel} ${r.subject}`;
    skipped.set(key, [...(skipped.get(key) ?? []), r]);
  }
  if (skipped.size > 0) {
    lines.push("", "Skipped (the suite's per-call limit, first call over it or predicted over it):", "");
    for (const [key, list] of skipped) {
      lines.push(`- ${key}: ${list.length} task(s), e.g. k=${list[0].k} ${list[0].pass}: ${list[0].reason}`);
    }
  }
  return lines;
}
