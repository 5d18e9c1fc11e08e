/**
 * tfjs-topk: sort_pool2d from tf.topk, for every window, stride and logits layout of SPEC.md.
 * Windows come from `windowSet` (`[B·Ho·Wo·C, kh·kw]`: the 2x2/2 default by pad/reshape/transpose,
 * any other by a tf.gather with spec.ts's cell indices); tf.topk ranks each window; the ranked
 * values are gathered and weighted (k shared weights, or each channel's own k).
 *
 * Ties: tf.topk is handed finite keys only (`rankKeys`), in two stable passes (a least-significant
 * first radix sort): pass 1 sorts the kh·kw cells by their finite value key, pass 2 picks the top
 * k of that order by group (NaN > +Infinity > finite > -Infinity; for k = 1 a padded cell of the
 * gather layout is a group below -Infinity, since k = 1 ignores padded cells). tf.topk breaks
 * equal keys by lower position on both backends, so cells tied in pass 2 keep the pass-1 order
 * and cells tied in pass 1 keep window order: the result is SPEC.md's order exactly. A single
 * tf.topk on raw values is not: on both backends it misplaces NaN, and on the cpu backend equal
 * infinities (±Infinity minus itself is NaN in its comparator) also scramble the order (see
 * topk.test.ts).
 *
 * Gradient: hand-written (windows.ts `windowGradient`) from the cells the two tf.topk passes
 * select: rank r's cell gets w[r]·dy by a where chain, a cell in several windows sums their terms in
 * output order, the rank sums skip padded cells, and dLogits follows on the host (family.ts).
 * tfjs 4.22 registers no gradient for TopK anyway, and autograd of the gather and weighted sum
 * would multiply padded zeros by dy (NaN for a non-finite dy).
 *
 * @module
 */
import { outputShape } from "../spec.ts";
import type { TfjsFamily } from "./family.ts";
import { tf } from "./runtime.ts";
import { maskPaddedForMax, rankKeys, weightedSum, windowGradient, type WindowSet, windowSet } from "./windows.ts";

/** Element `indices[n, j]` of row n of `rows` (`[N, m]`), as `[N, j]`: a flat, batch-free gather. */
function gatherFromRows(rows: tf.Tensor2D, indices: tf.Tensor2D): tf.Tensor2D {
  return tf.gather(
    tf.reshape(rows as tf.Tensor, [-1]) as tf.Tensor,
    flatIndices(indices, rows.shape[1]),
  ) as tf.Tensor2D;
}

/**
 * Window-cell indices (`[N, k]`, int32, rank order) of the k highest-ranked cells of each window
 * row (`[N, kh·kw]`). For k = 1 padded cells of the gather layout rank last ({@link maskPaddedForMax}).
 */
function topCells(set: WindowSet, k: number): tf.Tensor2D {
  const cells = set.rows.shape[1];
  const keys = rankKeys(set.rows);
  const byValue = tf.topk(keys.value, cells).indices as tf.Tensor2D;
  const groupsByValue = gatherFromRows(maskPaddedForMax(set, keys.group) as tf.Tensor2D, byValue);
  const positions = tf.topk(groupsByValue, k).indices as tf.Tensor2D;
  return gatherFromRows(byValue, positions);
}

/** Flat indices into `[N, width]` rows (`[N, m]`, int32) of the window cells `cells` (`[N, m]`). */
function flatIndices(cells: tf.Tensor2D, width: number): tf.Tensor2D {
  const n = cells.shape[0];
  return tf.add(cells, tf.reshape(tf.range(0, n * width, width, "int32"), [n, 1]));
}

/**
 * The columns of `[N, k]` as k tensors `[N]`. Not tf.unstack alone: with a single output, tfjs
 * returns a tensor where an array is expected on some paths.
 */
function columns(t: tf.Tensor2D): tf.Tensor[] {
  return t.shape[1] === 1 ? [tf.reshape(t, [-1])] : tf.unstack(t, 1);
}

/** The tf.topk family. Call inside tf.tidy. */
export const topkFamily: TfjsFamily = {
  family: "tfjs-topk",
  summary: "windows by pad/reshape/transpose (2x2/2) or one tf.gather with spec.ts's cell indices (any window " +
    "and stride), two stable tf.topk passes on finite keys (value, then NaN > +Inf > finite > -Inf) so ties " +
    "follow the spec, gather, weighted sum from the first product (shared or per-channel weights); " +
    "hand-written gradient from the selected cells (where chains: a non-finite dy never meets a 0/1 mask, " +
    "padded cells are skipped in the rank sums, overlapping windows summed in output order by gathers with " +
    "the inverse index tables). Raw tf.topk, observed: ties and ±0 go to the lower index on both backends, " +
    "but NaN is misranked on both and equal ±Infinity on cpu",
  supports: { windows: "any", perChannelLogits: true },
  forward(x, weights, k, padding, geometry) {
    const set = windowSet(x, k, padding, geometry);
    const ranked = gatherFromRows(set.rows, topCells(set, k));
    return tf.reshape<tf.Rank.R4>(weightedSum(columns(ranked), weights), outputShape(x.shape, padding, geometry));
  },
  gradient(x, weights, dy, k, padding, geometry) {
    const set = windowSet(x, k, padding, geometry);
    return windowGradient(set, columns(topCells(set, k)), weights, dy);
  },
};
