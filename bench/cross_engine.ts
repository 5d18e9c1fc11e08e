/**
 * The cross-engine comparison: bench JSON files from different WebGPU engines and adapters (Deno's
 * wgpu on llvmpipe through GL or lavapipe through Vulkan, Dawn on SwiftShader, a real GPU, ...)
 * merged into one table. Every figure is a ratio measured inside one run (one process, one
 * engine), side by side with its own tf.maxPool and copy kernel; the table never divides one run's
 * times by another's, since the engines ran at different times on a shared machine.
 *
 * Per run, gated entry, shape and k: forward and forward+backward time / tf.maxPool of the same
 * engine (median of per-round ratios with its bootstrap 95% interval, harness/measure/stats.ts
 * `pairedRatio`, on the run's headline clock, bench/run_clock.ts: process CPU time on a CPU
 * adapter, GPU timestamps on a GPU), PASS/FAIL against the kernel targets (forward <= 0.5x,
 * forward+backward <= 1.0x), and percent of the copy kernel's bandwidth, both passes. The table
 * keeps the (shape, k) cases every run measured; the others are listed by name. Its Markdown,
 * JSON and chart are in bench/cross_engine_report.ts.
 *
 * @module
 */
import type { BenchPass } from "../harness/measure/passes.ts";
import type { BandwidthClock } from "./bandwidth.ts";
import { engineName, runLabel, runSlug } from "./environment.ts";
import { maxPoolName, type ResultRow, type RowRatio } from "./rows.ts";
import type { SavedRun } from "./run.ts";
import { type CrossRatio, ratioOn, runClock } from "./run_clock.ts";

export type { SavedRun } from "./run.ts";
export { type CrossRatio, ratioOn, runClock } from "./run_clock.ts";

/** The clocks a row's figures are given on, the headline clock of a CPU adapter first. */
export const CLOCKS: readonly BandwidthClock[] = ["process-cpu", "gpu-timestamps", "wall-clock"];

/** The kernel targets the table judges: time / tf.maxPool time of the same engine, at most. */
export const CROSS_TARGETS: Readonly<Record<BenchPass, number>> = { forward: 0.5, forwardBackward: 1.0 };

/** One run of the comparison, as the table names it. */
export interface CrossRun {
  /** Short id: engine, adapter's first word, requested backend, made unique (e.g. "deno-llvmpipe-gl"). */
  readonly id: string;
  /** "deno" or "dawn". */
  readonly engine: string;
  /** Engine and adapter from adapter.info (bench/environment.ts `runLabel`). */
  readonly label: string;
  /** Where it was read from, when from a file. */
  readonly file?: string;
  /** Why its figures are not to be trusted (merged only on request; bench/engines.ts). */
  readonly untrusted?: readonly string[];
  readonly plan: string;
  readonly date: string;
  readonly durationMs: number;
  readonly loadavg: string;
  /** The clock its ratios are read on, and why. */
  readonly clock: BandwidthClock;
  readonly clockWhy: string;
}

/** PASS/FAIL of one ratio against its target; NOT MEASURED with the reason. */
export type CrossVerdict =
  | { readonly status: "PASS" | "FAIL"; readonly inconclusive: boolean }
  | { readonly status: "NOT MEASURED"; readonly reason: string };

/** One (run, gated entry, shape, k) of the table. */
export interface CrossRow {
  /** {@link CrossRun.id}. */
  readonly run: string;
  readonly engine: string;
  readonly entry: string;
  readonly shapeLabel: string;
  readonly shape: readonly number[];
  readonly k: number;
  /** Time / tf.maxPool time of the same run, per pass, on the run's clock (or the next one both rows have). */
  readonly vsMaxPool: Readonly<Record<BenchPass, CrossRatio | null>>;
  readonly verdict: Readonly<Record<BenchPass, CrossVerdict>>;
  /** 100 x copy kernel time / this time, per pass, likewise. */
  readonly copyPercent: Readonly<Record<BenchPass, CrossRatio | null>>;
  /** Every clock's figures (the JSON keeps them; the table shows the run's clock). */
  readonly byClock: Partial<
    Record<
      BandwidthClock,
      { vsMaxPool: Record<BenchPass, CrossRatio | null>; copyPercent: Record<BenchPass, CrossRatio | null> }
    >
  >;
  /** Median ms of the entry's call on its row's timer, per pass (context; not comparable across runs). */
  readonly ms: Readonly<Record<BenchPass, number | null>>;
}

