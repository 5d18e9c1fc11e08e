/**
 * `deno task bench`: throughput benchmarks of every registry entry with a bench handle against
 * tf.maxPool / tf.avgPool (tfjs webgpu and cpu backends) and the copy kernel, on the process's
 * WebGPU engine (src/webgpu/engine.ts: Deno's wgpu or Dawn); `--engines` and `--merge` build the
 * cross-engine table (bench/engines.ts, bench/cross_engine.ts).
 * See bench/README.md for what is measured and how.
 *
 * Exit status: 0 when every planned measurement ran; 1 when anything failed (no WebGPU adapter,
 * a workload that threw, a tfjs tensor leak); 2 for bad flags.
 *
 * @module
 */
import { type ParsedCli, runCli, UsageError } from "../src/cli.ts";
import { type DeviceClock, gpuTimestampClock, isCpuAdapter } from "../src/measure/clocks.ts";
import { BENCH_PASSES, type BenchPass } from "../src/measure/passes.ts";
import { uniformFloat32 } from "../src/random.ts";
import { implementations } from "../src/registry.ts";
import { sizeOf } from "../src/spec.ts";
import { preparePoolBaseline } from "../src/tfjs/baselines.ts";
import { useBackend } from "../src/tfjs/runtime.ts";
import type { Implementation, Padding, SortPoolCase } from "../src/types.ts";
import { prepareCopyBench } from "../src/webgpu/copy_kernel.ts";
import { BANDWIDTH_FULL, BANDWIDTH_QUICK, bandwidthMarkdown, runBandwidthSuite } from "./bandwidth.ts";
import { crossEngine, crossEngineMarkdown } from "./cross_engine.ts";
import { enginesMain, mergeMain } from "./engines.ts";
import { describeEnvironment, requestAdapter, runLabel, runSlug } from "./environment.ts";
import { BENCH_CLI, type BenchFlags, benchFlags } from "./flags.ts";
import { BYTES_FORMULA } from "./metrics.ts";
import {
  type BenchPlan,
  CROSS_PLAN,
  FULL_PLAN,
  type Group,
  logitsFor,
  type PlannedShape,
  QUICK_PLAN,
  selectPlan,
} from "./plan.ts";
import {
  benchmarkActionEntries,
  type BenchRun,
  charts,
  consoleTable,
  evaluateTargets,
  fullJson,
  markdownReport,
  targetsMarkdown,
} from "./report.ts";
import { CallTimeHistory } from "./predict.ts";
import { COPY_NAME, maxPoolName, type Subject, type SuiteResult, taskKey } from "./rows.ts";
import { runSuite } from "./suite.ts";
import {
  probeSlowEntries,
  STEM_PADDING,
  WINDOWS_FULL,
  WINDOWS_QUICK,
  windowsMarkdown,
  windowsPrediction,
  windowsSubjects,
} from "./windows.ts";

/** Padding of every benchmark case (shapes are even, so "same" pads nothing). */
const PADDING: Padding = "same";

/** The float64 reference is slow JS: benchmarked only up to this many input elements. */
const FLOAT64_MAX_ELEMENTS = 1 << 20;

const started = performance.now();
function progress(line: string): void {
  console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
}

function matches(name: string, filter: readonly string[]): boolean {
  return filter.length === 0 || filter.some((t) => name.includes(t));
}

/**
 * Subjects of one suite, filtered; tf.maxPool stays whenever anything else does (ratios need it).
 * `gatedOnly` (the cross-engine plan): only gated entries, tf.maxPool and the copy kernel.
 */
function subjectsFor(
  planned: PlannedShape,
  group: Group,
  entries: readonly Implementation[],
  copyKernel: boolean,
  filter: readonly string[],
  data: () => Float32Array,
  gatedOnly = false,
): Subject[] {
  const { shape } = planned;
  const subjects: Subject[] = [];
  for (const entry of entries) {
    if (entry.device !== group || !entry.prepareBench || !matches(entry.name, filter)) continue;
    if (gatedOnly && entry.gated !== true) continue;
    if (entry.precision === "float64" && sizeOf(shape) > FLOAT64_MAX_ELEMENTS) continue;
    for (const k of planned.ks) {
      subjects.push({
        name: entry.name,
        kind: "entry",
        k,
        prepare: () => {
          const c: SortPoolCase = { x: data(), shape, logits: logitsFor(k), k, padding: PADDING };
          return entry.prepareBench!(c);
        },
      });
    }
  }
  for (const op of ["maxPool", "avgPool"] as const) {
    const name = `tf.${op}@${group}`;
    if (op === "avgPool" && (gatedOnly || !matches(name, filter))) continue;
    subjects.push({ name, kind: "baseline", k: null, prepare: () => preparePoolBaseline(op, group, shape, PADDING) });
  }
  if (group === "webgpu" && copyKernel && matches(COPY_NAME, filter)) {
    subjects.push({ name: COPY_NAME, kind: "copy", k: null, prepare: () => prepareCopyBench(shape) });
  }
  // Only tf.maxPool left: nothing selected in this group.
  if (subjects.every((s) => s.name === maxPoolName(group)) && !matches(maxPoolName(group), filter)) return [];
  return subjects;
}

