/**
 * `deno task gate`: the CI regression gate on kernel speed. See ci/README.md.
 *
 * In one process, the gated registry entries and tf.maxPool run in interleaved rounds on a fixed
 * workload, forward and forward+backward. Each round gives a ratio entry / maxPool; the gate
 * takes their median with a seeded bootstrap 95% interval and fails when the interval's lower
 * bound exceeds the committed baseline ratio (ci/baseline.json) × (1 + tolerance).
 *
 * Exit status: 0 pass (also: no baseline for this adapter, with a warning), 1 regression (or a
 * self-test that did not catch its slowed kernels), 2 bad arguments or a setup failure.
 *
 * @module
 */
import os from "node:os";
import { implementations } from "../src/registry.ts";
import type { Implementation } from "../src/types.ts";
import { SortPoolArgumentError } from "../src/validate.ts";
import {
  type AdapterBaseline,
  adapterKey,
  type BaselineFile,
  DEFAULT_BASELINE_PATH,
  lookupBaseline,
  mergeBaseline,
  PASSES,
  type PassName,
  readBaseline,
  writeBaseline,
} from "./baseline.ts";
import { type Attempt, type Confirmed, judgeWithConfirmation } from "./confirm.ts";
import { type BaselineChoice, type Check, evaluate, type GateEntry, measure, type Measurements } from "./measure.ts";
import { formatSummary, type GateReport, reportJson } from "./report.ts";
import { buildSelfTestEntries, type SelfTestEntries } from "./selftest.ts";
import type { Clock } from "./timing.ts";
import { checkTolerance } from "./verdict.ts";
import { GATE_WORKLOAD, type GateWorkload, workloadId, WORKLOADS } from "./workload.ts";

/**
 * Default tolerance: a check fails when the whole interval of the median ratio lies more than
 * 25% above the baseline (and stays there on re-measurement). Chosen from measurements on this
 * project's CI machine (ci/README.md): unchanged trees reached at most 1.27x in the median during
 * phases of memory contention, while a forward kernel made ~1.5x slower lands at 1.46x to 1.6x.
 */
export const DEFAULT_TOLERANCE = 0.25;

/**
 * Entries gated by default: the project's own WGSL kernels, on a raw GPUDevice and inside tfjs.
 * The tfjs-op entries are left out: their speed is tfjs's, not this project's code (a tfjs
 * upgrade would move them, no kernel edit could), and tfjs-topk@webgpu is orders of magnitude
 * slower than the kernels, which would stretch the gate past its time budget.
 */
export const DEFAULT_ENTRIES: readonly string[] = ["wgsl", "wgsl@tfjs"];

/** --update-baseline without --rounds measures this many times the workload's rounds. */
export const RECORD_ROUNDS_FACTOR = 2;

/**
 * Re-measurements before a failing check counts: one. A phase in which other processes slow the
 * memory-bound kernels more than tf.maxPool rarely lasts through a second measurement; a real
 * regression always does (ci/confirm.ts).
 */
export const DEFAULT_RETRIES = 1;

/** Default bootstrap seed. */
export const DEFAULT_SEED = 0x5eed;

/** Parsed command line. */
export interface GateOptions {
  /** Entry names, exact; "gpu" selects every WebGPU entry with prepareBench. */
  readonly entries: readonly string[];
  readonly tolerance: number;
  readonly workload: GateWorkload;
  readonly baselinePath: string;
  readonly updateBaseline: boolean;
  readonly requireBaseline: boolean;
  readonly selfTest: boolean;
  readonly jsonPath?: string;
  readonly seed: number;
  /** Re-measurements a failing check gets before it counts (ci/confirm.ts). */
  readonly retries: number;
  /** "auto": process CPU time on CPU-emulated adapters, wall time on real GPUs. */
  readonly clock: Clock | "auto";
  readonly help: boolean;
}

