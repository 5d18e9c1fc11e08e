/**
 * Human and JSON reports of property outcomes: a summary table of entries x properties, then for
 * every failure the entry, property, seed and path, the shrunk counterexample, where it shows
 * (batch, row, column, channel, window cell, rank), expected vs actual, and the replay command.
 *
 * @module
 */
import type { Implementation } from "../src/types.ts";
import { describeTolerances, encodeNumber, formatNumber } from "../testkit/mod.ts";
import type { PropCase } from "./generators.ts";
import type { PlannedEntry } from "./plan.ts";
import type { PropertyDefinition } from "./properties/definition.ts";
import type { PropertyOutcome } from "./runner.ts";
import { formatLocation, type Mismatch } from "./verdict.ts";

/** Largest array printed in full in a counterexample. */
const PRINT_LIMIT = 64;

function formatArray(a: ArrayLike<number>): string {
  const n = a.length;
  const shown = Array.from(a).slice(0, PRINT_LIMIT).map(formatNumber).join(", ");
  return n > PRINT_LIMIT ? `[${shown}, ... (${n} values)]` : `[${shown}]`;
}

/** One-paragraph description of a case: parameters, then x, dy and directions when small. */
export function formatCase(c: PropCase): string {
  const p = c.params;
  const window = p.window.explicit
    ? `poolSize [${c.poolSize.join(", ")}], strides [${c.strides.join(", ")}]`
    : "poolSize and strides left out (2x2/2)";
  const layout = c.logits.length === c.k ? "shared" : `per channel, ${c.shape[3]} groups of ${c.k}`;
  const lines = [
    `shape [${c.shape.join(", ")}] (B, H, W, C), ${window}, k ${c.k}, padding "${c.padding}", logits [${
      c.logits.map(formatNumber).join(", ")
    }] ("${p.logitKind}", ${layout}), values "${p.kind}" (unit 2^${
      Math.log2(c.unit)
    }, spread ${p.spread}, alphabet ${p.alphabet}), ` +
    `dy "${p.dyKind}", ` +
    `built for ${c.precision}, data seed ${p.dataSeed}, slot order [${p.slotOrder.join(", ")}]`,
    `x  = ${formatArray(c.x)}`,
    `dy = ${formatArray(c.dy)}`,
  ];
  if (c.x.length <= PRINT_LIMIT) lines.push(`direction v = ${formatArray(c.direction)}`);
  lines.push(
    `logit direction u = [${c.logitDirection.join(", ")}], shift c = ${formatNumber(c.shift)}, scale a = ${
      formatNumber(c.scale)
    }`,
  );
  return lines.join("\n");
}

function formatMismatch(m: Mismatch): string {
  const over = Number.isFinite(m.ratio) ? ` (${m.ratio.toPrecision(3)}× the tolerance)` : "";
  const tol = m.tolerance === undefined ? "" : `, tolerance ${formatNumber(m.tolerance)}`;
  const lines = [
    `${m.severity === "deviation" ? "deviation" : "mismatch"}: ${m.check}`,
    `  expected ${m.expected}, actual ${m.actual}${tol}${over}`,
  ];
  if (m.where) lines.push(`  at ${formatLocation(m.where)}`);
  if (m.note) lines.push(`  note: ${m.note}`);
  return lines.join("\n");
}

function indent(text: string, prefix: string): string {
  return text.split("\n").map((l) => prefix + l).join("\n");
}