function methodDescription(plan: BenchPlan, clockInUse: boolean, clockNote: string): Record<string, string> {
  const policies = plan.shapes.flatMap((s) =>
    (["webgpu", "cpu"] as const).map((g) => {
      const p = s.groups[g];
      return "skip" in p
        ? `${s.label}/${g}: skipped`
        : `${s.label}/${g}: <= ${p.samples} samples (>= ${p.minSamples}; stop after ${p.budgetMs} ms of samples), ` +
          `skip if the first call > ${p.skipFirstCallOverMs} ms`;
    })
  );
  return {
    timer: clockInUse
      ? "WebGPU rows: GPU time = sum over the call's compute passes of (end - begin) from timestamp-query writes " +
        "that src/measure/gpu_timestamps.ts injects into every compute pass (BenchHandle hides its encoders); " +
        "copies and gaps between passes are not counted. Every row also records wall clock (performance.now() " +
        "around one awaited call, which resolves only after onSubmittedWorkDone or a readback) and process CPU " +
        "time. CPU rows: wall clock."
      : `wall clock only (performance.now() around one awaited call; the call resolves after ` +
        `onSubmittedWorkDone or a readback); timestamp-query not used: ${clockNote}`,
    ...(plan.gatedOnly
      ? {
        subjects: "cross-engine plan: the gated registry entries, tf.maxPool and the copy kernel only (WebGPU); " +
          "every task gets exactly its untimed warm-up calls whatever its first call costs (the first pays " +
          "pipeline compilation, tens of seconds on Dawn/SwiftShader), so no first call is a sample",
      }
      : {}),
    interleaving: "one suite per (shape, device group): every handle (all k, both passes) is prepared first, then " +
      "each round calls every unfinished task once, in an order rotated by one place per round " +
      "(src/measure/rounds.ts, shared with the speed gate)",
    ratios: "x maxPool and % of copy bandwidth are per-round ratios (this row's call and the reference's call of the " +
      "same round), summarised by their median with a seeded bootstrap 95% interval, on the best clock both " +
      "rows have (src/measure/stats.ts pairedRatio, the gate's definition)",
    "warm-up": "untimed and interleaved: 2 calls per task (the first pays shader compilation and first-use " +
      "allocation), more (up to 10) until the warm-up calls add up to the plan's warm-up time",
    samples: policies.join("; "),
    "spread": "median, MAD (median absolute deviation, unscaled), min, max and n per row; raw samples in the JSON",
    "tensor check": "tf.memory().numTensors before preparing and after disposing every handle of a suite must match",
  };
}

