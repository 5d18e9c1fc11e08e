/**
 * Reports of the reproduction: the stdout table, the JSON document and the SVG chart (vega-lite,
 * rendered headless by vega's View with renderer "none" and `toSVG()`).
 *
 * @module
 */
import { parse as parseVega, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { RunResult, StepCostRow } from "./experiment.ts";
import { ARTICLE_BEST_VAL_CE, DEFAULT_BN_MOMENTUM } from "./model.ts";
import { BOOTSTRAP, type KSummary, type PairedDifference, pairedDifferences, summarizeByK } from "./stats.ts";

/** The JSON report: `{ runs, config, environment, article, summary }`. */
export interface Report {
  /** One entry per finished (k, seed) pair, in the order they finished. */
  readonly runs: RunResult[];
  readonly config: Record<string, unknown>;
  readonly environment: Record<string, unknown>;
  /** The article's best validation cross-entropy per k, for comparison. */
  readonly article: { readonly dataset: string; readonly bestValCrossEntropy: Readonly<Record<number, number>> };
  /** Figures over seeds, recomputed from `runs` whenever the report is written. */
  readonly summary: {
    readonly byK: KSummary[];
    /** Per k > 1: best val cross-entropy minus k = 1's, paired by seed. */
    readonly pairedToK1: PairedDifference[];
    readonly bootstrap: typeof BOOTSTRAP;
  };
}

/** Builds the report document (its summary computed from `runs`). */
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
    summary: {
      byK: summarizeByK(runs),
      pairedToK1: pairedDifferences(runs, ARTICLE_BEST_VAL_CE),
      bootstrap: BOOTSTRAP,
    },
  };
}

