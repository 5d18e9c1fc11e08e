/**
 * Command-line flags of `deno task bench` (pure parsing; no defaults that depend on the machine).
 *
 * @module
 */
import { POOL_RANGES } from "../src/spec.ts";
import { SortPoolArgumentError } from "../src/validate.ts";

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
  /** `--help`. */
  readonly help: boolean;
}

/** Usage text printed by `--help`. */
export const USAGE =
  `usage: deno task bench [--quick] [--filter TERMS] [--json FILE] [--report DIR] [--shapes LABELS] [--k LIST]

  --quick          reduced plan: three shapes (cpu group on the smallest only), k = 1 and 4,
                   fewer samples (under a minute here)
  --filter TERMS   comma-separated substrings; keeps registry entries and baselines whose name
                   contains one (tf.maxPool of the same backend is always kept: ratios need it)
  --json FILE      full results as JSON (default out/bench-<DENO_WEBGPU_BACKEND or default>.json);
                   FILE with .json replaced by .benchmark-action.json gets the
                   customSmallerIsBetter array for github-action-benchmark
  --report DIR     Markdown report with SVG charts (default bench-report/<backend>/)
  --shapes LABELS  comma-separated shape labels of the plan (e.g. small,resnet)
  --k LIST         comma-separated k values in 1..4
  --help           this text`;

const VALUE_FLAGS = ["--filter", "--json", "--report", "--shapes", "--k"] as const;
const BOOLEAN_FLAGS = ["--quick", "--help"] as const;
const ALL_FLAGS = [...BOOLEAN_FLAGS, ...VALUE_FLAGS].join(", ");

function list(flag: string, value: string): string[] {
  const items = value.split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  if (items.length === 0) {
    throw new SortPoolArgumentError(flag, "a comma-separated list with at least one item", JSON.stringify(value));
  }
  return items;
}

/** Parses `args` (as in `Deno.args`). Throws SortPoolArgumentError naming the offending flag. */
export function parseFlags(args: readonly string[]): BenchFlags {
  let quick = false;
  let help = false;
  let filter: string[] = [];
  let json: string | undefined;
  let report: string | undefined;
  let shapes: string[] = [];
  let ks: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      throw new SortPoolArgumentError("arguments", `flags only (${ALL_FLAGS})`, JSON.stringify(arg));
    }
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (seen.has(flag)) throw new SortPoolArgumentError(flag, "at most once", "it twice");
    seen.add(flag);
    if ((BOOLEAN_FLAGS as readonly string[]).includes(flag)) {
      if (inline !== undefined) throw new SortPoolArgumentError(flag, "no value", JSON.stringify(inline));
      if (flag === "--quick") quick = true;
      else help = true;
      continue;
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) {
      throw new SortPoolArgumentError(flag, `a known flag (${ALL_FLAGS})`, JSON.stringify(arg));
    }
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new SortPoolArgumentError(
          flag,
          "a value after it",
          next === undefined ? "nothing" : JSON.stringify(next),
        );
      }
      value = next;
      i++;
    }
    if (value.length === 0) throw new SortPoolArgumentError(flag, "a non-empty value", '""');
    switch (flag) {
      case "--filter":
        filter = list(flag, value);
        break;
      case "--json":
        json = value;
        break;
      case "--report":
        report = value;
        break;
      case "--shapes":
        shapes = list(flag, value);
        break;
      case "--k":
        ks = list(flag, value).map((item) => {
          const k = Number(item);
          if (!(POOL_RANGES as readonly number[]).includes(k)) {
            throw new SortPoolArgumentError(flag, "integers in 1..4", JSON.stringify(item));
          }
          return k;
        });
        break;
    }
  }
  return { quick, filter, json, report, shapes, ks, help };
}
