/**
 * The cross-engine comparison: bench JSON files from different WebGPU engines and adapters (Deno's
 * wgpu on llvmpipe through GL or lavapipe through Vulkan, Dawn on SwiftShader, a real GPU, ...)
 * merged into one table and one chart. Every figure is a ratio measured inside one run (one
 * process, one engine), side by side with its own tf.maxPool and copy kernel; the table never
 * divides one run's times by another's, since the engines ran at different times on a shared
 * machine.
 *
 * Per run, gated entry, shape and k: forward and forward+backward time / tf.maxPool of the same
 * engine (median of per-round ratios with its bootstrap 95% interval, src/measure/stats.ts
 * `pairedRatio`, on the run's headline clock: process CPU time on a CPU adapter, as in the
 * bandwidth suite, GPU timestamps on a GPU; bench/bandwidth.ts `headlineClock`),
 * PASS/FAIL against the kernel targets (forward <= 0.5x, forward+backward <= 1.0x), and percent of
 * the copy kernel's bandwidth, both passes. The table keeps the (shape, k) cases every run
 * measured; the others are listed by name.
 *
 * Pure functions of the saved runs, plus {@link crossEngineSvg}, which renders the vega-lite chart
 * headless with vega (no DOM, no canvas).
 *
 * @module
 */
