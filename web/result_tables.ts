/**
 * The browser page's result tables: a row per check (with its first failures in full) and a row
 * per benchmark measurement.
 *
 * @module
 */
/// <reference lib="dom" />
import type { SuiteResult } from "../bench/rows.ts";
import { passLabel } from "../harness/measure/passes.ts";
import type { CheckResult } from "./checks.ts";
import { $, details, el } from "./dom.ts";

/** Failures shown in full on the page per check (the JSON keeps more). */
const SHOWN_FAILURES = 3;

/** A check's passes per category, e.g. "distinct 2/2, ties 2/2". */
function categoryText(r: CheckResult): string {
  return Object.entries(r.byCategory)
    .map(([c, t]) => `${c} ${t.passed}/${t.passed + t.failed}`)
    .join(", ");
}

/** Appends a check's row to the checks table, and its first failures in full below it. */
export function showCheck(r: CheckResult): void {
  const ok = r.failed === 0;
  $("checks").querySelector("tbody")!.append(
    el(
      "tr",
      {},
      el("td", {}, r.check),
      el("td", {}, el("code", {}, r.subject)),
      el(
        "td",
        { class: ok ? "ok nowrap" : "bad nowrap" },
        ok ? `PASS ${r.passed}/${r.total}` : `FAIL ${r.failed} of ${r.total}`,
      ),
      el("td", {}, r.check === "golden" ? `golden ${r.passed}/${r.total}` : categoryText(r)),
      el("td", { class: "num" }, `${(r.durationMs / 1000).toFixed(1)} s`),
    ),
  );
  for (const f of r.failures.slice(0, SHOWN_FAILURES)) {
    $("failures").append(
      el(
        "div",
        { class: "failure" },
        el("b", {}, `FAIL ${r.check} on ${r.subject}: ${f.name}`),
        el("pre", {}, f.report.join("\n")),
        details("replay (the request as the conformance kit sends it)", f.replay),
      ),
    );
  }
  const shown = Math.min(r.failures.length, SHOWN_FAILURES);
  if (r.failed > shown) {
    $("failures").append(
      el(
        "p",
        { class: "bad" },
        `… and ${r.failed - shown} more failures of ${r.check} on ${r.subject} (the results JSON reports ` +
          `${r.failures.length} in full and counts all).`,
      ),
    );
  }
}

/** Milliseconds with precision that suits their size; "-" for none. */
function fmtMs(v: number | null): string {
  return v === null ? "-" : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0);
}

/** A suite's window and strides, e.g. "2x2/2" or "3x2/1x2". */
export function windowText(s: SuiteResult): string {
  const size = s.window?.poolSize ?? [2, 2];
  const strides = s.window?.strides ?? size;
  const stride = strides[0] === strides[1] ? `${strides[0]}` : strides.join("x");
  return `${size.join("x")}/${stride}`;
}

/** Appends a benchmark suite's entry rows to the benchmark table. */
export function showSuite(s: SuiteResult): void {
  const body = $("bench").querySelector("tbody")!;
  for (const r of s.rows.filter((x) => x.kind === "entry")) {
    const base = s.rows.find((b) => b.kind === "baseline" && b.pass === r.pass);
    const v = r.vsMaxPool;
    body.append(
      el(
        "tr",
        {},
        el("td", {}, windowText(s)),
        el("td", {}, `${s.shapeLabel} ${s.shape.join("x")}`),
        el("td", { class: "num" }, String(r.k)),
        el("td", {}, passLabel(r.pass)),
        el("td", { class: "num" }, r.status === "ok" ? fmtMs(r.ms) : `${r.status}: ${r.reason ?? ""}`),
        el("td", { class: "num" }, base?.status === "ok" ? fmtMs(base.ms) : base?.status ?? "-"),
        el(
          "td",
          { class: "num" },
          v ? `${v.median.toPrecision(3)}x [${v.low.toPrecision(3)}, ${v.high.toPrecision(3)}]` : "-",
        ),
        el("td", {}, v ? `${v.timer}, ${v.n}` : r.timer ?? "-"),
      ),
    );
  }
}
