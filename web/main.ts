/**
 * The browser harness page: checks and benchmarks the sort_pool2d kernels on the visitor's own GPU
 * through the browser's WebGPU, and reports in bench's JSON schema.
 *
 * Query parameters: `quick` (small benchmark shapes and fewer cases: CI on a software adapter),
 * `bench=0` (no benchmark), `seed=N` and `cases=N` (the property subset's seed and cases per
 * class), `plant=NAME` (a deliberately wrong kernel variant, web/plant.ts: the page must report
 * it); each is validated (web/params.ts), and a bad one runs nothing and ends failed. When the
 * run ends the page sets `data-state="done"` (everything passed) or `"failed"` on `<body>` and
 * exposes the results as `window.sortpoolResults`.
 *
 * This module runs the page; its parts: web/dom.ts (elements, status, messages),
 * web/browser_info.ts, web/page_results.ts (the results record), web/adapter.ts (the adapter
 * section), web/result_tables.ts and web/chart.ts.
 *
 * @module
 */
/// <reference lib="dom" />
import goldenFile from "../vectors/sort_pool2d.json" with { type: "json" };
import { type DeviceClock, gpuTimestampClock } from "../harness/measure/clocks.ts";
import { disposeAll, implementation } from "../src/registry.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import { createWgslImplementation } from "../src/webgpu/wgsl.ts";
import { readyKernelSet, registerKernelSet, type TfjsWebGpuBackend } from "../src/webgpu/tfjs_kernels.ts";
import type { Implementation } from "../src/types.ts";
import { describeAdapter } from "./adapter.ts";
import { DEFAULT_PLAN, METHOD, plannedShape, QUICK_PLAN, runSuite } from "./bench.ts";
import { fullBrowserVersion } from "./browser_info.ts";
import { drawChart } from "./chart.ts";
import {
  type CheckCase,
  type CheckResult,
  entrySubject,
  goldenRequests,
  opSubject,
  propertyRequests,
  runCheck,
  type Subject,
} from "./checks.ts";
import { $, el, errorText, setState, showMessage, status } from "./dom.ts";
import { initialResults } from "./page_results.ts";
import { parseParams } from "./params.ts";
import { plantNamed } from "./plant.ts";
import { showCheck, showSuite } from "./result_tables.ts";

// The module runs: tell index.html's loader script (it reports a page whose script never starts),
// and take back its message should its timeout have fired on a slow download.
(globalThis as { sortpoolStarted?: boolean }).sortpoolStarted = true;
if (document.body.dataset.state === "failed") document.getElementById("message")!.hidden = true;

const { params, errors: paramErrors } = parseParams(location.search);
const { quick, benchOn, seed, perClass } = params;
const plantName = params.plant;

const started = performance.now();
const browser = await fullBrowserVersion();
const results = initialResults(browser, { quick, seed, perClass });