import { parse as parseVega, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { isCpuAdapter } from "../src/measure/clocks.ts";
import type { BenchPass } from "../src/measure/passes.ts";
import { pairedRatio } from "../src/measure/stats.ts";
import { type BandwidthClock, headlineClock } from "./bandwidth.ts";
import { engineName, type EnvironmentReport, runLabel, runSlug } from "./environment.ts";
import type { BenchRun } from "./report.ts";
import { maxPoolName, type ResultRow, type RowRatio } from "./rows.ts";

/** A ratio between two rows of one run on one clock: median of per-round ratios, 95% interval, rounds. */
export interface CrossRatio {
  readonly median: number;
  readonly low: number;
  readonly high: number;
  readonly n: number;
  readonly clock: BandwidthClock;
}

const CLOCKS: readonly BandwidthClock[] = ["process-cpu", "gpu-timestamps", "wall-clock"];

/** The kernel targets the table judges: time / tf.maxPool time of the same engine, at most. */
export const CROSS_TARGETS: Readonly<Record<BenchPass, number>> = { forward: 0.5, forwardBackward: 1.0 };

/** A saved run as read back from `deno task bench --json` (older files lack some fields). */
export type SavedRun = Pick<BenchRun, "plan" | "args" | "suites" | "gated" | "durationMs"> & {
  readonly environment: Pick<EnvironmentReport, "date" | "denoWebgpuBackend" | "adapter" | "host"> & {
    readonly engine?: EnvironmentReport["engine"];
    readonly adapterLine?: string;
    readonly timestampQuery?: EnvironmentReport["timestampQuery"];
  };
  /** Why the run's figures are not to be trusted (a failed or planted page run), when merged anyway. */
  readonly untrusted?: readonly string[];
};

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

const PASSES: readonly BenchPass[] = ["forward", "forwardBackward"];
const COPY = "copy@webgpu";

/** A row's samples on `clock`, keyed by round, or null when some sample lacks it. */
function samplesOn(row: ResultRow, clock: BandwidthClock): Map<number, number> | null {
  const s = row.samples;
  const values = clock === "gpu-timestamps" ? s?.device : clock === "process-cpu" ? s?.cpu : s?.wall;
  if (!values || values.length === 0 || values.length !== s.round.length) return null;
  return new Map(s.round.map((round, i) => [round, values[i]]));
}

/** a / b per round on `clock` (x `scale`), or null when the rows share no clock reading or round. */
export function ratioOn(
  a: ResultRow | undefined,
  b: ResultRow | undefined,
  clock: BandwidthClock,
  scale = 1,
): CrossRatio | null {
  if (!a || !b || a.status !== "ok" || b.status !== "ok") return null;
  const [sa, sb] = [samplesOn(a, clock), samplesOn(b, clock)];
  if (!sa || !sb || ![...sa.keys()].some((r) => sb.has(r))) return null;
  const { median, low, high, n } = pairedRatio(sa, sb);
  return { median: median * scale, low: low * scale, high: high * scale, n, clock };
}

/** A stored ratio (a file without raw samples) as a CrossRatio. */
function stored(r: RowRatio | null | undefined, scale = 1): CrossRatio | null {
  return r ? { median: r.median * scale, low: r.low * scale, high: r.high * scale, n: r.n, clock: r.timer } : null;
}

/**
 * The run's headline clock: process CPU time on a CPU adapter, else GPU timestamps when the run had
 * them. Only a clock the file's own samples carry: a browser page has no process CPU time, so a
 * page on a CPU adapter (SwiftShader) is read on the GPU timestamps (or wall clock) it timed with.
 */
export function runClock(run: SavedRun): { clock: BandwidthClock; why: string } {
  const env = run.environment;
  const info = env.adapter.available ? env.adapter.info : {};
  const cpuAdapter = env.adapter.available && isCpuAdapter({
    description: String(info.description ?? ""),
    isFallbackAdapter: info.isFallbackAdapter === true,
  });
  const has = (pick: (s: NonNullable<ResultRow["samples"]>) => readonly number[] | undefined) =>
    run.suites.some((s) => s.rows.some((r) => r.samples !== undefined && (pick(r.samples)?.length ?? 0) > 0));
  const gpu = has((s) => s.device);
  const cpu = cpuAdapter && has((s) => s.cpu);
  const chosen = headlineClock(cpu, gpu);
  if (cpuAdapter && !cpu) {
    return {
      clock: chosen.clock,
      why: `a CPU adapter, but the file has no process CPU time, which a browser page cannot read: ${
        chosen.clock === "gpu-timestamps" ? "the GPU timestamps it timed with" : "wall clock"
      }`,
    };
  }
  return cpu
    ? {
      clock: chosen.clock,
      why: "a CPU adapter: its device threads run in the bench process, so process CPU time counts the kernels' " +
        "work and not other processes' load",
    }
    : chosen;
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

const f3 = (v: number) => v.toPrecision(3);

/** "0.113x [0.0685, 0.171]", or "-" when not measured. */
export function ratioText(r: CrossRatio | null): string {
  return r ? `${f3(r.median)}x [${f3(r.low)}, ${f3(r.high)}]` : "-";
}

/** "58 % [47, 114]", or "-" when not measured. */
export function percentText(r: CrossRatio | null): string {
  return r ? `${r.median.toFixed(0)} % [${r.low.toFixed(0)}, ${r.high.toFixed(0)}]` : "-";
}

/** "PASS", "FAIL (interval straddles 0.5)", "NOT MEASURED (reason)". */
export function verdictText(v: CrossVerdict, target: number): string {
  if (v.status === "NOT MEASURED") return `NOT MEASURED (${v.reason})`;
  return `${v.status}${v.inconclusive ? ` (interval straddles ${target.toFixed(1)})` : ""}`;
}

/** "process-cpu, 9/5 rounds": the clock of a row's ratios to tf.maxPool and their rounds (forward/forward+backward). */
function clockText(r: CrossRow): string {
  const parts = PASSES.map((p) => r.vsMaxPool[p]).filter((x): x is CrossRatio => x !== null);
  if (parts.length === 0) return "-";
  const clocks = [...new Set(parts.map((x) => x.clock))];
  const rounds = [...new Set(parts.map((x) => x.n))];
  return clocks.length === 1
    ? `${clocks[0]}, ${rounds.join("/")} rounds`
    : parts.map((x) => `${x.clock}, ${x.n} rounds`).join(" / ");
}

/** The table in Markdown, with the runs named above it and the targets' summary below. */
export function crossEngineMarkdown(c: CrossEngine): string {
  if (c.runs.length === 0) return "No runs to compare.";
  const esc = (t: string) => t.replace(/\|/g, "\\|");
  const untrusted = c.runs.filter((r) => r.untrusted?.length);
  const lines = [
    ...(untrusted.length > 0
      ? [
        `WARNING: UNTRUSTED runs merged on request (SORTPOOL_MERGE_UNTRUSTED=1): ${
          untrusted.map((r) => `\`${r.id}\``).join(", ")
        }; their figures are not measurements of working kernels.`,
        "",
      ]
      : []),
    "Runs (engine and adapter from adapter.info; every ratio is measured within its own run):",
    "",
    ...c.runs.map((r) =>
      `- \`${r.id}\`: ${r.label}; ${r.plan} plan, ${r.date}, ${(r.durationMs / 1000).toFixed(0)} s, ` +
      `load average at start ${r.loadavg}; clock: ${r.clock} (${r.clockWhy})${r.file ? `; ${r.file}` : ""}`
    ),
    "",
  ];
  if (c.rows.length === 0) {
    lines.push("No gated entry was measured on a (shape, k) case common to every run.");
  } else {
    lines.push(
      "| run | entry | shape | k | fwd x tf.maxPool [95%] | fwd <= 0.5x | fwd+bwd x tf.maxPool [95%] | " +
        "fwd+bwd <= 1.0x | fwd % copy bw [95%] | fwd+bwd % copy bw [95%] | clock, rounds | fwd ms | fwd+bwd ms |",
      "|---|---|---|---:|---:|---|---:|---|---:|---:|---|---:|---:|",
    );
    for (const r of c.rows) {
      const ms = (v: number | null) => (v === null ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(0));
      lines.push(
        "| " + [
          `\`${r.run}\``,
          r.entry,
          `${r.shapeLabel} ${r.shape.join("x")}`,
          String(r.k),
          ratioText(r.vsMaxPool.forward),
          verdictText(r.verdict.forward, CROSS_TARGETS.forward),
          ratioText(r.vsMaxPool.forwardBackward),
          verdictText(r.verdict.forwardBackward, CROSS_TARGETS.forwardBackward),
          percentText(r.copyPercent.forward),
          percentText(r.copyPercent.forwardBackward),
          clockText(r),
          ms(r.ms.forward),
          ms(r.ms.forwardBackward),
        ].map(esc).join(" | ") + " |",
      );
    }
    lines.push("", "Kernel targets per run (cases of the table that PASS):", "");
    for (const s of c.summary) {
      lines.push(
        `- \`${s.run}\` ${s.entry}: forward <= ${CROSS_TARGETS.forward}x tf.maxPool ${s.forward.pass}/${s.forward.of}` +
          `${s.forward.pass === s.forward.of ? " PASS" : " FAIL"}; forward+backward <= ` +
          `${CROSS_TARGETS.forwardBackward.toFixed(1)}x ${s.forwardBackward.pass}/${s.forwardBackward.of}` +
          `${s.forwardBackward.pass === s.forwardBackward.of ? " PASS" : " FAIL"}`,
      );
    }
  }
  const others = otherClocksTable(c);
  if (others.length > 0) lines.push("", ...others);
  if (c.notInEveryRun.length > 0) {
    lines.push("", "Not in every run (left out of the table):", "", ...c.notInEveryRun.map((n) => `- ${n}`));
  }
  return lines.join("\n");
}

/**
 * The ratios to tf.maxPool on the clocks a row was not judged on (GPU timestamps, when the run's
 * clock is process CPU time): context, since on a CPU adapter they are the wall time of threads
 * that share the cores with every other process. Empty when there are none.
 */
export function otherClocksTable(c: CrossEngine): string[] {
  const runClock = new Map(c.runs.map((r) => [r.id, r.clock]));
  const rows = c.rows.flatMap((r) =>
    CLOCKS.filter((clock) => clock !== runClock.get(r.run) && clock !== "wall-clock" && r.byClock[clock])
      .map((clock) => ({ r, clock, x: r.byClock[clock]! }))
  );
  if (rows.length === 0) return [];
  return [
    "The same ratios on GPU timestamps (context only on CPU adapters: the wall time of device threads that share the " +
    "cores with other processes):",
    "",
    "| run | entry | shape | k | clock | fwd x tf.maxPool [95%] | fwd+bwd x tf.maxPool [95%] | fwd % copy bw [95%] |",
    "|---|---|---|---:|---|---:|---:|---:|",
    ...rows.map(({ r, clock, x }) =>
      `| \`${r.run}\` | ${r.entry} | ${r.shapeLabel} ${r.shape.join("x")} | ${r.k} | ${clock} | ` +
      `${ratioText(x.vsMaxPool.forward)} | ${ratioText(x.vsMaxPool.forwardBackward)} | ` +
      `${percentText(x.copyPercent.forward)} |`
    ),
  ];
}

/** The JSON document of a merge. */
export function crossEngineJson(c: CrossEngine): unknown {
  return { kind: "sortpool-cross-engine", targets: CROSS_TARGETS, ...c };
}

/** One point of the chart. */
interface ChartDatum {
  readonly run: string;
  readonly case: string;
  readonly measure: string;
  readonly median: number;
  readonly low: number;
  readonly high: number;
  readonly target: number | null;
}

const MEASURES = {
  forward: "forward: time / tf.maxPool (target <= 0.5)",
  forwardBackward: "forward+backward: time / tf.maxPool (target <= 1.0)",
  copy: "forward: % of copy kernel bandwidth",
} as const;

/** The chart's data: one point per run, case and measure (ratios to tf.maxPool, forward % of copy bandwidth). */
export function chartData(c: CrossEngine): ChartDatum[] {
  const out: ChartDatum[] = [];
  for (const r of c.rows) {
    const label = `${r.entry} ${r.shape.join("x")} k=${r.k}`;
    const push = (measure: string, x: CrossRatio | null, target: number | null) => {
      if (x) out.push({ run: r.run, case: label, measure, median: x.median, low: x.low, high: x.high, target });
    };
    push(MEASURES.forward, r.vsMaxPool.forward, CROSS_TARGETS.forward);
    push(MEASURES.forwardBackward, r.vsMaxPool.forwardBackward, CROSS_TARGETS.forwardBackward);
    push(MEASURES.copy, r.copyPercent.forward, null);
  }
  return out;
}

/**
 * The vega-lite spec: one panel per measure (independent x scales), a row per (entry, shape, k),
 * a point per run at the median with a bar over its 95% interval, and the target as a dashed rule.
 */
export function crossEngineChartSpec(c: CrossEngine, title: string): TopLevelSpec {
  const data = chartData(c);
  const runs = c.runs.map((r) => r.id);
  const color = {
    field: "run",
    type: "nominal",
    title: "run (engine-adapter)",
    scale: { domain: runs },
    legend: { labelLimit: 400 },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: title,
      subtitle: [
        "Each run's ratios are measured within that run (one engine, one process): median of per-round ratios, " +
        "bar: bootstrap 95% interval;",
        "dashed: the kernel target. Runs (clock):",
        ...c.runs.map((r) => `${r.id} = ${r.label} (${r.clock})`),
      ],
    },
    data: { values: data as unknown as Record<string, unknown>[] },
    facet: { column: { field: "measure", type: "nominal", title: null, sort: Object.values(MEASURES) } },
    spec: {
      width: 260,
      height: { step: 14 },
      layer: [
        {
          mark: { type: "rule", strokeWidth: 2, opacity: 0.6 },
          encoding: {
            y: { field: "case", type: "nominal", title: null, axis: { labelLimit: 400 } },
            yOffset: { field: "run", type: "nominal", scale: { domain: runs } },
            x: { field: "low", type: "quantitative", title: null, scale: { zero: true } },
            x2: { field: "high" },
            color,
          },
        },
        {
          mark: { type: "point", filled: true, size: 40 },
          encoding: {
            y: { field: "case", type: "nominal" },
            yOffset: { field: "run", type: "nominal", scale: { domain: runs } },
            x: { field: "median", type: "quantitative" },
            color,
            tooltip: [{ field: "run" }, { field: "case" }, { field: "median" }, { field: "low" }, { field: "high" }],
          },
        },
        {
          mark: { type: "rule", strokeDash: [6, 4], color: "black" },
          encoding: { x: { aggregate: "max", field: "target", type: "quantitative" } },
        },
      ],
    },
    resolve: { scale: { x: "independent" } },
  };
}

/** Renders {@link crossEngineChartSpec} to an SVG string, headless (vega's View, renderer "none"). */
export async function crossEngineSvg(c: CrossEngine, title: string): Promise<string> {
  const view = new View(parseVega(compile(crossEngineChartSpec(c, title)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The Markdown report of a merge: the table and the chart (written next to it as `chartFile`). */
export function crossEngineReport(c: CrossEngine, chartFile: string | null, command: string): string {
  const lines = [
    "# sort_pool2d across WebGPU engines",
    "",
    `\`${command}\`. Gated registry entries against tf.maxPool and the copy kernel of the same engine, on the ` +
    '(shape, k) cases every run measured (2x2 windows, stride 2, padding "same"). Targets: forward <= 0.5x ' +
    "tf.maxPool, forward+backward <= 1.0x tf.maxPool (PASS when the median meets it; the interval is shown). " +
    "Times (ms) are context only: the runs were taken at different times on a shared machine.",
    "",
    crossEngineMarkdown(c),
    "",
  ];
  if (chartFile) lines.push(`![ratios per engine](${chartFile})`, "");
  return lines.join("\n");
}
