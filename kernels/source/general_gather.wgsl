#output sort_pool2d_general_gather.wgsl lanes=1
#output sort_pool2d_general_gather_vec4.wgsl lanes=4
// sort_pool2d backward for any window, pass 2 of 2: dx by gathering over the windows that contain
//[lanes == 1] each input cell; one channel per invocation (any C;
//[lanes == 1] sort_pool2d_general_gather_vec4.wgsl is faster when C % 4 == 0).
//[lanes == 4] each input cell; 4 channels per invocation (use when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Gradient"): for every input cell (b, h, w) and channel c,
//   dx = sum over the windows containing the cell that keep it at a rank r < K of w[r] * dy[window]
// in output order (output row ascending, then output column), STARTING FROM THE FIRST TERM (not
// from +0: a single term keeps its sign, -0 included, exactly as when windows do not overlap);
// a cell kept by no window (ranked >= K everywhere, or in no window at all, e.g. between windows
// whose stride exceeds their size) gets exactly +0, never 0 * dy. This is src/reference.ts's
// order, so dx matches the float64 reference up to float32 rounding, and zeros carry its sign.
// Which cells a window keeps comes from sort_pool2d_general_ranks*.wgsl (pass 1).
// Why a gather: with overlapping windows (a stride below the window size) a cell belongs to up to
// ceil(KH / stride_h) * ceil(KW / stride_w) windows. Each invocation owns its cells' dx and reads
// the windows around them, so there are no atomics and no write conflicts, every cell is written
// exactly once (no clearing pass), and the order of the additions is fixed.
//
// Windows containing input row h (src/spec.ts windowsContaining): with p = h + pad_top,
//   first = ceil((p - KH + 1) / stride_h) (0 when negative),  last = min(Ho - 1, floor(p / stride_h))
// (none when first > last); likewise for columns. Within window (oh, ow) the cell is number
// (p - oh * stride_h) * KW + (q - ow * stride_w), q = w + pad_left.
//
// Bindings (group 0):
//[lanes == 1]   0  ranks    storage, read        array<u32>        kept cells per window (pass 1's layout)
//[lanes == 1]   1  weights  storage, read        array<f32>        rank weights, a K x C table: weights[r * C + c]
//[lanes == 1]   2  dy       storage, read        array<f32>        upstream gradient, B*Ho*Wo*C floats
//[lanes == 1]   3  dx       storage, read_write  array<f32>        dL/dx, NHWC, B*H*W*C floats
//[lanes == 4]   0  ranks    storage, read        array<vec4<u32>>  kept cells per window (pass 1's layout)
//[lanes == 4]   1  weights  storage, read        array<vec4<f32>>  rank weights, a K x C table: weights[r * (C/4) + g]
//[lanes == 4]   2  dy       storage, read        array<vec4<f32>>  upstream gradient, B*Ho*Wo*C floats
//[lanes == 4]   3  dx       storage, read_write  array<vec4<f32>>  dL/dx, NHWC, B*H*W*C floats
//   4  params   uniform              Params: the 64-byte layout of sort_pool2d_general_ranks*.wgsl
//[lanes == 1]        height, width, channel_groups (= C), out_height, out_width, stride_h, stride_w,
//[lanes == 4]        height, width, channel_groups (= C / 4), out_height, out_width, stride_h, stride_w,
//        pad_top, pad_left,
//[lanes == 1]        work_items   B * H * W * channel_groups (one input float each)
//[lanes == 1]        x_base       where this call's dx starts inside its binding, in floats
//[lanes == 1]        y_base       where this call's dy starts inside its binding, in floats (ranks start at 0)
//[lanes == 4]        work_items   B * H * W * channel_groups (one input vec4 each)
//[lanes == 4]        x_base       where this call's dx starts inside its binding, in vec4s
//[lanes == 4]        y_base       where this call's dy starts inside its binding, in vec4s (ranks start at 0)
//        segment, segments, per_channel   not read here
//[lanes == 1]        rank_plane   u32s of one word of ranks
//[lanes == 4]        rank_plane   vec4s of one word of ranks
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (1..4); K (1..KH*KW).
// Dispatch: after pass 1, (gx, gy, 1) workgroups with gx * gy * WORKGROUP_SIZE >= work_items;
//   work item = global_id.x + global_id.y * gx * WORKGROUP_SIZE.
//
//[lanes == 1] This file and sort_pool2d_general_gather_vec4.wgsl (4 channels per invocation) differ only
//[lanes == 4] This file and sort_pool2d_general_gather.wgsl (one channel per invocation, any C) differ only
// in this header and in the variant block below.

// ---- variant block ----
#include "shared/lane_type.wgsl" name=Values scalar=f32
#include "shared/lane_type.wgsl" name=Cells scalar=u32
#include "shared/lane_type.wgsl" name=Lanes scalar=bool
// ---- end of variant block ----

#include "shared/params.wgsl" layout=general_backward

@group(0) @binding(0) var<storage, read> ranks: array<Cells>;
@group(0) @binding(1) var<storage, read> weights: array<Values>;
@group(0) @binding(2) var<storage, read> dy: array<Values>;
@group(0) @binding(3) var<storage, read_write> dx: array<Values>;
@group(0) @binding(4) var<uniform> params: Params;

#include "shared/window_constants.wgsl"

