/**
 * Golden vectors for porters: named sort_pool2d cases with inputs and the reference's outputs,
 * written to vectors/sort_pool2d.json by `deno task golden` and checked by vectors/golden.test.ts. The
 * format and the case list: vectors/README.md; as JSON Schema: schemas/golden_vectors.schema.json,
 * which {@link parseGoldenFile} validates against. Cases are appended, never reordered: each case's
 * random values are seeded by its position, and the 2x2/2 cases must stay byte-identical.
 *
 * @module
 */
import { formatViolation, goldenVectorsViolations, schemaPath, type SchemaViolation } from "../schemas/validate.ts";
import { decodeNumber as decodeEncodedNumber, type EncodedNumber, encodeNumber } from "../testkit/number_encoding.ts";
import { defineCli, type ParsedCli, runCli } from "../harness/cli.ts";
import { mulberry32 } from "../src/random.ts";
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { outputShape, sizeOf } from "../src/spec.ts";
import type { FloatArray, Padding, Pair, Shape4, SortPoolCase } from "../src/types.ts";

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

/** Distinct float32-exact values (multiples of 1/64 in [-8, 8)), shuffled. */
function distinctValues(n: number, random: () => number): number[] {
  const pool = Array.from({ length: 1024 }, (_, i) => (i - 512) / 64);
  const values: number[] = [];
  while (values.length < n) {
    const i = Math.floor(random() * pool.length);
    values.push(pool[i]);
    // Drawing without replacement keeps every window free of ties until the pool runs low.
    pool.splice(i, 1);
    if (pool.length === 0) pool.push(...Array.from({ length: 1024 }, (_, j) => (j - 512) / 64 + 1 / 128));
  }
  return values;
}

/** Float32-exact values drawn from a small set, so windows hold exact ties. */
function tiedValues(n: number, random: () => number, set: readonly number[]): number[] {
  return Array.from({ length: n }, () => set[Math.floor(random() * set.length)]);
}

/** Float32-exact upstream gradient values (multiples of 1/16 in [-2, 2)). */
function gradientValues(n: number, random: () => number): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * 64 - 32) / 16);
}

interface CaseRecipe {
  name: string;
  description: string;
  shape: Shape4;
  k: number;
  padding: Padding;
  /** Window and stride; omitted on default (2x2/2) cases, which are written without them. */
  poolSize?: Pair;
  strides?: Pair;
  logits: number[];
  x: (n: number, random: () => number) => number[];
  /** Upstream gradient; default: random multiples of 1/16 in [-2, 2). */
  dy?: (n: number, random: () => number) => number[];
}

