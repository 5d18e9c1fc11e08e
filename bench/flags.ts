/**
 * The command line of `deno task bench` (src/cli.ts convention: strict node:util parseArgs,
 * `--help`, UsageError naming the flag). Pure parsing; no defaults that depend on the machine.
 *
 * @module
 */
import { defineCli, type FlagValues, listFlag, UsageError } from "../src/cli.ts";
import { POOL_RANGES } from "../src/spec.ts";

/** The flags of `deno task bench`. */
export const BENCH_CLI = defineCli({
  command: "deno task bench",
  summary: "Throughput benchmarks of every registry entry with a bench handle, against tf.maxPool / tf.avgPool and " +
    "the copy kernel, on Deno's WebGPU (and tfjs's cpu backend for CPU entries). Progress on stderr; the tables " +
    "on stdout; JSON and a Markdown report with SVG charts written to files. See bench/README.md.",
  options: {
    quick: {
      type: "boolean",
      description: "reduced plan: three shapes (cpu group on the smallest only), k = 1 and 4, fewer samples",
    },
    filter: {
      type: "string",
      value: "TERMS",
      description: "comma-separated substrings; keeps registry entries and baselines whose name contains one\n" +
        "(tf.maxPool of the same backend is always kept: ratios need it)",
    },
    json: {
      type: "string",
      value: "FILE",
      description: "full results as JSON (default out/bench-<DENO_WEBGPU_BACKEND or default>.json); FILE with\n" +
        ".json replaced by .benchmark-action.json gets github-action-benchmark's customSmallerIsBetter array",
    },
    report: {
      type: "string",
      value: "DIR",
      description: "Markdown report with SVG charts (default bench-report/<backend>/)",
    },
    shapes: {
      type: "string",
      value: "LABELS",
      description: "comma-separated shape labels of the plan (e.g. small,resnet)",
    },
    k: { type: "string", value: "LIST", description: "comma-separated k values in 1..4" },
    suites: {
      type: "string",
      value: "LIST",
      description: "comma-separated suites to run (default all): shapes (the shape plan: every entry and baseline),\n" +
        "bandwidth (2x2/2 forward vs the copy kernel, paired rounds), windows (3x3/2 on the ResNet stem\n" +
        "shape vs tf.maxPool 3x3/2)",
    },
  },
  epilog: "exit status: 0 every planned measurement ran, 1 something failed (no adapter, a workload threw, a tensor " +
    "leak), 2 usage error",
});

/** The suites of a run: the shape plan, the bandwidth suite (bench/bandwidth.ts), the 3x3/2 suite (bench/windows.ts). */
export const BENCH_SUITES = ["shapes", "bandwidth", "windows"] as const;

/** One of {@link BENCH_SUITES}. */
export type BenchSuite = typeof BENCH_SUITES[number];

/** Parsed flags. */
export interface BenchFlags {
  /** `--quick`: the reduced plan (at most about a minute on the 2-core machine). */
  readonly quick: boolean;
  /** `--filter a,b`: keep subjects whose name contains any term (empty: all). */
  readonly filter: readonly string[];
  /** `--json FILE`: where the full JSON goes (undefined: the default path). */
  readonly json?: string;
  /** `--report DIR`: where the Markdown report and SVG charts go (undefined: the default). */
  readonly report?: string;
  /** `--shapes a,b`: keep only these shape labels (empty: the plan's shapes). */
  readonly shapes: readonly string[];
  /** `--k 1,4`: keep only these k (empty: the plan's k values). */
  readonly ks: readonly number[];
  /** `--suites bandwidth,windows`: the suites to run (default all of {@link BENCH_SUITES}). */
  readonly suites: readonly BenchSuite[];
}

/** Turns parsed flag values into {@link BenchFlags}; throws UsageError naming the flag. */
export function benchFlags(values: FlagValues): BenchFlags {
  const given = (name: string) => values[name] !== undefined;
  const text = (name: string) => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (v === "") throw new UsageError(`--${name}`, "a non-empty value", '""');
    return v as string;
  };
  return {
    quick: values.quick === true,
    filter: given("filter") ? listFlag(values, "filter", (t) => t) : [],
    json: text("json"),
    report: text("report"),
    shapes: given("shapes") ? listFlag(values, "shapes", (t) => t) : [],
    ks: given("k")
      ? listFlag(values, "k", (item) => {
        const k = Number(item);
        if (!(POOL_RANGES as readonly number[]).includes(k)) {
          throw new UsageError("--k", "integers in 1..4", JSON.stringify(item));
        }
        return k;
      })
      : [],
    suites: given("suites")
      ? listFlag(values, "suites", (item) => {
        if (!(BENCH_SUITES as readonly string[]).includes(item)) {
          throw new UsageError("--suites", `names among ${BENCH_SUITES.join(", ")}`, JSON.stringify(item));
        }
        return item as BenchSuite;
      })
      : [...BENCH_SUITES],
  };
}
