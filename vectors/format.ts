/**
 * The golden-vector file's format: its path, a case as stored and as decoded, the schema statement
 * written at the top of the file, and the number decoding (vectors/README.md "Format").
 *
 * @module
 */
import { decodeNumber as decodeEncodedNumber, type EncodedNumber } from "../testkit/number_encoding.ts";
import type { Padding, Pair, Shape4 } from "../src/types.ts";

/** Path of the committed vectors, relative to this module. */
export const GOLDEN_URL: URL = new URL("./sort_pool2d.json", import.meta.url);

/** A number as stored in the file: JSON numbers, or a string for values JSON cannot hold. */
export type { EncodedNumber };

/**
 * One case as stored in the file. `poolSize` and `strides` are present only on cases whose window
 * is not the default 2x2 with stride 2 (then both are written, even where strides = poolSize);
 * absent, they mean `[2, 2]` and `poolSize` (SPEC.md §2), so the default cases read as before.
 */
export interface GoldenCaseFile {
  name: string;
  description: string;
  shape: [number, number, number, number];
  k: number;
  padding: Padding;
  poolSize?: [number, number];
  strides?: [number, number];
  /** k numbers (shared by all channels) or C·k (per channel, channel-major: SPEC.md §1). */
  logits: EncodedNumber[];
  x: EncodedNumber[];
  outputShape: [number, number, number, number];
  y: EncodedNumber[];
  dy: EncodedNumber[];
  dx: EncodedNumber[];
  dLogits: EncodedNumber[];
}

/**
 * One decoded case. `poolSize` and `strides` are as in the file (absent on default-window cases);
 * feed it to an implementation through {@link goldenInput}, which carries them.
 */
export interface GoldenCase {
  name: string;
  description: string;
  shape: Shape4;
  k: number;
  padding: Padding;
  poolSize?: Pair;
  strides?: Pair;
  /** k or C·k logits (per channel). */
  logits: number[];
  x: Float64Array;
  outputShape: [number, number, number, number];
  y: Float64Array;
  dy: Float64Array;
  dx: Float64Array;
  dLogits: Float64Array;
}

/** The schema statement written at the top of the file. */
export const GOLDEN_SCHEMA = {
  version: 2,
  layout: "NHWC, row-major (channel fastest); shape is [batch, height, width, channels]",
  weights: "w = softmax(logits) evaluated as its limit (SPEC.md §5 Weights: logits may be ±Infinity or NaN); " +
    "w[0] weights the LARGEST window value (reverse logits for the original TF code)",
  numbers: 'JSON numbers, except the strings "NaN", "Infinity", "-Infinity" and "-0" for values JSON cannot hold',
  inputs: "x and dy values are exactly representable in float32; logits may not be (e.g. 1e39: softmax runs in " +
    "float64 before any rounding)",
  outputs: "y, dx, dLogits are the float64 reference's results (src/reference.ts) for these inputs",
  signs: "the sign of a zero y or dx is fixed by the spec (SPEC.md §5): compare those with Object.is (NaN equals " +
    "NaN); dLogits is exactly +0 for k = 1, and the sign of a zero dLogits is not fixed for k > 1",
  fields: "name, description, shape, k, padding, poolSize (optional), strides (optional), logits, x, outputShape, " +
    "y, dy, dx, dLogits",
  windows: "poolSize [kh, kw] and strides [sh, sw] (SPEC.md §2-3) appear only on cases whose window is not 2x2 with " +
    "stride 2, and then both appear; absent, they are [2, 2] and poolSize. They were added to version 2 without a " +
    "version change: every field of version 2 keeps its meaning and every default-window case is unchanged, so a " +
    "reader of the 2x2 layer only must skip (or fail) the cases that carry poolSize, never read them as 2x2",
  perChannelLogits: "logits has length k (shared by all channels) or C·k (per channel: channel c's logits at " +
    "[c·k, c·k + k), each group its own softmax); dLogits has the logits' length. A reader of the shared " +
    "layer only can tell per-channel cases by logits.length !== k",
  overlap: "with strides smaller than poolSize a cell lies in several windows: its dx is the sum of w[r]·dy over " +
    "the windows that keep it, in output order, starting from the first term (SPEC.md §5)",
} as const;

/** Decodes a number from the file; throws on anything else. */
export function decodeNumber(v: unknown): number {
  const n = decodeEncodedNumber(v);
  if (n !== undefined) return n;
  throw new Error(
    `golden vectors: expected a number or "NaN"/"Infinity"/"-Infinity"/"-0", received ${JSON.stringify(v)}`,
  );
}