function recipes(): CaseRecipe[] {
  const out: CaseRecipe[] = [];
  const logitsFor = (k: number) => [0.5, -0.25, 0.125, -1].slice(0, k);
  for (const k of [1, 2, 3, 4]) {
    for (const padding of ["same", "valid"] as const) {
      for (const [label, h, w] of [["even", 4, 6], ["odd", 5, 7]] as const) {
        out.push({
          name: `distinct-k${k}-${padding}-${label}`,
          description: `distinct values, k = ${k}, padding "${padding}", ${label} size ${h}x${w}, batch 2, 3 channels`,
          shape: [2, h, w, 3],
          k,
          padding,
          logits: logitsFor(k),
          x: distinctValues,
        });
      }
    }
  }
  out.push({
    name: "hand-1x2x2x1-k2",
    description: "one window [1, 4, 3, 2], k = 2, equal weights: y = (4 + 3) / 2",
    shape: [1, 2, 2, 1],
    k: 2,
    padding: "valid",
    logits: [0, 0],
    x: () => [1, 4, 3, 2],
  });
  for (const k of [2, 3, 4]) {
    out.push({
      name: `ties-k${k}`,
      description: `exact ties (values from {-1, 0, 0.5, 2}), k = ${k}: rank by window cell, lower first`,
      shape: [2, 4, 4, 2],
      k,
      padding: "valid",
      logits: logitsFor(k),
      x: (n, r) => tiedValues(n, r, [-1, 0, 0.5, 2]),
    });
  }
  out.push({
    name: "all-equal-k4",
    description: "every window holds four equal values: dx routes w[r] to cell r",
    shape: [1, 2, 4, 1],
    k: 4,
    padding: "valid",
    logits: [1, 0.5, 0, -0.5],
    x: () => [3, 3, 3, 3, 3, 3, 3, 3],
  });
  out.push({
    name: "signed-zeros-k2",
    description: "+0 and -0 are equal: they rank by window cell; a zero y is -0 exactly when every kept product " +
      "is -0 (the sum starts from the first product)",
    shape: [1, 2, 4, 1],
    k: 2,
    padding: "valid",
    logits: [0.25, -0.25],
    x: () => [-0, 0, -1, -0, 0, -0, -0, -2],
  });
  for (const k of [1, 2, 3, 4]) {
    out.push({
      name: `negative-borders-k${k}`,
      description: `negative values at odd borders with padding "same", k = ${k}: padded zeros ` +
        (k === 1 ? "are ignored (max pooling)" : "outrank negatives"),
      shape: [1, 3, 5, 2],
      k,
      padding: "same",
      logits: logitsFor(k),
      x: (n, r) => distinctValues(n, r).map((v) => -Math.abs(v) - 1 / 64),
    });
  }
  out.push({
    name: "single-cell-same-k1",
    description: '1x1 input, padding "same", k = 1: the single value',
    shape: [1, 1, 1, 2],
    k: 1,
    padding: "same",
    logits: [0],
    x: () => [-3, 5],
  });
  out.push({
    name: "single-cell-same-k4",
    description: '1x1 input, padding "same", k = 4: the value ranks among three padded zeros',
    shape: [1, 1, 1, 2],
    k: 4,
    padding: "same",
    logits: [0.5, -0.25, 0.125, -1],
    x: () => [-3, 5],
  });
  out.push({
    name: "nonfinite-k2",
    description: "NaN ranks above +Infinity; ±Infinity follow IEEE arithmetic; dx is w[r]·dy at kept cells, and a " +
      "non-finite v·dy in any window makes every dLogits element non-finite",
    shape: [1, 2, 8, 1],
    k: 2,
    padding: "valid",
    logits: [0.3, -0.3],
    x: () => [NaN, 1, Infinity, 2, -Infinity, 1, 1, NaN, 2, 3, 4, Infinity, -Infinity, -Infinity, NaN, NaN],
  });
  out.push({
    name: "nonfinite-same-k4",
    description:
      'NaN, ±Infinity beside padded cells, padding "same", k = 4: padded cells add exactly 0 to the rank sums',
    shape: [1, 3, 3, 1],
    k: 4,
    padding: "same",
    logits: [0, 0, 0, 0],
    x: () => [-Infinity, 1, NaN, 2, Infinity, -Infinity, -1, NaN, 3],
  });
  out.push({
    name: "nonfinite-same-k1",
    description: 'NaN and -Infinity beside ignored padded cells, padding "same", k = 1: dLogits is exactly [0]',
    shape: [1, 3, 3, 1],
    k: 1,
    padding: "same",
    logits: [0],
    x: () => [-Infinity, 1, NaN, 2, Infinity, -Infinity, -Infinity, NaN, -Infinity],
  });
  out.push(...inputClassRecipes());
  // Appended last: each case's random stream is seeded by its position, so the cases above stay
  // byte-identical.
  out.push(...generalWindowRecipes());
  return out;
}

/**
 * Cases of the special input classes, each pinned by SPEC.md §5: k = 1 dLogits, logits outside
 * float32's range or non-finite, signed zeros, non-finite dy and padded cells.
 */