/** The --help text. */
export const USAGE = `deno task gate [options]

  --entries LIST      comma-separated registry entries to gate (default: ${DEFAULT_ENTRIES.join(",")});
                      "gpu" = every WebGPU entry that has prepareBench
  --tolerance X       fail when the ratio's 95% interval lies wholly above baseline x (1 + X)
                      (default: ${DEFAULT_TOLERANCE})
  --update-baseline   measure (twice the rounds) and record this adapter's ratios in the baseline file
  --require-baseline  fail (instead of warning) when this adapter has no baseline
  --self-test         gate deliberately slowed WGSL kernels; succeeds only if both are caught
  --workload NAME     ${Object.keys(WORKLOADS).join(" | ")} (default: gate; "small" is for quick tests)
  --rounds N          interleaved rounds per pass (default: the workload's)
  --repetitions N     calls per sample, the fastest counts (default: the workload's)
  --baseline FILE     baseline file (default: ci/baseline.json)
  --json FILE         also write the full result, with every round, as JSON
  --retries N         re-measure an entry with a failing check up to N times; a check fails only
                      when every measurement fails (default: ${DEFAULT_RETRIES})
  --clock NAME        auto | cpu | wall: time calls by this process's CPU time or by wall time
                      (default auto: cpu on CPU-emulated adapters such as llvmpipe, wall on GPUs)
  --seed N            bootstrap resampling seed (default: 0x${DEFAULT_SEED.toString(16)})

Exit status: 0 pass, 1 regression (self-test: a slowed kernel not caught), 2 usage or setup error.`;

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new SortPoolArgumentError(flag, "a positive integer", JSON.stringify(text));
  }
  return n;
}

/** Parses the command line; throws SortPoolArgumentError naming the bad flag. */
export function parseGateArgs(args: readonly string[]): GateOptions {
  let entries: readonly string[] = DEFAULT_ENTRIES;
  let tolerance = DEFAULT_TOLERANCE;
  let workload = GATE_WORKLOAD;
  let rounds: number | undefined;
  let repetitions: number | undefined;
  let baselinePath = DEFAULT_BASELINE_PATH;
  let jsonPath: string | undefined;
  let seed = DEFAULT_SEED;
  let clock: Clock | "auto" = "auto";
  let retries = DEFAULT_RETRIES;
  const flags = { updateBaseline: false, requireBaseline: false, selfTest: false, help: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === "") throw new SortPoolArgumentError(flag, "a value after the flag", "nothing");
      return v;
    };
    switch (flag) {
      case "--entries": {
        const names = value().split(",").map((s) => s.trim()).filter((s) => s.length > 0);
        if (names.length === 0) throw new SortPoolArgumentError(flag, "at least one entry name", "an empty list");
        entries = names;
        break;
      }
      case "--tolerance": {
        const text = value();
        const t = Number(text);
        if (!Number.isFinite(t) || t < 0) {
          throw new SortPoolArgumentError(flag, "a number >= 0 (0.2 means 20%)", JSON.stringify(text));
        }
        tolerance = t;
        break;
      }
      case "--workload": {
        const name = value();
        const w = WORKLOADS[name];
        if (!w) {
          throw new SortPoolArgumentError(flag, `one of ${Object.keys(WORKLOADS).join(", ")}`, JSON.stringify(name));
        }
        workload = w;
        break;
      }
      case "--rounds":
        rounds = positiveInteger(flag, value());
        break;
      case "--repetitions":
        repetitions = positiveInteger(flag, value());
        break;
      case "--baseline":
        baselinePath = value();
        break;
      case "--json":
        jsonPath = value();
        break;
      case "--seed": {
        const text = value();
        seed = Number(text);
        if (!Number.isSafeInteger(seed) || seed < 0) {
          throw new SortPoolArgumentError(flag, "a non-negative integer", JSON.stringify(text));
        }
        break;
      }
      case "--retries": {
        const text = value();
        retries = Number(text);
        if (!Number.isSafeInteger(retries) || retries < 0) {
          throw new SortPoolArgumentError(flag, "an integer >= 0", JSON.stringify(text));
        }
        break;
      }
      case "--clock": {
        const name = value();
        if (name !== "auto" && name !== "cpu" && name !== "wall") {
          throw new SortPoolArgumentError(flag, "one of auto, cpu, wall", JSON.stringify(name));
        }
        clock = name;
        break;
      }
      case "--update-baseline":
        flags.updateBaseline = true;
        break;
      case "--require-baseline":
        flags.requireBaseline = true;
        break;
      case "--self-test":
        flags.selfTest = true;
        break;
      case "--help":
      case "-h":
        flags.help = true;
        break;
      default:
        throw new SortPoolArgumentError(
          "command line",
          "one of --entries, --tolerance, --update-baseline, --require-baseline, --self-test, --workload, --rounds, " +
            "--repetitions, --retries, --clock, --baseline, --json, --seed, --help",
          JSON.stringify(arg),
        );
    }
  }
  if (flags.selfTest && flags.updateBaseline) {
    throw new SortPoolArgumentError("--self-test", "not combined with --update-baseline", "both");
  }
  // A baseline is measured once and compared against many times: twice the rounds by default.
  if (rounds === undefined && flags.updateBaseline) rounds = RECORD_ROUNDS_FACTOR * workload.rounds;
  if (rounds !== undefined) workload = { ...workload, rounds };
  if (repetitions !== undefined) workload = { ...workload, repetitions };
  return { entries, tolerance, workload, baselinePath, jsonPath, seed, clock, retries, ...flags };
}

