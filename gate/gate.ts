/**
 * `deno task gate`: the speed gate. Times every gated registry entry (`Implementation.gated`) of
 * the working tree against the same entry of a base commit, in the same run on the same machine,
 * and fails when one got slower. See gate/README.md.
 *
 * The base tree comes from git (`git archive`, gate/base.ts). Each tree's registry runs in a worker
 * process of its own (gate/worker.ts; both trees register tfjs kernels under the same names), and
 * the driver interleaves them round by round (gate/ab.ts). Per round it takes the ratio working
 * tree / base of each entry and pass; a check fails when the seeded bootstrap 95% interval of the
 * median ratio lies wholly above 1 + tolerance, in the first measurement and again in fresh
 * processes (gate/confirm.ts). No stored record is involved.
 *
 * Exit status: 0 pass (entries the base lacks are reported as not compared), 1 regression (or a
 * self-test whose assertions failed), 2 usage error or setup failure.
 *
 * @module
 */
import {
  choiceFlag,
  defineCli,
  type FlagValues,
  intFlag,
  listFlag,
  numberFlag,
  type ParsedCli,
  runCli,
  UsageError,
} from "../harness/cli.ts";
import { isCpuAdapter } from "../harness/measure/clocks.ts";
import { BENCH_PASSES, passLabel } from "../harness/measure/passes.ts";
import { DEFAULT_SEED } from "../harness/measure/stats.ts";
import { type ABMeasurement, type GateClock, measureAB, type Pair } from "./ab.ts";
import { BASE_ENV, BaseError, materializeCommit, resolveBase } from "./base.ts";
import { confirmRegressions } from "./confirm.ts";
import type { AdapterInfo, Hello } from "./protocol.ts";
import { type BaseDescription, formatSummary, type GateReport, reportJson } from "./report.ts";
import { type Slowdown, slowdownLabel, slowedTree } from "./selftest.ts";
import { type Check, checkId, checkTolerance, evaluate } from "./verdict.ts";
import { type GateWorkload, WORKLOADS } from "./workload.ts";

/**
 * A short workload for Dawn on SwiftShader (`--workload dawn`), which runs the kernels 8-12x
 * slower than lavapipe and compiles each tree's kernels for about a minute: 1/16 of the gate's
 * data (forward 2x127x127x32, about 30-40 ms a call there; forward+backward 1x127x127x32), 11
 * rounds, 2 untimed warm-up calls (the first pays pipeline compilation). Same k, padding, odd
 * sizes and vec4 path as the gate's workload.
 */
export const DAWN_WORKLOAD: GateWorkload = {
  name: "dawn",
  shapes: { forward: [2, 127, 127, 32], forwardBackward: [1, 127, 127, 32] },
  k: 4,
  padding: "same",
  rounds: 11,
  repetitions: 2,
  warmup: 2,
};

/** The workloads `--workload` accepts: gate/workload.ts's and {@link DAWN_WORKLOAD}. */
export const GATE_WORKLOADS: Readonly<Record<string, GateWorkload>> = { ...WORKLOADS, dawn: DAWN_WORKLOAD };
import { GATE_ROOT, GateWorker, type WorkerHello } from "./workers.ts";

/**
 * Default tolerance: a check fails when the whole 95% interval of the median ratio working tree /
 * base lies above 1.10 (and again on re-measurement). Chosen from measurements on the project's
 * 2-core CI machine (gate/README.md, "Proof"): unchanged trees stayed below it in every run, and a
 * forward kernel made 1.25x slower lands clearly above it.
 */
export const DEFAULT_TOLERANCE = 0.1;

/** Re-measurements (in fresh processes) before a failing check counts. */
export const DEFAULT_RETRIES = 1;

