#output sort_pool2d_dlogits.wgsl
// sort_pool2d backward, stage 2 of dLogits: one workgroup finishes the rank sums and applies the
// softmax VJP.
//
// What it computes (SPEC.md §5 "Forward and gradient"): s[r] = sum of the partial sums written
// by sort_pool2d_backward*.wgsl (stage 1, one per work item), then, with w = softmax(logits) from
// sort_pool2d_weights.wgsl,
//   dLogits[j] = w[j] * (s[j] - sum_{r < k} w[r] * s[r])   for j < k, when k > 1
// (src/spec.ts softmaxVjp; the sum over r in order r = 0, 1, ...), so one non-finite s[r]
// makes every element non-finite; and dLogits = [0] exactly for k = 1 (one logit is no free
// weight: 1 * (s - s) would be NaN for a non-finite s), src/spec.ts logitsGradient. Invocation i adds partials
// i, i + WORKGROUP_SIZE, i + 2 * WORKGROUP_SIZE, ... in that order, then the workgroup adds
// those by a fixed binary tree in workgroup memory: the order of every addition is fixed, so the
// result is bitwise identical from run to run (no float atomics).
//
// Bindings (group 0):
//   0  partials   storage, read        array<vec4<f32>>  stage-1 sums, component r = rank r
//   1  weights    uniform              vec4<f32>         softmax(logits), 0 past k
//   2  d_logits   storage, read_write  array<f32>        dL/dlogits, k floats
//   3  params     uniform              Params (8 bytes, two u32, in this order):
//        partial_count   how many partials to add: the stage-1 work_items, or, for a call whose
//                        partials the host sums in blocks (split calls, and more partials than
//                        one invocation may loop over: src/webgpu/chunks.ts), the block sums of
//                        sort_pool2d_partial_sums.wgsl
//        k               1..4
// Override constant: WORKGROUP_SIZE (default 256, a power of two).
// Dispatch: exactly one workgroup, (1, 1, 1), after the stage-1 kernel.

struct Params {
  partial_count: u32,
  k: u32,
}

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> weights: vec4<f32>;
@group(0) @binding(2) var<storage, read_write> d_logits: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 256u;

var<workgroup> sums: array<vec4<f32>, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  #include "shared/workgroup_sum.wgsl" scratch=sums n=i count=params.partial_count term=i
  if (lid == 0u && params.k == 1u) {
    d_logits[0] = 0.0;
  } else if (lid == 0u) {
    let s = sums[0];
    let w = weights;
    var dot = 0.0;
    for (var r = 0u; r < params.k; r++) {
      dot += w[r] * s[r];
    }
    for (var j = 0u; j < params.k; j++) {
      d_logits[j] = w[j] * (s[j] - dot);
    }
  }
}
