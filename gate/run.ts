/**
 * The gate's two runs: the working tree against the base (`runGate`), and the self-test of slowed
 * copies and a control against the working tree (`runSelfTest`), each measured in worker
 * processes, judged, and confirmed in fresh processes.
 *
 * @module
 */
import { UsageError } from "../harness/cli.ts";
import { BENCH_PASSES, passLabel } from "../harness/measure/passes.ts";
import { type ABMeasurement, type GateClock, measureAB, type Pair } from "./ab.ts";
import { adapterLabel, adapterMismatch, chooseClock, engineLabel } from "./adapter.ts";
import { BASE_ENV, materializeCommit, resolveBase } from "./base.ts";
import { type CheckPlan, planChecks, SetupError } from "./check_plan.ts";
import { confirmRegressions } from "./confirm.ts";
import type { GateOptions } from "./options.ts";
import type { AdapterInfo } from "./protocol.ts";
import type { BaseDescription, GateReport } from "./report.ts";
import { slowdownLabel, slowedTree } from "./selftest.ts";
import { type Check, checkId, checkTolerance, evaluate } from "./verdict.ts";
import { GATE_ROOT, GateWorker } from "./workers.ts";

/** How a run reports progress and measures its own wall time. */
export interface RunContext {
  /** performance.now() at process start (default: when the run starts). */
  readonly started?: number;
  /** Progress lines (the CLI prints them on stderr); silent when absent. */
  readonly log?: (line: string) => void;
}

/** Starts a worker per [label, tree]; when one fails to start, closes the others and throws SetupError. */
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

/** The label of the working tree's worker. */
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