/** The command line of `deno task gate`. */
export const GATE_CLI = defineCli({
  command: "deno task gate",
  summary: "Speed gate: times every gated registry entry of the working tree against the same entry of a base " +
    "commit, interleaved round by round in worker processes on this machine, and fails when the 95% interval of " +
    "the median per-round ratio working tree / base lies wholly above 1 + tolerance (confirmed once in fresh " +
    "processes). Progress goes to stderr, the summary to stdout.",
  options: {
    base: {
      type: "string",
      value: "REF",
      description: `commit to compare against (default: $${BASE_ENV}, else the merge-base of HEAD with origin/main\n` +
        "or main, else HEAD~1 when HEAD is on main; a commit the clone lacks is fetched and a shallow clone deepened\n" +
        "from its remote first, every fetch named in the rule reported; gate/base.ts)",
    },
    "base-dir": {
      type: "string",
      value: "DIR",
      description: "a tree on disk as the base instead of a commit (e.g. . compares the working tree with itself)",
    },
    entries: {
      type: "string",
      value: "NAMES",
      description: "comma-separated registry entries to gate (default: every entry with gated: true)",
    },
    tolerance: {
      type: "string",
      value: "X",
      description: "0.1 = fail above 1.10x",
      default: String(DEFAULT_TOLERANCE),
    },
    workload: {
      type: "string",
      value: "NAME",
      description: "gate | small | dawn (small: a quarter of the data, the vitest self-test's; dawn: 1/16, short\n" +
        "enough for Dawn on SwiftShader)",
      default: "gate",
    },
    rounds: { type: "string", value: "N", description: "interleaved rounds per pass (default: the workload's)" },
    repetitions: {
      type: "string",
      value: "N",
      description: "calls per sample, fastest kept (default: the workload's)",
    },
    retries: {
      type: "string",
      value: "N",
      description: "re-measurements in fresh processes before a failing check counts",
      default: String(DEFAULT_RETRIES),
    },
    clock: {
      type: "string",
      value: "NAME",
      description: "auto | cpu | wall; auto: process CPU time on CPU-emulated adapters, wall time on GPUs",
      default: "auto",
    },
    seed: { type: "string", value: "N", description: "bootstrap seed", default: String(DEFAULT_SEED) },
    json: { type: "string", value: "FILE", description: "write the report with every round as JSON" },
    "self-test": {
      type: "boolean",
      description: "instead of gating: time slowed copies of the working tree's kernels and an unmodified control\n" +
        "against the working tree; succeed only when the slowed ones are caught and the control passes",
    },
    "slow-work": {
      type: "string",
      value: "N",
      description: "self-test: slow the kernels by N hash steps per invocation instead of running their body\n" +
        "twice (sensitivity measurements; gate/slowdown.ts addIdWork)",
    },
  },
  epilog: "exit status: 0 pass, 1 regression (or a failed self-test), 2 usage error or setup failure",
});

/** Parsed options of the gate. */
export interface GateOptions {
  readonly base?: string;
  readonly baseDir?: string;
  /** Entry names; undefined: the registry's gated entries. */
  readonly entries?: readonly string[];
  readonly tolerance: number;
  readonly workload: GateWorkload;
  readonly retries: number;
  readonly clock: "auto" | GateClock;
  readonly seed: number;
  readonly json?: string;
  readonly selfTest: boolean;
  /** How the self-test slows its kernels. */
  readonly slowdown: Slowdown;
}

/** Turns parsed flags into options; throws UsageError naming the flag. */
export function gateOptions(values: FlagValues): GateOptions {
  const str = (name: string) => (typeof values[name] === "string" ? values[name] as string : undefined);
  const name = choiceFlag(values, "workload", Object.keys(GATE_WORKLOADS));
  let workload = GATE_WORKLOADS[name];
  if (str("rounds") !== undefined) workload = { ...workload, rounds: intFlag(values, "rounds", 3) };
  if (str("repetitions") !== undefined) workload = { ...workload, repetitions: intFlag(values, "repetitions", 1) };
  const selfTest = values["self-test"] === true;
  if (str("base") !== undefined && str("base-dir") !== undefined) {
    throw new UsageError("--base-dir", "either --base or --base-dir", "both");
  }
  if (selfTest && (str("base") !== undefined || str("base-dir") !== undefined)) {
    throw new UsageError(
      str("base") !== undefined ? "--base" : "--base-dir",
      "no base with --self-test (it compares against the working tree)",
      "one",
    );
  }
  if (str("base") === "") throw new UsageError("--base", "a git ref", '""');
  if (str("slow-work") !== undefined && !selfTest) {
    throw new UsageError("--slow-work", "--self-test as well", "no --self-test");
  }
  return {
    base: str("base"),
    baseDir: str("base-dir"),
    entries: str("entries") === undefined ? undefined : listFlag(values, "entries", (s) => s),
    tolerance: numberFlag(values, "tolerance", 0, 10),
    workload,
    retries: intFlag(values, "retries", 0, 5),
    clock: choiceFlag(values, "clock", ["auto", "cpu", "wall"] as const),
    seed: intFlag(values, "seed", 0, 2 ** 32 - 1),
    json: str("json"),
    selfTest,
    slowdown: str("slow-work") === undefined
      ? { kind: "twice" }
      : { kind: "work", steps: intFlag(values, "slow-work", 1, 1 << 20) },
  };
}

