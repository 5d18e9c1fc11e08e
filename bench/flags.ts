/**
 * The command line of `deno task bench` (harness/cli.ts convention: strict node:util parseArgs,
 * `--help`, UsageError naming the flag). Pure parsing; no defaults that depend on the machine.
 *
 * @module
 */
import { defineCli, type FlagValues, listFlag, UsageError } from "../harness/cli.ts";
import { POOL_RANGES } from "../src/spec.ts";

/** The flags of `deno task bench`. */
export const BENCH_CLI = defineCli({
  command: "deno task bench",
  summary: "Benchmarks of the sort_pool2d registry entries against tf.maxPool, tf.avgPool and the copy kernel on " +
    "a WebGPU engine (--engine: Deno's wgpu or Dawn; --engines / --merge: the cross-engine table). Without a plan " +
    "flag: the kernel targets only (gated entries on 32x64x64x32, k = 4, and the bandwidth suite; about 2 min on " +
    "a 2-core CPU adapter). Progress on stderr; the tables on stdout; JSON and a Markdown report with vega-lite " +
    "SVG charts written to files. See bench/README.md.",
  options: {
    quick: {
      type: "boolean",
      description: "reduced plan: three shapes (cpu group on the smallest only), k = 1 and 4, fewer samples",
    },
    "dry-run": {
      type: "boolean",
      description: "print the plan (suites, shapes, k, subjects, sample budgets) and exit without measuring",
    },
    filter: {
      type: "string",
      value: "TERMS",
      description: "comma-separated substrings; keeps registry entries and baselines whose name contains one\n" +
        "(tf.maxPool of the same backend is always kept: ratios need it)",
    },
    full: {
      type: "boolean",
      description: "the whole plan: five shapes from 16 K to 25.7 M elements, every entry and baseline, k = 1..4,\n" +
        "both device groups, the bandwidth suite at every k and the 3x3/2 suite (about 10 min here)",
    },
    cross: {
      type: "boolean",
      description: "the cross-engine plan: gated entries, tf.maxPool and the copy kernel only, WebGPU only,\n" +
        "4x64x64x32 at k = 1, 4 and 32x64x64x32 at k = 4, 2 untimed warm-up calls per task (Dawn's first calls\n" +
        "compile); prints the cross-engine table for this engine; default --suites shapes",
    },
    engines: {
      type: "string",
      value: "LIST",
      description: "comma-separated engines (deno, dawn; deno:gl, deno:vulkan also set DENO_WEBGPU_BACKEND):\n" +
        "runs the --cross plan once per engine, each in a process of its own, then merges them into the\n" +
        "cross-engine table and chart (see --merge)",
    },
    merge: {
      type: "string",
      value: "FILES",
      multiple: true,
      description: "comma-separated bench JSON files (any engines, adapters or plans; repeatable): measures\n" +
        "nothing, writes the cross-engine table (stdout), its JSON (--json, default\n" +
        "out/cross-engine.json) and report with a chart (--report, default bench-report/cross-engine/)",
    },
    json: {
      type: "string",
      value: "FILE",
      description:
        "full results as JSON (default out/bench[-<plan>]-<engine>-<adapter>[-<DENO_WEBGPU_BACKEND>].json,\n" +
        "<plan> left out for the default plan, e.g. out/bench-full-dawn-swiftshader.json); FILE with .json\n" +
        "replaced by .benchmark-action.json gets github-action-benchmark's customSmallerIsBetter array",
    },
    report: {
      type: "string",
      value: "DIR|FILE.md",
      description: "Markdown report (DIR/README.md, or FILE.md) with vega-lite SVG charts in its folder\n" +
        "(default bench-report/[<plan>-]<engine>-<adapter>[-<backend>]/)",
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
      description: "comma-separated suites to run (default: the plan's; --dry-run lists every suite and what it\n" +
        "measures)",
    },
  },
  epilog: "exit status: 0 every planned measurement ran, 1 something failed (no adapter, a workload threw, a tensor " +
    "leak), 2 usage error",
});

/** One engine of `--engines`: an engine name and, for Deno's engine, an optional wgpu backend. */
export interface EngineSpec {
  readonly engine: "deno" | "dawn";
  /** DENO_WEBGPU_BACKEND for that process (deno only), e.g. "gl" or "vulkan". */
  readonly backend?: string;
}

