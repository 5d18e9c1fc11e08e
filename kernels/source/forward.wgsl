#output sort_pool2d_forward.wgsl lanes=1
#output sort_pool2d_forward_vec4.wgsl lanes=4
//[lanes == 1] sort_pool2d forward, one channel per invocation (any C; sort_pool2d_forward_vec4.wgsl is faster
//[lanes == 1] when C % 4 == 0).
//[lanes == 4] sort_pool2d forward, 4 channels per invocation (use when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): for every 2x2 window (stride 2, NHWC,
// SPEC.md §2 "Windows") and channel,
//   y = w[0] * v[0] + w[1] * v[1] + ... + w[k-1] * v[k-1]   (in this order)
// where v[r] is the value of rank r and w = softmax(logits) (SPEC.md §5 "Weights": written by
// sort_pool2d_weights.wgsl, or by the host). Ranks follow SPEC.md §4 "Ranking" (src/spec.ts
// ranksBefore): NaN first (several NaNs by cell), then larger values, equal values (+0 == -0) by
// window cell, lower first; cells are row-major
// (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right). SPEC.md §3 "Padding": a cell past the
// bottom row / right column is a zero-valued participant when k > 1 and takes no part when k = 1.
//
// How: only values are needed, not which cell ranks where (the backward kernels track cells).
// Without NaN, float comparison is the spec's value order (-0 == +0), so the 5-comparator
// network of src/spec.ts SORTING_NETWORK, (0,1) (2,3) (0,2) (1,3) (1,2), moves the values
// themselves with float compares and selects, and its own swap history settles equal values by
// cell (see main). A window with a NaN has a NaN of rank 0, so its y is NaN whatever the other
// ranks: each compare-exchange also moves a NaN (found from its bit pattern) up, which brings one
// to rank 0, and the sum propagates it. The output of every input is bitwise the one the earlier
// cell-tracking version of this kernel gave (NaN payloads aside when several NaNs meet: which one
// survives is up to the network and the compiler). The window's position comes from the work
// item by float division made exact (see divide, divide_small): CPU adapters run integer
// division lane by lane. Speed on CPU adapters (llvmpipe, lavapipe: every storage access is a
// loop over lanes, both sides of every branch run) is why the host specialises this kernel with
// the constants below and picks a larger workgroup (src/webgpu/pool2x2.ts).
//
// Bindings (group 0):
//[lanes == 1]   0  x        storage, read        array<f32>        input, NHWC, B*H*W*C floats
//[lanes == 4]   0  x        storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//   1  weights  uniform              vec4<f32>         softmax(logits), 0 past k
//[lanes == 1]   2  y        storage, read_write  array<f32>        output, NHWC, B*Ho*Wo*C floats
//[lanes == 4]   2  y        storage, read_write  array<vec4<f32>>  output, NHWC, B*Ho*Wo*C floats
//   3  params   uniform              Params (32 bytes, eight u32, in this order):
//        height, width          H, W of x
//[lanes == 1]        channel_groups         C (floats per pixel)
//[lanes == 4]        channel_groups         C / 4 (vec4s per pixel)
//        out_height, out_width  Ho, Wo of y ("same": ceil(H/2), ceil(W/2); "valid": floor)
//        k                      1..4 (this kernel reads the constant K instead)
//        work_items             B * Ho * Wo * channel_groups / GROUPS_PER_INVOCATION
//        unused                 write 0
// Override constants: WORKGROUP_SIZE (default 64; the host uses 256); GROUPS_PER_INVOCATION (1 or 2, default 1;
//[lanes == 1]   2 needs an even channel_groups): each invocation writes that many consecutive output floats;
//[lanes == 4]   2 needs an even channel_groups): each invocation writes that many consecutive output vec4s;
//   K (default 4): k, the same as params.k. A pipeline per k lets the compiler drop the ranks
//   and products that k leaves out (CPU adapters run both sides of a branch); FULL_WINDOWS
//   (default false): true only when every window lies inside x ("valid", or even H and W), which
//   drops the border tests and selects; FEW_ITEMS (default false): true only when work_items
//   <= 2^20, which lets one rounding step divide (see divide_small).
// Dispatch: after sort_pool2d_weights.wgsl, workgroups (gx, gy, 1) with
//   gx * gy * WORKGROUP_SIZE >= work_items; the work item of an invocation is
//   global_id.x + global_id.y * gx * WORKGROUP_SIZE, so a host splits a count above
//   maxComputeWorkgroupsPerDimension into a 2-D grid. Items past work_items do nothing.
//
//[lanes == 1] This file and sort_pool2d_forward_vec4.wgsl (4 channels per invocation) differ only in this
//[lanes == 4] This file and sort_pool2d_forward.wgsl (one channel per invocation, any C) differ only in this
// header and in the variant block below.

// ---- variant block ----
#include "shared/lane_type.wgsl" name=Values scalar=f32
#include "shared/lane_type.wgsl" name=Bits scalar=i32
#include "shared/lane_type.wgsl" name=Lanes scalar=bool
// ---- end of variant block ----

