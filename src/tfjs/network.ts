/**
 * tfjs-network: the original's approach, a comparison network over the 4 window cells written in
 * elementwise tfjs ops (comparisons and tf.where), with a hand-written gradient. It stays the
 * original's network: 2x2 windows with stride 2 only ({@link NETWORK_SUPPORTS}; the entry refuses
 * any other poolSize or strides with a SortPoolArgumentError), shared or per-channel logits.
 *
 * The network is spec.ts's SORTING_NETWORK, pruned to the comparators that can still change the
 * top k slots. Each compare-exchange swaps slots i and j when the item in slot j ranks before the
 * item in slot i under SPEC.md's order, decided on the finite keys of `rankKeys` (group, value)
 * and on each item's window cell, which is carried through the network: so NaN, ±0 and ties
 * follow the spec exactly (the original's strict tf.less with the else-branch on equality does
 * not: equal values keep whatever slot order the network produced).
 *
 * Gradient: hand-written, not tfjs autograd (windows.ts `windowGradient`). The network carries
 * each item's window cell, so after it slot r holds the cell of rank r; rank r's cell gets
 * w[r]·dy through a where chain and every other cell exactly 0, and the rank sums of dLogits skip
 * padded cells. Autograd of the where exchanges (what this family used to do) multiplies dy by a
 * 0/1 mask, and 0 · ±Infinity is NaN: a non-finite dy made dx NaN in all 4 cells of its window.
 *
 * @module
 */
import { isDefaultWindow, outputShape, type PoolGeometry, SORTING_NETWORK } from "../spec.ts";
import type { Supports } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import type { TfjsFamily } from "./family.ts";
import { tf } from "./runtime.ts";
import { rankKeys, weightedSum, windowGradient, windowSet } from "./windows.ts";

/**
 * What the network family handles (src/registry.ts `unsupportedReason`): the 2x2 window with stride
 * 2 only, with shared or per-channel logits (the weighted sum and gradient are shared with
 * tfjs-topk, which makes per-channel weights free).
 */
export const NETWORK_SUPPORTS: Supports = {
  windows: "2x2/2",
  perChannelLogits: true,
  limitation: "tfjs-network is the original's 5-comparator sorting network for the 4 cells of a 2x2 window with " +
    "stride 2; other windows need other networks (tfjs-topk, wgsl and wgsl@tfjs take any window)",
};

/**
 * Refuses a non-default geometry, naming poolSize or strides (the registry entry refuses it before
 * any work: family.ts `rejectUnsupported`; this guards direct calls of the family).
 */
function requireDefaultWindow(geometry: PoolGeometry): void {
  if (isDefaultWindow(geometry)) return;
  const badSize = geometry.poolSize[0] !== 2 || geometry.poolSize[1] !== 2;
  throw new SortPoolArgumentError(
    badSize ? "poolSize" : "strides",
    `[2, 2]: tfjs-network takes 2x2 windows with stride 2 only (${NETWORK_SUPPORTS.limitation})`,
    `[${(badSize ? geometry.poolSize : geometry.strides).join(", ")}]`,
  );
}

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
 * The swap decision (bool, `[N]`) of every live comparator for these window rows (`[N, 4]`), and
 * the window cell that ends in each of the first k slots (`[N]` float32: the cell of rank r). The
 * item in slot j ranks before the one in slot i when its group is higher, or the groups are equal
 * and its value key is larger, or both are equal and its window cell is lower. Not
 * differentiable.
 */
function runNetwork(rows: tf.Tensor2D, comparators: readonly Comparator[], k: number) {
  const keys = rankKeys(rows);
  const group = [...tf.unstack(keys.group, 1)];
  const value = [...tf.unstack(keys.value, 1)];
  const cell = group.map((_, c) => tf.fill([rows.shape[0]], c));
  const swaps = comparators.map((comparator) => {
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
  return { swaps, cellOfRank: cell.slice(0, k) };
}

/** Runs the exchanges on the window rows (`[N, 4]`) and returns ranks 0..k-1, each `[N]`. */
function rankedValues(rows: tf.Tensor2D, comparators: readonly Comparator[], swaps: tf.Tensor[], k: number) {
  const slots = [...tf.unstack(rows, 1)];
  comparators.forEach((comparator, c) => exchange(slots, comparator, swaps[c]));
  return slots.slice(0, k);
}

/** The comparison-network family. Call inside tf.tidy. */
export const networkFamily: TfjsFamily = {
  family: "tfjs-network",
  summary: "the original's 5-comparator network as elementwise ops (comparisons on finite keys, tf.where " +
    "exchanges carrying each item's window cell, so NaN, ±0 and ties follow the spec), pruned to the " +
    "comparators that reach the top k, weighted sum from the first product (shared or per-channel weights; " +
    "2x2 windows with stride 2 only); hand-written gradient from the " +
    "carried cells (where chains, not autograd: a non-finite dy never meets a 0/1 mask; padded cells are " +
    "skipped in the rank sums)",
  supports: NETWORK_SUPPORTS,
  forward(x, weights, k, padding, geometry) {
    requireDefaultWindow(geometry);
    const { rows } = windowSet(x, k, padding, geometry);
    const comparators = liveComparators(k);
    const { swaps } = runNetwork(rows, comparators, k);
    const ranked = rankedValues(rows, comparators, swaps, k);
    return tf.reshape(weightedSum(ranked, weights) as tf.Tensor, outputShape(x.shape, padding)) as tf.Tensor4D;
  },
  gradient(x, weights, dy, k, padding, geometry) {
    requireDefaultWindow(geometry);
    const set = windowSet(x, k, padding, geometry);
    const { cellOfRank } = runNetwork(set.rows, liveComparators(k), k);
    return windowGradient(set, cellOfRank, weights, dy);
  },
};