/** The merged comparison. */
export interface CrossEngine {
  readonly runs: readonly CrossRun[];
  /** Rows of the (shape, k) cases every run measured, grouped by case, runs in the order given. */
  readonly rows: readonly CrossRow[];
  /** Cases measured by some runs only: "<entry> <shape> k=<k>: run ids". */
  readonly notInEveryRun: readonly string[];
  /** Per run and gated entry: how many of its cases meet each target. */
  readonly summary: readonly CrossSummary[];
}

/** Per run and entry: PASS count per target over the table's cases. */
export interface CrossSummary {
  readonly run: string;
  readonly entry: string;
  readonly forward: { readonly pass: number; readonly of: number };
  readonly forwardBackward: { readonly pass: number; readonly of: number };
}

/** Both passes, forward first. */
export const PASSES: readonly BenchPass[] = ["forward", "forwardBackward"];
const COPY = "copy@webgpu";

/** A stored ratio (a file without raw samples) as a CrossRatio. */
function stored(r: RowRatio | null | undefined, scale = 1): CrossRatio | null {
  return r ? { median: r.median * scale, low: r.low * scale, high: r.high * scale, n: r.n, clock: r.timer } : null;
}

function verdictOf(ratio: CrossRatio | null, row: ResultRow | undefined, target: number): CrossVerdict {
  if (!row) return { status: "NOT MEASURED", reason: "no row" };
  if (row.status !== "ok") return { status: "NOT MEASURED", reason: `${row.status}: ${row.reason ?? ""}`.trim() };
  if (!ratio) return { status: "NOT MEASURED", reason: "no tf.maxPool of the same round" };
  const ok = (v: number) => v <= target;
  return { status: ok(ratio.median) ? "PASS" : "FAIL", inconclusive: ok(ratio.low) !== ok(ratio.high) };
}

/**
 * The run's name: bench/environment.ts `runSlug`, except that an adapter whose adapter.info has no
 * description or device (a browser's, e.g. vendor "google", architecture "swiftshader") is named by
 * its architecture, not its vendor ("chrome-swiftshader").
 */
export function crossRunSlug(env: SavedRun["environment"]): string {
  const info = env.adapter.available ? env.adapter.info : {};
  const architecture = String(info.architecture ?? "").toLowerCase().match(/[a-z0-9]+/)?.[0];
  if (env.adapter.available && !info.description && !info.device && architecture) {
    return `${engineName(env)}-${architecture}`;
  }
  return runSlug(env);
}

/**
 * The run's label: bench/environment.ts `runLabel`, except that a file that names its engine but
 * has no adapter line (a page that found no adapter) is described as such, not as a file that
 * predates engine names.
 */
export function crossRunLabel(env: SavedRun["environment"]): string {
  if (env.engine && !env.adapterLine) {
    const adapter = env.adapter.available
      ? String(env.adapter.info.description || env.adapter.info.architecture || "unknown adapter")
      : `no adapter${"reason" in env.adapter && env.adapter.reason ? ` (${env.adapter.reason})` : ""}`;
    return `${adapter} on ${env.engine.implementation}`;
  }
  return runLabel(env);
}

/** Names the runs: id (unique), engine, label from adapter.info. */
export function crossRuns(runs: readonly { run: SavedRun; file?: string }[]): CrossRun[] {
  const seen = new Map<string, number>();
  return runs.map(({ run, file }) => {
    const env = run.environment;
    const slug = crossRunSlug(env);
    const count = (seen.get(slug) ?? 0) + 1;
    seen.set(slug, count);
    return {
      id: count === 1 ? slug : `${slug}#${count}`,
      engine: engineName(env),
      label: `${run.untrusted?.length ? `UNTRUSTED (${run.untrusted.join("; ")}): ` : ""}${crossRunLabel(env)}`,
      ...(file ? { file } : {}),
      ...(run.untrusted?.length ? { untrusted: run.untrusted } : {}),
      plan: run.plan,
      date: env.date,
      durationMs: run.durationMs,
      loadavg: String(env.host?.loadavg ?? "?"),
      clock: runClock(run).clock,
      clockWhy: runClock(run).why,
    };
  });
}

/**
 * Merges runs into the cross-engine table: the WebGPU shape suites' rows of each run's gated
 * entries, every (entry, shape, k) that all runs measured (a row that failed or was skipped
 * still counts as measured: it shows as NOT MEASURED with the reason).
 */