/** Whether an adapter is a CPU emulation of a GPU (harness/measure/clocks.ts, shared with the benchmarks). */
export { isCpuAdapter };

/** The clock `auto` resolves to: CPU time on a CPU-emulated adapter, wall time on a real GPU. */
export function chooseClock(clock: GateOptions["clock"], adapter: AdapterInfo): GateClock {
  if (clock !== "auto") return clock;
  return isCpuAdapter(adapter) ? "cpu" : "wall";
}

/** A setup failure: the gate cannot measure (exit 2). */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SetupError";
  }
}

/** What to measure, and what cannot be compared with the reason. */
export interface CheckPlan {
  readonly pairs: readonly Pair[];
  readonly notCompared: readonly Check[];
  readonly warnings: readonly string[];
}

/**
 * Chooses the gated entries from the candidate tree's registry (or `names`) and matches them with
 * the base's: an entry the base lacks, cannot bench, or whose registry did not load is "not
 * compared" (both passes), not a failure. Throws UsageError for a name not benchable in the
 * candidate tree, SetupError when nothing is gated.
 */
export function planChecks(
  candidate: Hello,
  candidateLabel: string,
  base: Hello,
  tolerance: number,
  names?: readonly string[],
): CheckPlan {
  const benchable = candidate.entries.filter((e) => e.bench);
  let chosen: string[];
  if (names) {
    for (const n of names) {
      if (!benchable.some((e) => e.name === n)) {
        throw new UsageError(
          "--entries",
          `registry entries with prepareBench (${benchable.map((e) => e.name).join(", ") || "none"})`,
          JSON.stringify(n),
        );
      }
    }
    chosen = [...names];
  } else {
    chosen = benchable.filter((e) => e.gated === true).map((e) => e.name);
    if (chosen.length === 0) {
      throw new SetupError(
        "no registry entry declares gated: true with a prepareBench (src/types.ts Implementation.gated); " +
          "name entries with --entries",
      );
    }
  }
  const pairs: Pair[] = [];
  const notCompared: Check[] = [];
  const warnings: string[] = [];
  if (base.loadError) warnings.push(`the base tree's registry did not load: ${base.loadError}`);
  else if (base.entries.length > 0 && base.entries.every((e) => e.gated === null)) {
    warnings.push("the base tree's registry predates the gated field; entries were matched by name");
  }
  for (const entry of chosen) {
    const there = base.entries.find((e) => e.name === entry);
    const why = base.loadError
      ? `the base tree's registry did not load (${base.loadError})`
      : !there
      ? `the base has no entry named ${entry} (added since the base?)`
      : !there.bench
      ? `the base's ${entry} has no prepareBench`
      : undefined;
    for (const pass of BENCH_PASSES) {
      if (why === undefined) pairs.push({ entry, pass });
      else {
        notCompared.push({
          candidate: candidateLabel,
          entry,
          pass,
          verdict: "not-compared",
          note: why,
          limit: 1 + tolerance,
          faster: false,
          history: ["not-compared"],
        });
      }
    }
  }
  return { pairs, notCompared, warnings };
}

/** How a run reports progress and measures its own wall time. */
export interface RunContext {
  /** performance.now() at process start (default: when the run starts). */
  readonly started?: number;
  /** Progress lines (the CLI prints them on stderr); silent when absent. */
  readonly log?: (line: string) => void;
}

/**
 * The engine and adapter a worker timed on, from its adapter.info (src/webgpu/engine.ts
 * `describeAdapter`), plus "(DENO_WEBGPU_BACKEND=gl requested)" on Deno's engine, whose
 * adapter.info is the same on GL and Vulkan.
 */
export function adapterLabel(h: WorkerHello): string {
  const a = h.adapter;
  const line = h.adapterLine ??
    `${a?.description || a?.vendor || "unknown adapter"} on an engine the worker did not name`;
  const requested = h.denoWebgpuBackend && (h.engine?.name ?? "deno") === "deno"
    ? ` (DENO_WEBGPU_BACKEND=${h.denoWebgpuBackend} requested)`
    : "";
  return `${line}${requested}`;
}

