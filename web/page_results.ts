/**
 * Everything the browser page reports ({@link PageResults}), and the record a run starts from.
 *
 * @module
 */
/// <reference lib="dom" />
import type { SuiteResult } from "../bench/rows.ts";
import { BYTES_FORMULA } from "../bench/metrics.ts";
import { tf } from "../src/tfjs/runtime.ts";
import { DEFAULT_PLAN, METHOD, QUICK_PLAN } from "./bench.ts";
import { browserFamily, engineOf } from "./browser_info.ts";
import type { CheckResult } from "./checks.ts";

/** Everything the page reports; bench's JSON schema plus the checks (`checks`) and the browser (`browser`). */
export interface PageResults {
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

/** The query parameters the starting record names. */
export interface ResultsParams {
  readonly quick: boolean;
  readonly seed: number;
  readonly perClass: number;
}

/** The record of a run that has not started: nothing checked or measured yet, its state "failed" until it ends. */
export function initialResults(browser: string, { quick, seed, perClass }: ResultsParams): PageResults {
  return {
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
      tolerances:
        "the conformance kit's (conformance/compare.ts): the float64 reference run with the float32-rounded " +
        "weights, within testkit/tolerance.ts's float32 bounds; NaN meets NaN, ±Infinity exactly, zero signs as " +
        "SPEC §5 fixes them; k = 1's y bitwise",
      results: [],
    },
    summary: {
      state: "failed",
      golden: { passed: 0, total: 0 },
      properties: { passed: 0, total: 0 },
      benchmarkRows: 0,
    },
  };
}