function inputClassRecipes(): CaseRecipe[] {
  const window = (x: number[]) => () => x;
  const one: Shape4 = [1, 2, 2, 1];
  const out: CaseRecipe[] = [];
  out.push({
    name: "k1-nonfinite-windows-dlogits",
    description: "k = 1 with a window of NaN and a window of -Infinity: dLogits is exactly [0] whatever x and dy " +
      "hold (one logit is no free weight)",
    shape: [2, 2, 2, 1],
    k: 1,
    padding: "valid",
    logits: [0],
    x: window([NaN, NaN, NaN, NaN, -Infinity, -Infinity, -Infinity, -Infinity]),
    dy: () => [1, Infinity],
  });
  for (const [label, logits] of [["1e39", [1e39, 0]], ["5e38", [0, 5e38]], ["-2e39", [-2e39, 1]]] as const) {
    out.push({
      name: `logits-past-float32-${label}`,
      description: `logits [${logits}] are finite in float64 but not in float32: softmax runs in float64 first, so ` +
        "the weights are one-hot",
      shape: one,
      k: 2,
      padding: "valid",
      logits: [...logits],
      x: window([1, 4, 3, 2]),
      dy: () => [1],
    });
  }
  const limits: [string, number[]][] = [
    ["plus-infinity", [Infinity, 0]],
    ["two-plus-infinities", [Infinity, 0, Infinity]],
    ["minus-infinity", [-Infinity, 0.5, 0]],
    ["all-minus-infinity", [-Infinity, -Infinity]],
    ["nan", [NaN, 0]],
    ["nan-k1", [NaN]],
  ];
  for (const [label, logits] of limits) {
    out.push({
      name: `logits-${label}`,
      description: `logits [${logits}]: softmax evaluated as its limit (+Infinity logits share the weight, ` +
        "-Infinity ones get 0, all -Infinity is uniform, a NaN logit makes the weights NaN; dLogits is [0] for k = 1)",
      shape: [1, 2, 4, 1],
      k: logits.length,
      padding: "valid",
      logits,
      x: window([1, 4, 3, 2, -1, -0.5, 0.25, 8]),
      dy: () => [1, -0.5],
    });
  }
  out.push({
    name: "signed-zero-k1",
    description: "k = 1 returns the window's maximum itself: [-1, -0, -2, -3] gives -0; [+0, -0, ...] ties " +
      "rank cell 0 first and give +0; [-0, +0, ...] gives -0",
    shape: [3, 2, 2, 1],
    k: 1,
    padding: "valid",
    logits: [0],
    x: window([-1, -0, -2, -3, 0, -0, -1, -2, -0, 0, -1, -2]),
    dy: () => [1, -1, 0.5],
  });
  out.push({
    name: "signed-zero-k2-same",
    description: 'k = 2: all kept products -0 give -0; one padded +0 among them gives +0 ("same", odd width)',
    shape: [1, 2, 3, 1],
    k: 2,
    padding: "same",
    logits: [0.25, -0.25],
    x: window([-0, -0, -0, -0, -0, -1]),
    dy: () => [1, -1],
  });
  out.push({
    name: "signed-zero-dx",
    description:
      "dx of a kept cell is w[r]·dy with IEEE's sign (a -Infinity logit gives w = +0, so dy < 0 gives -0); " +
      "every other cell is +0",
    shape: one,
    k: 2,
    padding: "valid",
    logits: [0, -Infinity],
    x: window([1, 4, 3, 2]),
    dy: () => [-2],
  });
  for (const [label, g] of [["plus-infinity", Infinity], ["minus-infinity", -Infinity], ["nan", NaN]] as const) {
    out.push({
      name: `nonfinite-dy-${label}`,
      description: `dy ${g}: kept cells get w[r]·dy, the others exactly 0 (never 0·dy); dLogits goes non-finite`,
      shape: one,
      k: 2,
      padding: "valid",
      logits: [0, 0],
      x: window([1, 4, 3, 2]),
      dy: () => [g],
    });
  }
  out.push({
    name: "nonfinite-dy-padded",
    description: 'dy [Infinity, 1] on "same" padding: padded cells are skipped in the rank sums (never 0·dy); here ' +
      "every kept cell is padding, so dLogits is finite",
    shape: [1, 1, 3, 1],
    k: 2,
    padding: "same",
    logits: [0.5, -0.5],
    x: window([-1, -2, -3]),
    dy: () => [Infinity, 1],
  });
  out.push({
    name: "nonfinite-dy-one-window",
    description: "a non-finite dy in one window poisons every dLogits element (k > 1) but no other window's dx",
    shape: [1, 2, 4, 1],
    k: 3,
    padding: "valid",
    logits: [0.5, 0, -0.5],
    x: window([1, 4, 3, 2, 5, 6, 7, 8]),
    dy: () => [NaN, 1],
  });
  return out;
}

