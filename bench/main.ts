/**
 * `deno task bench`: benchmarks of the registry entries with a bench handle against tf.maxPool /
 * tf.avgPool and the copy kernel, on the process's WebGPU engine (src/webgpu/engine.ts: Deno's
 * wgpu or Dawn). The suites are the table in bench/suites.ts; the plan level picks how much each
 * measures: the default answers the kernel targets only (about 2 minutes on a 2-core CPU adapter),
 * `--full` runs everything, `--quick` a little of everything, `--cross` the cross-engine plan.
 * `--engines` and `--merge` build the cross-engine table (bench/engines.ts). See bench/README.md.
 *
 * Exit status: 0 when every planned measurement ran; 1 when anything failed (no WebGPU adapter,
 * a workload that threw, a tfjs tensor leak); 2 for bad flags.
 *
 * @module
 */
import { type ParsedCli, runCli, UsageError } from "../harness/cli.ts";
import { type DeviceClock, gpuTimestampClock, isCpuAdapter, processCpuMs } from "../harness/measure/clocks.ts";
import { implementations } from "../src/registry.ts";
import { useBackend } from "../src/tfjs/runtime.ts";
import { renderCharts } from "./charts.ts";
import { enginesMain, mergeMain } from "./engines.ts";
import { describeEnvironment, requestAdapter, runLabel, runSlug } from "./environment.ts";
import { BENCH_CLI, benchFlags } from "./flags.ts";
import { BYTES_FORMULA } from "./metrics.ts";
import { actionPath, reportPaths, writeText } from "./outputs.ts";
import { FLOAT64_MAX_ELEMENTS } from "./plan.ts";
import {
  benchmarkActionEntries,
  chartSpecs,
  commonMethod,
  consoleReport,
  durationText,
  fullJson,
  markdownReport,
  suiteSections,
} from "./report.ts";
import { COPY_NAME } from "./rows.ts";
import type { BenchRun } from "./run.ts";
import { SUITE_NAMES } from "./suites.ts";
import { planLevel, planLines, planRun } from "./levels.ts";
import { CallTimeHistory } from "./predict.ts";
import type { SuiteRunContext } from "./suite_types.ts";

const started = performance.now();
function progress(line: string): void {
  console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
}

/** Throws UsageError for a `--filter` term that names no entry or baseline. */
function checkFilter(filter: readonly string[]): void {
  const everything = [
    ...implementations.map((i) => i.name),
    ...["maxPool", "avgPool"].flatMap((op) => [`tf.${op}@webgpu`, `tf.${op}@cpu`]),
    COPY_NAME,
  ];
  for (const term of filter) {
    if (!everything.some((name) => name.includes(term))) {
      throw new UsageError("--filter", `terms matching one of ${everything.join(", ")}`, JSON.stringify(term));
    }
  }
}

/** Registry entries a run leaves out, with the reason. */
function notBenchmarked(filter: readonly string[]): { name: string; reason: string }[] {
  return implementations
    .filter((e) => filter.length === 0 || filter.some((t) => e.name.includes(t)))
    .flatMap((e) =>
      !e.prepareBench
        ? [{ name: e.name, reason: "no bench handle (no prepareBench)" }]
        : e.precision === "float64"
        ? [{ name: e.name, reason: `float64 JS: benchmarked only on shapes up to ${FLOAT64_MAX_ELEMENTS} elements` }]
        : []
    );
}

