/**
 * The general-window suite: sort_pool2d with 3x3 windows and stride 2, padding "same", on the
 * ResNet stem's pooling input (32x112x112x64, after conv1), against tf.maxPool with the same
 * window, strides and padding, forward and forward+backward, k = 1..4. Every WebGPU registry entry
 * with a bench handle takes part; an entry whose `supports` excludes the case is listed as
 * skipped with `unsupportedReason` (src/registry.ts), never dropped silently, and a non-gated
 * (tfjs-op) entry predicted too slow for a call is skipped with its prediction. The suite is one
 * `runSuite` (bench/suite.ts): interleaved rounds, per-round ratios to tf.maxPool.
 *
 * Targets: forward <= 1.0x and forward+backward <= 1.0x tf.maxPool 3x3/2, per entry and k.
 *
 * @module
 */
import { BENCH_PASSES, type BenchPass } from "../harness/measure/passes.ts";
import { uniformFloat32 } from "../src/random.ts";
import { unsupportedReason } from "../src/registry.ts";
import { sizeOf, type WindowOptions } from "../src/spec.ts";
import { preparePoolBaseline } from "./baselines.ts";
import type { Implementation, Padding, Shape4, SortPoolCase } from "../src/types.ts";
import { logitsFor, type PlannedShape, type SuitePolicy } from "./plan.ts";
import type { CallTimeHistory } from "./predict.ts";
import { maxPoolName, type ResultRow, type Subject, type SuiteResult, taskKey } from "./rows.ts";

/** The window of the suite: 3x3, stride 2 (the ResNet stem's max pooling). */
export const STEM_WINDOW: Required<WindowOptions> = { poolSize: [3, 3], strides: [2, 2] };

/** Padding of the suite ("same": 112 -> 56, TensorFlow's split of the padding). */
export const STEM_PADDING: Padding = "same";

/** Ratio to tf.maxPool 3x3/2 that an entry must not exceed, forward and forward+backward. */
export const WINDOWS_TARGET_RATIO = 1.0;

/** A non-gated entry predicted to take longer than this per call is skipped (ms). */
export const WINDOWS_SLOW_ENTRY_MS = 8_000;

function windowsPolicy(samples: number): SuitePolicy {
  // Every task takes every sample (no budget stop): a ratio needs tf.maxPool in the same round,
  // and its forward+backward takes seconds here. The first-call limit only guards against a hang:
  // slow tfjs entries are skipped by prediction before they run.
  return {
    samples,
    minSamples: samples,
    budgetMs: Infinity,
    warmupCalls: 2,
    warmupMs: 0,
    skipFirstCallOverMs: 60_000,
    warmupOnceOverMs: 1000,
  };
}

/** The full plan's 3x3/2 suite: the ResNet stem shape, k = 1..4, 5 rounds. */
export const WINDOWS_FULL: PlannedShape = {
  label: "resnet-stem 3x3/2",
  shape: [32, 112, 112, 64],
  note: "ResNet stem max pooling (3x3, stride 2, same) input: 32x112x112x64 after conv1",
  ks: [1, 2, 3, 4],
  groups: { webgpu: windowsPolicy(5), cpu: { skip: "the 3x3/2 suite runs on WebGPU only" } },
  window: STEM_WINDOW,
};

/** `--quick`: the same window on 2 images, k = 1 and 4, 3 rounds. */
export const WINDOWS_QUICK: PlannedShape = {
  ...WINDOWS_FULL,
  label: "resnet-stem 3x3/2 (2 images)",
  shape: [2, 112, 112, 64],
  ks: [1, 4],
  groups: { webgpu: windowsPolicy(3), cpu: WINDOWS_FULL.groups.cpu },
};

/** The case an entry is prepared with at `k` (the suite's window and padding). */
export function windowsCase(planned: PlannedShape, x: Float32Array, k: number): SortPoolCase {
  return { x, shape: planned.shape, logits: logitsFor(k), k, padding: STEM_PADDING, ...planned.window };
}

/** Subjects and pre-skipped tasks of the suite (see {@link windowsSubjects}). */
export interface WindowsSubjects {
  readonly subjects: Subject[];
  /** `taskKey` -> reason: unsupported cases and predicted-too-slow entries. */
  readonly preSkip: Map<string, string>;
}

/**
 * The suite's subjects: every entry of `entries` on WebGPU with a bench handle, at each k of the
 * plan, and tf.maxPool@webgpu with the suite's window. Tasks an entry does not support are
 * pre-skipped with `unsupportedReason`; a non-gated entry is pre-skipped when `predict` (the run's
 * call-time history, else a probe) puts a call over {@link WINDOWS_SLOW_ENTRY_MS}.
 */
