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
 * Gradient: tfjs 4.22 registers none for TopK. `topValues` is a tf.customGrad op: its forward
 * (off the tape) runs the two tf.topk passes and gathers the values by flat index; its gradient is
 * the adjoint of that gather, a scatter-add of dy into the same flat indices (tf.scatterND; the
 * indices are distinct). The rest (window layout, softmax, weighted sum) is tfjs autograd. Not
 * tfjs's own gather gradient: it is unsortedSegmentSum, which the cpu backend computes with one
 * masked sum per segment, i.e. O(N²) for N windows (minutes at the benchmark size). Not tf.gather
 * with batchDims = 1 either: its gradient splits the input into one tensor per row.
 *
 * @module
 */
import { outputShape, WINDOW_CELLS } from "../spec.ts";
import type { Padding } from "../types.ts";
import type { TfjsFamily } from "./family.ts";
import { tf } from "./runtime.ts";
import { rankKeys, weightedSum, windowRows } from "./windows.ts";

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
 * The top k values of each window row in rank order, `[N, k]`, differentiable in `rows`: dy of
 * rank r goes to the cell that holds rank r, other cells get 0. One custom op per k.
 */
const topValues: ((rows: tf.Tensor2D) => tf.Tensor2D)[] = [1, 2, 3, 4].map((k) =>
  tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const rows = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const flat = flatIndices(topCells(rows, k));
    save([flat]);
    return {
      value: tf.gather(tf.reshape(rows as tf.Tensor, [-1]) as tf.Tensor, flat),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) =>
        tf.reshape(tf.scatterND(tf.reshape(saved, [-1, 1]), tf.reshape(dy, [-1]), [rows.size]), rows.shape),
    };
  }) as (rows: tf.Tensor2D) => tf.Tensor2D
);

/**
 * The columns of `[N, k]` as k tensors `[N]`. Not tf.unstack alone: with a single output, tfjs
 * hands Unpack's gradient function a tensor where it expects an array, and backprop throws.
 */
function columns(t: tf.Tensor2D): tf.Tensor[] {
  return t.shape[1] === 1 ? [tf.reshape(t, [-1])] : tf.unstack(t, 1);
}

/** y (`[B, Ho, Wo, C]`) of input `x`. */
function pooled(x: tf.Tensor4D, logits: tf.Tensor1D, k: number, padding: Padding): tf.Tensor4D {
  const ranked = topValues[k - 1](windowRows(x, k, padding));
  return tf.reshape<tf.Rank.R4>(weightedSum(columns(ranked), logits), outputShape(x.shape, padding));
}

/** The tf.topk family. Call inside tf.tidy. */
export const topkFamily: TfjsFamily = {
  family: "tfjs-topk",
  summary: "windows by pad/reshape/transpose, two stable tf.topk passes on finite keys (value, then " +
    "NaN > +Inf > finite > -Inf) so ties follow the spec, gather, weighted sum; the gather of the top k is a " +
    "tf.customGrad op whose gradient scatters dy back (TopK has no gradient), the rest is tfjs autograd. Raw " +
    "tf.topk, observed: ties and ±0 go to the lower index on both backends, but NaN is misranked on both and " +
    "equal ±Infinity on cpu",
  forward: (x, logits, k, padding) => pooled(x, logits, k, padding),
  gradient(x, logits, dy, k, padding) {
    const [dx, dLogits] = tf.grads((xs: tf.Tensor, ls: tf.Tensor) =>
      pooled(xs as tf.Tensor4D, ls as tf.Tensor1D, k, padding)
    )([x, logits], dy);
    return { dx: dx as tf.Tensor4D, dLogits: dLogits as tf.Tensor1D };
  },
};
