/**
 * tfjs-topk: sort_pool2d from tf.topk. Windows come from `windowRows`; tf.topk ranks each window;
 * the ranked values are gathered and weighted.
 *
 * Ties: tf.topk is handed finite keys only (`rankKeys`), in two stable passes (a least-significant
 * first radix sort): pass 1 sorts the 4 cells by their finite value key, pass 2 picks the top k of
 * that order by group (NaN > +Infinity > finite > -Infinity). tf.topk breaks equal keys by lower
 * position on both backends, so cells tied in pass 2 keep the pass-1 order and cells tied in pass 1
 * keep window order: the result is SPEC.md's order exactly. A single tf.topk on raw values is not:
 * on both backends it misplaces NaN, and on the cpu backend equal infinities (±Infinity minus
 * itself is NaN in its comparator) also scramble the order (see topk.test.ts).
 *
 * Gradient: hand-written (windows.ts `windowGradient`) from the cells the two tf.topk passes
 * select: rank r's cell gets w[r]·dy by a where chain, the rank sums skip padded cells, and dLogits
 * follows on the host (family.ts). tfjs 4.22 registers no gradient for TopK anyway, and autograd of
 * the gather and weighted sum would multiply padded zeros by dy (NaN for a non-finite dy).
 *
 * @module
 */
import { outputShape, WINDOW_CELLS } from "../spec.ts";
import type { Shape4 } from "../types.ts";
import type { TfjsFamily } from "./family.ts";
import { tf } from "./runtime.ts";
import { rankKeys, weightedSum, windowGradient, windowRows } from "./windows.ts";

/** Element `indices[n, j]` of row n of `rows` (`[N, 4]`), as `[N, m]`: a flat, batch-free gather. */
function gatherFromRows(rows: tf.Tensor2D, indices: tf.Tensor2D): tf.Tensor2D {
  return tf.gather(tf.reshape(rows as tf.Tensor, [-1]) as tf.Tensor, flatIndices(indices)) as tf.Tensor2D;
}

/** Window-cell indices (`[N, k]`, int32, rank order) of the k highest-ranked cells of each row. */
function topCells(rows: tf.Tensor2D, k: number): tf.Tensor2D {
  const keys = rankKeys(rows);
  const byValue = tf.topk(keys.value, WINDOW_CELLS).indices as tf.Tensor2D;
  const groupsByValue = gatherFromRows(keys.group as tf.Tensor2D, byValue);
  const positions = tf.topk(groupsByValue, k).indices as tf.Tensor2D;
  return gatherFromRows(byValue, positions);
}

/** Flat indices into `[N, 4]` rows (`[N, m]`, int32) of the window cells `cells` (`[N, m]`). */
function flatIndices(cells: tf.Tensor2D): tf.Tensor2D {
  const n = cells.shape[0];
  return tf.add(cells, tf.reshape(tf.range(0, n * WINDOW_CELLS, WINDOW_CELLS, "int32"), [n, 1]));
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
  summary: "windows by pad/reshape/transpose, two stable tf.topk passes on finite keys (value, then " +
    "NaN > +Inf > finite > -Inf) so ties follow the spec, gather, weighted sum from the first product; " +
    "hand-written gradient from the selected cells (where chains: a non-finite dy never meets a 0/1 mask, " +
    "padded cells are skipped in the rank sums). Raw tf.topk, observed: ties and ±0 go to the lower index on " +
    "both backends, but NaN is misranked on both and equal ±Infinity on cpu",
  forward(x, weights, k, padding) {
    const rows = windowRows(x, k, padding);
    const ranked = gatherFromRows(rows, topCells(rows, k));
    return tf.reshape<tf.Rank.R4>(weightedSum(columns(ranked), weights), outputShape(x.shape, padding));
  },
  gradient(x, weights, dy, k, padding) {
    const rows = windowRows(x, k, padding);
    const cells = columns(topCells(rows, k));
    return windowGradient(rows, cells, weights, dy, x.shape as unknown as Shape4, padding);
  },
};
