/**
 * The golden cases of the special input classes (SPEC.md §5): k = 1 dLogits, logits outside
 * float32's range or non-finite, signed zeros, non-finite dy and padded cells.
 *
 * @module
 */
import type { Shape4 } from "../src/types.ts";
import type { CaseRecipe } from "./recipe.ts";

/**
 * Cases of the special input classes, each pinned by SPEC.md §5: k = 1 dLogits, logits outside
 * float32's range or non-finite, signed zeros, non-finite dy and padded cells.
 */
export function inputClassRecipes(): CaseRecipe[] {
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