/** Ends the run: the results exposed and downloadable, the state set. */
function finish(state: "done" | "failed"): void {
  results.durationMs = performance.now() - started;
  results.summary.state = state;
  (globalThis as { sortpoolResults?: unknown }).sortpoolResults = results;
  const button = $("download") as HTMLButtonElement;
  button.disabled = false;
  button.onclick = () => {
    const blob = new Blob([JSON.stringify(results, null, 2) + "\n"], { type: "application/json" });
    const a = el("a", {
      href: URL.createObjectURL(blob),
      download: `sortpool-${browser.replace(/\W+/g, "-").toLowerCase()}-${results.environment.date}.json`,
    }) as HTMLAnchorElement;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  setState(state);
}

/** Runs one check with progress; returns whether it passed. */
async function check(
  name: string,
  subject: Subject,
  cases: readonly CheckCase[],
  from: number,
  to: number,
): Promise<CheckResult> {
  const label = `${name} on ${subject.name}`;
  status(`${label}: starting (the first calls compile the kernels)…`, from);
  const r = await runCheck(name, subject, cases, (done, total, failed) => {
    status(`${label}: ${done}/${total} cases${failed ? `, ${failed} failed` : ""}`, from + (to - from) * done / total);
  });
  results.checks.results.push(r);
  const tally = name === "golden" ? results.summary.golden : results.summary.properties;
  tally.passed += r.passed;
  tally.total += r.total;
  showCheck(r);
  return r;
}

/** The whole run: the adapter, the checks, the benchmark, then the verdict on the page. */
async function run(): Promise<void> {
  setState("running");
  status("Looking for a WebGPU adapter…", 0);
  let clock: DeviceClock | undefined;
  // The GPU-timestamp wrappers must be in place before any device (tfjs's included) is created.
  if ("gpu" in navigator && typeof GPUAdapter !== "undefined") {
    try {
      clock = gpuTimestampClock();
    } catch (e) {
      results.failures.push(`GPU timestamps unavailable: ${errorText(e)}`);
    }
  }
  if (!(await describeAdapter(results, browser))) {
    status("No WebGPU: nothing was run.", 1);
    finish("failed");
    return;
  }
  let wgsl: Implementation = implementation("wgsl");
  let wgslTfjs: Implementation = implementation("wgsl@tfjs");
  let op = opSubject();
  if (plantName !== null) {
    const plant = plantNamed(plantName);
    results.plant = { name: plant.name, description: plant.description };
    showMessage(
      `<p><b>Planted failure:</b> this run uses a deliberately wrong kernel variant ` +
        `(<code>?plant=${plant.name}</code>): ${plant.description}. The checks below must fail.</p>`,
      "info",
    );
    const shaders = plant.shaders();
    wgsl = createWgslImplementation({ name: "wgsl", shaders });
    wgslTfjs = createWgslImplementation({ name: "wgsl@tfjs", shaders, host: "tfjs" });
    const set = `plant:${plant.name}`;
    await useBackend("webgpu");
    registerKernelSet(set, shaders);
    await readyKernelSet(set, (tf.backend() as unknown as TfjsWebGpuBackend).device);
    op = opSubject(set);
  }
  status("Starting tfjs's webgpu backend…", 0.01);
  await useBackend("webgpu");
  $("checks-note").textContent = `Golden vectors: every case of vectors/sort_pool2d.json, forward and gradient. ` +
    `Property subset: ${perClass} seeded case(s) per generator class (seed ${seed}), forward and gradient. ` +
    `Every answer is judged as the conformance kit judges a port: ${results.checks.tolerances}.`;

  const golden = goldenRequests(JSON.stringify(goldenFile));
  const properties = propertyRequests(seed, perClass);
  const checkEnd = benchOn ? 0.6 : 1;
  const span = checkEnd / 4;
  await check("golden", entrySubject(wgsl), golden, 0, span);
  await check("golden", op, golden, span, 2 * span);
  await check("properties", entrySubject(wgsl), properties, 2 * span, 3 * span);
  await check("properties", entrySubject(wgslTfjs), properties, 3 * span, 4 * span);

  if (benchOn) {
    const plan = quick ? QUICK_PLAN : DEFAULT_PLAN;
    results.shapes = plan.suites.map(plannedShape);
    const timestamps = clock !== undefined && results.environment.timestampQuery.listed;
    $("bench-note").textContent = `${plan.name} plan: sortPool2d inside tfjs's webgpu backend (wgsl@tfjs, ` +
      `logits [0.4, 0.1, -0.2, -0.5] cut to k) against tf.maxPool with the same window; ${METHOD.interleaving}; ` +
      `${METHOD.ratio}. Clock: ${
        timestamps ? "GPU timestamps (timestamp-query is on)" : "wall time (no timestamp-query)"
      }.`;
    const n = plan.suites.length;
    for (const [i, s] of plan.suites.entries()) {
      const from = checkEnd + (1 - checkEnd) * i / n;
      const suite = await runSuite(
        s,
        wgslTfjs,
        clock,
        (p) => status(`benchmark ${p.suite}: ${p.phase}`, from + (1 - checkEnd) / n * p.fraction),
      );
      if (s.window) results.windows = suite;
      else results.suites.push(suite);
      results.failures.push(...suite.failures.map((f) => `${suite.id}: ${f}`));
      showSuite(suite);
    }
    const all = [...results.suites, ...(results.windows ? [results.windows] : [])];
    results.summary.benchmarkRows = all.flatMap((s) => s.rows).filter((r) => r.status === "ok").length;
    const timed = all.some((s) => s.rows.some((r) => r.timer === "gpu-timestamps"));
    const ts = results.environment.timestampQuery as { listed: boolean; usable: boolean; detail: string };
    results.environment.timestampQuery = {
      ...ts,
      usable: timed,
      detail: timed ? "GPU timestamps timed the benchmark" : `${ts.detail}; no benchmark call was timed by them`,
    };
    try {
      status("Drawing the chart…", 0.99);
      await drawChart(all);
    } catch (e) {
      results.failures.push(`chart: ${errorText(e)}`);
    }
  } else {
    $("bench-note").textContent = "Not run (bench=0).";
  }
  await disposeAll();
  const failedChecks = results.checks.results.filter((r) => r.failed > 0);
  // A run that checked nothing has not passed: zero golden or property requests is a failure.
  if (results.summary.golden.total === 0) results.failures.push("no golden request ran");
  if (results.summary.properties.total === 0) results.failures.push("no property case ran");
  const ok = failedChecks.length === 0 && results.failures.length === 0;
  const g = results.summary.golden, p = results.summary.properties;
  status(
    `${ok ? "Done: every check passed" : "Finished with failures"}. Golden vectors ${g.passed}/${g.total} and ` +
      `properties ${p.passed}/${p.total} requests passed (2 subjects each), ${results.summary.benchmarkRows} ` +
      `benchmark rows; ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s.`,
    1,
  );
  if (!ok) {
    const lines = [
      ...failedChecks.map((r) => `${r.check} on ${r.subject}: ${r.failed} of ${r.total} cases failed`),
      ...results.failures,
    ];
    const box = $("message");
    const list = el("ul", {}, ...lines.map((l) => el("li", {}, l)));
    if (box.hidden) showMessage("<p><b>Failures:</b></p>");
    else box.append(el("p", {}, el("b", {}, "Failures:")));
    box.className = "error";
    box.append(list);
  }
  finish(ok ? "done" : "failed");
}

addEventListener("unhandledrejection", (e) => {
  if (document.body.dataset.state === "running") {
    results.failures.push(`unhandled: ${errorText(e.reason)}`);
  }
});

/** Bad query parameters: nothing runs; the page names each one and ends failed. */
function refuseParams(errors: readonly string[]): void {
  results.failures.push(...errors.map((e) => `bad query parameter: ${e}`));
  status(`Nothing was run: ${errors.length === 1 ? "a query parameter is" : "query parameters are"} invalid.`, 1);
  showMessage("<p><b>Invalid query parameters</b> (nothing was run):</p>");
  $("message").append(el("ul", {}, ...errors.map((e) => el("li", {}, e))));
  $("message").append(
    el(
      "p",
      {},
      "The page takes ?quick (or ?quick=1; ?quick=0: off), ?bench=0 or ?bench=1, ?seed=N (0 to 4294967295), " +
        "?cases=N (1 to 1000) and ?plant=NAME.",
    ),
  );
  finish("failed");
}

if (paramErrors.length > 0) {
  refuseParams(paramErrors);
} else {
  run().catch((e) => {
    results.failures.push(`the run stopped: ${errorText(e)}`);
    status("The run stopped with an error.", 1);
    showMessage(
      `<p><b>The run stopped with an error:</b></p><pre>${
        errorText(e).replace(/[<&]/g, (c) => (c === "<" ? "&lt;" : "&amp;"))
      }</pre>`,
    );
    finish("failed");
  });
}