/** The engine's name a worker reported ("deno", "dawn"), or "unknown". */
export function engineLabel(h: WorkerHello): string {
  return h.engine?.name ?? "unknown";
}

/** A warning when the workers did not all time on the same engine and adapter (else none). */
export function adapterMismatch(workers: readonly { label: string; hello: WorkerHello }[]): string[] {
  const labels = new Set(workers.map((w) => adapterLabel(w.hello)));
  if (labels.size <= 1) return [];
  return [
    `the workers timed on different engines or adapters: ${
      workers.map((w) => `${w.label}: ${adapterLabel(w.hello)}`).join("; ")
    }`,
  ];
}

async function startAll(specs: readonly [string, string][], log?: (line: string) => void): Promise<GateWorker[]> {
  const started = await Promise.allSettled(specs.map(([label, tree]) => GateWorker.start(label, tree, log)));
  const workers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await Promise.all(workers.map((w) => w.close()));
    throw new SetupError((failed as PromiseRejectedResult).reason?.message ?? String(failed));
  }
  return workers;
}

/** The candidate worker must have loaded its registry and found an adapter. */
function requireUsable(w: GateWorker): AdapterInfo {
  if (w.hello.loadError) throw new SetupError(`${w.label} (${w.tree}): ${w.hello.loadError}`);
  if (!w.hello.adapter) throw new SetupError(`${w.label}: no WebGPU adapter: ${w.hello.noAdapter ?? "unknown reason"}`);
  return w.hello.adapter;
}

