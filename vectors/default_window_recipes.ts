/**
 * The golden cases on the default window (2x2 with stride 2) with shared logits: distinct values
 * for every k and padding, a hand-checked window, ties, signed zeros, negative borders under
 * "same" padding, single cells and non-finite values. These are the file's first cases and must
 * stay byte-identical.
 *
 * @module
 */
import { type CaseRecipe, distinctValues, tiedValues } from "./recipe.ts";

/** The default-window cases, in file order. */
export function defaultWindowRecipes(): CaseRecipe[] {
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
  return out;
}