/** k logits, multiples of 1/8 in [-1, 1) (exact in float32), not all equal: `[0.5, -0.25, 0.125, -1, ...]`. */
function generalLogits(k: number): number[] {
  const cycle = [0.5, -0.25, 0.125, -1, 0.75, 0, -0.5, 0.25, -0.75, 0.375, -0.125, 0.625, -0.375, 0.875, -0.625, 1];
  return cycle.slice(0, k);
}

/**
 * Cases of general windows (SPEC.md §2-5): windows other than 2x2/2 (overlapping, with gaps,
 * asymmetric, "same" padding split before and after), per-channel logits, and ties, NaN, ±Infinity
 * and signed zeros under overlap. Every one carries `poolSize` and `strides`, except the per-channel cases on
 * the default window.
 */
function generalWindowRecipes(): CaseRecipe[] {
  const out: CaseRecipe[] = [];
  /** A case with window `[kh, kw]` and strides `[sh, sw]`, named from them unless `name` is given. */
  const general = (
    poolSize: Pair,
    strides: Pair,
    padding: Padding,
    shape: Shape4,
    k: number,
    what: string,
    extra: Partial<CaseRecipe> = {},
  ) => {
    const [kh, kw] = poolSize;
    const [sh, sw] = strides;
    const sizeLabel = `${shape[1]}x${shape[2]}`;
    const strideLabel = sh === sw ? `${sh}` : `${sh}x${sw}`;
    out.push({
      name: `pool${kh}x${kw}s${strideLabel}-${padding}-${sizeLabel}-k${k}`,
      description: `${kh}x${kw} windows, strides (${sh}, ${sw}), padding "${padding}", input ${sizeLabel}, ` +
        `batch ${shape[0]}, ${shape[3]} channel${shape[3] > 1 ? "s" : ""}, k = ${k}: ${what}`,
      shape,
      k,
      padding,
      poolSize,
      strides,
      logits: generalLogits(k),
      x: distinctValues,
      ...extra,
    });
  };
  // 3x3 stride 2 (AlexNet, ResNet stem): "same" on odd sizes pads one row top AND bottom, one column left AND right.
  const oddSame = "one padded row at the top and one at the bottom, one padded column left and one right; " +
    "every other row and column lies in two windows";
  general([3, 3], [2, 2], "same", [2, 7, 9, 2], 1, `${oddSame}; k = 1 ignores the padded cells`);
  general([3, 3], [2, 2], "same", [2, 7, 9, 2], 4, `${oddSame}; padded zeros rank among the values`);
  general([3, 3], [2, 2], "same", [1, 7, 9, 2], 9, `${oddSame}; k = kh·kw keeps every cell, padded ones included`);
  general([3, 3], [2, 2], "valid", [2, 7, 9, 2], 2, "odd sizes: every row and column lies in a window");
  general([3, 3], [2, 2], "valid", [1, 8, 6, 2], 5, "the last row and the last column lie in no window (dx +0)");
  // 3x3 stride 1: every interior cell lies in 9 windows.
  general([3, 3], [1, 1], "same", [1, 6, 6, 2], 3, "overlap: every cell lies in up to 9 windows, its dx the sum");
  general([3, 3], [1, 1], "valid", [1, 6, 7, 2], 1, "overlap with k = 1: max pooling's gradient summed over windows");
  general([3, 3], [1, 1], "valid", [1, 5, 5, 1], 9, "overlap, k = 9: every cell kept by every window containing it");
  // 2x2 stride 1: "same" pads only after (total 1: floor(1/2) = 0 before).
  general([2, 2], [1, 1], "same", [1, 5, 5, 2], 2, "overlap; one padded row at the bottom, column at the right");
  general([2, 2], [1, 1], "valid", [2, 4, 5, 1], 4, "overlap: interior cells lie in 4 windows");
  // 4x4 stride 4.
  general([4, 4], [4, 4], "same", [1, 8, 9, 2], 6, "no rows padded; 3 padded columns, 1 left and 2 right");
  general([4, 4], [4, 4], "same", [1, 5, 6, 1], 1, "3 padded rows (1 top, 2 bottom), 2 padded columns; k = 1");
  general([4, 4], [4, 4], "valid", [1, 8, 9, 1], 16, "k = 16 keeps every cell; the last column lies in no window");
  // Asymmetric window and strides: 3 rows x 2 columns, stride 1 down, 2 across.
  general([3, 2], [1, 2], "same", [1, 5, 6, 2], 4, "rows overlap (1 padded top and bottom), columns tile");
  general([3, 2], [1, 2], "valid", [2, 5, 7, 1], 2, "rows overlap; the last column lies in no window");
  // 1x1 stride 1: the identity (k = 1 is the only k).
  general([1, 1], [1, 1], "same", [1, 3, 4, 2], 1, "the identity: y = x, dx = dy");
  general([1, 1], [1, 1], "valid", [2, 2, 3, 1], 1, "the identity: y = x, dx = dy");
  // Gaps: stride 3 over 2x2 windows.
  general([2, 2], [3, 3], "valid", [1, 7, 8, 2], 2, "gaps: rows 2, 5, 6 and columns 2, 5 lie in no window (dx +0)");
  general([2, 2], [3, 3], "same", [1, 7, 8, 1], 3, "gaps, and one padded row at the bottom (total 1)");

  // Per-channel logits (C = 3, length C·k, channel-major; each channel its own softmax).
  const perChannel = (
    name: string,
    what: string,
    shape: Shape4,
    k: number,
    logits: number[],
    padding: Padding,
    window: { poolSize: Pair; strides: Pair } | undefined,
  ) =>
    out.push({
      name: `per-channel-${name}`,
      description: `per-channel logits (C = ${shape[3]}, length C·k = ${logits.length}), ${what}`,
      shape,
      k,
      padding,
      ...(window ?? {}),
      logits,
      x: distinctValues,
    });
  perChannel(
    "2x2-same-k2",
    '2x2 windows with stride 2, k = 2, padding "same" on an odd width',
    [2, 4, 5, 3],
    2,
    [0.5, -0.5, -1, 1, 0, 0],
    "same",
    undefined,
  );
  perChannel(
    "2x2-valid-k4",
    '2x2 windows with stride 2, k = 4, padding "valid"',
    [1, 4, 4, 3],
    4,
    [1, 0.5, 0, -0.5, -0.5, 0, 0.5, 1, 0.25, 0.25, -2, 0.125],
    "valid",
    undefined,
  );
  perChannel(
    "3x3s2-same-k3",
    '3x3 windows with stride 2, k = 3, padding "same" (padded rows and columns on both sides)',
    [1, 7, 7, 3],
    3,
    [0.5, -0.25, 0.125, 2, 0, -2, -0.5, 0.5, 0],
    "same",
    { poolSize: [3, 3], strides: [2, 2] },
  );
  perChannel(
    "2x2s1-valid-k1",
    "2x2 windows with stride 1, k = 1, the middle channel's logit NaN: its y and kept dx are NaN, the other " +
      "channels are max pooling, dLogits is [0, 0, 0]",
    [1, 4, 4, 3],
    1,
    [0.5, NaN, -1],
    "valid",
    { poolSize: [2, 2], strides: [1, 1] },
  );
  perChannel(
    "2x2s1-same-nonfinite-logits-k2",
    "2x2 windows with stride 1, k = 2, channel 0's logits [NaN, 0] (NaN weights: its dLogits NaN), channel 1's " +
      "[Infinity, 0] (one-hot), channel 2's [-Infinity, -Infinity] (uniform): a NaN poisons only its own group",
    [1, 4, 4, 3],
    2,
    [NaN, 0, Infinity, 0, -Infinity, -Infinity],
    "same",
    { poolSize: [2, 2], strides: [1, 1] },
  );

  // Ties, NaN, ±Infinity and signed zeros under overlap and general windows.
  const ties = "exact ties under overlap (values from {-1, -0, +0, 0.5, 2}): rank by window cell, lower first, " +
    "in every window separately";
  general([3, 3], [1, 1], "valid", [1, 5, 6, 2], 3, ties, {
    name: "ties-pool3x3s1-valid-k3",
    x: (n, r) => tiedValues(n, r, [-1, -0, 0, 0.5, 2]),
  });
  general([2, 2], [1, 1], "same", [1, 4, 4, 1], 2, "ties between real zeros and padded zeros (equal: cell order)", {
    name: "ties-pool2x2s1-same-k2",
    x: (n, r) => tiedValues(n, r, [-1, -0, 0, 1]),
  });
  const nonfinite = "NaN ranks above +Infinity in every window containing it; ±Infinity follow IEEE; an " +
    "Infinity in dy reaches every kept cell of its window, and overlapping sums of +Infinity and -Infinity are NaN";
  general([3, 3], [2, 2], "same", [1, 5, 5, 2], 4, nonfinite, {
    name: "nonfinite-pool3x3s2-same-k4",
    x: (n, r) => tiedValues(n, r, [NaN, Infinity, -Infinity, 1, -1, 0.5, 0, -2]),
    dy: (n, r) => gradientValues(n, r).map((v, i) => (i === 1 ? Infinity : i === 6 ? -Infinity : v)),
  });
  const overlapZeros = "signed zeros under overlap: cell (0, 1) holds -0, the maximum of two windows; its dx is " +
    "dy0 + dy1 from the first term: -0 + -0 = -0 (batch 0), -0 + +0 = +0 (batch 1)";
  general([2, 2], [1, 1], "valid", [2, 3, 3, 1], 1, overlapZeros, {
    name: "signed-zeros-pool2x2s1-valid-k1",
    logits: [0],
    x: () => [-1, -0, -2, -3, -4, -5, -6, -7, -8, -1, -0, -2, -3, -4, -5, -6, -7, -8],
    dy: () => [-0, -0, 1, -2, -0, 0, -0, 3],
  });
  general([2, 2], [1, 1], "same", [1, 2, 3, 1], 2, "all kept products -0 give y = -0; a padded +0 kept gives +0", {
    name: "signed-zeros-pool2x2s1-same-k2",
    logits: [0.25, -0.25],
    x: () => [-0, -0, -0, -0, -0, -1],
  });
  return out;
}

