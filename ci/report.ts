/**
 * The gate's outputs: a one-screen text summary and a JSON document (--json FILE).
 *
 * @module
 */
import { passLabel } from "./baseline.ts";
import { type Check, MAXPOOL, type Measurements } from "./measure.ts";
import { workloadId } from "./workload.ts";

/** The whole outcome of a gate run. */
export interface GateReport {
  /** "gate" or "self-test". */
  readonly mode: "gate" | "self-test";
  /** Adapter baseline key. */
  readonly adapter: string;
  readonly tolerance: number;
  readonly measurements: Measurements;
  readonly checks: readonly Check[];
  /** Whether the run succeeded (gate: no regression; self-test: the slowed variants were caught). */
  readonly ok: boolean;
  /** One line saying why `ok` is what it is. */
  readonly conclusion: string;
  /** Warnings to show under the table. */
  readonly warnings: readonly string[];
  /** Wall time of the whole process so far, seconds. */
  readonly wallSeconds: number;
}

/** Widest line the summary writes. */
export const SCREEN_WIDTH = 120;

/** Breaks `text` at spaces into lines of at most `width` characters (longer words stay whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const fmt = (v: number | undefined, digits = 3) => (v === undefined ? "-" : v.toFixed(digits));

function verdictText(c: Check): string {
  if (c.verdict === "no-baseline") return "no baseline";
  if (c.verdict === "regression") {
    return c.history.length > 1 ? `REGRESSION (${c.history.length} of ${c.history.length} measurements)` : "REGRESSION";
  }
  if (c.history.length > 1) return `pass (on re-measurement ${c.history.length - 1}; first: regression)`;
  return c.faster ? "pass (faster)" : "pass";
}

/** The text summary: a header, one row per check, maxPool times, warnings, the conclusion. */
export function formatSummary(r: GateReport): string {
  const m = r.measurements;
  const lines: string[] = [];
  lines.push(`sortpool ${r.mode}: ${r.adapter}`);
  lines.push(
    `workload ${workloadId(m.workload, m.clock)}; ${m.workload.rounds} rounds, sample = fastest of ` +
      `${m.workload.repetitions}`,
  );
  lines.push(
    `ratio = entry / ${MAXPOOL} ${
      m.clock === "cpu" ? "process CPU" : "wall"
    } time; REGRESSION when its 95% interval lies wholly above ` +
      `limit = baseline x ${(1 + r.tolerance).toFixed(2)}`,
  );
  const header = ["entry", "pass", "baseline", "measured", "95% interval", "limit", `${m.clock} ms`, "verdict"];
  const rows = r.checks.map((c) => [
    c.entry,
    passLabel(c.pass),
    fmt(c.baseline),
    fmt(c.measured.median),
    `[${fmt(c.measured.low)}, ${fmt(c.measured.high)}]`,
    fmt(c.limit),
    fmt(c.entryMs, 1),
    verdictText(c),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const numeric = new Set([2, 3, 5, 6]);
  const render = (row: string[]) =>
    row.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ").trimEnd();
  lines.push(render(header));
  for (const row of rows) lines.push(render(row));
  const mp = r.checks.length > 0
    ? [...new Set(r.checks.map((c) => c.pass))].map((p) => {
      const c = r.checks.find((x) => x.pass === p)!;
      return `${passLabel(p)} ${c.maxPoolMs.toFixed(1)} ms` +
        (m.clock === "wall" ? "" : ` (wall ${c.maxPoolWallMs.toFixed(1)})`);
    }).join(", ")
    : "-";
  lines.push(`${MAXPOOL} median per call: ${mp}; preparation ${m.prepareSeconds.toFixed(1)} s`);
  for (const w of r.warnings) lines.push(...wrap(`warning: ${w}`, SCREEN_WIDTH));
  lines.push(`${r.ok ? "PASS" : "FAIL"}: ${r.conclusion} (${r.wallSeconds.toFixed(0)} s)`);
  return lines.join("\n");
}

/** The JSON document: the report with every per-round sample, for later analysis. */
export function reportJson(r: GateReport): unknown {
  const m = r.measurements;
  return {
    mode: r.mode,
    ok: r.ok,
    conclusion: r.conclusion,
    adapter: r.adapter,
    tolerance: r.tolerance,
    workload: { id: workloadId(m.workload, m.clock), ...m.workload },
    clock: m.clock,
    wallSeconds: r.wallSeconds,
    prepareSeconds: m.prepareSeconds,
    warnings: r.warnings,
    checks: r.checks.map((c) => ({
      entry: c.entry,
      pass: c.pass,
      baseline: c.baseline ?? null,
      baselineNote: c.baselineNote,
      measured: c.measured,
      limit: c.limit ?? null,
      verdict: c.verdict,
      faster: c.faster,
      entryMsMedian: c.entryMs,
      maxPoolMsMedian: c.maxPoolMs,
      entryWallMsMedian: c.entryWallMs,
      maxPoolWallMsMedian: c.maxPoolWallMs,
      history: c.history,
      rounds: c.rounds,
    })),
  };
}
