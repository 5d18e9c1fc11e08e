/**
 * The gate's measurement and evaluation: interleaved rounds of every gated entry and tf.maxPool,
 * per pass; one ratio entry / maxPool per round (on the chosen clock, ci/timing.ts); the median ratio with its seeded bootstrap
 * interval; the verdict against a baseline.
 *
 * @module
 */
import { preparePoolBaseline } from "../src/tfjs/baselines.ts";
import type { BenchHandle, SortPoolCase } from "../src/types.ts";
import { PASSES, passLabel, type PassName } from "./baseline.ts";
import { bootstrapMedianInterval, median, type MedianInterval } from "./stats.ts";
import { type Clock, type Participant, type Sample, timeInterleaved } from "./timing.ts";
import { judge, type Verdict } from "./verdict.ts";
import { gateCase, type GateWorkload } from "./workload.ts";

/** Name under which tf.maxPool takes part in the rounds. */
export const MAXPOOL = "tf.maxPool";

/** Something the gate can time: a registry entry, or a self-test variant. */
export interface GateEntry {
  /** Name in the summary and the baseline. */
  readonly name: string;
  /** Builds the device-resident workload (`Implementation.prepareBench`). */
  prepare(c: SortPoolCase): Promise<BenchHandle>;
}

/** Raw timings and ratios of one entry in one pass. */
export interface EntryPassTimes {
  /** Milliseconds per call on the gate's clock, one per round. */
  readonly ms: number[];
  /** Wall milliseconds per call, one per round (reported whatever the clock). */
  readonly wallMs: number[];
  /** Ratio entry / maxPool, one per round (same round's maxPool sample). */
  readonly ratios: number[];
  /** Median ratio and its bootstrap interval. */
  readonly ratio: MedianInterval;
}

/** Everything measured in one gate run. */
export interface Measurements {
  readonly workload: GateWorkload;
  /** The clock the ratios come from. */
  readonly clock: Clock;
  /** Per pass: tf.maxPool's milliseconds per call on the gate's clock, one per round. */
  readonly maxPoolMs: Record<PassName, number[]>;
  /** Per pass: tf.maxPool's wall milliseconds per call, one per round. */
  readonly maxPoolWallMs: Record<PassName, number[]>;
  /** Per entry name, per pass. */
  readonly entries: Record<string, Record<PassName, EntryPassTimes>>;
  /** Seconds spent preparing handles (uploads; shader compilation happens partly here). */
  readonly prepareSeconds: number;
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** Bootstrap seed (the resampling is deterministic for a seed). */
  readonly seed: number;
  /** Clock the ratios are computed from. */
  readonly clock: Clock;
  /** Progress lines (stderr in the CLI); nothing when absent. */
  readonly log?: (line: string) => void;
}

/**
 * Times every entry and tf.maxPool on `workload` in interleaved rounds, pass by pass (each on
 * its own shape), and computes the per-round ratios and their median intervals. Disposes every
 * handle it made.
 */
