/**
 * Reports of the reproduction: the stdout table, the JSON document and the SVG chart (vega-lite,
 * rendered headless by vega's View with renderer "none" and `toSVG()`).
 *
 * @module
 */
import { parse as parseVega, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { RunResult, StepCostRow } from "./experiment.ts";
import { ARTICLE_BEST_VAL_CE } from "./model.ts";

/** The JSON report: `{ runs, config, environment, article }`. */
export interface Report {
  readonly runs: RunResult[];
  readonly config: Record<string, unknown>;
  readonly environment: Record<string, unknown>;
  /** The article's best validation cross-entropy per k, for comparison. */
  readonly article: { readonly dataset: string; readonly bestValCrossEntropy: Readonly<Record<number, number>> };
}

/** Builds the report document. */
export function makeReport(
  runs: RunResult[],
  config: Record<string, unknown>,
  environment: Record<string, unknown>,
): Report {
  return {
    runs,
    config,
    environment,
    article: { dataset: "cluttered MNIST", bestValCrossEntropy: ARTICLE_BEST_VAL_CE },
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** The final table (markdown): k, pooling, best val CE (its epoch), accuracy there, ms/step, the article's value. */
export function runsTable(runs: readonly RunResult[]): string {
  return table(
    ["k", "pooling", "best val CE", "epoch", "val acc", "ms/step", "article best val CE"],
    runs.map((r) => [
      String(r.k),
      r.pooling,
      r.bestValCrossEntropy.toFixed(3),
      `${r.bestEpoch}/${r.valCrossEntropy.length}`,
      `${(100 * r.valAccuracyAtBest).toFixed(1)} %`,
      Number.isFinite(r.msPerStep) ? r.msPerStep.toFixed(0) : "n/a",
      ARTICLE_BEST_VAL_CE[r.k]?.toFixed(3) ?? "",
    ]),
  );
}

/** The step-cost table (markdown): median ms per training step and the per-round ratio to max pooling. */
export function stepCostTable(rows: readonly StepCostRow[]): string {
  return table(
    ["pooling layer", "median ms/step", "/ maxPooling2d", "samples"],
    rows.map((r) => [r.subject, r.medianMs.toFixed(0), `${r.ratioToMaxPool.toFixed(3)}x`, String(r.samplesMs.length)]),
  );
}

/** The vega-lite spec of the chart: validation cross-entropy per epoch for each k, the article's best as rules. */
export function chartSpec(runs: readonly RunResult[], title: string): TopLevelSpec {
  const curves = runs.flatMap((r) =>
    r.valCrossEntropy.map((ce, i) => ({ k: `k = ${r.k}`, epoch: i + 1, crossEntropy: ce, source: "this run" }))
  );
  const article = runs
    .filter((r) => ARTICLE_BEST_VAL_CE[r.k] !== undefined)
    .map((r) => ({ k: `k = ${r.k}`, crossEntropy: ARTICLE_BEST_VAL_CE[r.k], source: "article (best, 30 epochs)" }));
  const color = { field: "k", type: "nominal", title: "k" } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: title,
      subtitle: "lines: this run, per epoch; dashed rules: the article's best (30 epochs, 11,000 training images)",
    },
    width: 480,
    height: 300,
    layer: [
      {
        data: { values: curves },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1, format: "d" } },
          y: { field: "crossEntropy", type: "quantitative", title: "validation cross-entropy (X_test)" },
          color,
        },
      },
      {
        data: { values: article },
        mark: { type: "rule", strokeDash: [6, 4] },
        encoding: { y: { field: "crossEntropy", type: "quantitative" }, color },
      },
    ],
  };
}

/** Renders the chart to an SVG string (headless: no canvas, no DOM). */
export async function chartSvg(runs: readonly RunResult[], title: string): Promise<string> {
  const vgSpec = compile(chartSpec(runs, title)).spec;
  const view = new View(parseVega(vgSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
