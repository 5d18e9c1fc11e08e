/**
 * The clocks every timing in the project reads, and how one sample is taken.
 *
 * - **wall**: `performance.now()` around an awaited call. On Deno a GPU call's completion is
 *   noticed no sooner than about 11 ms after submission (completion polling), so wall time of GPU
 *   work carries that floor.
 * - **cpu**: CPU time of this whole process, all threads (user + system, `getrusage` through
 *   `node:process` `cpuUsage()`). On a CPU-emulated WebGPU adapter (Mesa llvmpipe, lavapipe) the
 *   "GPU" is a thread pool inside this process, so its work is exactly this process's CPU time,
 *   and other processes' load barely moves it.
 * - **gpu**: device time inside compute passes from timestamp queries
 *   ({@link gpuTimestampClock}, built on ./gpu_timestamps.ts); optional, per call it may have no
 *   reading (an untimed pass), with the reason.
 *
 * @module
 */
import process from "node:process";
import { installGpuPassClock } from "./gpu_timestamps.ts";

/** The clocks a sample is read on. */
export type ClockName = "wall" | "cpu" | "gpu";

/** One sample, milliseconds on each clock; `gpu` only when a device clock was read (null: no reading). */
export interface Readings {
  readonly wall: number;
  readonly cpu: number;
  readonly gpu?: number | null;
}

/** One reading of a {@link DeviceClock}: milliseconds, or null with the reason. */
export type ClockReading = { readonly ms: number } | { readonly ms: null; readonly why: string };

/** A clock read around calls from outside them, e.g. device time from GPU timestamps. */
export interface DeviceClock {
  /** Short name for reports, e.g. "gpu-timestamps". */
  readonly name: string;
  /** Opens a reading right before a call. */
  begin(): void;
  /** Closes the reading right after the call resolved. */
  end(): Promise<ClockReading>;
}

/**
 * Whether an adapter is a CPU emulation of a GPU (its "GPU" work runs on this process's threads,
 * so process CPU time measures it and other processes' load stays out of it): WebGPU's fallback
 * flag, or a known software rasteriser in the description. The gate (gate/) and the benchmarks'
 * bandwidth suite (bench/bandwidth.ts) pick their clock with it.
 */
export function isCpuAdapter(info: { readonly description: string; readonly isFallbackAdapter?: boolean }): boolean {
  return info.isFallbackAdapter === true || /llvmpipe|lavapipe|softpipe|swiftshader|\bwarp\b/i.test(info.description);
}

/** CPU time of this process so far (user + system, all threads), milliseconds. */
export function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** What {@link timeCall} returns: the sample, and why the device clock had no reading. */
export interface TimedCall {
  readonly readings: Readings;
  /** Set when a device clock was given and at least one of the calls had no reading on it. */
  readonly gpuNote?: string;
}

/**
 * Times `repetitions` sequential awaited calls of `run` and returns, on each clock, the fastest
 * of them in milliseconds. Contention on a shared machine only ever adds time to a call
 * (preemption, a busy core, a GC), so the fastest call is the one closest to the work's own cost.
 * With a device clock, its reading is taken around each call outside the wall-clock window; a
 * call without a reading makes the sample's `gpu` null. A throwing call propagates.
 */
export async function timeCall(run: () => Promise<void>, repetitions = 1, device?: DeviceClock): Promise<TimedCall> {
  if (!Number.isSafeInteger(repetitions) || repetitions < 1) {
    throw new RangeError(`timeCall: repetitions: expected a positive integer, received ${repetitions}`);
  }
  let wall = Infinity, cpu = Infinity, gpu: number | null = Infinity;
  let gpuNote: string | undefined;
  for (let i = 0; i < repetitions; i++) {
    device?.begin();
    const cpuStart = processCpuMs();
    const start = performance.now();
    try {
      await run();
    } finally {
      wall = Math.min(wall, performance.now() - start);
      cpu = Math.min(cpu, processCpuMs() - cpuStart);
      if (device) {
        const reading = await device.end();
        if (reading.ms === null) gpuNote ??= reading.why;
        else if (gpu !== null) gpu = Math.min(gpu, reading.ms);
      }
    }
  }
  if (gpuNote !== undefined) gpu = null;
  return { readings: device ? { wall, cpu, gpu } : { wall, cpu }, ...(gpuNote === undefined ? {} : { gpuNote }) };
}

/**
 * Installs the GPU-timestamp wrappers (./gpu_timestamps.ts; must run before any device is created,
 * tfjs's included) and returns them as a {@link DeviceClock}: a call's reading is the sum over its
 * compute passes of end - begin, or null when a pass could not be timed or the call submitted none.
 * Throws when this runtime has no WebGPU classes to wrap.
 */
export function gpuTimestampClock(): DeviceClock {
  const clock = installGpuPassClock();
  return {
    name: "gpu-timestamps",
    begin: () => clock.begin(),
    end: async () => {
      const t = await clock.end();
      if (t.untimedPasses > 0) return { ms: null, why: `${t.untimedPasses} compute pass(es) could not be timed` };
      if (t.passes === 0) return { ms: null, why: "the call submitted no compute pass" };
      return { ms: t.ms };
    },
  };
}