export async function measure(
  entries: readonly GateEntry[],
  workload: GateWorkload,
  options: MeasureOptions,
): Promise<Measurements> {
  const log = options.log ?? (() => {});
  if (entries.length === 0) throw new RangeError("gate: entries: expected at least one entry, received none");
  const names = entries.map((e) => e.name);
  if (names.includes(MAXPOOL) || new Set(names).size !== names.length) {
    throw new RangeError(`gate: entries: expected unique names other than ${MAXPOOL}, received ${names.join(", ")}`);
  }
  const maxPoolMs = {} as Record<PassName, number[]>;
  const maxPoolWallMs = {} as Record<PassName, number[]>;
  const perEntry: Record<string, Record<PassName, EntryPassTimes>> = {};
  for (const e of entries) perEntry[e.name] = {} as Record<PassName, EntryPassTimes>;
  let prepareSeconds = 0;
  // Pass by pass: each pass has its own shape, and holding one pass's buffers at a time halves
  // the memory the emulated GPU needs.
  for (const pass of PASSES) {
    const c = gateCase(workload, pass);
    const handles = new Map<string, BenchHandle>();
    try {
      const prepareStart = performance.now();
      handles.set(MAXPOOL, await preparePoolBaseline("maxPool", "webgpu", c.shape, c.padding));
      for (const e of entries) {
        log(`${passLabel(pass)}: preparing ${e.name} on ${c.shape.join("x")}`);
        handles.set(e.name, await e.prepare(c));
      }
      prepareSeconds += (performance.now() - prepareStart) / 1000;
      const participants: Participant[] = [...handles].map(([name, h]) => ({ name, run: () => h[pass]() }));
      const started = performance.now();
      const samples = await timeInterleaved(participants, {
        rounds: workload.rounds,
        repetitions: workload.repetitions,
        warmup: workload.warmup,
        onRound: (round) => {
          if (round === 0 || (round + 1) % 5 === 0 || round + 1 === workload.rounds) {
            log(`${passLabel(pass)}: round ${round + 1}/${workload.rounds} (${elapsed(started)})`);
          }
        },
      });
      const on = (name: string) => samples.get(name)!.map((s: Sample) => s[options.clock]);
      const wall = (name: string) => samples.get(name)!.map((s: Sample) => s.wall);
      const base = on(MAXPOOL);
      maxPoolMs[pass] = base;
      maxPoolWallMs[pass] = wall(MAXPOOL);
      for (const e of entries) {
        const ms = on(e.name);
        const ratios = ms.map((t, i) => t / base[i]);
        perEntry[e.name][pass] = {
          ms,
          wallMs: wall(e.name),
          ratios,
          ratio: bootstrapMedianInterval(ratios, { seed: options.seed }),
        };
      }
    } finally {
      for (const h of handles.values()) await h.dispose();
    }
  }
  return { workload, clock: options.clock, maxPoolMs, maxPoolWallMs, entries: perEntry, prepareSeconds };
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** The baseline a check is judged against, or why there is none. */
export type BaselineChoice =
  | { readonly ratio: number; readonly source: string }
  | { readonly missing: string };

/** One entry/pass check of the gate. */
export interface Check {
  readonly entry: string;
  readonly pass: PassName;
  /** Baseline ratio, when there is one. */
  readonly baseline?: number;
  /** Where the baseline came from ("ci/baseline.json", "in-run wgsl"), or why there is none. */
  readonly baselineNote: string;
  /** Median ratio entry / maxPool and its interval. */
  readonly measured: MedianInterval;
  /** `baseline × (1 + tolerance)`. */
  readonly limit?: number;
  readonly verdict: Verdict;
  /** The interval lies wholly below `baseline / (1 + tolerance)`. */
  readonly faster: boolean;
  /** Median milliseconds per call of the entry and of tf.maxPool on the gate's clock. */
  readonly entryMs: number;
  readonly maxPoolMs: number;
  /** Median wall milliseconds per call of the entry and of tf.maxPool. */
  readonly entryWallMs: number;
  readonly maxPoolWallMs: number;
  /** Every round of the measurement judged here. */
  readonly rounds: readonly RoundRecord[];
  /**
   * Verdicts of every measurement of this check, first to last (see ci/confirm.ts); the verdict
   * above is "regression" only when every one of them was.
   */
  readonly history: readonly Verdict[];
}

/** One round of one check, for the JSON report. */
export interface RoundRecord {
  readonly ratio: number;
  /** The entry's and tf.maxPool's milliseconds on the gate's clock. */
  readonly entryMs: number;
  readonly maxPoolMs: number;
  /** The same calls' wall milliseconds. */
  readonly entryWallMs: number;
  readonly maxPoolWallMs: number;
}

/** Judges every measured entry and pass against `baselineFor`. */
export function evaluate(
  m: Measurements,
  tolerance: number,
  baselineFor: (entry: string, pass: PassName) => BaselineChoice,
): Check[] {
  const checks: Check[] = [];
  for (const [entry, passes] of Object.entries(m.entries)) {
    for (const pass of PASSES) {
      const t = passes[pass];
      const choice = baselineFor(entry, pass);
      const baseline = "ratio" in choice ? choice.ratio : undefined;
      const j = judge(t.ratio, baseline, tolerance);
      checks.push({
        entry,
        pass,
        baseline,
        baselineNote: "ratio" in choice ? choice.source : choice.missing,
        measured: t.ratio,
        limit: j.limit,
        verdict: j.verdict,
        faster: j.faster,
        entryMs: median(t.ms),
        maxPoolMs: median(m.maxPoolMs[pass]),
        entryWallMs: median(t.wallMs),
        maxPoolWallMs: median(m.maxPoolWallMs[pass]),
        rounds: t.ratios.map((ratio, i) => ({
          ratio,
          entryMs: t.ms[i],
          maxPoolMs: m.maxPoolMs[pass][i],
          entryWallMs: t.wallMs[i],
          maxPoolWallMs: m.maxPoolWallMs[pass][i],
        })),
        history: [j.verdict],
      });
    }
  }
  return checks;
}
