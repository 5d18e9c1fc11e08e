// generated from kernels/source/general_dlogits.wgsl by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward for any window, stage 2 of dLogits: adds the stage-1 rank sums of
// sort_pool2d_general_ranks*.wgsl per weight group in a fixed order, then applies the softmax VJP;
// one workgroup per group (one group for weights shared by every channel, C for per-channel ones).
//
// What it computes (SPEC.md §5 "Gradient"): for each group (channel c's k logits, or the one
// shared set), s[r] = the sum of its partials, then with w that group's rank weights
//   dLogits[group * k + j] = w[j] * (s[j] - sum_{r < k} w[r] * s[r])   for j < k, when k > 1
// (src/spec.ts softmaxVjp; the dot product in rank order), so one non-finite s[r] makes that
// group's every element non-finite; and exactly +0 for k = 1 (src/spec.ts logitsGradient: one
// logit is no free weight, and 1 * (s - s) would be NaN for a non-finite s).
// A call split into chunks (src/webgpu/general_windows.ts), or whose terms per group are more
// than one invocation may loop over (the host's loop budget, src/webgpu/chunks.ts: Mesa's CPU
// adapters silently cut an invocation's loops short past 65,535 iterations in all), sums its
// terms in blocks: it runs this kernel in "store" mode over each block after its chunk's stage 1
// (the block's terms bound at an offset of `partials`): the first block writes its sums, each
// later one adds its own to them (in block order, so the order stays fixed, and the running sums
// take one slot per group whatever the number of blocks); then once in "finish" mode over those
// running sums.
// Order of additions, fixed (so results are bitwise identical from run to run, no float
// atomics): term n of the group is partials[n * term_stride + group * quads + q]; invocation i
// adds terms i, i + WORKGROUP_SIZE, i + 2 * WORKGROUP_SIZE, ... in that order, then the workgroup
// adds those by a fixed binary tree in workgroup memory, one quad (4 ranks) at a time.
//
// Bindings (group 0):
//   0  partials  storage, read        array<vec4<f32>>  stage-1 sums (component j of quad q: rank 4q + j)
//   1  weights   storage, read        array<f32>        rank weights, a k x channels table:
//                                                       weights[r * channels + c]
//   2  out       storage, read_write  array<f32>        finish: dLogits, groups * k floats;
//                                                       store: running sums, quads vec4s per group
//   3  params    uniform              Params (32 bytes, eight u32, in this order):
//        count        terms per group (stage-1 items or rows of one block, or 1 over the running sums)
//        term_stride  vec4s between consecutive terms of a group
//        groups       workgroups doing work: 1 (shared weights) or C (per channel)
//        k            1..16
//        channels     columns of the weights table (C)
//        finish       1: write dLogits; 0: store the sums (quads vec4s per group)
//        accumulate   store mode: 0 writes the sums (first block), 1 adds them to those in `out`
//        quads        ceil(k / 4)
// Override constant: WORKGROUP_SIZE (default 64, a power of two).
// Dispatch: (gx, gy, 1) workgroups with gx * gy >= groups; group = workgroup_id.x +
//   workgroup_id.y * gx. After stage 1 (and, in finish mode over running sums, after every block).

struct Params {
  count: u32,
  term_stride: u32,
  groups: u32,
  k: u32,
  channels: u32,
  finish: u32,
  accumulate: u32,
  quads: u32,
}

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;

var<workgroup> scratch: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> totals: array<vec4<f32>, 4>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // Uniform across the workgroup, so the early exit keeps barriers in uniform control flow.
  let group = wid.x + wid.y * groups.x;
  if (group >= params.groups) {
    return;
  }
  for (var q = 0u; q < params.quads; q++) {
    var acc = vec4<f32>(0.0);
    for (var n = lid; n < params.count; n += WORKGROUP_SIZE) {
      acc += partials[n * params.term_stride + group * params.quads + q];
    }
    scratch[lid] = acc;
    workgroupBarrier();
    for (var half = WORKGROUP_SIZE / 2u; half > 0u; half = half / 2u) {
      if (lid < half) {
        scratch[lid] = scratch[lid] + scratch[lid + half];
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      totals[q] = scratch[0];
    }
    workgroupBarrier();
  }
  if (lid != 0u) {
    return;
  }
  if (params.finish == 0u) {
    let add = params.accumulate == 1u;
    for (var q = 0u; q < params.quads; q++) {
      let at = (group * params.quads + q) * 4u;
      let t = totals[q];
      out[at] = select(t.x, out[at] + t.x, add);
      out[at + 1u] = select(t.y, out[at + 1u] + t.y, add);
      out[at + 2u] = select(t.z, out[at + 2u] + t.z, add);
      out[at + 3u] = select(t.w, out[at + 3u] + t.w, add);
    }
    return;
  }
  let k = params.k;
  // Shared weights: column 0 of the table (every column holds them); per channel: the group's.
  let column = select(group, 0u, params.groups == 1u);
  if (k == 1u) {
    out[group] = 0.0;
    return;
  }
  var dot = 0.0;
  for (var r = 0u; r < k; r++) {
    dot += weights[r * params.channels + column] * totals[r / 4u][r % 4u];
  }
  for (var j = 0u; j < k; j++) {
    out[group * k + j] = weights[j * params.channels + column] * (totals[j / 4u][j % 4u] - dot);
  }
}
