/**
 * The gate's measurement: the same entries of two or more trees, each tree in its own worker
 * process, timed in interleaved rounds (harness/measure/rounds.ts) on the same workload. Per round
 * every entry's calls in the base tree and in each candidate tree run back to back, in an order
 * that alternates from round to round; the per-round ratio candidate / base (harness/measure/stats.ts
 * `pairedRatio`) is what the gate judges.
 *
 * @module
 */
import type { ClockName } from "../harness/measure/clocks.ts";
import { BENCH_PASSES, type BenchPass, passLabel } from "../harness/measure/passes.ts";
import { onClock, runRounds, type TaskTiming, type TimedTask } from "../harness/measure/rounds.ts";
import { median, pairedRatio, type RatioSummary } from "../harness/measure/stats.ts";
import { gateCaseSpec, type GateWorkload } from "./workload.ts";
import type { GateWorker } from "./workers.ts";

/** The clocks the gate can judge on. */
export type GateClock = Extract<ClockName, "cpu" | "wall">;

/** One entry and pass to compare. */
export interface Pair {
  readonly entry: string;
  readonly pass: BenchPass;
}

/** One round of one comparison, for the JSON report. */
export interface RoundRecord {
  /** Candidate / base on the gate's clock. */
  readonly ratio: number;
  /** Candidate's and base's milliseconds on the gate's clock. */
  readonly candidateMs: number;
  readonly baseMs: number;
  /** The same calls' wall milliseconds. */
  readonly candidateWallMs: number;
  readonly baseWallMs: number;
}

/** A candidate tree's entry and pass against the base tree's. */
export interface Comparison extends Pair {
  /** The candidate worker's label, e.g. "working tree". */
  readonly candidate: string;
  /** Per-round ratios candidate / base on the gate's clock: median, MAD, interval. */
  readonly ratio: RatioSummary;
  /** Median milliseconds per call on the gate's clock. */
  readonly candidateMs: number;
  readonly baseMs: number;
  /** Median wall milliseconds per call. */
  readonly candidateWallMs: number;
  readonly baseWallMs: number;
  readonly rounds: readonly RoundRecord[];
}

/** A pair that could not be timed on one side. */
export interface MeasureFailure extends Pair {
  readonly candidate: string;
  /** Which tree failed: the base (the pair is then not compared) or the candidate (an error). */
  readonly side: "base" | "candidate";
  readonly error: string;
}

/** Everything one measurement produced. */
export interface ABMeasurement {
  readonly clock: GateClock;
  readonly comparisons: readonly Comparison[];
  readonly failures: readonly MeasureFailure[];
  /** Seconds spent preparing handles (uploads, shader compilation) and timing rounds. */
  readonly prepareSeconds: number;
  readonly measureSeconds: number;
}

