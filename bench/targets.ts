/**
 * Kernel-target verdicts: what every suite's `verdicts` returns (bench/suite_types.ts), the
 * `targets` array of the run's JSON, and their tables (the report's, and the compact per-entry one
 * bench/readme_results.ts writes into the README).
 *
 * @module
 */
import { escapeCell } from "./format.ts";

/** A kernel target and whether a registry entry meets it in one case. */
export interface TargetVerdict {
  readonly entry: string;
  /** What is required, e.g. "forward <= 0.5x tf.maxPool time". */
  readonly target: string;
  /** Where it is judged, e.g. "32x64x64x32, k=4" (absent in files written before cases were split out). */
  readonly case?: string;
  /** The unit of `value`: a time ratio ("x") or a percentage ("%"). */
  readonly unit?: "x" | "%";
  /** Measured value (median of the per-round ratios) in the target's unit, or null when not measured. */
  readonly value: number | null;
  /** Its 95% bootstrap interval in the same unit. */
  readonly interval: readonly [number, number] | null;
  /** Whether the median meets the target (null: not measured). */
  readonly met: boolean | null;
  /** The interval has values on both sides of the target: this run cannot tell. */
  readonly inconclusive: boolean;
  /** The clock and rounds, or why it was not measured. */
  readonly detail: string;
}

/** A measured ratio: median of per-round ratios, its 95% interval, rounds and clock. */
export interface MeasuredRatio {
  readonly median: number;
  readonly low: number;
  readonly high: number;
  readonly n: number;
  readonly clock: string;
}

/** What {@link judge} needs besides the measurement. */
export interface TargetSpec {
  readonly entry: string;
  readonly target: string;
  readonly case: string;
  readonly unit: "x" | "%";
  /** Whether a value meets the target. */
  readonly ok: (value: number) => boolean;
}

/** The verdict of one measurement (`ratio` null: not measured, for `why`). */
export function judge(spec: TargetSpec, ratio: MeasuredRatio | null, why = "not measured"): TargetVerdict {
  const { entry, target, unit, ok } = spec;
  if (!ratio) {
    return {
      entry,
      target,
      case: spec.case,
      unit,
      value: null,
      interval: null,
      met: null,
      inconclusive: false,
      detail: why,
    };
  }
  return {
    entry,
    target,
    case: spec.case,
    unit,
    value: ratio.median,
    interval: [ratio.low, ratio.high],
    met: ok(ratio.median),
    inconclusive: ok(ratio.low) !== ok(ratio.high),
    detail: `${ratio.clock}, ${ratio.n} rounds`,
  };
}

/** "0.410x [0.380, 0.450]" or "93 % [88, 97]", or "-" when not measured. */
export function verdictValue(v: TargetVerdict): string {
  if (v.value === null) return "-";
  const percent = (v.unit ?? (v.target.includes("%") ? "%" : "x")) === "%";
  const f = (x: number) => (percent ? x.toFixed(0) : x.toPrecision(3));
  const unit = percent ? " %" : "x";
  return `${f(v.value)}${unit}${v.interval ? ` [${f(v.interval[0])}, ${f(v.interval[1])}]` : ""}`;
}

/** "PASS", "FAIL (interval straddles the target)", "NOT MEASURED". */
export function verdictWord(v: TargetVerdict): string {
  if (v.met === null) return "NOT MEASURED";
  return `${v.met ? "PASS" : "FAIL"}${v.inconclusive ? " (interval straddles the target)" : ""}`;
}

/** Every verdict as a Markdown table (or a sentence when nothing could be judged). */
export function targetsMarkdown(verdicts: readonly TargetVerdict[]): string {
  if (verdicts.length === 0) {
    return "No gated registry entry was measured where a kernel target is judged; the kernel targets could not be " +
      "judged.";
  }
  return [
    "| entry | target | case | measured [95% interval] | verdict | clock, rounds |",
    "|---|---|---|---:|---|---|",
    ...verdicts.map((v) =>
      `| ${[v.entry, v.target, v.case ?? "-", verdictValue(v), verdictWord(v), v.detail].map(escapeCell).join(" | ")} |`
    ),
  ].join("\n");
}

/**
 * The compact table: a row per entry, a column per target, each cell its cases' values and
 * verdicts ("k=1: 93 % [88, 97] PASS; k=4: ..." when a target has several cases).
 */
export function headlineMarkdown(verdicts: readonly TargetVerdict[]): string {
  if (verdicts.length === 0) return targetsMarkdown(verdicts);
  const entries = [...new Set(verdicts.map((v) => v.entry))];
  const targets = [...new Set(verdicts.map((v) => v.target))];
  const cell = (entry: string, target: string) => {
    const mine = verdicts.filter((v) => v.entry === entry && v.target === target);
    const several = new Set(mine.map((v) => v.case)).size > 1;
    const text = (v: TargetVerdict) =>
      v.met === null ? `NOT MEASURED (${v.detail})` : `${verdictValue(v)} ${verdictWord(v)}`;
    return mine.map((v) => `${several ? `${shortCase(v.case)}: ` : ""}${text(v)}`).join("; ") || "-";
  };
  return [
    `| entry | ${targets.map(escapeCell).join(" | ")} |`,
    `|---|${targets.map(() => "---").join("|")}|`,
    ...entries.map((e) => `| ${escapeCell(e)} | ${targets.map((t) => escapeCell(cell(e, t))).join(" | ")} |`),
  ].join("\n");
}

/** "k=1" out of "32x64x64x32, k=1" (the part that differs between a target's cases), else the case. */
function shortCase(c: string | undefined): string {
  return c?.match(/k=\d+$/)?.[0] ?? c ?? "-";
}