/** Resolves --entries against the registry: WebGPU entries with prepareBench only. */
export function resolveEntries(names: readonly string[], table: readonly Implementation[] = implementations) {
  const usable = table.filter((i) => i.device === "webgpu" && i.prepareBench);
  if (names.length === 1 && names[0] === "gpu") {
    if (usable.length === 0) throw new SortPoolArgumentError("--entries", "a WebGPU entry in the registry", "none");
    return usable;
  }
  return names.map((name) => {
    const found = table.find((i) => i.name === name);
    const known = usable.map((i) => i.name).join(", ") || "none yet";
    if (!found) {
      throw new SortPoolArgumentError("--entries", `registry entries with WebGPU benches (${known})`, `"${name}"`);
    }
    if (found.device !== "webgpu" || !found.prepareBench) {
      throw new SortPoolArgumentError(
        "--entries",
        `a WebGPU entry with prepareBench (${known})`,
        `"${name}" (device ${found.device}${found.prepareBench ? "" : ", no prepareBench"})`,
      );
    }
    return found;
  });
}

/**
 * Whether an adapter is a CPU emulation of a GPU (its "GPU" work runs on this process's threads):
 * WebGPU's fallback flag, or a known software rasteriser in the description.
 */
export function isCpuAdapter(info: Pick<GPUAdapterInfo, "description" | "isFallbackAdapter">): boolean {
  return info.isFallbackAdapter === true || /llvmpipe|lavapipe|softpipe|swiftshader|\bwarp\b/i.test(info.description);
}

/** The host processor's model name (as the OS reports it), or "unknown". */
export function cpuModel(): string {
  return os.cpus()[0]?.model?.trim() || "unknown";
}

/** The adapter Deno's WebGPU gives this process, its baseline key, and the clock `auto` picks. */
export async function currentAdapter(): Promise<{ key: string; info: GPUAdapterInfo; autoClock: Clock }> {
  if (typeof navigator === "undefined" || !navigator.gpu) throw new Error("gate: this runtime has no navigator.gpu");
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("gate: navigator.gpu.requestAdapter() returned null: no WebGPU adapter");
  const cpu = isCpuAdapter(adapter.info);
  const key = adapterKey(adapter.info, Deno.env.get("DENO_WEBGPU_BACKEND"), cpu ? cpuModel() : undefined);
  return { key, info: adapter.info, autoClock: cpu ? "cpu" : "wall" };
}

/** The command that records a baseline for the current backend. */
function recordCommand(): string {
  const backend = Deno.env.get("DENO_WEBGPU_BACKEND");
  return `${backend ? `DENO_WEBGPU_BACKEND=${backend} ` : ""}deno task gate --update-baseline`;
}

