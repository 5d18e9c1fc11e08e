/**
 * The golden cases of general windows (SPEC.md §2-5): windows other than 2x2/2, per-channel logits,
 * and ties, NaN, ±Infinity and signed zeros under overlap.
 *
 * @module
 */
import type { Padding, Pair, Shape4 } from "../src/types.ts";
import { type CaseRecipe, distinctValues, gradientValues, tiedValues } from "./recipe.ts";

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
export function generalWindowRecipes(): CaseRecipe[] {
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