/** Builds every golden case from the reference. */
export function generateGoldenCases(): GoldenCaseFile[] {
  return recipes().map((recipe, i) => {
    const random = mulberry32(0x5eed + i);
    const n = sizeOf(recipe.shape);
    const x = recipe.x(n, random);
    if (x.length !== n) throw new Error(`golden recipe ${recipe.name}: made ${x.length} values for ${n} cells`);
    const window = recipe.poolSize === undefined ? {} : {
      poolSize: [recipe.poolSize[0], recipe.poolSize[1]] as [number, number],
      strides: [...(recipe.strides ?? recipe.poolSize)] as [number, number],
    };
    const c: SortPoolCase = {
      x: Float64Array.from(x),
      shape: recipe.shape,
      logits: recipe.logits,
      k: recipe.k,
      padding: recipe.padding,
      ...window,
    };
    const { y, shape: outShape } = referenceForward(c);
    const outN = sizeOf(outputShape(recipe.shape, recipe.padding, window));
    const dy = (recipe.dy ?? gradientValues)(outN, random);
    if (dy.length !== outN) throw new Error(`golden recipe ${recipe.name}: made ${dy.length} dy values for ${outN}`);
    const { dx, dLogits } = referenceGradient(c, dy);
    return {
      name: recipe.name,
      description: recipe.description,
      shape: [...recipe.shape],
      k: recipe.k,
      padding: recipe.padding,
      // Only on non-default windows, so the default cases keep their exact text (key order included).
      ...window,
      logits: recipe.logits.map(encodeNumber),
      x: x.map(encodeNumber),
      outputShape: outShape,
      y: Array.from(y, encodeNumber),
      dy: dy.map(encodeNumber),
      dx: Array.from(dx, encodeNumber),
      dLogits: Array.from(dLogits, encodeNumber),
    };
  });
}