export function windowsSubjects(
  planned: PlannedShape,
  entries: readonly Implementation[],
  data: () => Float32Array,
  predict: (entry: Implementation, k: number, pass: BenchPass) => { ms: number; from: string } | null,
): WindowsSubjects {
  const subjects: Subject[] = [];
  const preSkip = new Map<string, string>();
  // Validity of the case does not depend on the data: an empty x of the right length is enough to ask.
  const probe = new Float32Array(0);
  for (const entry of entries) {
    if (entry.device !== "webgpu" || !entry.prepareBench) continue;
    for (const k of planned.ks) {
      const unsupported = unsupportedReason(entry, windowsCase(planned, probe, k));
      for (const pass of BENCH_PASSES) {
        const key = taskKey(entry.name, k, pass);
        if (unsupported) {
          preSkip.set(key, `unsupported: ${unsupported}`);
          continue;
        }
        if (entry.gated) continue;
        const predicted = predict(entry, k, pass);
        if (predicted && predicted.ms > WINDOWS_SLOW_ENTRY_MS) {
          preSkip.set(
            key,
            `predicted ~${predicted.ms.toFixed(0)} ms a call (${predicted.from}, scaled linearly in elements), over ` +
              `this suite's ${WINDOWS_SLOW_ENTRY_MS} ms limit for tfjs-op entries`,
          );
        }
      }
      subjects.push({
        name: entry.name,
        kind: "entry",
        k,
        prepare: () => entry.prepareBench!(windowsCase(planned, data(), k)),
      });
    }
  }
  subjects.push({
    name: maxPoolName("webgpu"),
    kind: "baseline",
    k: null,
    prepare: () => preparePoolBaseline("maxPool", "webgpu", planned.shape, STEM_PADDING, planned.window),
  });
  return { subjects, preSkip };
}

/**
 * Predicted call time of `entry` in the suite: from its probe ({@link probeSlowEntries}, recorded
 * as `<entry>#windows`), else from its 2x2/2 calls earlier in the run (optimistic: a 3x3 window
 * ranks more cells), else null.
 */
export function windowsPrediction(
  history: CallTimeHistory,
  entry: string,
  k: number,
  pass: BenchPass,
  elements: number,
): { ms: number; from: string } | null {
  return history.predict("webgpu", `${entry}#windows`, k, pass, elements) ??
    history.predict("webgpu", entry, k, pass, elements);
}

/** The shape the slow-entry probe times a call on: one image of the suite's shape. */
export function probeShape(shape: Shape4): Shape4 {
  return [1, shape[1], shape[2], shape[3]];
}

/**
 * Times one call per pass of each non-gated WebGPU entry (at the plan's largest k) on
 * {@link probeShape} and records it in `history` (the second call of each pass; the first pays
 * compilation), so that {@link windowsSubjects} can predict the full shape from it. Entries the
 * history already knows at the suite's size, or that do not support the case, are not probed.
 */
export async function probeSlowEntries(
  planned: PlannedShape,
  entries: readonly Implementation[],
  history: CallTimeHistory,
  progress: (line: string) => void,
): Promise<void> {
  const shape = probeShape(planned.shape);
  const k = Math.max(...planned.ks);
  for (const entry of entries) {
    if (entry.device !== "webgpu" || !entry.prepareBench || entry.gated) continue;
    const c = windowsCase({ ...planned, shape }, uniformFloat32(sizeOf(shape), 3), k);
    if (unsupportedReason(entry, c)) continue;
    const known = (pass: BenchPass) => windowsPrediction(history, entry.name, k, pass, sizeOf(planned.shape));
    if (BENCH_PASSES.every(known)) continue;
    progress(`windows: probing ${entry.name} on ${shape.join("x")} (k=${k})`);
    let handle;
    try {
      handle = await entry.prepareBench(c);
      for (const pass of BENCH_PASSES) {
        await handle[pass]();
        const start = performance.now();
        await handle[pass]();
        history.record("webgpu", `${entry.name}#windows`, k, pass, performance.now() - start, sizeOf(shape));
      }
    } catch (e) {
      progress(`windows: probe of ${entry.name} failed: ${e instanceof Error ? e.message : e}`);
    } finally {
      await handle?.dispose();
    }
  }
}

/** One (entry, k) of the suite against tf.maxPool 3x3/2: the two ratios and their verdicts. */
export interface WindowsVerdict {
  readonly entry: string;
  readonly k: number;
  /** Per-round time ratio to tf.maxPool (median and 95% interval), or null with the reason. */
  readonly forward: PassVerdict;
  readonly forwardBackward: PassVerdict;
}