/** Options of {@link measureAB}. */
export interface ABOptions {
  readonly clock: GateClock;
  /** Bootstrap seed. */
  readonly seed: number;
  /** Progress lines (stderr in the CLI). */
  readonly log?: (line: string) => void;
  /** Which candidates time which pairs (default: every candidate every pair). */
  readonly wants?: (candidate: string, pair: Pair) => boolean;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Times `pairs` in the base worker and in every candidate worker on `workload`, pass by pass (all
 * handles of a pass alive at once, both trees' calls of an entry back to back in each round), and
 * returns the per-round ratios candidate / base. A side that fails to prepare or to run is
 * reported in `failures` and left out of the comparisons; handles are disposed in any case.
 */
export async function measureAB(
  base: GateWorker,
  candidates: readonly GateWorker[],
  pairs: readonly Pair[],
  workload: GateWorkload,
  options: ABOptions,
): Promise<ABMeasurement> {
  const log = options.log ?? (() => {});
  const labels = [base.label, ...candidates.map((c) => c.label)];
  if (new Set(labels).size !== labels.length) {
    throw new RangeError(`measureAB: workers: expected unique labels, received ${labels.join(", ")}`);
  }
  const comparisons: Comparison[] = [];
  const failures: MeasureFailure[] = [];
  let prepareSeconds = 0, measureSeconds = 0;
  for (const pass of BENCH_PASSES) {
    const wants = (c: GateWorker, entry: string) => options.wants?.(c.label, { entry, pass }) ?? true;
    const entries = [...new Set(pairs.filter((p) => p.pass === pass).map((p) => p.entry))]
      .filter((entry) => candidates.some((c) => wants(c, entry)));
    if (entries.length === 0) continue;
    const spec = gateCaseSpec(workload, pass);
    const handle = (entry: string) => `${entry}|${pass}`;
    const prepared = new Map<string, GateWorker[]>(); // entry -> workers holding a handle
    const fail = (entry: string, side: "base" | "candidate", error: string, only?: GateWorker) => {
      for (const c of candidates) {
        if ((only && c !== only) || !wants(c, entry)) continue;
        if (!failures.some((f) => f.entry === entry && f.pass === pass && f.candidate === c.label)) {
          failures.push({ entry, pass, candidate: c.label, side, error });
        }
      }
    };
    const started = performance.now();
    try {
      for (const entry of entries) {
        const all = [base, ...candidates.filter((c) => wants(c, entry))];
        log(`${passLabel(pass)}: preparing ${entry} on ${spec.shape.join("x")} in ${all.length} trees`);
        const results = await Promise.allSettled(
          all.map((w) => w.request({ op: "prepare", handle: handle(entry), entry, case: spec })),
        );
        const holding = all.filter((_, i) => results[i].status === "fulfilled");
        prepared.set(entry, holding);
        results.forEach((r, i) => {
          if (r.status === "fulfilled") return;
          const w = all[i];
          if (w === base) fail(entry, "base", `prepare: ${message(r.reason)}`);
          else fail(entry, "candidate", `prepare: ${message(r.reason)}`, w);
        });
      }
      const measuredStart = performance.now();
      prepareSeconds += (measuredStart - started) / 1000;
      const tasks: TimedTask[] = [];
      const owner = new Map<string, { entry: string; worker: GateWorker }>();
      for (const entry of entries) {
        const holding = prepared.get(entry)!;
        if (!holding.includes(base) || holding.length < 2) continue;
        for (const w of holding) {
          const name = `${w.label}|${entry}`;
          owner.set(name, { entry, worker: w });
          tasks.push({
            name,
            group: entry,
            measure: async (repetitions) => {
              const readings = await w.request({ op: "measure", handle: handle(entry), pass, repetitions });
              if (!readings) throw new Error(`${w.label}: measure returned no readings`);
              return { readings };
            },
          });
        }
      }
      if (tasks.length === 0) continue;
      const timings = await runRounds(tasks, {
        rounds: workload.rounds,
        repetitions: workload.repetitions,
        warmupCalls: Math.max(1, workload.warmup),
        onProgress: (p) => {
          if (p.phase === "measure" && (p.round === 1 || p.round % 5 === 0 || p.round === workload.rounds)) {
            log(`${passLabel(pass)}: round ${p.round}/${workload.rounds} (${(p.elapsedMs / 1000).toFixed(1)} s)`);
          }
        },
      });
      measureSeconds += (performance.now() - measuredStart) / 1000;
      const byName = new Map(timings.map((t) => [t.name, t]));
      for (const entry of entries) {
        const baseTiming = byName.get(`${base.label}|${entry}`);
        if (!baseTiming) continue;
        if (baseTiming.status !== "ok") {
          fail(entry, "base", baseTiming.reason ?? baseTiming.status);
          continue;
        }
        for (const c of candidates) {
          const t = byName.get(`${c.label}|${entry}`);
          if (!t) continue;
          if (t.status !== "ok") {
            fail(entry, "candidate", t.reason ?? t.status, c);
            continue;
          }
          comparisons.push(compare(c.label, entry, pass, t, baseTiming, options));
        }
      }
    } finally {
      for (const [entry, holding] of prepared) {
        for (const w of holding) await w.request({ op: "dispose", handle: handle(entry) }).catch(() => {});
      }
    }
  }
  return { clock: options.clock, comparisons, failures, prepareSeconds, measureSeconds };
}

/** The comparison of a candidate's timing with the base's, paired by round. */
export function compare(
  candidate: string,
  entry: string,
  pass: BenchPass,
  c: Pick<TaskTiming, "samples">,
  b: Pick<TaskTiming, "samples">,
  options: Pick<ABOptions, "clock" | "seed">,
): Comparison {
  const on = (t: Pick<TaskTiming, "samples">, clock: GateClock) => {
    const series = onClock(t, clock);
    if (!series) throw new RangeError(`compare: ${candidate} ${entry} ${pass}: no ${clock} samples`);
    return series;
  };
  const [cm, bm, cw, bw] = [on(c, options.clock), on(b, options.clock), on(c, "wall"), on(b, "wall")];
  const ratio = pairedRatio(cm, bm, { seed: options.seed });
  const rounds: RoundRecord[] = [];
  for (const [round, candidateMs] of cm) {
    const baseMs = bm.get(round);
    if (baseMs === undefined) continue;
    rounds.push({
      ratio: candidateMs / baseMs,
      candidateMs,
      baseMs,
      candidateWallMs: cw.get(round)!,
      baseWallMs: bw.get(round)!,
    });
  }
  return {
    candidate,
    entry,
    pass,
    ratio,
    candidateMs: median([...cm.values()]),
    baseMs: median([...bm.values()]),
    candidateWallMs: median([...cw.values()]),
    baseWallMs: median([...bw.values()]),
    rounds,
  };
}
