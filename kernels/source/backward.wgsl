#output sort_pool2d_backward.wgsl lanes=1
#output sort_pool2d_backward_vec4.wgsl lanes=4
//[lanes == 1] sort_pool2d backward: dx, plus stage 1 of dLogits, one channel per invocation (any C;
//[lanes == 1] sort_pool2d_backward_vec4.wgsl is faster when C % 4 == 0).
//[lanes == 4] sort_pool2d backward: dx, plus stage 1 of dLogits, 4 channels per invocation (C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): every window is ranked exactly as in
//[lanes == 1] sort_pool2d_forward.wgsl (SPEC.md §4 "Ranking", the src/spec.ts SORTING_NETWORK carrying
//[lanes == 4] sort_pool2d_forward_vec4.wgsl (SPEC.md §4 "Ranking", the src/spec.ts SORTING_NETWORK carrying
// cells), then with w = softmax(logits) (sort_pool2d_weights.wgsl)
//   dx[cell of rank r] = w[r] * dy   for r < k and a real (not padded) cell,
//   dx[other cells of the window] = 0,
//   dx[cells in no window] = 0   ("valid" padding with odd H or W: the last row / column, §3),
// and stage 1 of s[r] = sum over windows and channels of v[r] * dy for r < k over REAL cells: a
// padded cell ranked r < k adds exactly 0 (a select, never 0 * dy, so an infinite or NaN dy does
// not turn a padded zero into NaN), the input of dLogits (sort_pool2d_dlogits.wgsl finishes it;
// for k = 1 it writes 0 and ignores the sums).
// Windows do not overlap (§2), so each invocation writes its own windows' cells (and, on the
// last window row / column of "valid" padding, the uncovered cells beside them): no atomics and
// no clearing pass. dx is a select, never a product with 0, so an infinite dy leaves unranked
// cells at 0.
//[lanes == 1] Stage 1 is deterministic: each invocation sums its channels in a fixed order (its first
//[lanes == 1] channel, then its next) and writes one vec4 (s[0..3]) to `partials`; the stage-2 kernel adds
//[lanes == 1] those in a fixed order. No float atomics and no workgroup barriers (costly on CPU adapters):
//[lanes == 1] results are bitwise identical from run to run.
//[lanes == 4] Stage 1 is deterministic: each invocation sums its channels in a fixed order (lanes x, y, z,
//[lanes == 4] w, then its next channel group) and writes one vec4 (s[0..3]) to `partials`; the stage-2
//[lanes == 4] kernel adds those in a fixed order. No float atomics and no workgroup barriers (costly on CPU
//[lanes == 4] adapters): results are bitwise identical from run to run.
// NaN is found from its bit pattern (see sort_key), never by `x != x` (fast-math compilers).
//
// Bindings (group 0):
//[lanes == 1]   0  x         storage, read        array<f32>        input, NHWC, B*H*W*C floats
//[lanes == 4]   0  x         storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//   1  weights   uniform              vec4<f32>         softmax(logits), 0 past k
//[lanes == 1]   2  dy        storage, read        array<f32>        upstream gradient, B*Ho*Wo*C floats
//[lanes == 1]   3  dx        storage, read_write  array<f32>        dL/dx, NHWC, B*H*W*C floats
//[lanes == 4]   2  dy        storage, read        array<vec4<f32>>  upstream gradient, B*Ho*Wo*C floats
//[lanes == 4]   3  dx        storage, read_write  array<vec4<f32>>  dL/dx, NHWC, B*H*W*C floats
//   4  partials  storage, read_write  array<vec4<f32>>  work_items vec4s, one per work item
//[lanes == 1]   5  params    uniform              Params: the 32-byte layout of sort_pool2d_forward.wgsl
//[lanes == 1]        height, width, channel_groups (= C), out_height, out_width, k,
//[lanes == 4]   5  params    uniform              Params: the 32-byte layout of sort_pool2d_forward_vec4.wgsl
//[lanes == 4]        height, width, channel_groups (= C / 4), out_height, out_width, k,
//        work_items (= B * Ho * Wo * channel_groups / GROUPS_PER_INVOCATION), unused (write 0)
// Override constants: WORKGROUP_SIZE (default 64), GROUPS_PER_INVOCATION (1 or 2, default 1;
//   2 needs an even channel_groups).
// Dispatch: after sort_pool2d_weights.wgsl, as the forward kernel: (gx, gy, 1) workgroups with
//   gx * gy * WORKGROUP_SIZE >= work_items; work item = global_id.x + global_id.y * gx *
//   WORKGROUP_SIZE. Then sort_pool2d_dlogits.wgsl over the work_items partials.
//
//[lanes == 1] This file and sort_pool2d_backward_vec4.wgsl (4 channels per invocation) differ only in
//[lanes == 4] This file and sort_pool2d_backward.wgsl (one channel per invocation, any C) differ only in
// this header and in the variant block below.

