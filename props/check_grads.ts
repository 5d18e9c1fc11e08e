/**
 * `deno task check-grads`: property-based gradient and agreement checks of every registry entry and of
 * the op `sortPool2d` on both tfjs backends (`sortPool2d@cpu`, `sortPool2d@webgpu`: props/subjects.ts).
 *
 * ```
 * deno task check-grads [--impl NAMES] [--property NAMES] [--runs N] [--seed S] [--path P]
 *                       [--budget SECONDS] [--shrink N] [--json FILE] [--planted] [--list]
 * ```
 *
 * Without --runs, each entry is timed first and the runs per property are planned to fit
 * --budget (default 100 s, cheapest entries keep --max-runs = 100, GPU entries get fewer, never
 * under 5). Progress goes to stderr; the summary table, failures (with replay commands) and
 * tolerances to stdout. Exits 1 on any failure (GPU entries without a WebGPU adapter fail, naming
 * the reason), 2 on bad arguments. --planted runs the planted-bug mutants instead and exits 1
 * unless every planted bug is caught.
 *
 * @module
 */
import { chooseEngine, defineCli, helpText, intFlag, parseCli, UsageError } from "../harness/cli.ts";
import { describeAdapter, requestAdapterOrThrow } from "../src/webgpu/device.ts";
import { ensureRuntimeDir } from "../harness/runtime_dir.ts";
import type { Implementation } from "../src/types.ts";

export { UsageError };
import { plantedBugs, plantedControl, plantedControlFloat32, propertiesFor, selectPlanted } from "./planted.ts";
import { properties, type PropertyDefinition, selectProperties } from "./properties.ts";
import { selectSubjects } from "./subjects.ts";
import {
  formatCoverage,
  formatLegend,
  formatMargins,
  formatOutcome,
  formatSkips,
  formatSummary,
  formatTolerances,
  outcomeJson,
} from "./report.ts";
import { calibrate, type PlannedEntry, planRuns, type TimedEntry } from "./plan.ts";
import { probeWebGpu, type PropertyOutcome, runProperty, slotsFor, unavailableOutcome } from "./runner.ts";
import { describeTolerances } from "../testkit/mod.ts";

/** Parsed command line. */
export interface CheckGradsOptions {
  impl?: string;
  property?: string;
  runs?: number;
  maxRuns: number;
  minRuns: number;
  seed?: number;
  path?: string;
  budget: number;
  shrink?: number;
  json?: string;
  /** `--engine`: the WebGPU engine (src/webgpu/engine.ts); default SORTPOOL_ENGINE, else deno. */
  engine?: string;
  planted: boolean;
  list: boolean;
  help: boolean;
}

/** The command line of check-grads (harness/cli.ts convention). */
export const CHECK_GRADS_CLI = defineCli({
  command: "deno task check-grads",
  summary: "Property-based gradient and agreement checks of every registry entry (or, with --planted, of the " +
    "planted-bug mutants). Progress on stderr; the summary table, failures with replay commands and tolerances " +
    "on stdout.",
  options: {
    impl: {
      type: "string",
      value: "NAMES",
      description: "entries whose name contains any comma-separated term (registry, or planted with --planted)",
    },
    property: {
      type: "string",
      value: "NAMES",
      description: "comma-separated property names (default all; --list shows them)",
    },
    runs: {
      type: "string",
      value: "N",
      description: "cases per property for every entry (default: planned by cost, at most --max-runs)",
    },
    "max-runs": { type: "string", value: "N", description: "most cases per property when planning", default: "100" },
    "min-runs": { type: "string", value: "N", description: "fewest cases per property when planning", default: "5" },
    budget: { type: "string", value: "SECONDS", description: "time to plan for when --runs is absent", default: "100" },
    seed: { type: "string", value: "S", description: "fast-check seed (default random; printed)" },
    path: { type: "string", value: "P", description: "replay a counterexample path (with the seed that found it)" },
    shrink: {
      type: "string",
      value: "N",
      description: "property evaluations allowed for shrinking after a failure (default 200 CPU, 40 GPU)",
    },
    json: { type: "string", value: "FILE", description: "write outcomes as JSON" },
    planted: {
      type: "boolean",
      description: "run the planted-bug mutants instead of the registry; fail unless each is caught",
    },
    list: { type: "boolean", description: "list properties and entries, then exit" },
  },
  epilog: "exit status: 0 all checks pass, 1 a failure (or an uncaught planted bug), 2 usage error",
});