async function writeText(path: string, text: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** Runs the benchmarks for parsed flags; returns the exit status. Throws UsageError for flags that match nothing. */
export async function benchMain({ values }: ParsedCli): Promise<number> {
  const flags: BenchFlags = benchFlags(values);
  const args = Deno.args;
  if (flags.merge.length > 0) return await mergeMain(flags, args);
  if (flags.engines.length > 0) return await enginesMain(flags, args, progress);
  // GPU timestamps: wrappers must be in place before tfjs or any entry creates a device.
  let clock: DeviceClock | undefined;
  let clockNote = "";
  try {
    clock = gpuTimestampClock();
  } catch (e) {
    clockNote = e instanceof Error ? e.message : String(e);
  }
  const { adapter, reason: noAdapter } = await requestAdapter();
  const environment = await describeEnvironment(adapter, noAdapter);
  progress(adapter ? `adapter: ${runLabel(environment)}` : `NO WebGPU ADAPTER: ${environment.adapterLine}`);
  const cpuAdapter = adapter !== null && isCpuAdapter({
    description: adapter.info.description,
    isFallbackAdapter: (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  });
  // Dawn on a CPU adapter (SwiftShader) runs the full plan for hours: without a plan flag it gets the
  // cross-engine plan, and only the shape suites unless --suites says otherwise.
  const slowDawn = environment.engine.name === "dawn" && cpuAdapter && !flags.quick && !flags.cross && !flags.full;
  const wantedSuites: readonly BenchFlags["suites"][number][] = slowDawn && values.suites === undefined
    ? ["shapes"]
    : flags.suites;
  const basePlan = flags.cross || slowDawn ? CROSS_PLAN : flags.quick ? QUICK_PLAN : FULL_PLAN;
  const runs = (suite: BenchFlags["suites"][number]) => wantedSuites.includes(suite);
  if (flags.shapes.length > 0 && !runs("shapes")) {
    throw new UsageError("--shapes", "--suites including shapes (--shapes selects shapes of the shape plan)", "");
  }
  const plan: BenchPlan = runs("shapes") ? selectPlan(basePlan, flags.shapes, flags.ks) : { ...basePlan, shapes: [] };
  if (slowDawn) {
    progress(
      `Dawn on a CPU adapter: the cross-engine plan (${
        plan.shapes.map((s) => `${s.shape.join("x")} k=${s.ks.join(",")}`).join("; ")
      }); --full or --quick for the other plans`,
    );
  }
  if (clock && !environment.timestampQuery.usable) {
    clockNote = `timestamp-query not usable on this adapter: ${environment.timestampQuery.detail}`;
    clock = undefined;
  }
  progress(clock ? "GPU timing: timestamp-query on every compute pass" : `GPU timing: wall clock only (${clockNote})`);

  await useBackend("cpu"); // tfjs initialised, so tf.memory() is meaningful from here on

  const gated = implementations.filter((i) => i.gated === true).map((i) => i.name);
  const notBenchmarked: { name: string; reason: string }[] = [];
  for (const entry of implementations) {
    if (!matches(entry.name, flags.filter)) continue;
    if (!entry.prepareBench) notBenchmarked.push({ name: entry.name, reason: "no bench handle (no prepareBench)" });
    else if (entry.precision === "float64") {
      notBenchmarked.push({
        name: entry.name,
        reason: `float64 JS: benchmarked only on shapes up to ${FLOAT64_MAX_ELEMENTS} input elements`,
      });
    }
  }
  for (const n of notBenchmarked) progress(`${n.name}: ${n.reason}`);

  const everything = [
    ...implementations.map((i) => i.name),
    "tf.maxPool@webgpu",
    "tf.maxPool@cpu",
    "tf.avgPool@webgpu",
    "tf.avgPool@cpu",
    COPY_NAME,
  ];
  for (const term of flags.filter) {
    if (!everything.some((name) => name.includes(term))) {
      throw new UsageError("--filter", `terms matching one of ${everything.join(", ")}`, JSON.stringify(term));
    }
  }

  const suites: SuiteResult[] = [];
  const failures: string[] = [];
  const history = new CallTimeHistory();
  const keepK = (ks: readonly number[]) => (flags.ks.length === 0 ? ks : ks.filter((k) => flags.ks.includes(k)));

  // The bandwidth suite first: its own paired rounds, before the long suites warm the machine up.
  let bandwidth: BenchRun["bandwidth"];
  if (runs("bandwidth")) {
    const bandwidthPlan = { ...(flags.quick ? BANDWIDTH_QUICK : BANDWIDTH_FULL) };
    const entries = implementations.filter((i) =>
      i.gated === true && i.device === "webgpu" && i.prepareBench !== undefined && matches(i.name, flags.filter)
    );
    progress(`bandwidth suite: ${entries.map((e) => e.name).join(", ") || "no entry selected"}`);
    bandwidth = await runBandwidthSuite({
      plan: { ...bandwidthPlan, ks: keepK(bandwidthPlan.ks) },
      entries,
      prepareCopy: prepareCopyBench,
      ...(clock ? { clock } : {}),
      cpuAdapter,
      ...(adapter ? {} : { unavailable: `no WebGPU adapter: ${noAdapter}` }),
      progress,
    });
    failures.push(...bandwidth.failures);
    progress(`bandwidth suite: done in ${(bandwidth.durationMs / 1000).toFixed(1)} s`);
  }
  const plannedSuites = plan.shapes.flatMap((p) => (["webgpu", "cpu"] as const).map((g) => ({ planned: p, group: g })));
  for (const [index, { planned, group }] of plannedSuites.entries()) {
    let data: Float32Array | undefined;
    const subjects = subjectsFor(
      planned,
      group,
      implementations,
      adapter !== null,
      flags.filter,
      () => (data ??= uniformFloat32(sizeOf(planned.shape), 7)),
      plan.gatedOnly,
    );
    if (subjects.length === 0) continue;
    const id = `${group} ${planned.label} ${planned.shape.join("x")}`;
    const elapsed = performance.now() - started;
    if (elapsed > plan.deadlineMs) {
      const why = `not started: the ${plan.name} plan starts no suite after ${plan.deadlineMs / 1000} s ` +
        `(${(elapsed / 1000).toFixed(0)} s elapsed)`;
      progress(`${id}: ${why}`);
      suites.push({
        id,
        group,
        shapeLabel: planned.label,
        shape: planned.shape,
        padding: PADDING,
        policy: null,
        skipped: why,
        rows: [],
        queueRoundTrip: null,
        tensors: null,
        failures: [],
        durationMs: 0,
      });
      continue;
    }
    const elements = sizeOf(planned.shape);
    const policy = planned.groups[group];
    const preSkip = new Map<string, string>();
    if (!("skip" in policy)) {
      // Predict every task from earlier suites first, then remember the skipped ones' predictions
      // (so larger shapes skip them too); recording inside the loop would feed predictions back.
      const predictedSkips: [Subject, BenchPass, number][] = [];
      for (const s of subjects) {
        for (const pass of BENCH_PASSES) {
          const predicted = history.predict(group, s.name, s.k, pass, elements);
          if (predicted && predicted.ms > policy.skipFirstCallOverMs) {
            preSkip.set(
              taskKey(s.name, s.k, pass),
              `predicted ~${predicted.ms.toFixed(0)} ms a call (${predicted.from}, scaled linearly in elements), ` +
                `over this suite's ${policy.skipFirstCallOverMs} ms limit`,
            );
            predictedSkips.push([s, pass, predicted.ms]);
          }
        }
      }
      for (const [s, pass, ms] of predictedSkips) history.record(group, s.name, s.k, pass, ms, elements);
    }
    progress(`suite ${index + 1}/${plannedSuites.length}: ${id}`);
    const suite = await runSuite({
      planned,
      group,
      padding: PADDING,
      subjects,
      preSkip,
      ...(group === "webgpu" && clock ? { clock } : { clockNote }),
      ...(group === "webgpu" && !adapter ? { unavailable: `no WebGPU adapter: ${noAdapter}` } : {}),
      progress,
    });
    data = undefined;
    suites.push(suite);
    for (const r of suite.rows) {
      if (r.status === "ok" && r.wall) history.record(group, r.subject, r.k, r.pass, r.wall.median, elements);
      else if (r.status === "skipped" && r.firstCallMs !== null) {
        history.record(group, r.subject, r.k, r.pass, r.firstCallMs, elements);
      }
    }
    failures.push(...suite.failures);
    for (const r of suite.rows) {
      if (r.status === "failed") {
        failures.push(`${suite.id}: ${r.subject}${r.k === null ? "" : ` k=${r.k}`} ${r.pass}: ${r.reason}`);
      }
    }
    for (const f of suite.failures) progress(`FAILURE: ${f}`);
    const skipped = suite.rows.filter((r) => r.status === "skipped");
    for (const r of skipped) progress(`skipped ${r.subject}${r.k === null ? "" : ` k=${r.k}`} ${r.pass}: ${r.reason}`);
    if (suite.skipped) progress(`${suite.id}: skipped: ${suite.skipped}`);
    else progress(`${suite.id}: done in ${(suite.durationMs / 1000).toFixed(1)} s`);
  }
  let windows: SuiteResult | undefined;
  if (runs("windows")) {
    const base = flags.quick ? WINDOWS_QUICK : WINDOWS_FULL;
    const planned: PlannedShape = { ...base, ks: keepK(base.ks) };
    const elements = sizeOf(planned.shape);
    const entries = implementations.filter((i) => matches(i.name, flags.filter));
    if (adapter) await probeSlowEntries(planned, entries, history, progress);
    let data: Float32Array | undefined;
    const { subjects, preSkip } = windowsSubjects(
      planned,
      entries,
      () => (data ??= uniformFloat32(elements, 7)),
      (entry, k, pass) => windowsPrediction(history, entry.name, k, pass, elements),
    );
    if (planned.ks.length === 0 || !subjects.some((s) => s.kind === "entry")) {
      progress("windows suite: no entry or k selected");
    } else {
      progress(`windows suite: ${planned.label} ${planned.shape.join("x")}`);
      windows = await runSuite({
        planned,
        group: "webgpu",
        padding: STEM_PADDING,
        subjects,
        preSkip,
        ...(clock ? { clock } : { clockNote }),
        ...(adapter ? {} : { unavailable: `no WebGPU adapter: ${noAdapter}` }),
        progress,
      });
      data = undefined;
      failures.push(...windows.failures);
      const skips = new Map<string, number>();
      for (const r of windows.rows) {
        if (r.status === "failed") failures.push(`${windows.id}: ${r.subject} k=${r.k} ${r.pass}: ${r.reason}`);
        const key = `${r.subject}: ${r.reason}`;
        if (r.status === "skipped") skips.set(key, (skips.get(key) ?? 0) + 1);
      }
      for (const [key, n] of skips) progress(`windows: skipped ${n} task(s) of ${key}`);
      progress(`windows suite: done in ${(windows.durationMs / 1000).toFixed(1)} s`);
    }
  }
  if (!adapter) failures.unshift(`no WebGPU adapter: ${noAdapter} (every WebGPU subject failed)`);

  const run: BenchRun = {
    plan: plan.name,
    args,
    environment,
    method: methodDescription(plan, clock !== undefined, clockNote),
    bytesFormula: BYTES_FORMULA,
    shapes: plan.shapes,
    notBenchmarked,
    gated,
    copyKernel: adapter
      ? {
        available: true,
        detail: "src/webgpu/copy_kernel.ts (kernels/copy_*.wgsl): moves each pass's minimum bytes, no ranking",
      }
      : { available: false, detail: `not available: no WebGPU adapter: ${noAdapter}` },
    suites,
    ...(bandwidth ? { bandwidth } : {}),
    ...(windows ? { windows } : {}),
    failures,
    durationMs: performance.now() - started,
  };

  console.log(`sort_pool2d benchmarks (${plan.name}) on ${runLabel(environment)}`);
  console.log(`shapes: ${plan.shapes.map((s) => `${s.label} ${s.shape.join("x")} (k=${s.ks.join(",")})`).join("; ")}`);
  console.log(`timer: ${run.method.timer}`);
  console.log(
    `bytes: ${BYTES_FORMULA}; elem/s = input elements per second; x maxPool = median per-round time ratio to ` +
      `tf.maxPool [95% interval]; % copy bw = median per-round copy kernel time / this time [95% interval]`,
  );
  console.log(`copy kernel: ${run.copyKernel.detail}`);
  console.log(consoleTable(run));
  if (run.bandwidth) {
    console.log("\n2x2/2 forward, % of the copy kernel's bandwidth:\n" + bandwidthMarkdown(run.bandwidth));
  }
  if (run.windows) console.log("\n3x3/2 suite against tf.maxPool 3x3/2:\n" + windowsMarkdown(run.windows));
  console.log("\nkernel targets:\n" + targetsMarkdown(evaluateTargets(suites, gated, run.bandwidth)));
  if (plan.gatedOnly) {
    console.log("\ncross-engine table (this engine):\n" + crossEngineMarkdown(crossEngine([{ run }])));
  }

  const slug = `${plan.name === "full" ? "" : `${plan.name}-`}${runSlug(environment)}`;
  const jsonPath = flags.json ?? `out/bench-${slug}.json`;
  const actionPath = jsonPath.endsWith(".json")
    ? jsonPath.replace(/\.json$/, ".benchmark-action.json")
    : `${jsonPath}.benchmark-action.json`;
  const reportDir = (flags.report ?? `bench-report/${slug}`).replace(/\/+$/, "");
  await writeText(jsonPath, JSON.stringify(fullJson(run), null, 2) + "\n");
  await writeText(actionPath, JSON.stringify(benchmarkActionEntries(run), null, 2) + "\n");
  const chartFiles = charts(run);
  for (const c of chartFiles) await writeText(`${reportDir}/${c.file}`, c.svg);
  await writeText(`${reportDir}/README.md`, markdownReport(run, chartFiles));
  console.log(`\nwrote ${jsonPath}, ${actionPath}, ${reportDir}/README.md (+ ${chartFiles.length} SVG charts)`);

  if (failures.length > 0) {
    console.error(`\nbench FAILED (${failures.length}):`);
    for (const f of failures) console.error(`  - ${f}`);
    return 1;
  }
  progress(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}

if (import.meta.main) await runCli(BENCH_CLI, Deno.args, benchMain);
