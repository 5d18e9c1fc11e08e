/**
 * The clock a saved run's ratios are judged on, and per-round ratios between two of its rows on a
 * chosen clock. The headline clock is bench/bandwidth.ts `headlineClock`: process CPU time on a
 * CPU adapter (llvmpipe, lavapipe, SwiftShader run the "GPU" as threads of the bench process, so
 * other processes' load stays out of it), GPU timestamps on a GPU, else wall clock. The kernel
 * targets of the shape suites and the cross-engine table both read their ratios this way.
 *
 * @module
 */
import { isCpuAdapter } from "../harness/measure/clocks.ts";
import { pairedRatio } from "../harness/measure/stats.ts";
import { type BandwidthClock, headlineClock } from "./bandwidth.ts";
import type { ResultRow } from "./rows.ts";
import type { SavedRun } from "./run.ts";

/** A ratio between two rows of one run on one clock: median of per-round ratios, 95% interval, rounds. */
export interface CrossRatio {
  readonly median: number;
  readonly low: number;
  readonly high: number;
  readonly n: number;
  readonly clock: BandwidthClock;
}

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

/**
 * The run's headline clock: process CPU time on a CPU adapter, else GPU timestamps when the run had
 * them. Only a clock the file's own samples carry: a browser page has no process CPU time, so a
 * page on a CPU adapter (SwiftShader) is read on the GPU timestamps (or wall clock) it timed with.
 */
export function runClock(run: Pick<SavedRun, "environment" | "suites">): { clock: BandwidthClock; why: string } {
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

/**
 * a / b on the run's clock first, then GPU timestamps, then wall clock (process CPU time only where
 * it is the run's clock: on a GPU it is not kernel time).
 */
export function headlineRatio(
  a: ResultRow | undefined,
  b: ResultRow | undefined,
  clock: BandwidthClock,
  scale = 1,
): CrossRatio | null {
  const fallbacks: BandwidthClock[] = ["gpu-timestamps", "wall-clock"];
  for (const c of [clock, ...fallbacks.filter((x) => x !== clock)]) {
    const r = ratioOn(a, b, c, scale);
    if (r) return r;
  }
  return null;
}
