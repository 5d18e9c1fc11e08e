#output sort_pool2d_general_ranks.wgsl lanes=1
#output sort_pool2d_general_ranks_vec4.wgsl lanes=4
// sort_pool2d backward for any window, pass 1 of 2: which cells each window keeps, and stage 1 of
//[lanes == 1] dLogits; one channel per invocation (any C;
//[lanes == 1] sort_pool2d_general_ranks_vec4.wgsl is faster when C % 4 == 0).
//[lanes == 4] dLogits; 4 channels per invocation (use when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): every window is ranked exactly as in
// sort_pool2d_general_forward*.wgsl (SPEC.md §4 "Ranking", §3 "Padding"), then
//   ranks: for each window and channel, the window cells (0..KH*KW-1, row-major) of ranks
//          0..K-1, four bits each, rank r in bits 4*(r % 8) of word r / 8 (word 1 only when
//          K > 8). sort_pool2d_general_gather*.wgsl reads them to build dx.
//   partials: stage 1 of the rank sums s[r] = sum over windows of v[r] * dy for r < K, over REAL
//          cells only: a padded cell ranked r < K adds exactly 0 (a select, never 0 * dy, so an
//          infinite or NaN dy does not turn a padded zero into NaN). With weights shared by every
//          channel, one sum per rank; with per-channel weights, one per rank and channel.
//          sort_pool2d_general_dlogits.wgsl finishes them (the sign of a zero sum is not fixed by
//          the spec, so v[r] is rebuilt from its sort key: a -0 may come back as +0 there).
// Why two passes: windows overlap when a stride is below the window size, so a cell may be kept
// by several windows. Scattering w[r] * dy from each window would need atomics (float atomics do
// not exist in WGSL, and their order would not be fixed); instead this pass records the kept
// cells and the gather pass sums, for each input cell, over the windows containing it in a fixed
// order. Results are bitwise identical from run to run.
//
// Work items: one per (image, output row, segment of `segment` output columns, channel group); the
// invocation ranks the segment's windows from left to right, adding each window's v[r] * dy to
// per-lane sums in that order, and writes them once (fewer, larger partials than one per window).
// Partials layout (vec4<f32>, QUADS = ceil(K / 4) of them per group: component j of quad q is rank
//[lanes == 1] 4q + j, 0 past K): item * QUADS + q for shared and per-channel weights alike (one
//[lanes == 1] channel per item; per channel that is (row * C + channel) * QUADS + q, row = item / C).
//[lanes == 4] 4q + j, 0 past K): shared weights: item * QUADS + q, the lanes added in the fixed order
//[lanes == 4] ((x + y) + z) + w; per-channel weights: (item * 4 + lane) * QUADS + q, which is
//[lanes == 4] (row * C + channel) * QUADS + q with row = item / channel_groups.
//
// Bindings (group 0):
//[lanes == 1]   0  x         storage, read        array<f32>        input, NHWC, B*H*W*C floats
//[lanes == 1]   1  dy        storage, read        array<f32>        upstream gradient, B*Ho*Wo*C floats
//[lanes == 1]   2  ranks     storage, read_write  array<u32>        kept cells: word 0 of every window, then
//[lanes == 1]                                                       (K > 8) word 1, rank_plane u32s apart
//[lanes == 4]   0  x         storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//[lanes == 4]   1  dy        storage, read        array<vec4<f32>>  upstream gradient, B*Ho*Wo*C floats
//[lanes == 4]   2  ranks     storage, read_write  array<vec4<u32>>  kept cells: word 0 of every window, then
//[lanes == 4]                                                       (K > 8) word 1, rank_plane vec4s apart
//   3  partials  storage, read_write  array<vec4<f32>>  stage-1 rank sums, see above
//   4  params    uniform              Params: the 64-byte layout of sort_pool2d_general_forward*.wgsl
//[lanes == 1]        height, width, channel_groups (= C), out_height, out_width, stride_h, stride_w,
//[lanes == 4]        height, width, channel_groups (= C / 4), out_height, out_width, stride_h, stride_w,
//        pad_top, pad_left,
//        work_items     B * Ho * segments * channel_groups
//[lanes == 1]        x_base, y_base where this call's x and dy start inside their bindings, in floats (ranks
//[lanes == 4]        x_base, y_base where this call's x and dy start inside their bindings, in vec4s (ranks
//                       and partials start at 0)
//        segment        output columns per work item (>= 1)
//        segments       ceil(Wo / segment)
//[lanes == 1]        rank_plane     B * Ho * Wo * channel_groups: u32s of one word of ranks
//[lanes == 4]        rank_plane     B * Ho * Wo * channel_groups: vec4s of one word of ranks
//        per_channel    1: per-channel weights (partials per channel), 0: shared
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (1..4); K (1..KH*KW).
// Dispatch: as sort_pool2d_general_forward*.wgsl: (gx, gy, 1) workgroups with
//   gx * gy * WORKGROUP_SIZE >= work_items; work item = global_id.x + global_id.y * gx *
//[lanes == 1]   WORKGROUP_SIZE. Then sort_pool2d_general_gather.wgsl and sort_pool2d_general_dlogits.wgsl.
//[lanes == 4]   WORKGROUP_SIZE. Then sort_pool2d_general_gather_vec4.wgsl and sort_pool2d_general_dlogits.wgsl.
//
//[lanes == 1] This file and sort_pool2d_general_ranks_vec4.wgsl (4 channels per invocation) differ only in
//[lanes == 4] This file and sort_pool2d_general_ranks.wgsl (one channel per invocation, any C) differ only in
// this header and in the variant block below.

