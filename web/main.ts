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
 * @module
 */
/// <reference lib="dom" />
import goldenFile from "../vectors/sort_pool2d.json" with { type: "json" };
import { parse as parseVega, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { BYTES_FORMULA } from "../bench/metrics.ts";
import type { ResultRow, SuiteResult } from "../bench/rows.ts";
import { type DeviceClock, gpuTimestampClock } from "../harness/measure/clocks.ts";
import { passLabel } from "../harness/measure/passes.ts";
import { disposeAll, implementation } from "../src/registry.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import { createWgslImplementation } from "../src/webgpu/wgsl.ts";
import { readyKernelSet, registerKernelSet, type TfjsWebGpuBackend } from "../src/webgpu/tfjs_kernels.ts";
import type { Implementation } from "../src/types.ts";
import { DEFAULT_PLAN, METHOD, plannedShape, QUICK_PLAN, runSuite } from "./bench.ts";
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
import { parseParams } from "./params.ts";
import { plantNamed } from "./plant.ts";

/** Failures shown in full on the page per check (the JSON keeps more). */
const SHOWN_FAILURES = 3;

// The module runs: tell index.html's loader script (it reports a page whose script never starts),
// and take back its message should its timeout have fired on a slow download.
(globalThis as { sortpoolStarted?: boolean }).sortpoolStarted = true;
if (document.body.dataset.state === "failed") document.getElementById("message")!.hidden = true;

const { params, errors: paramErrors } = parseParams(location.search);
const { quick, benchOn, seed, perClass } = params;
const plantName = params.plant;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function setState(state: "running" | "done" | "failed"): void {
  document.body.dataset.state = state;
  $("badge").textContent = state;
}

function status(text: string, fraction?: number): void {
  $("status").textContent = text;
  if (fraction !== undefined) ($("progress") as HTMLProgressElement).value = Math.max(0, Math.min(1, fraction));
}

function showMessage(html: string, kind: "error" | "info" = "error"): void {
  const m = $("message");
  m.hidden = false;
  m.className = kind;
  m.innerHTML = html;
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The browser's name and version from its user agent. */
function browserVersion(): string {
  const ua = navigator.userAgent;
  for (const re of [/(Edg)\/([\d.]+)/, /(HeadlessChrome)\/([\d.]+)/, /(Chrome)\/([\d.]+)/, /(Firefox)\/([\d.]+)/]) {
    const m = ua.match(re);
    if (m) return `${m[1] === "Edg" ? "Edge" : m[1]} ${m[2]}`;
  }
  const safari = ua.match(/Version\/([\d.]+).*Safari/);
  return safari ? `Safari ${safari[1]}` : ua;
}

/** "chrome", "edge", "firefox", "safari": the browser's family, lower case. */
function browserFamily(browser: string): string {
  return browser.split(" ")[0].replace(/^Headless/, "").toLowerCase();
}

/** The browser's WebGPU engine, by browser family. */
function engineOf(browser: string): string {
  if (/Chrome|Edge/.test(browser)) return "Dawn";
  if (/Firefox/.test(browser)) return "wgpu";
  if (/Safari/.test(browser)) return "WebKit";
  return "unknown";
}

function plainRecord(o: object): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const key in o) {
    const v = (o as Record<string, unknown>)[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[key] = v;
  }
  return out;
}

const NO_WEBGPU_HELP = "<p><b>How to get WebGPU:</b></p>" +
  "<ul><li>Chrome and Edge 113 or later have WebGPU on by default on Windows, macOS and ChromeOS (Android: 121+).</li>" +
  "<li>On Linux, start Chrome with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>, or turn on " +
  "<code>chrome://flags/#enable-unsafe-webgpu</code>; <code>chrome://gpu</code> says whether WebGPU is enabled and " +
  "why not.</li>" +
  "<li>Firefox 141+ has it on Windows (other systems: <code>dom.webgpu.enabled</code> in <code>about:config</code>); " +
  "Safari 26+ on macOS and iOS.</li>" +
  "<li>The page must come from <code>https://</code> or <code>http://localhost</code> (WebGPU needs a secure " +
  "context).</li></ul>";

const INSECURE_HELP = "<p><b>This page is not in a secure context</b> (it came from " +
  "<code>http://</code> on a host other than localhost): WebGPU needs a secure context, https or localhost. " +
  "Serve it over https, or open it on this machine as <code>http://localhost</code> or " +
  "<code>http://127.0.0.1</code> (<code>deno task serve</code>).</p>";

/** Everything the page reports; bench's JSON schema plus the checks (`checks`) and the browser (`browser`). */
interface PageResults {
  readonly kind: "sortpool-browser-run";
  plan: string;
  args: string[];
  environment: Record<string, unknown> & {
    engine: { name: string; implementation: string };
    adapterLine: string;
    date: string;
    adapter: Record<string, unknown>;
    timestampQuery: { listed: boolean; usable: boolean; detail: string };
  };
  method: Readonly<Record<string, string>>;
  bytesFormula: string;
  shapes: unknown[];
  notBenchmarked: { name: string; reason: string }[];
  gated: string[];
  copyKernel: { available: boolean; detail: string };
  suites: SuiteResult[];
  windows?: SuiteResult;
  failures: string[];
  durationMs: number;
  browser: { name: string; userAgent: string; webgpuEngine: string; secureContext: boolean };
  plant: { name: string; description: string } | null;
  checks: {
    seed: number;
    casesPerClass: number;
    precision: "float32";
    tolerances: string;
    results: CheckResult[];
  };
  summary: {
    state: "done" | "failed";
    golden: { passed: number; total: number };
    properties: { passed: number; total: number };
    benchmarkRows: number;
  };
}

/**
 * The browser's full version: Chromium reduces the user agent's version to "156.0.0.0", so ask
 * userAgentData for the full one where it exists.
 */
async function fullBrowserVersion(): Promise<string> {
  const reduced = browserVersion();
  try {
    const data = (navigator as {
      userAgentData?: {
        getHighEntropyValues(h: string[]): Promise<{ fullVersionList?: { brand: string; version: string }[] }>;
      };
    }).userAgentData;
    const list = (await data?.getHighEntropyValues(["fullVersionList"]))?.fullVersionList ?? [];
    const name = reduced.split(" ")[0];
    const brand = list.find((b) => /Chrom|Edge/.test(b.brand) && !/Not/.test(b.brand));
    return brand ? `${name} ${brand.version} (${brand.brand})` : reduced;
  } catch {
    return reduced;
  }
}

const started = performance.now();
const browser = await fullBrowserVersion();
const results: PageResults = {
  kind: "sortpool-browser-run",
  plan: quick ? QUICK_PLAN.name : DEFAULT_PLAN.name,
  args: [location.search],
  environment: {
    date: new Date().toISOString(),
    // The browser family names the run in bench's merged tables (bench/environment.ts runSlug).
    engine: { name: browserFamily(browser), implementation: `${browser} (WebGPU: ${engineOf(browser)})` },
    adapterLine: "",
    denoWebgpuBackend: "",
    xdgRuntimeDir: "",
    deno: {},
    tfjs: Object.fromEntries(Object.entries(tf.version).map(([k, v]) => [k, String(v)])),
    wgpu: {},
    host: {
      os: (navigator as { userAgentData?: { platform?: string } }).userAgentData?.platform ?? navigator.platform,
      cpus: navigator.hardwareConcurrency,
      loadavg: "n/a (browser)",
    },
    adapter: { available: false, reason: "not requested yet" },
    timestampQuery: { listed: false, usable: false, detail: "not requested yet" },
  },
  method: METHOD,
  bytesFormula: BYTES_FORMULA,
  shapes: [],
  notBenchmarked: [],
  gated: ["wgsl@tfjs"],
  copyKernel: { available: false, detail: "the page does not run the copy kernel" },
  suites: [],
  failures: [],
  durationMs: 0,
  browser: {
    name: browser,
    userAgent: navigator.userAgent,
    webgpuEngine: engineOf(browser),
    secureContext: globalThis.isSecureContext,
  },
  plant: null,
  checks: {
    seed,
    casesPerClass: perClass,
    precision: "float32",
    tolerances: "the conformance kit's (conformance/compare.ts): the float64 reference run with the float32-rounded " +
      "weights, within testkit/tolerance.ts's float32 bounds; NaN meets NaN, ±Infinity exactly, zero signs as " +
      "SPEC §5 fixes them; k = 1's y bitwise",
    results: [],
  },
  summary: { state: "failed", golden: { passed: 0, total: 0 }, properties: { passed: 0, total: 0 }, benchmarkRows: 0 },
};

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

function kvRow(table: HTMLElement, key: string, value: Node | string): void {
  table.append(el("tr", {}, el("th", {}, key), el("td", {}, value)));
}

function details(summary: string, text: string): HTMLElement {
  return el("details", {}, el("summary", {}, summary), el("pre", {}, text));
}

/** Reads the adapter's description; returns false (with the message shown) when there is no WebGPU. */
async function describeAdapter(): Promise<boolean> {
  const table = $("environment");
  kvRow(table, "browser", `${browser}; WebGPU engine ${engineOf(browser)}`);
  if (!("gpu" in navigator) || !navigator.gpu) {
    const reason = globalThis.isSecureContext === false
      ? "navigator.gpu is missing: the page is not in a secure context, and WebGPU needs one (https or localhost)"
      : "navigator.gpu is missing: this browser gives the page no WebGPU";
    results.environment.adapter = { available: false, reason };
    results.environment.adapterLine = `no adapter on ${results.environment.engine.implementation}`;
    kvRow(table, "adapter", reason);
    showMessage(
      `<p><b>This browser gives the page no WebGPU</b> (${reason}), so nothing can run here.</p>` +
        (globalThis.isSecureContext === false ? INSECURE_HELP : "") + NO_WEBGPU_HELP,
    );
    results.failures.push(reason);
    return false;
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    results.failures.push(`requestAdapter threw ${errorText(e)}`);
  }
  if (!adapter) {
    const reason = "navigator.gpu.requestAdapter() gave no adapter (WebGPU is present but no GPU is offered: it may " +
      "be blocklisted or disabled)";
    results.environment.adapter = { available: false, reason };
    results.environment.adapterLine = `no adapter on ${results.environment.engine.implementation}`;
    kvRow(table, "adapter", reason);
    showMessage(`<p><b>No WebGPU adapter</b>: ${reason}. Nothing can run here.</p>${NO_WEBGPU_HELP}`);
    results.failures.push(reason);
    return false;
  }
  const info = plainRecord(adapter.info);
  const limits = plainRecord(adapter.limits);
  const features = [...adapter.features].map(String).sort();
  const name = String(info.description || info.device || info.architecture || info.vendor || "unknown adapter");
  const detail = [info.vendor, info.architecture].filter((s) => s && s !== name).join(", ");
  const line = `${name}${detail ? ` [${detail}]` : ""} on ${results.environment.engine.implementation}`;
  results.environment.adapterLine = line;
  results.environment.adapter = { available: true, info, features, limits };
  const listed = adapter.features.has("timestamp-query");
  results.environment.timestampQuery = {
    listed,
    usable: false,
    detail: listed ? "listed; the devices request it" : "the adapter does not list the timestamp-query feature",
  };
  kvRow(table, "adapter", line);
  kvRow(table, "adapter.info", Object.entries(info).map(([k, v]) => `${k}: ${v}`).join("; "));
  kvRow(table, "timestamp-query", listed ? "on (GPU timestamps time the benchmark)" : "off (wall time instead)");
  kvRow(table, "features", details(`${features.length} features`, features.join("\n")));
  kvRow(
    table,
    "limits",
    details(
      `maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize}, ` +
        `maxComputeInvocationsPerWorkgroup ${limits.maxComputeInvocationsPerWorkgroup}`,
      Object.entries(limits).map(([k, v]) => `${k}: ${v}`).join("\n"),
    ),
  );
  kvRow(table, "tfjs", `${tf.version.tfjs} (backend webgpu)`);
  return true;
}

function categoryText(r: CheckResult): string {
  return Object.entries(r.byCategory)
    .map(([c, t]) => `${c} ${t.passed}/${t.passed + t.failed}`)
    .join(", ");
}

function showCheck(r: CheckResult): void {
  const ok = r.failed === 0;
  $("checks").querySelector("tbody")!.append(
    el(
      "tr",
      {},
      el("td", {}, r.check),
      el("td", {}, el("code", {}, r.subject)),
      el(
        "td",
        { class: ok ? "ok nowrap" : "bad nowrap" },
        ok ? `PASS ${r.passed}/${r.total}` : `FAIL ${r.failed} of ${r.total}`,
      ),
      el("td", {}, r.check === "golden" ? `golden ${r.passed}/${r.total}` : categoryText(r)),
      el("td", { class: "num" }, `${(r.durationMs / 1000).toFixed(1)} s`),
    ),
  );
  for (const f of r.failures.slice(0, SHOWN_FAILURES)) {
    $("failures").append(
      el(
        "div",
        { class: "failure" },
        el("b", {}, `FAIL ${r.check} on ${r.subject}: ${f.name}`),
        el("pre", {}, f.report.join("\n")),
        details("replay (the request as the conformance kit sends it)", f.replay),
      ),
    );
  }
  const shown = Math.min(r.failures.length, SHOWN_FAILURES);
  if (r.failed > shown) {
    $("failures").append(
      el(
        "p",
        { class: "bad" },
        `… and ${r.failed - shown} more failures of ${r.check} on ${r.subject} (the results JSON reports ` +
          `${r.failures.length} in full and counts all).`,
      ),
    );
  }
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

function fmtMs(v: number | null): string {
  return v === null ? "-" : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0);
}

function windowText(s: SuiteResult): string {
  const size = s.window?.poolSize ?? [2, 2];
  const strides = s.window?.strides ?? size;
  const stride = strides[0] === strides[1] ? `${strides[0]}` : strides.join("x");
  return `${size.join("x")}/${stride}`;
}

function showSuite(s: SuiteResult): void {
  const body = $("bench").querySelector("tbody")!;
  for (const r of s.rows.filter((x) => x.kind === "entry")) {
    const base = s.rows.find((b) => b.kind === "baseline" && b.pass === r.pass);
    const v = r.vsMaxPool;
    body.append(
      el(
        "tr",
        {},
        el("td", {}, windowText(s)),
        el("td", {}, `${s.shapeLabel} ${s.shape.join("x")}`),
        el("td", { class: "num" }, String(r.k)),
        el("td", {}, passLabel(r.pass)),
        el("td", { class: "num" }, r.status === "ok" ? fmtMs(r.ms) : `${r.status}: ${r.reason ?? ""}`),
        el("td", { class: "num" }, base?.status === "ok" ? fmtMs(base.ms) : base?.status ?? "-"),
        el(
          "td",
          { class: "num" },
          v ? `${v.median.toPrecision(3)}x [${v.low.toPrecision(3)}, ${v.high.toPrecision(3)}]` : "-",
        ),
        el("td", {}, v ? `${v.timer}, ${v.n}` : r.timer ?? "-"),
      ),
    );
  }
}

/** The chart: each row's ratio to tf.maxPool with its interval (vega-lite, rendered as SVG). */
async function drawChart(suites: readonly SuiteResult[]): Promise<void> {
  const values = suites.flatMap((s) =>
    s.rows.filter((r): r is ResultRow & { vsMaxPool: NonNullable<ResultRow["vsMaxPool"]> } =>
      r.kind === "entry" && r.vsMaxPool !== null
    ).map((r) => ({
      case: `${windowText(s)} ${s.shape.join("x")} k=${r.k}`,
      pass: passLabel(r.pass),
      median: r.vsMaxPool.median,
      low: r.vsMaxPool.low,
      high: r.vsMaxPool.high,
    }))
  );
  if (values.length === 0) return;
  const rowEncoding = {
    y: { field: "case", type: "nominal", title: null },
    yOffset: { field: "pass" },
    color: { field: "pass", type: "nominal", title: "pass" },
  } as const;
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "sortPool2d time / tf.maxPool time (median of per-round ratios, 95% interval; below 1: faster)",
    data: { values },
    width: 620,
    height: { step: 22 },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 2 },
        encoding: {
          ...rowEncoding,
          x: { field: "low", type: "quantitative", scale: { type: "log" }, title: "time / tf.maxPool (log scale)" },
          x2: { field: "high" },
        },
      },
      {
        mark: { type: "point", filled: true, size: 60 },
        encoding: { ...rowEncoding, x: { field: "median", type: "quantitative" } },
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: "rule", strokeDash: [4, 4], color: "#5f6368" },
        encoding: { x: { field: "one", type: "quantitative" } },
      },
    ],
  } as TopLevelSpec;
  const view = new View(parseVega(compile(spec).spec), { renderer: "svg", container: $("chart"), hover: false });
  await view.runAsync();
}

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
  if (!(await describeAdapter())) {
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