/** The whole file's text, as committed. */
export function goldenFileText(): string {
  const body = { schema: GOLDEN_SCHEMA, generator: "deno task golden", cases: generateGoldenCases() };
  // One case field per line keeps diffs readable without a line per number.
  const lines = body.cases.map((c) =>
    "    {\n" +
    Object.entries(c).map(([key, value]) => `      ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(",\n") +
    "\n    }"
  );
  return `{\n  "schema": ${JSON.stringify(body.schema, null, 2).replaceAll("\n", "\n  ")},\n` +
    `  "generator": ${JSON.stringify(body.generator)},\n  "cases": [\n${lines.join(",\n")}\n  ]\n}\n`;
}

/** A vectors file that cannot be read: not JSON, or not the format; `problems` says where and why. */
export class GoldenFileError extends Error {
  /** Each problem: the JSON path, what was expected there and what was received. */
  readonly problems: readonly SchemaViolation[];

  constructor(message: string, problems: readonly SchemaViolation[] = []) {
    super(message);
    this.name = "GoldenFileError";
    this.problems = problems;
  }
}

/** Problems listed in full in a GoldenFileError's message; the rest are counted. */
const LISTED_PROBLEMS = 10;

/** The file as the schema describes it. */
interface GoldenFile {
  schema: Record<string, unknown>;
  generator: string;
  cases: GoldenCaseFile[];
}

/**
 * What the schema cannot state, for a file that fits it: unique case names, and every array of
 * the length its case implies (x: B·H·W·C; logits: k or C·k; outputShape: SPEC.md §3's for the
 * shape, padding and window; y and dy: outputShape's size; dx: x's; dLogits: the logits').
 */
function crossFieldProblems(file: GoldenFile): SchemaViolation[] {
  const problems: SchemaViolation[] = [];
  const firstWithName = new Map<string, number>();
  file.cases.forEach((c, i) => {
    const at = `$.cases[${i}]`;
    const earlier = firstWithName.get(c.name);
    if (earlier === undefined) firstWithName.set(c.name, i);
    else {
      problems.push({
        path: `${at}.name`,
        expected: "a name no other case has",
        received: `${JSON.stringify(c.name)}, the name of $.cases[${earlier}] too`,
      });
    }
    const length = (field: string, values: readonly unknown[], want: number, how: string) => {
      if (values.length !== want) {
        problems.push({ path: `${at}.${field}`, expected: `${want} values (${how})`, received: `${values.length}` });
      }
    };
    const [, , , channels] = c.shape;
    length("x", c.x, sizeOf(c.shape), `B·H·W·C of shape [${c.shape.join(", ")}]`);
    if (c.logits.length !== c.k && c.logits.length !== channels * c.k) {
      problems.push({
        path: `${at}.logits`,
        expected: `k = ${c.k} or C·k = ${channels * c.k} values`,
        received: `${c.logits.length}`,
      });
    }
    const window = { ...(c.poolSize ? { poolSize: c.poolSize } : {}), ...(c.strides ? { strides: c.strides } : {}) };
    const expectedShape = outputShape(c.shape, c.padding, window);
    if (expectedShape.some((d, j) => d !== c.outputShape[j])) {
      problems.push({
        path: `${at}.outputShape`,
        expected: `[${expectedShape.join(", ")}] (SPEC.md §3, for this shape, padding and window)`,
        received: JSON.stringify(c.outputShape),
      });
    }
    const outputs = `the size of outputShape [${c.outputShape.join(", ")}]`;
    length("y", c.y, sizeOf(c.outputShape), outputs);
    length("dy", c.dy, sizeOf(c.outputShape), outputs);
    length("dx", c.dx, c.x.length, "x's length");
    length("dLogits", c.dLogits, c.logits.length, "the logits' length");
  });
  return problems;
}

/** A problem as a message line; a path inside `$.cases[i]` is followed by that case's name, when it has one. */
function describeProblem(file: unknown, p: SchemaViolation): string {
  const index = /^\$\.cases\[(\d+)\]/.exec(p.path)?.[1];
  const cases = (file as { cases?: unknown } | null)?.cases;
  const name = index !== undefined && Array.isArray(cases) ? cases[Number(index)]?.name : undefined;
  const path = typeof name === "string" ? `${p.path} (case ${JSON.stringify(name)})` : p.path;
  return formatViolation({ ...p, path });
}

/**
 * Parses the vectors file text into decoded cases. The file must fit
 * schemas/golden_vectors.schema.json, and what the schema cannot state must hold too (unique case
 * names; every array of the length its case implies; outputShape as SPEC.md §3 gives it);
 * otherwise this throws a {@link GoldenFileError} listing each problem as its JSON path (with the
 * case's name), what was expected there and what was received.
 */
export function parseGoldenFile(text: string): GoldenCase[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new GoldenFileError(`golden vectors: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const schemaProblems = goldenVectorsViolations(parsed);
  const problems = schemaProblems.length > 0 ? schemaProblems : crossFieldProblems(parsed as GoldenFile);
  if (problems.length > 0) {
    const listed = problems.slice(0, LISTED_PROBLEMS).map((p) => `  ${describeProblem(parsed, p)}`);
    const more = problems.length > LISTED_PROBLEMS ? [`  ... and ${problems.length - LISTED_PROBLEMS} more`] : [];
    throw new GoldenFileError(
      `golden vectors: ${problems.length} problem${problems.length === 1 ? "" : "s"} ` +
        `(the format: vectors/README.md, ${schemaPath("golden_vectors")}):\n${[...listed, ...more].join("\n")}`,
      problems,
    );
  }
  const file = parsed as GoldenFile;
  const decode = (a: EncodedNumber[]) => Float64Array.from(a, decodeNumber);
  return file.cases.map((c) => ({
    name: c.name,
    description: c.description,
    shape: c.shape,
    k: c.k,
    padding: c.padding,
    ...(c.poolSize === undefined ? {} : { poolSize: c.poolSize }),
    ...(c.strides === undefined ? {} : { strides: c.strides }),
    logits: c.logits.map(decodeNumber),
    x: decode(c.x),
    outputShape: c.outputShape,
    y: decode(c.y),
    dy: decode(c.dy),
    dx: decode(c.dx),
    dLogits: decode(c.dLogits),
  }));
}

/**
 * A golden case as an implementation's input: x (as given, default the case's float64 values; pass
 * `Float32Array.from(g.x)` for a float32 entry: every x is exact in float32), shape, logits, k,
 * padding, and the window fields when the case has them.
 */
export function goldenInput(g: GoldenCase, x: FloatArray = g.x): SortPoolCase {
  return {
    x,
    shape: g.shape,
    logits: g.logits,
    k: g.k,
    padding: g.padding,
    ...(g.poolSize === undefined ? {} : { poolSize: g.poolSize }),
    ...(g.strides === undefined ? {} : { strides: g.strides }),
  };
}

/** Reads and decodes the committed vectors. */
export async function loadGoldenCases(): Promise<GoldenCase[]> {
  return parseGoldenFile(await Deno.readTextFile(GOLDEN_URL));
}

/** The command line of `deno task golden` (harness/cli.ts convention). */
export const GOLDEN_CLI = defineCli({
  command: "deno task golden",
  summary: "Regenerates the golden vectors (vectors/sort_pool2d.json) from the float64 reference, or with --check " +
    "only compares them with what the reference gives now.",
  options: {
    check: { type: "boolean", description: "write nothing; exit 1 when the file differs from a fresh generation" },
    out: { type: "string", value: "FILE", description: "write here instead (default: vectors/sort_pool2d.json)" },
  },
  epilog: "exit status: 0 written (or --check: up to date), 1 --check found a difference, 2 usage error",
});

/** Writes (or with --check compares) the vectors; returns the exit status. */
export async function goldenMain({ values }: ParsedCli): Promise<number> {
  const text = goldenFileText();
  const target = typeof values.out === "string" ? values.out : GOLDEN_URL.pathname;
  if (values.check === true) {
    const current = await Deno.readTextFile(target).catch(() => null);
    const same = current === text;
    console.log(
      same ? `${target} is up to date` : `${target} differs from the reference's output: run deno task golden`,
    );
    return same ? 0 : 1;
  }
  await Deno.writeTextFile(target, text);
  console.log(`wrote ${target}: ${generateGoldenCases().length} cases, ${text.length} bytes`);
  return 0;
}

if (import.meta.main) await runCli(GOLDEN_CLI, Deno.args, goldenMain);