// ---- variant block ----
#include "shared/lane_type.wgsl" name=Values scalar=f32
#include "shared/lane_type.wgsl" name=Keys scalar=i32
#include "shared/lane_type.wgsl" name=Cells scalar=u32
#include "shared/lane_type.wgsl" name=Lanes scalar=bool

// Channels per invocation.
const LANES: u32 = {{lanes}}u;

//[lanes == 1] The lanes' sum: one lane.
//[lanes == 4] The lanes' sum in a fixed order.
#include "shared/lane_sum.wgsl"

//[lanes == 1] Lane l (always 0) of v.
//[lanes == 4] Lane l of v.
fn lane(v: Values, l: u32) -> f32 {
#if lanes == 1
  return v;
#else
  return v[l];
#endif
}
// ---- end of variant block ----

#include "shared/params.wgsl" layout=general_backward

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<storage, read> dy: array<Values>;
@group(0) @binding(2) var<storage, read_write> ranks: array<Cells>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> params: Params;

#include "shared/window_constants.wgsl"
// vec4s of partial sums per group: ranks 4q .. 4q + 3 in quad q.
override QUADS: u32 = (K + 3u) / 4u;

#include "shared/excluded_key.wgsl" window=general
// Added to the cell number of a padded cell: real cells are < PADDED.
const PADDED: u32 = 16u;

#include "shared/sort_key.wgsl" value=Values key=Keys

// The value of a sort key (a NaN for the NaN key; +0 for a zero of either sign).
fn key_value(key: Keys) -> Values {
  return bitcast<Values>(select(key, (-key) | Keys(EXCLUDED_KEY), key < Keys(0)));
}

#include "shared/ranked.wgsl" payload=cell

// v[r] * dy of a kept entry, exactly 0 for a padded cell.
fn rank_term(t: Ranked, grad: Values) -> Values {
  return select(Values(0.0), key_value(t.key) * grad, t.cell < Cells(PADDED));
}

// The window cell of a kept entry shifted into its four bits of a ranks word.
fn packed(t: Ranked, r: u32) -> Cells {
  return (t.cell & Cells(15u)) << Cells(4u * (r % 8u));
}

