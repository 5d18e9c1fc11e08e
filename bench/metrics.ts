/**
 * What a benchmark row means in elements and bytes (pure functions).
 *
 * Bytes moved are the minimum traffic of the pass over float32 tensors, whatever an
 * implementation really moves (a slower implementation moving more bytes still gets credited
 * only this much, so GB/s compares implementations on equal terms):
 * - forward: read x (N input elements) + write y (M output elements): `4 (N + M)` bytes;
 * - forward+backward: the forward, then read x again (to re-rank), read dy (M), write dx (N):
 *   `4 (N + M) + 4 (2N + M) = 4 (3N + 2M)` bytes.
 * The k weights (at most 4 floats) and dLogits are negligible and left out.
 * Elements per second count input elements N per second.
 *
 * @module
 */
import { outputShape, sizeOf, type WindowOptions } from "../src/spec.ts";
import type { Padding, Shape4 } from "../src/types.ts";
import type { BenchPass } from "../harness/measure/passes.ts";

/** Bytes per element (float32). */
export const BYTES_PER_ELEMENT = 4;

/** The bytes formula in words, for reports. */
export const BYTES_FORMULA =
  "float32 minimum traffic: forward = 4(N + M) bytes (read x, write y); forward+backward = 4(3N + 2M) " +
  "bytes (forward, then read x, read dy, write dx); N = input elements, M = output elements";

/** Input elements N of a shape. */
export function inputElements(shape: Shape4): number {
  return sizeOf(shape);
}

/** Output elements M of a shape under `padding` and `window` (default 2x2 with stride 2). */
export function outputElements(shape: Shape4, padding: Padding, window: WindowOptions = {}): number {
  return sizeOf(outputShape(shape, padding, window));
}

/** Minimum bytes a pass moves (see the module documentation); `window` as in {@link outputElements}. */
export function bytesMoved(shape: Shape4, padding: Padding, method: BenchPass, window: WindowOptions = {}): number {
  const n = inputElements(shape);
  const m = outputElements(shape, padding, window);
  return method === "forward" ? BYTES_PER_ELEMENT * (n + m) : BYTES_PER_ELEMENT * (3 * n + 2 * m);
}

/** Throughput of one timed pass. */
export interface Throughput {
  /** Input elements per second. */
  readonly elementsPerSecond: number;
  /** Gigabytes (1e9 bytes) per second of {@link bytesMoved}. */
  readonly gigabytesPerSecond: number;
}

/** Throughput of a pass over `shape` (with `window`, default 2x2/2) that took `ms` milliseconds. */
export function throughput(
  shape: Shape4,
  padding: Padding,
  method: BenchPass,
  ms: number,
  window: WindowOptions = {},
): Throughput {
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new RangeError(`throughput: ms: expected a positive time, received ${ms}`);
  }
  const seconds = ms / 1000;
  return {
    elementsPerSecond: inputElements(shape) / seconds,
    gigabytesPerSecond: bytesMoved(shape, padding, method, window) / seconds / 1e9,
  };
}
