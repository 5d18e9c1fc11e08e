// generated from kernels/source/general_forward.wgsl (lanes = 4) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d forward for any window, 4 channels per invocation (use when C % 4 == 0).
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
//   0  x        storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//   1  weights  storage, read        array<vec4<f32>>  rank weights, a K x C table: weights[r * (C/4) + g]
//                                                      holds w[r] of channels 4g..4g+3
//   2  y        storage, read_write  array<vec4<f32>>  output, NHWC, B*Ho*Wo*C floats
//   3  params   uniform              Params (64 bytes, sixteen u32, in this order):
//        height, width          H, W of x
//        channel_groups         C / 4 (vec4s per pixel)
//        out_height, out_width  Ho, Wo of y (SPEC.md §3)
//        stride_h, stride_w     window strides
//        pad_top, pad_left      padded rows above and columns left of x (TensorFlow's floor(total / 2))
//        work_items             B * Ho * Wo * channel_groups (one output vec4 each)
//        x_base, y_base         where this call's x and y start inside their bindings, in vec4s
//        unused0..unused3       not read here (sort_pool2d_general_ranks*.wgsl reads them); write 0
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (window rows and columns, 1..4);
//   K (kept ranks, 1..KH*KW).
// Dispatch: workgroups (gx, gy, 1) with gx * gy * WORKGROUP_SIZE >= work_items; the work item of
//   an invocation is global_id.x + global_id.y * gx * WORKGROUP_SIZE (a 2-D grid past
//   maxComputeWorkgroupsPerDimension). Items past work_items do nothing.
//
// This file and sort_pool2d_general_forward.wgsl (one channel per invocation, any C) differ only
// in this header and in the variant block below.

// ---- variant block ----
alias Values = vec4<f32>;
alias Keys = vec4<i32>;
// ---- end of variant block ----

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  work_items: u32,
  x_base: u32,
  y_base: u32,
  unused0: u32,
  unused1: u32,
  unused2: u32,
  unused3: u32,
}

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<storage, read> weights: array<Values>;
@group(0) @binding(2) var<storage, read_write> y: array<Values>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override K: u32 = 1u;

// The key of a padded cell when K = 1 (it takes no part), and of a rank not yet filled: below
// every real value's key (-Inf is -0x7f800000), so it never ranks first.
const EXCLUDED_KEY: i32 = -2147483647 - 1;

// Signed keys whose order is the spec's value order: -m for negative floats, m otherwise (m the
// magnitude bits, so -0 and +0 both map to 0), and one key above +Inf for every NaN.
fn sort_key(v: Values) -> Keys {
  let bits = bitcast<Keys>(v);
  let magnitude = bits & Keys(0x7fffffff);
  let ordered = select(magnitude, -magnitude, bits < Keys(0));
  return select(ordered, Keys(0x7fffffff), magnitude > Keys(0x7f800000));
}

// A kept entry: sort key and value.
struct Ranked {
  key: Keys,
  value: Values,
}

// Kept entry r after cell `e` was offered: unchanged where e does not rank before it, the entry
// of rank r - 1 (`above`, still the old one) where e ranks before that too, else e itself.
fn offer(current: Ranked, above: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  let shift = e.key > above.key;
  return Ranked(
    select(current.key, select(e.key, above.key, shift), here),
    select(current.value, select(e.value, above.value, shift), here),
  );
}

// Rank 0 after cell `e` was offered.
fn offer_first(current: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  return Ranked(select(current.key, e.key, here), select(current.value, e.value, here));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot >= params.work_items) {
    return;
  }
  let window = slot / params.channel_groups;
  let g = slot - window * params.channel_groups;
  let rest = window / params.out_width;
  let ow = window - rest * params.out_width;
  let b = rest / params.out_height;
  let oh = rest - b * params.out_height;
  let top = i32(oh * params.stride_h) - i32(params.pad_top);
  let left = i32(ow * params.stride_w) - i32(params.pad_left);
  let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), K > 1u);

  // The K best entries so far, rank 0 first, in named registers (t0 .. t15; the `K > r` tests
  // are pipeline constants, so a pipeline keeps only its K of them). Not yet filled: EXCLUDED_KEY.
  let empty = Ranked(Keys(EXCLUDED_KEY), Values(0.0));
  var t0 = empty; var t1 = empty; var t2 = empty; var t3 = empty;
  var t4 = empty; var t5 = empty; var t6 = empty; var t7 = empty;
  var t8 = empty; var t9 = empty; var t10 = empty; var t11 = empty;
  var t12 = empty; var t13 = empty; var t14 = empty; var t15 = empty;

  for (var dr = 0u; dr < KH; dr++) {
    let row = top + i32(dr);
    let row_inside = row >= 0 && row < i32(params.height);
    let row_start = (b * params.height + u32(row)) * params.width;
    for (var dc = 0u; dc < KW; dc++) {
      let col = left + i32(dc);
      let inside = row_inside && col >= 0 && col < i32(params.width);
      // Branch-free: a padded cell reads element 0 and discards it.
      let index = select(0u, (row_start + u32(col)) * params.channel_groups + g, inside);
      let value = select(Values(0.0), x[params.x_base + index], inside);
      let e = Ranked(select(padded_key, sort_key(value), inside), value);
      // From the last rank up, so that entry r - 1 is still the old one when entry r takes it.
      if (K > 15u) { t15 = offer(t15, t14, e); }
      if (K > 14u) { t14 = offer(t14, t13, e); }
      if (K > 13u) { t13 = offer(t13, t12, e); }
      if (K > 12u) { t12 = offer(t12, t11, e); }
      if (K > 11u) { t11 = offer(t11, t10, e); }
      if (K > 10u) { t10 = offer(t10, t9, e); }
      if (K > 9u) { t9 = offer(t9, t8, e); }
      if (K > 8u) { t8 = offer(t8, t7, e); }
      if (K > 7u) { t7 = offer(t7, t6, e); }
      if (K > 6u) { t6 = offer(t6, t5, e); }
      if (K > 5u) { t5 = offer(t5, t4, e); }
      if (K > 4u) { t4 = offer(t4, t3, e); }
      if (K > 3u) { t3 = offer(t3, t2, e); }
      if (K > 2u) { t2 = offer(t2, t1, e); }
      if (K > 1u) { t1 = offer(t1, t0, e); }
      t0 = offer_first(t0, e);
    }
  }

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