/** Runs the benchmarks for parsed flags; returns the exit status. Throws UsageError for flags that match nothing. */
export async function benchMain({ values }: ParsedCli): Promise<number> {
  const flags = benchFlags(values, SUITE_NAMES);
  const args = Deno.args;
  if (flags.merge.length > 0) return await mergeMain(flags, args);
  if (flags.engines.length > 0) return await enginesMain(flags, args, progress);
  checkFilter(flags.filter);
  planRun(planLevel(flags, false), flags); // bad flags fail before anything is measured
  if (flags.dryRun) {
    console.log(planLines(planLevel(flags, false), flags).join("\n"));
    return 0;
  }
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
  // Dawn on a CPU adapter (SwiftShader) runs the other plans for hours: without a plan flag it gets the
  // cross-engine plan (the shape suites only unless --suites says otherwise).
  const slowDawn = environment.engine.name === "dawn" && cpuAdapter && !flags.quick && !flags.cross && !flags.full;
  const level = planLevel(flags, slowDawn);
  const planned = planRun(level, flags);
  if (slowDawn) progress("Dawn on a CPU adapter: the cross-engine plan; --full or --quick for the other plans");
  if (clock && !environment.timestampQuery.usable) {
    clockNote = `timestamp-query not usable on this adapter: ${environment.timestampQuery.detail}`;
    clock = undefined;
  }
  progress(clock ? "GPU timing: timestamp-query on every compute pass" : `GPU timing: wall clock only (${clockNote})`);
  progress(`${level} plan: ${planned.map((p) => p.suite.name).join(", ")}`);

  await useBackend("cpu"); // tfjs initialised, so tf.memory() is meaningful from here on
  const skippedEntries = notBenchmarked(flags.filter);
  for (const n of skippedEntries) progress(`${n.name}: ${n.reason}`);

  const ctx: SuiteRunContext = {
    ...(adapter ? {} : { unavailable: `no WebGPU adapter: ${noAdapter}` }),
    ...(clock ? { clock } : {}),
    clockNote,
    cpuAdapter,
    history: new CallTimeHistory(),
    started,
    progress,
  };
  const failures: string[] = adapter ? [] : [`no WebGPU adapter: ${noAdapter} (every WebGPU subject failed)`];
  const stored: Record<string, unknown> = {};
  let method = commonMethod(clock !== undefined, clockNote);
  for (const { suite, plan } of planned) {
    const result = await suite.run(plan, ctx);
    failures.push(...suite.failures(result));
    Object.assign(stored, suite.store(plan, result));
    method = { ...method, ...suite.method(plan) };
  }

  const run = {
    plan: level,
    args,
    environment,
    method,
    bytesFormula: BYTES_FORMULA,
    shapes: [],
    notBenchmarked: skippedEntries,
    gated: implementations.filter((i) => i.gated === true).map((i) => i.name),
    copyKernel: adapter
      ? {
        available: true,
        detail: "bench/copy_kernel.ts (kernels/copy_*.wgsl): moves each pass's minimum bytes, no ranking",
      }
      : { available: false, detail: `not available: no WebGPU adapter: ${noAdapter}` },
    suites: [],
    ...stored,
    failures,
    durationMs: performance.now() - started,
    cpuMs: processCpuMs(),
    loadavgAtEnd: Deno.loadavg().map((l) => l.toFixed(2)).join(" "),
  } as BenchRun;

  const sections = suiteSections(run);
  console.log(consoleReport(run, sections));
  const slug = `${level === "default" ? "" : `${level}-`}${runSlug(environment)}`;
  const jsonPath = flags.json ?? `out/bench-${slug}.json`;
  const report = reportPaths(flags.report ?? `bench-report/${slug}`);
  await writeText(jsonPath, JSON.stringify(fullJson(run), null, 2) + "\n");
  await writeText(actionPath(jsonPath), JSON.stringify(benchmarkActionEntries(run), null, 2) + "\n");
  const charts = await renderCharts(chartSpecs(sections));
  for (const c of charts) await writeText(`${report.dir}/${c.file}`, c.svg);
  await writeText(report.markdown, markdownReport(run, sections));
  console.log(
    `\nwrote ${jsonPath}, ${actionPath(jsonPath)}, ${report.markdown} (+ ${charts.length} vega-lite SVG charts)`,
  );

  if (failures.length > 0) {
    console.error(`\nbench FAILED (${failures.length}):`);
    for (const f of failures) console.error(`  - ${f}`);
    return 1;
  }
  progress(`done in ${durationText({ durationMs: performance.now() - started, cpuMs: processCpuMs() })}`);
  return 0;
}

if (import.meta.main) await runCli(BENCH_CLI, Deno.args, benchMain);