/** Parses `args` (Deno.args) strictly; throws UsageError (harness/cli.ts) naming the flag. */
export function parseArgs(args: readonly string[]): CheckGradsOptions {
  const { values, help } = parseCli(CHECK_GRADS_CLI, args);
  const given = (name: string) => typeof values[name] === "string";
  const o: CheckGradsOptions = {
    maxRuns: intFlag(values, "max-runs", 1),
    minRuns: intFlag(values, "min-runs", 1),
    budget: intFlag(values, "budget", 1),
    planted: values.planted === true,
    list: values.list === true,
    help,
  };
  if (given("impl")) o.impl = values.impl as string;
  if (given("property")) o.property = values.property as string;
  if (given("runs")) o.runs = intFlag(values, "runs", 1);
  if (given("seed")) o.seed = intFlag(values, "seed", Number.MIN_SAFE_INTEGER);
  if (given("path")) {
    const v = values.path as string;
    if (!/^\d+(:\d+)*$/.test(v)) throw new UsageError("--path", "a fast-check path like 12:0:3", JSON.stringify(v));
    o.path = v;
  }
  if (given("shrink")) o.shrink = intFlag(values, "shrink", 0);
  if (given("json")) o.json = values.json as string;
  if (given("engine")) o.engine = values.engine as string;
  if (o.path !== undefined && o.seed === undefined) throw new UsageError("--path", "a --seed as well", "no --seed");
  return o;
}

/** Everything a run produced. */
export interface CheckGradsResult {
  readonly seed: number;
  readonly entries: readonly Implementation[];
  readonly properties: readonly PropertyDefinition[];
  readonly outcomes: readonly PropertyOutcome[];
  readonly plan: ReadonlyMap<string, PlannedEntry | undefined>;
  readonly wallSeconds: number;
}

/** Progress lines for stderr. */
export interface Progress {
  line(text: string): void;
  status(text: string): void;
}

/** Writes progress to stderr: a rewritten status line on a terminal, plain lines otherwise. */
export function stderrProgress(): Progress {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  let last = 0;
  return {
    line(text) {
      Deno.stderr.writeSync(enc.encode(`${tty ? "\r\x1b[K" : ""}${text}\n`));
    },
    status(text) {
      if (!tty) return;
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      Deno.stderr.writeSync(enc.encode(`\r\x1b[K${text.slice(0, 118)}`));
    },
  };
}

/**
 * Runs the selected properties over the selected entries. `probe` says whether WebGPU is usable
 * (null) or why not; entries on device "webgpu" then fail every property with that reason.
 */