#include "shared/params.wgsl" layout=2x2

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<uniform> weights: vec4<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<Values>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
// Channel groups each invocation handles, 1 or 2; must divide channel_groups. Two amortise the
// index arithmetic (more were slower on llvmpipe: 4 and 8 measured below 2).
override GROUPS_PER_INVOCATION: u32 = 1u;
// Ranks kept, 1..4: params.k of the call (the host always sets it).
override K: u32 = 4u;
// Every window lies inside x: no cell is padding.
override FULL_WINDOWS: bool = false;
// work_items <= 2^20: slot indices divide in one step (divide_small).
override FEW_ITEMS: bool = false;

#include "shared/is_nan.wgsl" value=Values mask=Lanes

#include "shared/swap_where.wgsl" entry=Values

// Compare-exchange moving the larger value to slot a; equal values (+0 == -0) stay; a NaN in b
// moves up too, so a window's NaN (if any) reaches rank 0 (when both are NaN they swap: which
// NaN leads only picks the payload of a NaN y). Returns where it swapped. The NaN test also keeps
// GLSL compilers from rewriting compare-and-select as fmax/fmin, which may order -0 and +0 either
// way.
fn exchange(a: ptr<function, Values>, b: ptr<function, Values>) -> Lanes {
  let swap = (*b > *a) | is_nan(*b);
  swap_where(a, b, swap);
  return swap;
}

#include "shared/exact_division.wgsl"

// floor(slot / d) for the slot arithmetic of main: in one step when FEW_ITEMS (the slot and
// every divisor of main are below work_items; a constant, so the other branch is compiled out).
fn divide_slot(slot: u32, d: u32) -> u32 {
  let inverse = 1.0 / f32(i32(d));
  if (FEW_ITEMS) {
    return divide_small(slot, inverse);
  }
  return divide(slot, d, inverse);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  #include "shared/work_item.wgsl" item=slot count=params.work_items
  // Window, output row (b * out_height + oh) and image of the work item: three independent
  // divisions of the slot (floor(floor(a / m) / n) = floor(a / (m * n))).
  let slots_per_window = params.channel_groups / GROUPS_PER_INVOCATION;
  let slots_per_row = slots_per_window * params.out_width;
  let slots_per_image = slots_per_row * params.out_height;
  let window = divide_slot(slot, slots_per_window);
  let rest = divide_slot(slot, slots_per_row);
  let b = divide_slot(slot, slots_per_image);
  let first_group = (slot - window * slots_per_window) * GROUPS_PER_INVOCATION;
  let ow = window - rest * params.out_width;
  let oh = rest - b * params.out_height;
  let w = weights;

  // The window's cells (SPEC.md §3): cell 0 always lies inside x; a cell past the right column or
  // the bottom row reads cell 0's element instead (a step of 0). For k = 1 that copy of cell 0
  // takes no part, as the spec asks: it ties with cell 0 and ranks after it. For k > 1 it becomes
  // the zero-valued participant.
  let row = 2u * oh;
  let col = 2u * ow;
  let has_right = FULL_WINDOWS || col + 1u < params.width;
  let has_below = FULL_WINDOWS || row + 1u < params.height;
  let zeros = K > 1u;
  let right = select(0u, params.channel_groups, has_right);
  let below = select(0u, params.width * params.channel_groups, has_below);
  let top_left = ((b * params.height + row) * params.width + col) * params.channel_groups + first_group;

  for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {
    let v0 = x[top_left + j];
    let v1 = select(x[top_left + j + right], Values(0.0), zeros && !has_right);
    let v2 = select(x[top_left + j + below], Values(0.0), zeros && !has_below);
    let v3 = select(x[top_left + j + right + below], Values(0.0), zeros && !(has_right && has_below));
    var s0 = v0;
    var s1 = v1;
    var s2 = v2;
    var s3 = v3;
    // The 5-comparator network of src/spec.ts SORTING_NETWORK. Equal values must keep the lower
    // cell first. The first four compare-exchanges hold the lower cell in their first slot (slots
    // 0, 1 hold cells 0, 1 and slots 2, 3 hold cells 2, 3 until (1,2)), so "swap on a strictly
    // greater value" keeps it. At (1,2) slot 1 holds the larger of the pairs' seconds, slot 2 the
    // smaller of their firsts: slot 1's cell is the lower one exactly when slot 1 still holds
    // cell 0 or 1 and slot 2 still holds cell 2 or 3, i.e. when neither (0,2) nor (1,3) swapped.
    // So on equal values (1,2) swaps when one of them did (src/webgpu/forward_bits.test.ts runs
    // every pattern of ties).
    exchange(&s0, &s1);
    exchange(&s2, &s3);
    let crossed = exchange(&s0, &s2) | exchange(&s1, &s3);
    swap_where(&s1, &s2, select(s2 > s1, s2 >= s1, crossed));

    // Ranks r >= k are left out, not weighted by 0: 0 * Inf would be NaN. The sum starts from the
    // first product, not from +0 (SPEC.md §5): a zero y keeps IEEE's sign (-0 exactly when every
    // product is -0), and k = 1 with w = [1] returns the rank-0 value itself.
    var acc = w.x * s0;
    if (K > 1u) {
      acc += w.y * s1;
    }
    if (K > 2u) {
      acc += w.z * s2;
    }
    if (K > 3u) {
      acc += w.w * s3;
    }
    y[window * params.channel_groups + first_group + j] = acc;
  }
}
