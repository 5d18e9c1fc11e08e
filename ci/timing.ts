/**
 * The gate's timing loop: interleaved rounds. Every round times each participant once, so a
 * slow phase of a shared machine (another process, CPU frequency, a GC) hits all participants of
 * that round alike and cancels out of their per-round ratio.
 *
 * Each call is timed on two clocks: wall time (performance.now) and the CPU time of this whole
 * process, all threads (getrusage through node:process cpuUsage). On a CPU-emulated WebGPU
 * adapter (Mesa llvmpipe / lavapipe) the "GPU" is a thread pool inside this process, so its work
 * is exactly this process's CPU time; see ci/README.md for why the gate prefers that clock there.
 *
 * @module
 */
import process from "node:process";

/** Which clock a ratio is computed from. */
export type Clock = "wall" | "cpu";

/** Something to time: one call does one unit of work and resolves when the device is done. */
export interface Participant {
  /** Label used in the results. */
  readonly name: string;
  /** One unit of work (e.g. `BenchHandle.forward`). */
  run(): Promise<void>;
}

/** One sample on both clocks, milliseconds. */
export interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

/** Options of {@link timeInterleaved}. */
export interface InterleavedOptions {
  /** Number of rounds; each round yields one sample per participant. */
  readonly rounds: number;
  /**
   * Calls per sample; on each clock the sample is the fastest of them. Contention on a shared
   * machine only ever adds time to a call (preemption, a busy core, a GC), so the fastest call is
   * the one closest to the kernel's own cost; the mean would carry every interruption into it.
   */
  readonly repetitions: number;
  /** Untimed calls per participant before the first round (shader compilation, caches). */
  readonly warmup: number;
  /** Called after each round, e.g. to print progress. */
  readonly onRound?: (round: number, samples: ReadonlyMap<string, Sample>) => void;
}

/** CPU time of this process so far (user + system, all threads), milliseconds. */
export function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * The order of the participants in round `round`: rotated by one per round, so each participant
 * takes each position equally often (the first call after a pause is not always the same one).
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/**
 * Times the participants in interleaved rounds. Returns, per participant name, one sample per
 * round: on each clock, the fastest of `repetitions` sequential calls, in milliseconds.
 */
export async function timeInterleaved(
  participants: readonly Participant[],
  options: InterleavedOptions,
): Promise<Map<string, Sample[]>> {
  const { rounds, repetitions, warmup } = options;
  for (const [label, value] of [["rounds", rounds], ["repetitions", repetitions]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`timeInterleaved: ${label}: expected a positive integer, received ${value}`);
    }
  }
  if (!Number.isSafeInteger(warmup) || warmup < 0) {
    throw new RangeError(`timeInterleaved: warmup: expected a non-negative integer, received ${warmup}`);
  }
  const names = new Set(participants.map((p) => p.name));
  if (names.size !== participants.length) {
    throw new RangeError(`timeInterleaved: participants: expected unique names, received ${[...names].join(", ")}`);
  }
  for (const p of participants) {
    for (let i = 0; i < warmup; i++) await p.run();
  }
  const samples = new Map<string, Sample[]>(participants.map((p) => [p.name, []]));
  for (let round = 0; round < rounds; round++) {
    const thisRound = new Map<string, Sample>();
    for (const p of roundOrder(participants, round)) {
      let wall = Infinity, cpu = Infinity;
      for (let i = 0; i < repetitions; i++) {
        const cpuStart = processCpuMs();
        const start = performance.now();
        await p.run();
        wall = Math.min(wall, performance.now() - start);
        cpu = Math.min(cpu, processCpuMs() - cpuStart);
      }
      const sample = { wall, cpu };
      samples.get(p.name)!.push(sample);
      thisRound.set(p.name, sample);
    }
    options.onRound?.(round, thisRound);
  }
  return samples;
}