/** Measures `pairs` in fresh workers and judges them; the workers are closed afterwards. */
async function measureFresh(
  base: [string, string],
  candidates: readonly [string, string][],
  pairs: readonly Pair[],
  options: GateOptions,
  clock: GateClock,
  log?: (line: string) => void,
): Promise<Check[]> {
  const workers = await startAll([base, ...candidates], log);
  try {
    const m: ABMeasurement = await measureAB(workers[0], workers.slice(1), pairs, options.workload, {
      clock,
      seed: options.seed,
      log,
    });
    return evaluate(m, options.tolerance);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

/** Orders checks by candidate, entry and pass as first planned. */
function ordered(checks: readonly Check[], candidates: readonly string[], entries: readonly string[]): Check[] {
  const rank = (c: Check) =>
    [candidates.indexOf(c.candidate), entries.indexOf(c.entry), BENCH_PASSES.indexOf(c.pass)] as const;
  return [...checks].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

/** Re-measures failing checks in fresh processes (gate/confirm.ts). */
function confirmer(
  base: [string, string],
  trees: ReadonlyMap<string, string>,
  options: GateOptions,
  clock: GateClock,
  log?: (line: string) => void,
) {
  return async (failing: readonly Check[]): Promise<Check[]> => {
    const labels = [...new Set(failing.map((c) => c.candidate))];
    const pairs = [...new Map(failing.map((c) => [`${c.entry}|${c.pass}`, { entry: c.entry, pass: c.pass }])).values()];
    const again = await measureFresh(base, labels.map((l) => [l, trees.get(l)!]), pairs, options, clock, log);
    const wanted = new Set(failing.map(checkId));
    return again.filter((c) => wanted.has(checkId(c)));
  };
}

const CURRENT = "working tree";

/** Runs the gate: the working tree against the base. Throws SetupError / BaseError / UsageError on setup failures. */
export async function runGate(options: GateOptions, context: RunContext = {}): Promise<GateReport> {
  const started = context.started ?? performance.now();
  const log = context.log;
  checkTolerance(options.tolerance);
  let base: BaseDescription;
  let removeAfter: string | undefined;
  if (options.baseDir !== undefined) {
    const dir = await Deno.realPath(options.baseDir).catch(() => {
      throw new UsageError("--base-dir", "an existing directory", JSON.stringify(options.baseDir));
    });
    base = { label: `directory ${dir}`, dir };
  } else {
    const choice = await resolveBase(GATE_ROOT, options.base, Deno.env.get(BASE_ENV));
    log?.(`base: ${choice.commit.slice(0, 10)} (${choice.ref}; ${choice.rule})`);
    const dir = await materializeCommit(GATE_ROOT, choice.commit);
    removeAfter = dir;
    base = {
      label: `commit ${choice.commit.slice(0, 10)} (${choice.ref}; ${choice.rule}) "${choice.subject}"`,
      commit: choice.commit,
      ref: choice.ref,
      rule: choice.rule,
      subject: choice.subject,
      dir,
    };
  }
  try {
    const baseSpec: [string, string] = ["base", base.dir];
    const trees = new Map([[CURRENT, GATE_ROOT]]);
    const [current, baseWorker] = await startAll([[CURRENT, GATE_ROOT], baseSpec], log);
    let first: Check[];
    let plan: CheckPlan;
    let adapter: AdapterInfo;
    let clock: GateClock;
    try {
      adapter = requireUsable(current);
      clock = chooseClock(options.clock, adapter);
      log?.(`engine ${engineLabel(current.hello)}, adapter ${adapterLabel(current.hello)}, ${clock} clock`);
      plan = planChecks(current.hello, CURRENT, baseWorker.hello, options.tolerance, options.entries);
      const m = await measureAB(baseWorker, [current], plan.pairs, options.workload, {
        clock,
        seed: options.seed,
        log,
      });
      first = [...evaluate(m, options.tolerance), ...plan.notCompared];
    } finally {
      await Promise.all([current.close(), baseWorker.close()]);
    }
    const confirmed = await confirmRegressions(
      first,
      options.retries,
      confirmer(baseSpec, trees, options, clock, log),
      log,
    );
    const entries = [...new Set([...plan.pairs, ...plan.notCompared].map((c) => c.entry))];
    const checks = ordered(confirmed.checks, [CURRENT], entries);
    const count = (v: Check["verdict"]) => checks.filter((c) => c.verdict === v);
    const [regressions, errors, skipped] = [count("regression"), count("error"), count("not-compared")];
    const unconfirmed = checks.filter((c) => c.verdict === "pass" && c.history[0] === "regression").length;
    const names = (cs: Check[]) => cs.map((c) => `${c.entry} ${passLabel(c.pass)}`).join(", ");
    const conclusion = `${checks.length} checks: ${regressions.length} regression(s)` +
      (regressions.length ? ` (${names(regressions)})` : "") +
      (unconfirmed ? `, ${unconfirmed} not confirmed on re-measurement` : "") +
      `, ${skipped.length} not compared` + (errors.length ? `, ${errors.length} error(s) (${names(errors)})` : "");
    const warnings = [...plan.warnings, ...adapterMismatch([current, baseWorker])];
    for (const c of checks.filter((x) => x.faster)) {
      warnings.push(`${c.entry} ${passLabel(c.pass)} is faster than in the base`);
    }
    const exitCode = errors.length > 0 ? 2 : regressions.length > 0 ? 1 : 0;
    return {
      mode: "gate",
      ok: exitCode === 0,
      exitCode,
      conclusion,
      base,
      engine: engineLabel(current.hello),
      adapter: adapterLabel(current.hello),
      clock,
      tolerance: options.tolerance,
      workload: options.workload,
      checks,
      measurements: confirmed.measurements,
      warnings,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    if (removeAfter) await Deno.remove(removeAfter, { recursive: true }).catch(() => {});
  }
}

/**
 * The self-test: an unmodified control and two slowed copies of the working tree (forward kernels,
 * backward kernels; gate/selftest.ts) are gated against the working tree with the gate's own
 * measurement, verdicts and confirmation. Succeeds only when the control passes every check, the
 * slowed forward fails every forward check and the slowed backward fails every forward+backward
 * check.
 */
export async function runSelfTest(options: GateOptions, context: RunContext = {}): Promise<GateReport> {
  const started = context.started ?? performance.now();
  const log = context.log;
  checkTolerance(options.tolerance);
  const control = "control";
  const slowForward = `slowed forward (${slowdownLabel(options.slowdown)})`;
  const slowBackward = `slowed backward (${slowdownLabel(options.slowdown)})`;
  const temp: string[] = [];
  try {
    temp.push(await slowedTree(GATE_ROOT, "forward", options.slowdown));
    temp.push(await slowedTree(GATE_ROOT, "backward", options.slowdown));
    const trees = new Map([[control, GATE_ROOT], [slowForward, temp[0]], [slowBackward, temp[1]]]);
    // Only what the self-test asserts is timed: the control on both passes, each slowed tree on its own pass.
    const asserted = (candidate: string, pair: Pair) =>
      candidate === control || (candidate === slowForward && pair.pass === "forward") ||
      (candidate === slowBackward && pair.pass === "forwardBackward");
    const baseSpec: [string, string] = [CURRENT, GATE_ROOT];
    const workers = await startAll([baseSpec, ...trees], log);
    let first: Check[];
    let plan: CheckPlan;
    let adapter: AdapterInfo;
    let clock: GateClock;
    try {
      const [baseWorker, ...candidates] = workers;
      for (const w of candidates) requireUsable(w);
      adapter = requireUsable(baseWorker);
      clock = chooseClock(options.clock, adapter);
      log?.(`engine ${engineLabel(baseWorker.hello)}, adapter ${adapterLabel(baseWorker.hello)}, ${clock} clock`);
      plan = planChecks(candidates[0].hello, control, baseWorker.hello, options.tolerance, options.entries);
      const m = await measureAB(baseWorker, candidates, plan.pairs, options.workload, {
        clock,
        seed: options.seed,
        log,
        wants: asserted,
      });
      first = evaluate(m, options.tolerance);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    const confirmed = await confirmRegressions(
      first,
      options.retries,
      confirmer(baseSpec, trees, options, clock, log),
      log,
    );
    const entries = [...new Set(plan.pairs.map((p) => p.entry))];
    const checks = ordered(confirmed.checks, [...trees.keys()], entries);
    const of = (candidate: string, pass?: Check["pass"]) =>
      checks.filter((c) => c.candidate === candidate && (pass === undefined || c.pass === pass));
    const errors = checks.filter((c) => c.verdict === "error");
    const controlChecks = of(control);
    const fwd = of(slowForward, "forward");
    const bwd = of(slowBackward, "forwardBackward");
    const tally = (cs: Check[], v: Check["verdict"]) => `${cs.filter((c) => c.verdict === v).length} of ${cs.length}`;
    const controlOk = controlChecks.length > 0 && controlChecks.every((c) => c.verdict === "pass");
    const fwdOk = fwd.length > 0 && fwd.every((c) => c.verdict === "regression");
    const bwdOk = bwd.length > 0 && bwd.every((c) => c.verdict === "regression");
    const conclusion = `control ${controlOk ? "passed" : "DID NOT PASS"} (${tally(controlChecks, "pass")} checks); ` +
      `slowed forward ${fwdOk ? "caught" : "NOT caught"} on forward (${tally(fwd, "regression")}); ` +
      `slowed backward ${bwdOk ? "caught" : "NOT caught"} on forward+backward (${tally(bwd, "regression")})`;
    const exitCode = errors.length > 0 ? 2 : controlOk && fwdOk && bwdOk ? 0 : 1;
    return {
      mode: "self-test",
      ok: exitCode === 0,
      exitCode,
      conclusion,
      base: { label: `the working tree (${GATE_ROOT})`, dir: GATE_ROOT },
      engine: engineLabel(workers[0].hello),
      adapter: adapterLabel(workers[0].hello),
      clock,
      tolerance: options.tolerance,
      workload: options.workload,
      checks,
      measurements: confirmed.measurements,
      warnings: [...plan.warnings, ...adapterMismatch(workers)],
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const dir of temp) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs the command for parsed flags; returns the exit status. */
export async function gateMain({ values }: ParsedCli, started = performance.now()): Promise<number> {
  const options = gateOptions(values);
  let report: GateReport;
  try {
    const context = { started, log: (line: string) => console.error(`gate: ${line}`) };
    report = options.selfTest ? await runSelfTest(options, context) : await runGate(options, context);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof SetupError || e instanceof BaseError) {
      console.error(`gate: setup failed: ${e.message}`);
      return 2;
    }
    console.error(`gate: setup failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 2;
  }
  console.log(formatSummary(report));
  if (options.json) {
    try {
      await Deno.writeTextFile(options.json, JSON.stringify(reportJson(report), null, 2) + "\n");
    } catch (e) {
      console.error(`gate: --json: cannot write ${options.json}: ${(e as Error).message}`);
      return 2;
    }
    console.error(`gate: wrote ${options.json}`);
  }
  return report.exitCode;
}

if (import.meta.main) {
  const started = performance.now();
  await runCli(GATE_CLI, Deno.args, (parsed) => gateMain(parsed, started));
}
