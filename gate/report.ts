/**
 * The gate's outputs: a one-screen text summary (stdout) and a JSON document with every round.
 *
 * @module
 */
import { passLabel } from "../harness/measure/passes.ts";
import type { GateClock } from "./ab.ts";
import type { Check } from "./verdict.ts";
import { describeWorkload, type GateWorkload } from "./workload.ts";

/** What the candidates were compared against. */
export interface BaseDescription {
  /** One line, e.g. "commit 1a2b3c4 (HEAD~1; HEAD is on main: its parent) \"subject\"". */
  readonly label: string;
  readonly commit?: string;
  readonly ref?: string;
  readonly rule?: string;
  readonly subject?: string;
  /** The directory the base tree was read from. */
  readonly dir: string;
}

/** Everything a gate or self-test run reports. */
export interface GateReport {
  readonly mode: "gate" | "self-test";
  /** Gate: no regression and no error; self-test: every assertion held. */
  readonly ok: boolean;
  /** 0 pass, 1 regression (or a failed self-test), 2 setup error. */
  readonly exitCode: 0 | 1 | 2;
  /** One line saying why `ok` is what it is. */
  readonly conclusion: string;
  readonly base: BaseDescription;
  /** The WebGPU engine the workers used ("deno", "dawn"), as they reported it. */
  readonly engine: string;
  /**
   * The adapter and engine in one line from the workers' adapter.info (gate/gate.ts `adapterLabel`),
   * with the requested DENO_WEBGPU_BACKEND noted on Deno's engine.
   */
  readonly adapter: string;
  readonly clock: GateClock;
  readonly tolerance: number;
  readonly workload: GateWorkload;
  readonly checks: readonly Check[];
  /** Measurements made (1, or more with re-measurements). */
  readonly measurements: number;
  readonly warnings: readonly string[];
  /** Wall time of the whole run so far, seconds. */
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

const fixed = (v: number | undefined, digits = 3) => (v === undefined ? "-" : v.toFixed(digits));

/** The verdict column of a check. */
export function verdictText(c: Check): string {
  switch (c.verdict) {
    case "not-compared":
      return "not compared";
    case "error":
      return "ERROR";
    case "regression":
      return c.history.length > 1
        ? `REGRESSION (${c.history.length} of ${c.history.length} measurements)`
        : "REGRESSION";
    case "pass":
      if (c.history.length > 1) return `pass (on re-measurement ${c.history.length - 1}; first: regression)`;
      return c.faster ? "pass (faster)" : "pass";
  }
}

/** The text summary: a header, one row per check, notes, warnings and the conclusion. */
export function formatSummary(r: GateReport): string {
  const lines: string[] = [
    `sortpool ${r.mode}: base = ${r.base.label}`,
    `engine ${r.engine}; adapter ${r.adapter}; workload ${describeWorkload(r.workload)}`,
    `${r.workload.rounds} rounds, sample = fastest of ${r.workload.repetitions} calls; ratio = candidate / base ` +
    `${r.clock === "cpu" ? "process CPU" : "wall"} time per round; REGRESSION when its 95% interval lies ` +
    `wholly above ${(1 + r.tolerance).toFixed(2)}`,
  ].flatMap((line) => wrap(line, SCREEN_WIDTH));
  const header = [
    "candidate",
    "entry",
    "pass",
    "ratio",
    "95% interval",
    `cand. ${r.clock} ms`,
    `base ${r.clock} ms`,
    "verdict",
  ];
  const rows = r.checks.map((c) => {
    const m = c.comparison;
    return [
      c.candidate,
      c.entry,
      passLabel(c.pass),
      fixed(m?.ratio.median),
      m ? `[${fixed(m.ratio.low)}, ${fixed(m.ratio.high)}]` : "-",
      fixed(m?.candidateMs, 1),
      fixed(m?.baseMs, 1),
      verdictText(c),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const numeric = new Set([3, 5, 6]);
  const render = (row: string[]) =>
    row.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ").trimEnd();
  lines.push(render(header));
  for (const row of rows) lines.push(render(row));
  for (const c of r.checks.filter((x) => x.note)) {
    lines.push(...wrap(`note: ${c.candidate} ${c.entry} ${passLabel(c.pass)}: ${c.note}`, SCREEN_WIDTH));
  }
  for (const w of r.warnings) lines.push(...wrap(`warning: ${w}`, SCREEN_WIDTH));
  lines.push(`${r.ok ? "PASS" : "FAIL"}: ${r.conclusion} (${r.wallSeconds.toFixed(0)} s)`);
  return lines.join("\n");
}

/** The JSON document: the report with every per-round sample, for later analysis. */
export function reportJson(r: GateReport): unknown {
  return {
    mode: r.mode,
    ok: r.ok,
    exitCode: r.exitCode,
    conclusion: r.conclusion,
    base: r.base,
    engine: r.engine,
    adapter: r.adapter,
    clock: r.clock,
    tolerance: r.tolerance,
    workload: { description: describeWorkload(r.workload), ...r.workload },
    measurements: r.measurements,
    wallSeconds: r.wallSeconds,
    warnings: r.warnings,
    checks: r.checks.map((c) => ({
      candidate: c.candidate,
      entry: c.entry,
      pass: c.pass,
      verdict: c.verdict,
      history: c.history,
      note: c.note ?? null,
      limit: c.limit,
      faster: c.faster,
      ratio: c.comparison
        ? {
          median: c.comparison.ratio.median,
          low: c.comparison.ratio.low,
          high: c.comparison.ratio.high,
          mad: c.comparison.ratio.mad,
          n: c.comparison.ratio.n,
        }
        : null,
      candidateMsMedian: c.comparison?.candidateMs ?? null,
      baseMsMedian: c.comparison?.baseMs ?? null,
      candidateWallMsMedian: c.comparison?.candidateWallMs ?? null,
      baseWallMsMedian: c.comparison?.baseWallMs ?? null,
      rounds: c.comparison?.rounds ?? [],
    })),
  };
}