// ---- variant block ----
#include "shared/lane_type.wgsl" name=Values scalar=f32
#include "shared/lane_type.wgsl" name=Keys scalar=i32
#include "shared/lane_type.wgsl" name=Cells scalar=u32
#include "shared/lane_type.wgsl" name=Lanes scalar=bool

//[lanes == 1] The lanes' sum in a fixed order (one lane here).
//[lanes == 4] The lanes' sum in a fixed order.
#include "shared/lane_sum.wgsl"
// ---- end of variant block ----

#include "shared/params.wgsl" layout=2x2

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<uniform> weights: vec4<f32>;
@group(0) @binding(2) var<storage, read> dy: array<Values>;
@group(0) @binding(3) var<storage, read_write> dx: array<Values>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
// Channel groups each invocation handles, 1 or 2; must divide channel_groups.
override GROUPS_PER_INVOCATION: u32 = 1u;

// One ranking entry per channel lane: sort key, value, window cell (0..3).
struct Entry {
  key: Keys,
  value: Values,
  cell: Cells,
}

#include "shared/excluded_key.wgsl" window=2x2

#include "shared/sort_key.wgsl" value=Values key=Keys

#include "shared/swap_where.wgsl" entry=Entry

// Compare-exchange of slots (a, b) where a's cell is known to be the lower: swap on b > a.
fn exchange_ordered(a: ptr<function, Entry>, b: ptr<function, Entry>) {
  swap_where(a, b, (*b).key > (*a).key);
}

// Compare-exchange with the full tie rule: swap where b ranks before a (src/spec.ts ranksBefore).
fn exchange(a: ptr<function, Entry>, b: ptr<function, Entry>) {
  let first = *a;
  let second = *b;
  swap_where(a, b, (second.key > first.key) | ((second.key == first.key) & (second.cell < first.cell)));
}

// Whether each lane's entry is a real cell of the window (not padding, SPEC.md §3): cell 0 always
// is; cell 1 needs a column to the right, cell 2 a row below, cell 3 both.
fn is_real(cell: Cells, has_right: bool, has_below: bool) -> Lanes {
  let left_column = (cell & Cells(1u)) == Cells(0u);
  let top_row = cell < Cells(2u);
  return (left_column | Lanes(has_right)) & (top_row | Lanes(has_below));
}

