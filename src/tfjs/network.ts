/**
 * tfjs-network: the original's approach, a comparison network over the 4 window cells written in
 * elementwise tfjs ops (comparisons and tf.where), differentiated by tfjs's autograd.
 *
 * The network is spec.ts's SORTING_NETWORK, pruned to the comparators that can still change the
 * top k slots. Each compare-exchange swaps slots i and j when the item in slot j ranks before the
 * item in slot i under SPEC.md's order, decided on the finite keys of `rankKeys` (group, value)
 * and on each item's window cell, which is carried through the network: so NaN, ±0 and ties
 * follow the spec exactly (the original's strict tf.less with the else-branch on equality does
 * not: equal values keep whatever slot order the network produced).
 *
 * Gradient: the swap decisions are computed off the gradient tape (tfjs registers no gradient
 * for Greater, Equal, Less or the logical ops, and they have none mathematically), then the
 * network's tf.where exchanges are replayed on the values inside tf.grads with those decisions
 * as constants. Autograd differentiates where, unstack, the weighted sum, softmax and the window
 * layout. Known gap: tfjs's where gradient multiplies dy by the 0/1 mask, and 0 · ±Infinity is
 * NaN, so a non-finite dy (±Infinity, NaN) makes dx NaN in all 4 cells of that window, where the
 * spec gives the selected cells w[r]·dy and the others 0. Finite dy is exact.
 *
 * @module
 */
import { outputShape, SORTING_NETWORK } from "../spec.ts";
import type { TfjsFamily } from "./family.ts";
import { tf } from "./runtime.ts";
import { rankKeys, weightedSum, windowRows } from "./windows.ts";

/** A compare-exchange `[i, j]`, i < j: afterwards slot i holds the higher-ranked item. */
type Comparator = readonly [number, number];

/**
 * The comparators of SORTING_NETWORK that can affect slots 0..k-1, in network order: walking
 * backwards from the kept slots, a comparator matters when it writes a slot that is still read.
 */
export function liveComparators(k: number): Comparator[] {
  const read = new Set<number>(Array.from({ length: k }, (_, slot) => slot));
  const live: Comparator[] = [];
  for (let c = SORTING_NETWORK.length - 1; c >= 0; c--) {
    const [i, j] = SORTING_NETWORK[c];
    if (read.has(i) || read.has(j)) {
      live.unshift([i, j]);
      read.add(i).add(j);
    }
  }
  return live;
}

/** Swaps slots i and j of `slots` where `swap` is true. */
function exchange(slots: tf.Tensor[], [i, j]: Comparator, swap: tf.Tensor): void {
  const [a, b] = [slots[i], slots[j]];
  slots[i] = tf.where(swap, b, a);
  slots[j] = tf.where(swap, a, b);
}

/**
 * The swap decision (bool, `[N]`) of every live comparator for these window rows (`[N, 4]`). The
 * item in slot j ranks before the one in slot i when its group is higher, or the groups are equal
 * and its value key is larger, or both are equal and its window cell is lower. Not
 * differentiable; call outside the gradient tape.
 */
function swapDecisions(rows: tf.Tensor2D, comparators: readonly Comparator[]): tf.Tensor[] {
  const keys = rankKeys(rows);
  const group = [...tf.unstack(keys.group, 1)];
  const value = [...tf.unstack(keys.value, 1)];
  const cell = group.map((_, c) => tf.fill([rows.shape[0]], c));
  return comparators.map((comparator) => {
    const [i, j] = comparator;
    const cellWins = tf.less(cell[j], cell[i]);
    const valueWins = tf.logicalOr(
      tf.greater(value[j], value[i]),
      tf.logicalAnd(tf.equal(value[j], value[i]), cellWins),
    );
    const swap = tf.logicalOr(tf.greater(group[j], group[i]), tf.logicalAnd(tf.equal(group[j], group[i]), valueWins));
    for (const slots of [group, value, cell]) exchange(slots, comparator, swap);
    return swap;
  });
}

/** Runs the exchanges on the window rows (`[N, 4]`) and returns ranks 0..k-1, each `[N]`. */
function rankedValues(rows: tf.Tensor2D, comparators: readonly Comparator[], swaps: tf.Tensor[], k: number) {
  // A copy: tf.unstack's result array is also its tape node's output list, and writing into it
  // would make autograd treat the exchanged tensors as outputs of the unstack.
  const slots = [...tf.unstack(rows, 1)];
  comparators.forEach((comparator, c) => exchange(slots, comparator, swaps[c]));
  return slots.slice(0, k);
}

/** y (`[B, Ho, Wo, C]`) from window rows (`[N, 4]`) and the swap decisions of `liveComparators(k)`. */
function pooled(
  rows: tf.Tensor2D,
  logits: tf.Tensor1D,
  swaps: tf.Tensor[],
  k: number,
  outShape: [number, number, number, number],
): tf.Tensor4D {
  const ranked = rankedValues(rows, liveComparators(k), swaps, k);
  return tf.reshape(weightedSum(ranked, logits) as tf.Tensor, outShape) as tf.Tensor4D;
}

/** The comparison-network family. Call inside tf.tidy. */
export const networkFamily: TfjsFamily = {
  family: "tfjs-network",
  summary: "the original's 5-comparator network as elementwise ops (comparisons on finite keys, tf.where " +
    "exchanges carrying each item's window cell, so NaN, ±0 and ties follow the spec), pruned to the " +
    "comparators that reach the top k, weighted sum; tfjs autograd differentiates the where exchanges with " +
    "the swap decisions held constant. Gap: a non-finite dy (±Inf, NaN) makes dx NaN in all 4 cells of its " +
    "window (where's gradient is dy times a 0/1 mask); finite dy is exact",
  forward(x, logits, k, padding) {
    const rows = windowRows(x, k, padding);
    const swaps = swapDecisions(rows, liveComparators(k));
    return pooled(rows, logits, swaps, k, outputShape(x.shape, padding));
  },
  gradient(x, logits, dy, k, padding) {
    const swaps = swapDecisions(windowRows(x, k, padding), liveComparators(k));
    const [dx, dLogits] = tf.grads((xs: tf.Tensor, ls: tf.Tensor) =>
      pooled(windowRows(xs as tf.Tensor4D, k, padding), ls as tf.Tensor1D, swaps, k, dy.shape)
    )([x, logits], dy);
    return { dx: dx as tf.Tensor4D, dLogits: dLogits as tf.Tensor1D };
  },
};