// Writes quad q of this work item's partial sums (ranks 4q .. 4q + 3: a, b, c, d).
fn write_quad(item: u32, q: u32, a: Values, b: Values, c: Values, d: Values) {
  if (params.per_channel == 0u) {
    partials[item * QUADS + q] = vec4<f32>(lane_sum(a), lane_sum(b), lane_sum(c), lane_sum(d));
  } else {
    for (var l = 0u; l < LANES; l++) {
      partials[(item * LANES + l) * QUADS + q] = vec4<f32>(lane(a, l), lane(b, l), lane(c, l), lane(d, l));
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  #include "shared/work_item.wgsl" item=item count=params.work_items
  ## item = ((b * out_height + oh) * segments + seg) * cg + g, one segment of one output row.
  #include "shared/split_item.wgsl" groups=cg item=item line=run rest=row column=seg row=oh columns=params.segments rows=params.out_height
  let top = i32(oh * params.stride_h) - i32(params.pad_top);
  let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), K > 1u);
  let first_ow = seg * params.segment;
  let end_ow = min(first_ow + params.segment, params.out_width);

  // Rank sums of this item, per lane, windows added left to right.
  var s0 = Values(0.0); var s1 = Values(0.0); var s2 = Values(0.0); var s3 = Values(0.0);
  var s4 = Values(0.0); var s5 = Values(0.0); var s6 = Values(0.0); var s7 = Values(0.0);
  var s8 = Values(0.0); var s9 = Values(0.0); var s10 = Values(0.0); var s11 = Values(0.0);
  var s12 = Values(0.0); var s13 = Values(0.0); var s14 = Values(0.0); var s15 = Values(0.0);

  for (var ow = first_ow; ow < end_ow; ow++) {
    let left = i32(ow * params.stride_w) - i32(params.pad_left);
    #include "shared/select_window.wgsl" payload=cell row=in_row groups=cg

    let window = (row * params.out_width + ow) * cg + g;
    let grad = dy[params.y_base + window];
    var word0 = packed(t0, 0u);
    s0 += rank_term(t0, grad);
    if (K > 1u) { word0 |= packed(t1, 1u); s1 += rank_term(t1, grad); }
    if (K > 2u) { word0 |= packed(t2, 2u); s2 += rank_term(t2, grad); }
    if (K > 3u) { word0 |= packed(t3, 3u); s3 += rank_term(t3, grad); }
    if (K > 4u) { word0 |= packed(t4, 4u); s4 += rank_term(t4, grad); }
    if (K > 5u) { word0 |= packed(t5, 5u); s5 += rank_term(t5, grad); }
    if (K > 6u) { word0 |= packed(t6, 6u); s6 += rank_term(t6, grad); }
    if (K > 7u) { word0 |= packed(t7, 7u); s7 += rank_term(t7, grad); }
    ranks[window] = word0;
    if (K > 8u) {
      var word1 = packed(t8, 8u);
      s8 += rank_term(t8, grad);
      if (K > 9u) { word1 |= packed(t9, 9u); s9 += rank_term(t9, grad); }
      if (K > 10u) { word1 |= packed(t10, 10u); s10 += rank_term(t10, grad); }
      if (K > 11u) { word1 |= packed(t11, 11u); s11 += rank_term(t11, grad); }
      if (K > 12u) { word1 |= packed(t12, 12u); s12 += rank_term(t12, grad); }
      if (K > 13u) { word1 |= packed(t13, 13u); s13 += rank_term(t13, grad); }
      if (K > 14u) { word1 |= packed(t14, 14u); s14 += rank_term(t14, grad); }
      if (K > 15u) { word1 |= packed(t15, 15u); s15 += rank_term(t15, grad); }
      ranks[params.rank_plane + window] = word1;
    }
  }

  write_quad(item, 0u, s0, s1, s2, s3);
  if (K > 4u) { write_quad(item, 1u, s4, s5, s6, s7); }
  if (K > 8u) { write_quad(item, 2u, s8, s9, s10, s11); }
  if (K > 12u) { write_quad(item, 3u, s12, s13, s14, s15); }
}