export function crossEngine(runs: readonly { run: SavedRun; file?: string }[]): CrossEngine {
  const named = crossRuns(runs);
  const perRun = runs.map(({ run }, i) => {
    const rows = new Map<string, CrossRow>();
    const suites = run.suites.filter((s) => s.group === "webgpu" && !s.skipped && !s.window);
    for (const suite of suites) {
      const find = (subject: string, k: number | null, pass: BenchPass) =>
        suite.rows.find((r) => r.subject === subject && r.k === k && r.pass === pass);
      const entries = [
        ...new Set(suite.rows.filter((r) => r.kind === "entry" && run.gated.includes(r.subject)).map((r) => r.subject)),
      ];
      const ks = [...new Set(suite.rows.filter((r) => r.k !== null).map((r) => r.k!))].sort((a, b) => a - b);
      for (const entry of entries) {
        for (const k of ks) {
          const byPass = Object.fromEntries(PASSES.map((p) => [p, find(entry, k, p)])) as Record<
            BenchPass,
            ResultRow | undefined
          >;
          if (!byPass.forward && !byPass.forwardBackward) continue;
          // Process CPU time only where it is the run's clock (a CPU adapter): on a GPU it is not kernel time.
          const fallbacks: BandwidthClock[] = ["gpu-timestamps", "wall-clock"];
          const clocks = [named[i].clock, ...fallbacks.filter((c) => c !== named[i].clock)];
          const byClock: CrossRow["byClock"] = {};
          for (const clock of CLOCKS) {
            const of = (f: (p: BenchPass) => CrossRatio | null) => ({
              forward: f("forward"),
              forwardBackward: f("forwardBackward"),
            });
            const figures = {
              vsMaxPool: of((p) => ratioOn(byPass[p], find(maxPoolName("webgpu"), null, p), clock)),
              copyPercent: of((p) => ratioOn(find(COPY, null, p), byPass[p], clock, 100)),
            };
            if (PASSES.some((p) => figures.vsMaxPool[p] || figures.copyPercent[p])) byClock[clock] = figures;
          }
          // The run's clock first, then the others; a file without raw samples gives its stored ratios.
          const pick = (which: "vsMaxPool" | "copyPercent", p: BenchPass) => {
            for (const c of clocks) if (byClock[c]?.[which][p]) return byClock[c]![which][p];
            return stored(byPass[p]?.[which]);
          };
          const ratio = (p: BenchPass) => pick("vsMaxPool", p);
          const key = caseKey(entry, suite.shape, k);
          rows.set(key, {
            run: named[i].id,
            engine: named[i].engine,
            entry,
            shapeLabel: suite.shapeLabel,
            shape: suite.shape,
            k,
            vsMaxPool: { forward: ratio("forward"), forwardBackward: ratio("forwardBackward") },
            verdict: {
              forward: verdictOf(ratio("forward"), byPass.forward, CROSS_TARGETS.forward),
              forwardBackward: verdictOf(
                ratio("forwardBackward"),
                byPass.forwardBackward,
                CROSS_TARGETS.forwardBackward,
              ),
            },
            copyPercent: {
              forward: pick("copyPercent", "forward"),
              forwardBackward: pick("copyPercent", "forwardBackward"),
            },
            byClock,
            ms: { forward: byPass.forward?.ms ?? null, forwardBackward: byPass.forwardBackward?.ms ?? null },
          });
        }
      }
    }
    return rows;
  });
  const allKeys: string[] = [];
  for (const m of perRun) for (const key of m.keys()) if (!allKeys.includes(key)) allKeys.push(key);
  const common = allKeys.filter((key) => perRun.every((m) => m.has(key)));
  const notInEveryRun = allKeys
    .filter((key) => !common.includes(key))
    .map((key) => `${key}: ${named.filter((_, i) => perRun[i].has(key)).map((r) => r.id).join(", ")}`);
  const rows = common.flatMap((key) => perRun.map((m) => m.get(key)!));
  const summary: CrossSummary[] = [];
  for (const run of named) {
    const own = rows.filter((r) => r.run === run.id);
    for (const entry of [...new Set(own.map((r) => r.entry))]) {
      const mine = own.filter((r) => r.entry === entry);
      const tally = (p: BenchPass) => ({
        pass: mine.filter((r) => r.verdict[p].status === "PASS").length,
        of: mine.length,
      });
      summary.push({ run: run.id, entry, forward: tally("forward"), forwardBackward: tally("forwardBackward") });
    }
  }
  return { runs: named, rows, notInEveryRun, summary };
}

function caseKey(entry: string, shape: readonly number[], k: number): string {
  return `${entry} ${shape.join("x")} k=${k}`;
}