/** The verdict of one pass: PASS when the median ratio is at most {@link WINDOWS_TARGET_RATIO}. */
export type PassVerdict =
  | {
    readonly status: "PASS" | "FAIL";
    readonly median: number;
    readonly low: number;
    readonly high: number;
    readonly n: number;
    /** The interval has values on both sides of the target. */
    readonly inconclusive: boolean;
  }
  | { readonly status: "SKIP" | "NOT MEASURED"; readonly reason: string };

/** PASS/FAIL per (entry, k) and pass from the suite's rows (see {@link WindowsVerdict}). */
export function windowsVerdicts(suite: SuiteResult): WindowsVerdict[] {
  const out: WindowsVerdict[] = [];
  const entries = [...new Set(suite.rows.filter((r) => r.kind === "entry").map((r) => r.subject))];
  const baseline = (pass: BenchPass) => suite.rows.find((r) => r.subject === maxPoolName("webgpu") && r.pass === pass);
  const judge = (row: ResultRow | undefined, pass: BenchPass): PassVerdict => {
    if (!row) return { status: "NOT MEASURED", reason: "no row" };
    if (row.status === "skipped") return { status: "SKIP", reason: row.reason ?? "skipped" };
    if (row.status !== "ok") return { status: "NOT MEASURED", reason: row.reason ?? row.status };
    const base = baseline(pass);
    if (!row.vsMaxPool) {
      return {
        status: "NOT MEASURED",
        reason: base?.status === "ok" ? "no common clock or round with tf.maxPool" : `tf.maxPool: ${base?.reason}`,
      };
    }
    const { median, low, high, n } = row.vsMaxPool;
    const ok = (v: number) => v <= WINDOWS_TARGET_RATIO;
    return { status: ok(median) ? "PASS" : "FAIL", median, low, high, n, inconclusive: ok(low) !== ok(high) };
  };
  for (const entry of entries) {
    const ks = [...new Set(suite.rows.filter((r) => r.subject === entry).map((r) => r.k!))].sort((a, b) => a - b);
    for (const k of ks) {
      const find = (pass: BenchPass) => suite.rows.find((r) => r.subject === entry && r.k === k && r.pass === pass);
      out.push({
        entry,
        k,
        forward: judge(find("forward"), "forward"),
        forwardBackward: judge(find("forwardBackward"), "forwardBackward"),
      });
    }
  }
  return out;
}

function verdictCell(v: PassVerdict, note: (reason: string) => string): string {
  if ("reason" in v) return `${v.status} ${note(v.reason)}`;
  const f = (x: number) => x.toPrecision(3);
  return `${f(v.median)}x [${f(v.low)}, ${f(v.high)}] ${v.status}${v.inconclusive ? " (interval straddles 1.0)" : ""}`;
}

/** The suite's verdicts as a Markdown table (one row per entry and k), reasons as numbered notes below it. */
export function windowsMarkdown(suite: SuiteResult | undefined): string {
  if (!suite) return "The 3x3/2 suite did not run.";
  if (suite.skipped) return `The 3x3/2 suite was skipped: ${suite.skipped}`;
  const base = (pass: BenchPass) => {
    const r = suite.rows.find((x) => x.subject === maxPoolName("webgpu") && x.pass === pass);
    return r?.status === "ok" && r.ms !== null ? `${r.ms.toFixed(0)} ms` : `${r?.status ?? "missing"}`;
  };
  const notes: string[] = [];
  const note = (reason: string) => {
    const i = notes.indexOf(reason);
    return `[${(i >= 0 ? i : notes.push(reason) - 1) + 1}]`;
  };
  const lines = [
    `${suite.shape.join("x")}, 3x3 windows, stride 2, "${suite.padding}"; tf.maxPool 3x3/2 forward ${
      base("forward")
    }, ` +
    `forward+backward ${base("forwardBackward")} (median per call). Cells: median per-round time ratio to ` +
    `tf.maxPool [95% interval], PASS when at most ${WINDOWS_TARGET_RATIO.toFixed(1)}x.`,
    "",
    "| entry | k | forward / tf.maxPool | forward+backward / tf.maxPool fwd+bwd |",
    "|---|---|---|---|",
  ];
  for (const v of windowsVerdicts(suite)) {
    lines.push(`| ${v.entry} | ${v.k} | ${verdictCell(v.forward, note)} | ${verdictCell(v.forwardBackward, note)} |`);
  }
  if (notes.length > 0) lines.push("", ...notes.map((n, i) => `[${i + 1}] ${n.replace(/\|/g, "\\|")}`));
  return lines.join("\n");
}