/** The report of one failing (or deviating) outcome. */
export function formatOutcome(o: PropertyOutcome): string {
  const label = o.status === "deviation" ? "DEVIATION (declared)" : "FAIL";
  const lines = [`${label}  ${o.entry}  ×  ${o.property}`];
  if (o.reason) {
    lines.push(`  reason: ${o.reason}`);
    return lines.join("\n");
  }
  lines.push(`  seed ${o.seed}, path ${o.path ?? "(none)"}, ${o.evaluations} cases evaluated`);
  if (o.counterexample) {
    lines.push(indent(`counterexample:\n${indent(formatCase(o.counterexample), "  ")}`, "  "));
    // The concurrency property's partner call has a case of its own (props/properties/concurrency.ts).
    const partner = (o.counterexample as { schedule?: { partnerCase?: PropCase } }).schedule?.partnerCase;
    if (partner) {
      lines.push(
        indent(
          `partner's case (the default window instead when the partner does not support it):\n${
            indent(formatCase(partner), "  ")
          }`,
          "  ",
        ),
      );
    }
  }
  for (const m of o.verdict?.mismatches ?? []) lines.push(indent(formatMismatch(m), "  "));
  if (o.replay) lines.push(`  replay: ${o.replay}`);
  return lines.join("\n");
}

function cell(o: PropertyOutcome | undefined): string {
  if (!o) return "-";
  switch (o.status) {
    case "pass":
      return `ok ${o.evaluations}`;
    case "deviation":
      return "dev(decl)";
    case "fail":
      return o.reason ? "FAIL(n/a)" : "FAIL";
  }
}