// dx of window cell `cell`: w[r] * grad where the cell holds rank r < k, else 0.
fn cell_gradient(
  cell: u32,
  w: vec4<f32>,
  grad: Values,
  s0: Entry,
  s1: Entry,
  s2: Entry,
  s3: Entry,
) -> Values {
  let c = Cells(cell);
  var d = select(Values(0.0), w.x * grad, s0.cell == c);
  if (params.k > 1u) {
    d = select(d, w.y * grad, s1.cell == c);
  }
  if (params.k > 2u) {
    d = select(d, w.z * grad, s2.cell == c);
  }
  if (params.k > 3u) {
    d = select(d, w.w * grad, s3.cell == c);
  }
  return d;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot < params.work_items) {
    var sums = vec4<f32>(0.0);
    let slots_per_window = params.channel_groups / GROUPS_PER_INVOCATION;
    let window = slot / slots_per_window;
    let first_group = (slot - window * slots_per_window) * GROUPS_PER_INVOCATION;
    ## window = (b * out_height + oh) * out_width + ow; not split_item.wgsl: a work item here covers
    ## GROUPS_PER_INVOCATION channel groups.
    #include "shared/split_position.wgsl" line=window rest=rest column=ow row=oh columns=params.out_width rows=params.out_height
    let row = 2u * oh;
    let col = 2u * ow;
    let has_right = col + 1u < params.width;
    let has_below = row + 1u < params.height;
    let row_stride = params.width * params.channel_groups;
    // "valid" padding with odd W or H: the last column / row lies in no window; the windows next
    // to it write its zeros.
    let uncovered_col = ow + 1u == params.out_width && col + 2u < params.width;
    let uncovered_row = oh + 1u == params.out_height && row + 2u < params.height;
    let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), params.k > 1u);
    let w = weights;

    for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {
      let g = first_group + j;
      let top_left = ((b * params.height + row) * params.width + col) * params.channel_groups + g;
      // Branch-free: a padded cell reads the top-left element and discards it.
      let right = select(top_left, top_left + params.channel_groups, has_right);
      let below = select(top_left, top_left + row_stride, has_below);
      let below_right = select(
        top_left,
        top_left + row_stride + params.channel_groups,
        has_right && has_below,
      );
      let v0 = x[top_left];
      let v1 = select(Values(0.0), x[right], has_right);
      let v2 = select(Values(0.0), x[below], has_below);
      let v3 = select(Values(0.0), x[below_right], has_right && has_below);
      var s0 = Entry(sort_key(v0), v0, Cells(0u));
      var s1 = Entry(select(padded_key, sort_key(v1), has_right), v1, Cells(1u));
      var s2 = Entry(select(padded_key, sort_key(v2), has_below), v2, Cells(2u));
      var s3 = Entry(select(padded_key, sort_key(v3), has_right && has_below), v3, Cells(3u));
      exchange_ordered(&s0, &s1);
      exchange_ordered(&s2, &s3);
      exchange_ordered(&s0, &s2);
      exchange_ordered(&s1, &s3);
      exchange(&s1, &s2);

      let grad = dy[window * params.channel_groups + g];
      dx[top_left] = cell_gradient(0u, w, grad, s0, s1, s2, s3);
      if (has_right) {
        dx[right] = cell_gradient(1u, w, grad, s0, s1, s2, s3);
      }
      if (has_below) {
        dx[below] = cell_gradient(2u, w, grad, s0, s1, s2, s3);
      }
      if (has_right && has_below) {
        dx[below_right] = cell_gradient(3u, w, grad, s0, s1, s2, s3);
      }
      if (uncovered_col) {
        dx[top_left + 2u * params.channel_groups] = Values(0.0);
        dx[below + 2u * params.channel_groups] = Values(0.0);
      }
      if (uncovered_row) {
        dx[top_left + 2u * row_stride] = Values(0.0);
        dx[top_left + 2u * row_stride + params.channel_groups] = Values(0.0);
      }
      if (uncovered_col && uncovered_row) {
        dx[top_left + 2u * row_stride + 2u * params.channel_groups] = Values(0.0);
      }

      // Padded cells are skipped (exactly 0), never multiplied by dy.
      sums.x += lane_sum(select(Values(0.0), s0.value * grad, is_real(s0.cell, has_right, has_below)));
      if (params.k > 1u) {
        sums.y += lane_sum(select(Values(0.0), s1.value * grad, is_real(s1.cell, has_right, has_below)));
      }
      if (params.k > 2u) {
        sums.z += lane_sum(select(Values(0.0), s2.value * grad, is_real(s2.cell, has_right, has_below)));
      }
      if (params.k > 3u) {
        sums.w += lane_sum(select(Values(0.0), s3.value * grad, is_real(s3.cell, has_right, has_below)));
      }
    }
    partials[slot] = sums;
  }
}