export async function checkGrads(
  entries: readonly Implementation[],
  props: readonly PropertyDefinition[],
  options: CheckGradsOptions,
  progress: Progress,
  probe: () => Promise<string | null> = probeWebGpu,
): Promise<CheckGradsResult> {
  const started = performance.now();
  const seed = options.seed ?? ((Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) >>> 0);
  const replayCommand = `deno task check-grads${options.planted ? " --planted" : ""}`;
  progress.line(`check-grads: seed ${seed}, ${entries.length} entries, ${props.length} properties`);

  // Entries that cannot run, and the cost of those that can.
  const unavailable = new Map<string, string>();
  const timed: TimedEntry[] = [];
  for (const entry of entries) {
    if (entry.device === "webgpu") {
      const reason = await probe();
      if (reason) {
        unavailable.set(entry.name, `device "webgpu": ${reason}`);
        continue;
      }
    }
    if (options.runs !== undefined || options.path !== undefined) {
      timed.push({ entry, secondsPerCall: NaN });
      continue;
    }
    try {
      progress.status(`timing ${entry.name} ...`);
      timed.push({ entry, ...(await calibrate(entry)) });
    } catch (err) {
      unavailable.set(entry.name, `warm-up call threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const plan = new Map<string, PlannedEntry | undefined>();
  if (options.runs === undefined && options.path === undefined) {
    for (const p of planRuns(timed, props, options.budget, options.maxRuns, options.minRuns)) {
      plan.set(p.entry.name, p);
      progress.line(
        `plan: ${p.entry.name}: ${(p.secondsPerCall * 1000).toFixed(2)} ms/call, ${
          (p.secondsPerNewWindow * 1000).toFixed(0)
        } ms per new window configuration → ${p.runs} runs per property ` +
          `(~${p.estimatedSeconds.toFixed(1)} s estimated)`,
      );
    }
  }

  const outcomes: PropertyOutcome[] = [];
  for (const [index, entry] of entries.entries()) {
    const reason = unavailable.get(entry.name);
    if (reason) {
      for (const p of props) outcomes.push(unavailableOutcome(entry, p, seed, reason));
      progress.line(`[${index + 1}/${entries.length}] ${entry.name}: FAIL: ${reason}`);
      continue;
    }
    const runs = options.runs ?? plan.get(entry.name)?.runs ?? options.maxRuns;
    const gpu = entry.device === "webgpu";
    for (const p of propertiesFor(entry, props)) {
      const outcome = await runProperty(entry, p, {
        seed,
        runs,
        path: options.path,
        shrinkLimit: options.shrink ?? (gpu ? 40 : 200),
        context: { slots: slotsFor(entry) },
        replayCommand,
        onCase: (n) => progress.status(`[${index + 1}/${entries.length}] ${entry.name}  ${p.name}  case ${n}/${runs}`),
      });
      outcomes.push(outcome);
      const verdict = outcome.status === "pass"
        ? "ok"
        : outcome.status === "deviation"
        ? "deviation (declared)"
        : "FAIL";
      const cov = outcome.coverage;
      const skipped = outcome.skips.count > 0 ? `, ${outcome.skips.count} skipped as unsupported` : "";
      progress.line(
        `[${index + 1}/${entries.length}] ${entry.name}  ${p.name}: ${verdict} (${outcome.evaluations} cases: ` +
          `${cov.general} general windows, ${cov.overlapping} overlapping, ${cov.perChannel} per-channel${skipped}; ${
            (outcome.wallMs / 1000).toFixed(1)
          } s)${outcome.note ? `; ${outcome.note}` : ""}`,
      );
    }
    await entry.dispose?.();
  }
  return { seed, entries, properties: props, outcomes, plan, wallSeconds: (performance.now() - started) / 1000 };
}

/** Planted mode: which planted bugs were caught as expected. */
export function plantedVerdicts(
  outcomes: readonly PropertyOutcome[],
): { name: string; caught: boolean; by: string[] }[] {
  const verdicts = plantedBugs.filter((b) => outcomes.some((o) => o.entry === b.impl.name)).map((b) => {
    const mine = outcomes.filter((o) => o.entry === b.impl.name);
    const by = mine.filter((o) => o.status === b.expect).map((o) => o.property);
    const required = b.caughtBy.filter((p) => mine.some((o) => o.property === p));
    const caught = by.length > 0 && required.every((p) => by.includes(p)) &&
      (b.expect === "fail" || !mine.some((o) => o.status === "fail"));
    return { name: b.impl.name, caught, by };
  });
  for (const control of [plantedControlFloat32, plantedControl]) {
    const mine = outcomes.filter((o) => o.entry === control.name);
    if (mine.length === 0) continue;
    const failing = mine.filter((o) => o.status !== "pass").map((o) => o.property);
    verdicts.unshift({ name: `${control.name} (must pass)`, caught: failing.length === 0, by: failing });
  }
  return verdicts;
}

/** The engine and adapter the GPU entries run on (adapter.info), or why there is none. */
async function webgpuLine(): Promise<string> {
  try {
    return describeAdapter(await requestAdapterOrThrow());
  } catch (e) {
    return `none (${e instanceof Error ? e.message : String(e)})`;
  }
}

async function main(): Promise<number> {
  let options: CheckGradsOptions;
  let entries: Implementation[];
  let props: PropertyDefinition[];
  try {
    options = parseArgs(Deno.args);
    if (options.help) {
      console.log(helpText(CHECK_GRADS_CLI));
      return 0;
    }
    // Registry entries plus the op sortPool2d on both tfjs backends (props/subjects.ts).
    entries = options.planted ? selectPlanted(options.impl) : selectSubjects(options.impl);
    if (options.path !== undefined && options.impl !== undefined) {
      // A replay names one entry; prefer the exact name over the substring filter's extra matches.
      const exact = entries.filter((e) => e.name === options.impl);
      if (exact.length === 1) entries = exact;
    }
    props = selectProperties(options.property);
    await chooseEngine(options.engine);
  } catch (err) {
    console.error(`check-grads: ${err instanceof Error ? err.message : String(err)}`);
    console.error(`(see ${CHECK_GRADS_CLI.command} --help)`);
    return 2;
  }
  if (options.list) {
    console.log(formatLegend(properties));
    const supports = (e: Implementation) =>
      e.supports ? `, windows ${e.supports.windows}, per-channel ${e.supports.perChannelLogits}` : "";
    console.log(
      `entries: ${
        entries.map((e) => `${e.name} (${e.precision}, ${e.device}, ties ${e.ties.kind}${supports(e)})`).join(", ")
      }`,
    );
    return 0;
  }

  const webgpu = await webgpuLine();
  console.error(`check-grads: WebGPU: ${webgpu}`);
  const result = await checkGrads(entries, props, options, stderrProgress());
  const failures = result.outcomes.filter((o) => o.status === "fail");
  const deviations = result.outcomes.filter((o) => o.status === "deviation");

  console.log(formatSummary(result.entries, result.properties, result.outcomes, result.plan));
  console.log("");
  console.log(formatCoverage(result.entries, result.properties, result.outcomes));
  const skips = formatSkips(result.entries, result.outcomes);
  if (skips) console.log(`\n${skips}`);
  console.log("");
  console.log(formatLegend(result.properties));
  if (failures.length > 0) {
    console.log(`\n${options.planted ? "failures found (planted bugs)" : "FAILURES"}: ${failures.length}`);
    const printedReasons = new Set<string>();
    for (const f of failures) {
      if (f.reason) {
        // One block per entry that could not run at all, not one per property.
        if (printedReasons.has(f.entry)) continue;
        printedReasons.add(f.entry);
        console.log(`\nFAIL  ${f.entry}  ×  every property\n  reason: ${f.reason}`);
        continue;
      }
      console.log(`\n${formatOutcome(f)}`);
    }
  }
  if (deviations.length > 0) {
    console.log(`\ndeviations (declared by the entry, not failures): ${deviations.length}`);
    for (const d of deviations) console.log(`\n${formatOutcome(d)}`);
  }
  console.log(`\n${formatTolerances()}`);
  if (!options.planted) console.log(`\n${formatMargins(result.entries, result.properties, result.outcomes)}`);

  let exit = failures.length > 0 ? 1 : 0;
  let planted: ReturnType<typeof plantedVerdicts> | undefined;
  if (options.planted) {
    planted = plantedVerdicts(result.outcomes);
    console.log("\nplanted bugs:");
    for (const p of planted) {
      console.log(`  ${p.caught ? "caught" : "NOT CAUGHT"}  ${p.name}  by ${p.by.join(", ") || "-"}`);
    }
    exit = planted.every((p) => p.caught) ? 0 : 1;
  }
  console.log(
    `\nseed ${result.seed}; ${result.outcomes.reduce((s, o) => s + o.evaluations, 0)} cases; ` +
      `${result.wallSeconds.toFixed(1)} s; ${failures.length} failing, ${deviations.length} declared deviations; ` +
      `WebGPU: ${webgpu}`,
  );

  if (options.json) {
    const json = {
      seed: result.seed,
      webgpu,
      wallSeconds: result.wallSeconds,
      tolerances: describeTolerances(),
      plan: [...result.plan.values()].filter((p) => p).map((p) => ({
        entry: p!.entry.name,
        msPerCall: p!.secondsPerCall * 1000,
        msPerNewWindow: p!.secondsPerNewWindow * 1000,
        runs: p!.runs,
        estimatedSeconds: p!.estimatedSeconds,
      })),
      entries: result.entries.map((e) => ({
        name: e.name,
        precision: e.precision,
        device: e.device,
        backend: e.backend,
        ties: e.ties,
        supports: e.supports ?? null,
        slots: slotsFor(e),
      })),
      outcomes: result.outcomes.map(outcomeJson),
      planted: planted ?? null,
      exitCode: exit,
    };
    await Deno.writeTextFile(options.json, JSON.stringify(json, null, 2) + "\n");
  }
  return exit;
}

if (import.meta.main) {
  ensureRuntimeDir();
  Deno.exit(await main());
}