/** The summary table: one row per entry, one column per property. */
export function formatSummary(
  entries: readonly Implementation[],
  properties: readonly PropertyDefinition[],
  outcomes: readonly PropertyOutcome[],
  plan: ReadonlyMap<string, PlannedEntry | undefined>,
): string {
  const header = ["entry", "prec", "device", "runs", ...properties.map((p) => p.name), "time"];
  const rows = entries.map((e) => {
    const mine = outcomes.filter((o) => o.entry === e.name);
    const seconds = mine.reduce((s, o) => s + o.wallMs, 0) / 1000;
    return [
      e.name,
      e.precision === "float32" ? "f32" : "f64",
      e.device,
      String(plan.get(e.name)?.runs ?? mine[0]?.runs ?? "-"),
      ...properties.map((p) => cell(mine.find((o) => o.property === p.name))),
      `${seconds.toFixed(1)}s`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** "N g/o/p": cases evaluated, of which general windows, overlapping, per-channel logits. */
function coverageCell(o: PropertyOutcome | undefined): string {
  if (!o) return "-";
  if (o.reason) return "n/a";
  const c = o.coverage;
  return `${c.evaluated} ${c.general}/${c.overlapping}/${c.perChannel}`;
}

/**
 * Cases per property: one row per property, one column per entry, each cell "N g/o/p" (cases
 * evaluated, of which with a general window, with overlapping windows, with per-channel logits);
 * then totals and the cases skipped as unsupported per entry.
 */
export function formatCoverage(
  entries: readonly Implementation[],
  properties: readonly PropertyDefinition[],
  outcomes: readonly PropertyOutcome[],
): string {
  const header = ["cases: N g/o/p", ...entries.map((e) => e.name)];
  const find = (e: Implementation, p: PropertyDefinition) =>
    outcomes.find((o) => o.entry === e.name && o.property === p.name);
  const rows = properties.map((p) => [p.name, ...entries.map((e) => coverageCell(find(e, p)))]);
  const totals = entries.map((e) => {
    const mine = outcomes.filter((o) => o.entry === e.name);
    const sum = (f: (o: PropertyOutcome) => number) => mine.reduce((s, o) => s + f(o), 0);
    return {
      cell: `${sum((o) => o.coverage.evaluated)} ${sum((o) => o.coverage.general)}/${
        sum((o) => o.coverage.overlapping)
      }/${sum((o) => o.coverage.perChannel)}`,
      skipped: String(sum((o) => o.skips.count)),
    };
  });
  rows.push(["total", ...totals.map((t) => t.cell)]);
  rows.push(["skipped (unsupported)", ...totals.map((t) => t.skipped)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [
    "cases per property and entry: N g/o/p = N cases evaluated, of which g with a general window (not 2x2/2), " +
    "o with overlapping windows, p with per-channel logits",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ].join("\n");
}

/**
 * The skipped cases per entry, each entry's reason printed once: cases its `supports` declaration
 * excludes are drawn, skipped (fast-check draws another), counted and shown here, never run and
 * never counted as passing. Empty when nothing was skipped.
 */
export function formatSkips(entries: readonly Implementation[], outcomes: readonly PropertyOutcome[]): string {
  const lines: string[] = [];
  for (const e of entries) {
    const mine = outcomes.filter((o) => o.entry === e.name && o.skips.count > 0);
    if (mine.length === 0) continue;
    const count = mine.reduce((s, o) => s + o.skips.count, 0);
    const windows = mine.reduce((s, o) => s + o.skips.windows, 0);
    const perChannel = mine.reduce((s, o) => s + o.skips.perChannel, 0);
    const declared = e.supports
      ? `supports { windows: "${e.supports.windows}", perChannelLogits: ${e.supports.perChannelLogits} }`
      : "supports everything";
    lines.push(
      `  ${e.name}: ${count} cases skipped over ${mine.length} properties (${windows} for their window, ${perChannel} ` +
        `for their per-channel logits); ${declared}`,
      `    reason: ${mine.find((o) => o.skips.reason)?.skips.reason ?? "(none given)"}`,
    );
  }
  if (lines.length === 0) return "";
  return ["skipped as unsupported (the entry's declared supports; never run, never counted as passing):", ...lines]
    .join("\n");
}

/**
 * Second table: per entry and property, the largest |error| / tolerance among passing comparisons
 * (how much of its tolerance an entry used; "-" where the property did not pass).
 */
export function formatMargins(
  entries: readonly Implementation[],
  properties: readonly PropertyDefinition[],
  outcomes: readonly PropertyOutcome[],
): string {
  const header = ["worst |err|/tol", ...properties.map((p) => p.name)];
  const rows = entries.map((e) => [
    e.name,
    ...properties.map((p) => {
      const o = outcomes.find((q) => q.entry === e.name && q.property === p.name);
      return o && o.status !== "fail" ? o.worstPassingRatio.toPrecision(2) : "-";
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Legend of the table's cells and property names. */
export function formatLegend(properties: readonly PropertyDefinition[]): string {
  return [
    "cells: ok N = passed, N cases evaluated; FAIL = a counterexample (below); FAIL(n/a) = could not run (reason below);",
    "       dev(decl) = the entry's declared tie deviation, shown below (not a failure)",
    ...properties.map((p) => `  ${p.name}: ${p.title}`),
  ].join("\n");
}

/** Tolerance lines, for the report footer. */
export function formatTolerances(): string {
  return ["tolerances:", ...describeTolerances().map((l) => `  ${l}`)].join("\n");
}

/** Plain-data version of an outcome for --json. */
export function outcomeJson(o: PropertyOutcome): Record<string, unknown> {
  const c = o.counterexample;
  return {
    entry: o.entry,
    property: o.property,
    status: o.status,
    runs: o.runs,
    evaluations: o.evaluations,
    seed: o.seed,
    path: o.path ?? null,
    reason: o.reason ?? null,
    note: o.note ?? null,
    worstPassingRatio: o.worstPassingRatio,
    wallMs: Math.round(o.wallMs),
    replay: o.replay ?? null,
    coverage: o.coverage,
    skipped: o.skips,
    counterexample: c
      ? {
        params: c.params,
        shape: c.shape,
        k: c.k,
        padding: c.padding,
        poolSize: c.params.window.explicit ? c.poolSize : null,
        strides: c.params.window.explicit ? c.strides : null,
        // JSON cannot hold NaN, ±Infinity or -0: the project's number encoding writes them as strings.
        logits: c.logits.map(encodeNumber),
        x: Array.from(c.x, encodeNumber),
        dy: Array.from(c.dy, encodeNumber),
      }
      : null,
    mismatches: o.verdict?.mismatches ?? [],
  };
}