/** `deno`, `dawn`, `deno:gl`, `deno:vulkan` (any wgpu backend name after `deno:`). */
export function parseEngineSpec(item: string): EngineSpec {
  const m = /^(deno|dawn)(?::([a-z0-9]+))?$/i.exec(item.trim());
  if (!m || (m[2] !== undefined && m[1].toLowerCase() !== "deno")) {
    throw new UsageError("--engines", "deno, dawn, deno:gl or deno:vulkan", JSON.stringify(item));
  }
  const engine = m[1].toLowerCase() as EngineSpec["engine"];
  return m[2] === undefined ? { engine } : { engine, backend: m[2].toLowerCase() };
}

/** `deno:gl` -> "deno-gl": a file-name-safe name of an engine spec. */
export function engineSpecSlug(spec: EngineSpec): string {
  return spec.backend ? `${spec.engine}-${spec.backend}` : spec.engine;
}

/** Parsed flags. */
export interface BenchFlags {
  /** `--quick`: the reduced plan (at most about a minute on the 2-core machine). */
  readonly quick: boolean;
  /** `--dry-run`: print the plan and exit without measuring. */
  readonly dryRun: boolean;
  /** `--cross`: the cross-engine plan (bench/plan.ts CROSS_PLAN). */
  readonly cross: boolean;
  /** `--full`: the whole plan (on Dawn on a CPU adapter too, whose default is the cross plan). */
  readonly full: boolean;
  /** `--engines a,b`: run the cross plan once per engine in child processes and merge (empty: not given). */
  readonly engines: readonly EngineSpec[];
  /** `--merge f1,f2`: bench JSON files to merge into the cross-engine table (empty: not given). */
  readonly merge: readonly string[];
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
  /** `--suites bandwidth,windows`: the suites to run (undefined: those of the plan level). */
  readonly suites?: readonly string[];
}

/**
 * Turns parsed flag values into {@link BenchFlags}, with `suiteNames` the names `--suites` accepts
 * (bench/suites.ts); throws UsageError naming the flag.
 */
export function benchFlags(values: FlagValues, suiteNames: readonly string[]): BenchFlags {
  const given = (name: string) => values[name] !== undefined;
  const text = (name: string) => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (v === "") throw new UsageError(`--${name}`, "a non-empty value", '""');
    return v as string;
  };
  const quick = values.quick === true;
  const cross = values.cross === true;
  const full = values.full === true;
  const engines = given("engines") ? listFlag(values, "engines", parseEngineSpec) : [];
  const rawMerge = values.merge;
  const merge = Array.isArray(rawMerge)
    ? rawMerge.flatMap((v) => v.split(",")).map((t) => t.trim()).filter((t) => t.length > 0)
    : [];
  if (Array.isArray(rawMerge) && merge.length === 0) {
    throw new UsageError("--merge", "a comma-separated list of one or more JSON files", JSON.stringify(rawMerge));
  }
  const modes = [
    quick && "--quick",
    full && "--full",
    cross && "--cross",
    engines.length > 0 && "--engines",
    merge.length > 0 && "--merge",
  ]
    .filter((m): m is string => typeof m === "string");
  if (modes.length > 1) {
    throw new UsageError(modes[1], `only one of --quick, --full, --cross, --engines, --merge`, modes.join(" "));
  }
  if (engines.length > 0 && values["dry-run"] === true) {
    throw new UsageError("--dry-run", "no --dry-run with --engines (each engine runs the --cross plan)", "both");
  }
  if (engines.length > 0 && given("suites")) {
    throw new UsageError("--suites", "no --suites with --engines (each engine runs the --cross plan's shapes)", "one");
  }
  if (merge.length > 0) {
    for (const name of ["suites", "filter", "shapes", "k", "dry-run"]) {
      if (given(name)) throw new UsageError(`--${name}`, "no measuring flag with --merge (it measures nothing)", "one");
    }
  }
  return {
    quick,
    dryRun: values["dry-run"] === true,
    full,
    cross,
    engines,
    merge,
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
    ...(given("suites")
      ? {
        suites: listFlag(values, "suites", (item) => {
          if (!suiteNames.includes(item)) {
            throw new UsageError("--suites", `names among ${suiteNames.join(", ")}`, JSON.stringify(item));
          }
          return item;
        }),
      }
      : {}),
  };
}
