/**
 * The timed passes of a `BenchHandle` (src/types.ts), named once for the benchmarks and the gate.
 *
 * @module
 */

/** A timed `BenchHandle` method: one forward pass, or forward plus the full backward pass. */
export type BenchPass = "forward" | "forwardBackward";

/** Both passes, in report order. */
export const BENCH_PASSES: readonly BenchPass[] = ["forward", "forwardBackward"];

/** Human label of a pass: "forward" or "forward+backward". */
export function passLabel(pass: BenchPass): string {
  return pass === "forward" ? "forward" : "forward+backward";
}