/** A baseline chooser reading the committed file. */
function committedBaseline(file: BaselineFile, key: string, workload: GateWorkload, clock: Clock, path: string) {
  return (entry: string, pass: PassName): BaselineChoice => {
    const found = lookupBaseline(file, key, workloadId(workload, clock), entry, pass);
    return "ratio" in found ? { ratio: found.ratio, source: path } : found;
  };
}

/** How a run reports progress and measures its own wall time. */
export interface RunContext {
  /** performance.now() at process start (default: when the run starts). */
  readonly started?: number;
  /** Progress lines (the CLI prints them on stderr); silent when absent. */
  readonly log?: (line: string) => void;
}

/** Runs the regular gate (or records the baseline) and returns its report. */
export async function runGate(options: GateOptions, context: RunContext = {}): Promise<GateReport> {
  const started = context.started ?? performance.now();
  checkTolerance(options.tolerance);
  const chosen = resolveEntries(options.entries);
  const { key, autoClock } = await currentAdapter();
  const clock = options.clock === "auto" ? autoClock : options.clock;
  const file = await readBaseline(options.baselinePath);
  const baselineFor = committedBaseline(file, key, options.workload, clock, options.baselinePath);
  const entries: GateEntry[] = chosen.map((i) => ({ name: i.name, prepare: (c) => i.prepareBench!(c) }));
  const attempt = async (some: readonly GateEntry[]): Promise<Attempt> => {
    const measurements = await measure(some, options.workload, { seed: options.seed, clock, log: context.log });
    return { measurements, checks: evaluate(measurements, options.tolerance, baselineFor) };
  };
  let result: Confirmed;
  try {
    // A baseline is recorded from one measurement: there is nothing to confirm.
    const retries = options.updateBaseline ? 0 : options.retries;
    result = await judgeWithConfirmation(entries, attempt, { retries, log: context.log });
  } finally {
    for (const i of chosen) await i.dispose?.();
  }
  const { first: m, checks } = result;
  const warnings: string[] = [];
  if (options.updateBaseline) {
    const record: AdapterBaseline = {
      workload: workloadId(options.workload, clock),
      recorded: new Date().toISOString(),
      deno: Deno.version.deno,
      ratios: Object.fromEntries(
        Object.entries(m.entries).map(([entry, passes]) => [
          entry,
          Object.fromEntries(PASSES.map((p) => {
            const { median, low, high } = passes[p].ratio;
            return [p, { ratio: round4(median), low: round4(low), high: round4(high) }];
          })),
        ]),
      ),
    };
    await writeBaseline(options.baselinePath, mergeBaseline(file, key, record));
    return report("gate", key, options, m, checks, true, `baseline recorded in ${options.baselinePath}`, [], started);
  }
  const regressions = checks.filter((c) => c.verdict === "regression");
  const missing = checks.filter((c) => c.verdict === "no-baseline");
  if (missing.length > 0) {
    warnings.push(
      `${missing.length} check(s) without baseline (${missing[0].baselineNote}); ` +
        (options.requireBaseline ? "failing (--require-baseline)" : "passing them unchecked") +
        `; record one on a quiet machine with: ${recordCommand()}`,
    );
  }
  for (const c of checks.filter((x) => x.faster)) {
    warnings.push(`${c.entry} ${c.pass} is faster than its baseline; consider ${recordCommand()}`);
  }
  const ok = regressions.length === 0 && !(options.requireBaseline && missing.length > 0);
  const unconfirmed = checks.filter((c) => c.verdict === "pass" && c.history[0] === "regression").length;
  const conclusion = `${checks.length} checks, ${regressions.length} regression(s)` +
    (regressions.length ? ` (${regressions.map((c) => `${c.entry} ${c.pass}`).join(", ")})` : "") +
    (unconfirmed ? `, ${unconfirmed} not confirmed on re-measurement` : "") +
    `, ${missing.length} without baseline`;
  return report("gate", key, options, m, checks, ok, conclusion, warnings, started);
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

function report(
  mode: GateReport["mode"],
  adapter: string,
  options: GateOptions,
  measurements: Measurements,
  checks: Check[],
  ok: boolean,
  conclusion: string,
  warnings: string[],
  started: number,
): GateReport {
  const wallSeconds = (performance.now() - started) / 1000;
  return { mode, adapter, tolerance: options.tolerance, measurements, checks, ok, conclusion, warnings, wallSeconds };
}

/**
 * The self-test: gates deliberately slowed variants of the WGSL kernels (a forward doing its work
 * twice, a backward doing extra work) next to an unmodified control built the same way. Each is
 * judged against the committed baseline of the entry the variants derive from when this adapter
 * and workload have one, else against the control's ratio measured in this run. Succeeds only
 * when the slowed forward fails its forward check and the slowed backward fails its
 * forward+backward check.
 */
export async function runSelfTest(options: GateOptions, context: RunContext = {}): Promise<GateReport> {
  const started = context.started ?? performance.now();
  checkTolerance(options.tolerance);
  const { key, autoClock } = await currentAdapter();
  const clock = options.clock === "auto" ? autoClock : options.clock;
  const file = await readBaseline(options.baselinePath);
  const built: SelfTestEntries = await buildSelfTestEntries();
  const committed = committedBaseline(file, key, options.workload, clock, options.baselinePath);
  const attempt = async (some: readonly GateEntry[]): Promise<Attempt> => {
    const m = await measure(some, options.workload, { seed: options.seed, clock, log: context.log });
    const baselineFor = (_entry: string, pass: PassName): BaselineChoice => {
      const c = committed(built.derivedFrom, pass);
      if ("ratio" in c) return { ratio: c.ratio, source: `${built.derivedFrom} in ${options.baselinePath}` };
      return { ratio: m.entries[built.control.name][pass].ratio.median, source: `in-run ${built.control.name}` };
    };
    return { measurements: m, checks: evaluate(m, options.tolerance, baselineFor) };
  };
  let result: Confirmed;
  try {
    result = await judgeWithConfirmation([built.control, built.slowForward, built.slowBackward], attempt, {
      retries: options.retries,
      companions: [built.control],
      log: context.log,
    });
  } finally {
    await built.dispose();
  }
  const { first: m, checks } = result;
  const warnings: string[] = [];
  if (!("ratio" in committed(built.derivedFrom, "forward"))) {
    warnings.push(
      `no committed baseline of ${built.derivedFrom} for this adapter and workload: ` +
        `judged against the unmodified control measured in this run`,
    );
  }
  const verdictOf = (entry: string, pass: PassName) => checks.find((c) => c.entry === entry && c.pass === pass)!;
  const caughtForward = verdictOf(built.slowForward.name, "forward").verdict === "regression";
  const caughtBackward = verdictOf(built.slowBackward.name, "forwardBackward").verdict === "regression";
  const ok = caughtForward && caughtBackward;
  const conclusion = `slowed forward ${caughtForward ? "caught" : "NOT caught"} (forward), slowed backward ` +
    `${caughtBackward ? "caught" : "NOT caught"} (forward+backward)`;
  return report("self-test", key, options, m, checks, ok, conclusion, warnings, started);
}

/** CLI entry point; returns the exit status. */
export async function main(args: readonly string[]): Promise<number> {
  const started = performance.now();
  let options: GateOptions;
  try {
    options = parseGateArgs(args);
  } catch (e) {
    console.error(`gate: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  let result: GateReport;
  try {
    const context = { started, log: (line: string) => console.error(`gate: ${line}`) };
    result = options.selfTest ? await runSelfTest(options, context) : await runGate(options, context);
  } catch (e) {
    console.error(`gate: setup failed: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  console.log(formatSummary(result));
  if (options.jsonPath) {
    try {
      await Deno.writeTextFile(options.jsonPath, JSON.stringify(reportJson(result), null, 2) + "\n");
    } catch (e) {
      console.error(`gate: --json: cannot write ${options.jsonPath}: ${(e as Error).message}`);
      return 2;
    }
    console.log(`gate: wrote ${options.jsonPath}`);
  }
  return result.ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
