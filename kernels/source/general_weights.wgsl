#output sort_pool2d_general_weights.wgsl
// sort_pool2d rank weights for the general kernels (any window, or per-channel logits):
// w = softmax(logits), evaluated as its limit, computed once per call (one invocation per
// weights-table column), for the general window and dLogits kernels to read. The 2x2 / stride 2
// kernels with shared logits read the vec4 of sort_pool2d_weights.wgsl instead, whose arithmetic
// (and so whose bits) this project keeps unchanged.
//
// What it computes (SPEC.md §5 "Weights", src/spec.ts softmax), in float32, over one group of k
// logits (the k shared logits, or channel c's logits[c * k .. c * k + k) when they are per
// channel, SPEC.md §1):
//   m = max(logits of the group)
//   e[r] = 1                     where logits[r] == m (covers m = +Inf, and all logits -Inf)
//   e[r] = 0                     where logits[r] < m - 128 (exp underflows float32 there; this
//                                also covers logits[r] = -Inf, and keeps logits[r] - m finite)
//   e[r] = exp(logits[r] - m)    otherwise
//   w[r] = e[r] / (((e[0] + e[1]) + e[2]) + ... + e[k-1])   (added in rank order)
//   w[r] = +0                    where w[r] < 2^-126, float32's smallest normal number: the spec
//                                flushes subnormal weights (WGSL lets GPUs flush them, and real ones
//                                do), so this is explicit, whatever the hardware's flush mode
// and every w[r] of the group is NaN (the group's first NaN logit, copied) when any of its logits
// is NaN. So [Inf, 0] gives [1, 0], [Inf, Inf] [0.5, 0.5], [-Inf, 0] [0, 1], [NaN, 0] [NaN, NaN].
// Every comparison is made on integer sort keys built from the bits (NaN and infinities
// included), never on floats, so compilers that assume finite math (fast-math) cannot fold them
// away; exp only ever sees a finite argument in [-128, 0].
// Why a kernel of its own: the logits may live on the GPU (a tfjs tensor), and recomputing the
// softmax in every invocation of the window kernels cost about a third of their time on the CPU
// adapters (llvmpipe) this project measures on. A host that has the logits as numbers may write
// w into the weights buffer itself instead (src/webgpu/plan.ts, WeightsSource).
//
// Output layout: a table of `rows` rows and `width` columns, weights[r * width + c] = w[r] of
// column c's group (0 for r >= k). The general kernels use width C and rows k:
// row r holds every channel's w[r] (the same for all when the logits are shared), so a kernel
// handling 4 channels reads their w[r] as one vec4.
//
// Bindings (group 0):
//   0  logits   storage, read        array<f32>  k (shared) or C * k (per channel, channel-major)
//                                                unnormalised weights; [0] weights the largest
//   1  weights  storage, read_write  array<f32>  rows * width floats, see above
//   2  params   uniform              Params (16 bytes, four u32, in this order):
//        k            1..16, the logits per group
//        width        columns of the table (1, or C)
//        per_channel  1: column c uses logits[c * k ..]; 0: every column uses logits[0 .. k)
//        rows         rows of the table (>= k; rows past k are written 0)
// Override constant: WORKGROUP_SIZE (default 64).
// Dispatch: ceil(width / WORKGROUP_SIZE) workgroups, (n, 1, 1), before the kernels that read the
//   weights.

struct Params {
  k: u32,
  width: u32,
  per_channel: u32,
  rows: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;

// Largest k: a 4 x 4 window.
const MAX_K: u32 = 16u;

#include "shared/softmax_keys.wgsl"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let column = gid.x;
  if (column >= params.width) {
    return;
  }
  #include "shared/softmax.wgsl" layout=table first=logits[base] logit="logits[base + r]"
}