// The output windows along one axis that contain padded position p: [first, last], empty when
// first > last.
fn windows_containing(p: u32, window: u32, stride: u32, out: u32) -> vec2<u32> {
  let first = select(0u, (p + 1u - window + stride - 1u) / stride, p + 1u > window);
  let last = min(out - 1u, p / stride);
  return vec2<u32>(first, last);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  #include "shared/work_item.wgsl" item=slot count=params.work_items
  ## slot = ((b * height + h) * width + w) * cg + g, one input cell of one channel group.
  #include "shared/split_item.wgsl" groups=cg item=slot line=pixel rest=rest column=w row=h columns=params.width rows=params.height
  let p = h + params.pad_top;
  let q = w + params.pad_left;
  let rows = windows_containing(p, KH, params.stride_h, params.out_height);
  let cols = windows_containing(q, KW, params.stride_w, params.out_width);

  // The rank weights of this channel group, read once.
  let w0 = weights[g];
  var w1 = Values(0.0); var w2 = Values(0.0); var w3 = Values(0.0); var w4 = Values(0.0);
  var w5 = Values(0.0); var w6 = Values(0.0); var w7 = Values(0.0); var w8 = Values(0.0);
  var w9 = Values(0.0); var w10 = Values(0.0); var w11 = Values(0.0); var w12 = Values(0.0);
  var w13 = Values(0.0); var w14 = Values(0.0); var w15 = Values(0.0);
  if (K > 1u) { w1 = weights[cg + g]; }
  if (K > 2u) { w2 = weights[2u * cg + g]; }
  if (K > 3u) { w3 = weights[3u * cg + g]; }
  if (K > 4u) { w4 = weights[4u * cg + g]; }
  if (K > 5u) { w5 = weights[5u * cg + g]; }
  if (K > 6u) { w6 = weights[6u * cg + g]; }
  if (K > 7u) { w7 = weights[7u * cg + g]; }
  if (K > 8u) { w8 = weights[8u * cg + g]; }
  if (K > 9u) { w9 = weights[9u * cg + g]; }
  if (K > 10u) { w10 = weights[10u * cg + g]; }
  if (K > 11u) { w11 = weights[11u * cg + g]; }
  if (K > 12u) { w12 = weights[12u * cg + g]; }
  if (K > 13u) { w13 = weights[13u * cg + g]; }
  if (K > 14u) { w14 = weights[14u * cg + g]; }
  if (K > 15u) { w15 = weights[15u * cg + g]; }

  var acc = Values(0.0);
  var assigned = Lanes(false);
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let dr = p - oh * params.stride_h;
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let cell = Cells(dr * KW + q - ow * params.stride_w);
      let window = ((b * params.out_height + oh) * params.out_width + ow) * cg + g;
      let word0 = ranks[window];
      // Which rank (if any) keeps the cell: each lane has its own; the weight of that rank.
      var kept = (word0 & Cells(15u)) == cell;
      var weight = select(Values(0.0), w0, kept);
      if (K > 1u) { let hit = ((word0 >> Cells(4u)) & Cells(15u)) == cell; weight = select(weight, w1, hit); kept = kept | hit; }
      if (K > 2u) { let hit = ((word0 >> Cells(8u)) & Cells(15u)) == cell; weight = select(weight, w2, hit); kept = kept | hit; }
      if (K > 3u) { let hit = ((word0 >> Cells(12u)) & Cells(15u)) == cell; weight = select(weight, w3, hit); kept = kept | hit; }
      if (K > 4u) { let hit = ((word0 >> Cells(16u)) & Cells(15u)) == cell; weight = select(weight, w4, hit); kept = kept | hit; }
      if (K > 5u) { let hit = ((word0 >> Cells(20u)) & Cells(15u)) == cell; weight = select(weight, w5, hit); kept = kept | hit; }
      if (K > 6u) { let hit = ((word0 >> Cells(24u)) & Cells(15u)) == cell; weight = select(weight, w6, hit); kept = kept | hit; }
      if (K > 7u) { let hit = (word0 >> Cells(28u)) == cell; weight = select(weight, w7, hit); kept = kept | hit; }
      if (K > 8u) {
        let word1 = ranks[params.rank_plane + window];
        var hit = (word1 & Cells(15u)) == cell;
        weight = select(weight, w8, hit);
        kept = kept | hit;
        if (K > 9u) { hit = ((word1 >> Cells(4u)) & Cells(15u)) == cell; weight = select(weight, w9, hit); kept = kept | hit; }
        if (K > 10u) { hit = ((word1 >> Cells(8u)) & Cells(15u)) == cell; weight = select(weight, w10, hit); kept = kept | hit; }
        if (K > 11u) { hit = ((word1 >> Cells(12u)) & Cells(15u)) == cell; weight = select(weight, w11, hit); kept = kept | hit; }
        if (K > 12u) { hit = ((word1 >> Cells(16u)) & Cells(15u)) == cell; weight = select(weight, w12, hit); kept = kept | hit; }
        if (K > 13u) { hit = ((word1 >> Cells(20u)) & Cells(15u)) == cell; weight = select(weight, w13, hit); kept = kept | hit; }
        if (K > 14u) { hit = ((word1 >> Cells(24u)) & Cells(15u)) == cell; weight = select(weight, w14, hit); kept = kept | hit; }
        if (K > 15u) { hit = (word1 >> Cells(28u)) == cell; weight = select(weight, w15, hit); kept = kept | hit; }
      }
      // w[r] * dy, assigned by the first window that keeps the cell and added by later ones.
      let term = weight * dy[params.y_base + window];
      acc = select(acc, select(term, acc + term, assigned), kept);
      assigned = assigned | kept;
    }
  }
  dx[params.x_base + slot] = acc;
}