/** The chart's and the table's title, from a report's config and its backend. */
export function titleOf(config: Record<string, unknown>, backend: string): string {
  const epochs = Number(config.epochs);
  const train = Number(config.trainImages);
  const bn = Number(config.bnMomentum);
  const reduced = epochs < 30 || train < 11000 || Number(config.testImages) < 1000 ||
    bn !== DEFAULT_BN_MOMENTUM || Number(config.batchSize) !== 128;
  // A webgpu run with tfjs's own filter gradient trained conv1 wrong on Mesa's CPU adapters; say so on its tables.
  const stock = backend === "webgpu" && (config.convFilterGradient ?? "stock") === "stock";
  return `${reduced ? "REDUCED " : ""}cluttered MNIST, ${train} training images, ${epochs} epoch(s)` +
    `${bn !== DEFAULT_BN_MOMENTUM ? `, bn momentum ${bn}` : ""} (${backend}` +
    `${stock ? "; tfjs's own conv2d filter gradient: truncated on Mesa's CPU adapters" : ""})`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

const fixed = (v: number, digits = 3) => Number.isFinite(v) ? v.toFixed(digits) : "n/a";
const signed = (v: number) => Number.isFinite(v) ? `${v >= 0 ? "+" : "-"}${Math.abs(v).toFixed(3)}` : "n/a";
const percent = (v: number) => Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : "n/a";
const plusMinus = (m: number, sd: number, f: (v: number) => string) =>
  Number.isFinite(sd) ? `${f(m)} ± ${f(sd).replace(/ %$/, "")}` : f(m);

/** Every (k, seed) run (markdown), k then seed: best val CE (its epoch), accuracy there, ms/step. */
export function runsTable(runs: readonly RunResult[]): string {
  const sorted = [...runs].sort((a, b) => a.k - b.k || a.seed - b.seed);
  return table(
    ["k", "seed", "pooling", "best val CE", "epoch", "val acc", "ms/step", "wall s"],
    sorted.map((r) => [
      String(r.k),
      String(r.seed),
      r.pooling,
      fixed(r.bestValCrossEntropy),
      `${r.bestEpoch}/${r.valCrossEntropy.length}`,
      percent(r.valAccuracyAtBest),
      Number.isFinite(r.msPerStep) ? r.msPerStep.toFixed(0) : "n/a",
      r.wallSeconds.toFixed(0),
    ]),
  );
}

/** Per k (markdown): best val CE and accuracy at it, mean ± sd over seeds and each seed's value; the article's. */
export function summaryTable(byK: readonly KSummary[]): string {
  return table(
    ["k", "seeds", "best val CE: mean ± sd", "per seed", "val acc: mean ± sd", "per seed", "article best val CE"],
    byK.map((s) => [
      String(s.k),
      s.seeds.join(","),
      plusMinus(s.bestValCrossEntropyMean, s.bestValCrossEntropySd, fixed),
      s.bestValCrossEntropy.map((v) => fixed(v)).join(" / "),
      plusMinus(s.valAccuracyAtBestMean, s.valAccuracyAtBestSd, percent),
      s.valAccuracyAtBest.map((v) => Number.isFinite(v) ? (100 * v).toFixed(1) : "n/a").join(" / "),
      ARTICLE_BEST_VAL_CE[s.k]?.toFixed(3) ?? "",
    ]),
  );
}

/** Per k > 1 (markdown): paired difference of best val CE to k = 1, its bootstrap interval, wins; the article's. */
export function pairedTable(paired: readonly PairedDifference[]): string {
  // A bootstrap over n seeds draws from only C(2n - 1, n) distinct resamples (10 for 3 seeds), so its
  // "95 %" interval is then about the range of the per-seed differences; say so under the table, per seed count.
  const counts = [...new Set(paired.map((p) => p.seeds.length).filter((n) => n >= 2 && n < 5))].sort((a, b) => a - b);
  const notes = counts.map((n) => {
    const ks = paired.filter((p) => p.seeds.length === n).map((p) => p.k).join(", ");
    return `(k = ${ks}: with ${n} paired seeds the bootstrap has only ${distinctResamples(n)} distinct resamples: ` +
      "its interval is about the range of the per-seed differences, not a calibrated 95% interval)";
  });
  return [tableOfPaired(paired), ...notes].join("\n");
}

/** How many distinct multisets of size n a bootstrap can draw from n values: C(2n - 1, n). */
export function distinctResamples(n: number): number {
  let c = 1;
  for (let i = 1; i <= n; i++) c = c * (n - 1 + i) / i;
  return Math.round(c);
}

function tableOfPaired(paired: readonly PairedDifference[]): string {
  return table(
    [
      "k",
      "paired seeds",
      "best val CE - k=1's: mean",
      `${100 * BOOTSTRAP.level}% bootstrap`,
      "per seed",
      "wins",
      "article",
    ],
    paired.map((p) => [
      String(p.k),
      String(p.seeds.length),
      signed(p.mean),
      p.seeds.length >= 2 ? `[${signed(p.interval[0])}, ${signed(p.interval[1])}]` : "n/a",
      p.differences.map(signed).join(" / "),
      `${p.wins} of ${p.seeds.length}`,
      p.article === null ? "" : signed(p.article),
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

/**
 * The vega-lite spec of the chart, two panels. Left: each seed's best validation cross-entropy
 * per k (points, a seed's points joined across k, so the pairing shows), the mean per k (tick) and
 * the article's value (cross). Right: validation cross-entropy per epoch, the mean over seeds per k
 * with a band from the lowest to the highest seed, and the article's best as dashed rules.
 */
export function chartSpec(runs: readonly RunResult[], title: string): TopLevelSpec {
  const seeds = new Set(runs.map((r) => r.seed)).size;
  const best = runs.map((r) => ({ k: r.k, seed: `seed ${r.seed}`, crossEntropy: r.bestValCrossEntropy }));
  const curves = runs.flatMap((r) =>
    r.valCrossEntropy.map((ce, i) => ({ k: `k = ${r.k}`, seed: r.seed, epoch: i + 1, crossEntropy: ce }))
  );
  const ks = [...new Set(runs.map((r) => r.k))].sort((a, b) => a - b);
  const article = ks
    .filter((k) => ARTICLE_BEST_VAL_CE[k] !== undefined)
    .map((k) => ({ k, kLabel: `k = ${k}`, crossEntropy: ARTICLE_BEST_VAL_CE[k] }));
  const kColor = { field: "k", type: "nominal", title: "k" } as const;
  const ceAxis = {
    type: "quantitative",
    title: "best validation cross-entropy (X_test)",
    scale: { zero: false },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: title,
      subtitle: [
        `${seeds} seed(s). Left: each seed's best per k (grey lines join a seed's runs), black tick: mean, ` +
        "black cross: the article's best.",
        "Right: mean over seeds per epoch, band: lowest to highest seed, dashed: the article's best " +
        "(30 epochs, 11,000 training images).",
      ],
    },
    hconcat: [
      {
        width: 260,
        height: 300,
        layer: [
          {
            data: { values: best },
            mark: { type: "line", color: "#bbbbbb", strokeWidth: 1 },
            encoding: {
              x: { field: "k", type: "ordinal", title: "k (1: max pooling)" },
              y: { field: "crossEntropy", ...ceAxis },
              detail: { field: "seed", type: "nominal" },
            },
          },
          {
            data: { values: best },
            mark: { type: "point", filled: true, size: 50, opacity: 0.8 },
            encoding: {
              x: { field: "k", type: "ordinal" },
              y: { field: "crossEntropy", type: "quantitative" },
              shape: { field: "seed", type: "nominal", title: "seed" },
              color: { field: "k", type: "nominal", legend: null },
            },
          },
          {
            data: { values: best },
            mark: { type: "tick", color: "black", thickness: 2, size: 28 },
            encoding: {
              x: { field: "k", type: "ordinal" },
              y: { aggregate: "mean", field: "crossEntropy", type: "quantitative" },
            },
          },
          {
            data: { values: article },
            mark: { type: "point", shape: "cross", filled: true, size: 90, color: "black" },
            encoding: {
              x: { field: "k", type: "ordinal" },
              y: { field: "crossEntropy", type: "quantitative" },
            },
          },
        ],
      },
      {
        width: 380,
        height: 300,
        layer: [
          {
            data: { values: curves },
            mark: { type: "area", opacity: 0.2 },
            encoding: {
              x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1, format: "d" } },
              y: {
                aggregate: "min",
                field: "crossEntropy",
                type: "quantitative",
                title: "validation cross-entropy (X_test)",
                scale: { zero: false },
              },
              y2: { aggregate: "max", field: "crossEntropy" },
              color: kColor,
            },
          },
          {
            data: { values: curves },
            mark: { type: "line", point: true },
            encoding: {
              x: { field: "epoch", type: "quantitative" },
              y: { aggregate: "mean", field: "crossEntropy", type: "quantitative" },
              color: kColor,
            },
          },
          {
            data: { values: article },
            mark: { type: "rule", strokeDash: [6, 4] },
            encoding: {
              y: { field: "crossEntropy", type: "quantitative" },
              color: { field: "kLabel", type: "nominal" },
            },
          },
        ],
      },
    ],
    resolve: { scale: { color: "independent" } },
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
