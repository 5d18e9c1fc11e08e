#output sort_pool2d_general_forward.wgsl lanes=1
#output sort_pool2d_general_forward_vec4.wgsl lanes=4
//[lanes == 1] sort_pool2d forward for any window, one channel per invocation (any C;
//[lanes == 1] sort_pool2d_general_forward_vec4.wgsl is faster when C % 4 == 0).
//[lanes == 4] sort_pool2d forward for any window, 4 channels per invocation (use when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): for every KH x KW window (strides
// stride_h, stride_w; TensorFlow's "same"/"valid" padding, SPEC.md §2 "Windows", §3 "Padding")
// and channel c,
//   y = w[0] * v[0] + w[1] * v[1] + ... + w[K-1] * v[K-1]   (in this order)
// where v[r] is the value of rank r (SPEC.md §4 "Ranking", src/spec.ts ranksBefore: NaN first,
// then larger values, equal values (+0 == -0) by window cell, lower first; cells row-major over
// the window) and w the rank weights of channel c (SPEC.md §5 "Weights"). A cell in the padding
// is a zero-valued participant when K > 1 and takes no part when K = 1.
// The 2x2 / stride 2 windows with weights shared by every channel have their own kernels
// (sort_pool2d_forward_vec4.wgsl); this one serves every other window and per-channel weights.
//
// How: a selection network sized to the window. The invocation keeps its K best entries
// (integer sort key, value) in rank order and offers them the window's cells one by one in cell
// order. A cell goes in before every kept entry whose key is STRICTLY lower; on equal keys it
// stays behind, because every kept entry comes from an earlier cell: so the order is the spec's
// (key descending, then cell ascending) without comparing cells. Keys are integers built from the
// bits (see sort_key), never float comparisons: NaN is found from its bit pattern (compilers that
// assume no NaN may fold `x != x` away), and +0 and -0 get the same key but keep their own value,
// so the sign of a zero y is the spec's. Ranks >= K are dropped as soon as they fall off the end:
// the network is K compare-exchanges per cell, K * KH * KW in all. The kept entries are sixteen
// named variables, not an array: the `K > r` guards are pipeline constants, so a pipeline keeps
// only its K of them in registers, where an array indexed in a loop went to memory on the CPU
// adapters this project measures on and ran 5 to 15 times slower.
//
// Bindings (group 0):
//[lanes == 1]   0  x        storage, read        array<f32>        input, NHWC, B*H*W*C floats
//[lanes == 1]   1  weights  storage, read        array<f32>        rank weights, a K x C table: weights[r * C + c]
//[lanes == 1]                                                      holds w[r] of channel c
//[lanes == 1]   2  y        storage, read_write  array<f32>        output, NHWC, B*Ho*Wo*C floats
//[lanes == 4]   0  x        storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//[lanes == 4]   1  weights  storage, read        array<vec4<f32>>  rank weights, a K x C table: weights[r * (C/4) + g]
//[lanes == 4]                                                      holds w[r] of channels 4g..4g+3
//[lanes == 4]   2  y        storage, read_write  array<vec4<f32>>  output, NHWC, B*Ho*Wo*C floats
//   3  params   uniform              Params (64 bytes, sixteen u32, in this order):
//        height, width          H, W of x
//[lanes == 1]        channel_groups         C (floats per pixel)
//[lanes == 4]        channel_groups         C / 4 (vec4s per pixel)
//        out_height, out_width  Ho, Wo of y (SPEC.md §3)
//        stride_h, stride_w     window strides
//        pad_top, pad_left      padded rows above and columns left of x (TensorFlow's floor(total / 2))
//[lanes == 1]        work_items             B * Ho * Wo * channel_groups (one output float each)
//[lanes == 1]        x_base, y_base         where this call's x and y start inside their bindings, in floats
//[lanes == 4]        work_items             B * Ho * Wo * channel_groups (one output vec4 each)
//[lanes == 4]        x_base, y_base         where this call's x and y start inside their bindings, in vec4s
//        unused0..unused3       not read here (sort_pool2d_general_ranks*.wgsl reads them); write 0
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (window rows and columns, 1..4);
//   K (kept ranks, 1..KH*KW).
// Dispatch: workgroups (gx, gy, 1) with gx * gy * WORKGROUP_SIZE >= work_items; the work item of
//   an invocation is global_id.x + global_id.y * gx * WORKGROUP_SIZE (a 2-D grid past
//   maxComputeWorkgroupsPerDimension). Items past work_items do nothing.
//
//[lanes == 1] This file and sort_pool2d_general_forward_vec4.wgsl (4 channels per invocation) differ only
//[lanes == 4] This file and sort_pool2d_general_forward.wgsl (one channel per invocation, any C) differ only
// in this header and in the variant block below.

// ---- variant block ----
#include "shared/lane_type.wgsl" name=Values scalar=f32
#include "shared/lane_type.wgsl" name=Keys scalar=i32
// ---- end of variant block ----

#include "shared/params.wgsl" layout=general_forward

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<storage, read> weights: array<Values>;
@group(0) @binding(2) var<storage, read_write> y: array<Values>;
@group(0) @binding(3) var<uniform> params: Params;

#include "shared/window_constants.wgsl"

#include "shared/excluded_key.wgsl" window=general

#include "shared/sort_key.wgsl" value=Values key=Keys

#include "shared/ranked.wgsl" payload=value

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  #include "shared/work_item.wgsl" item=slot count=params.work_items
  #include "shared/split_item.wgsl" groups=params.channel_groups item=slot line=window rest=rest column=ow row=oh columns=params.out_width rows=params.out_height
  let top = i32(oh * params.stride_h) - i32(params.pad_top);
  let left = i32(ow * params.stride_w) - i32(params.pad_left);
  let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), K > 1u);

  #include "shared/select_window.wgsl" payload=value row=row groups=params.channel_groups

  // The sum starts from the first product, not from +0 (SPEC.md §5): a zero y keeps IEEE's sign
  // and K = 1 with w = [1] returns the rank-0 value itself. Ranks >= K are left out, not weighted
  // by 0 (0 * Inf would be NaN).
  let cg = params.channel_groups;
  var acc = weights[g] * t0.value;
  if (K > 1u) { acc += weights[cg + g] * t1.value; }
  if (K > 2u) { acc += weights[2u * cg + g] * t2.value; }
  if (K > 3u) { acc += weights[3u * cg + g] * t3.value; }
  if (K > 4u) { acc += weights[4u * cg + g] * t4.value; }
  if (K > 5u) { acc += weights[5u * cg + g] * t5.value; }
  if (K > 6u) { acc += weights[6u * cg + g] * t6.value; }
  if (K > 7u) { acc += weights[7u * cg + g] * t7.value; }
  if (K > 8u) { acc += weights[8u * cg + g] * t8.value; }
  if (K > 9u) { acc += weights[9u * cg + g] * t9.value; }
  if (K > 10u) { acc += weights[10u * cg + g] * t10.value; }
  if (K > 11u) { acc += weights[11u * cg + g] * t11.value; }
  if (K > 12u) { acc += weights[12u * cg + g] * t12.value; }
  if (K > 13u) { acc += weights[13u * cg + g] * t13.value; }
  if (K > 14u) { acc += weights[14u * cg + g] * t14.value; }
  if (K > 15u) { acc += weights[15u * cg + g] * t15.value; }
  y[params.y_base + window * params.channel_groups + g] = acc;
}
