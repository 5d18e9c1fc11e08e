#output sort_pool2d_weights.wgsl
// sort_pool2d rank weights: w = softmax(logits), evaluated as its limit, computed once per call by
// a single invocation, for the forward, backward and dLogits kernels to read as a uniform.
//
// What it computes (SPEC.md §5 "Weights", src/spec.ts softmax), in float32, over r < k:
//   m = max(logits)
//   e[r] = 1                     where logits[r] == m (covers m = +Inf, and all logits -Inf)
//   e[r] = 0                     where logits[r] < m - 128 (exp underflows float32 there; this
//                                also covers logits[r] = -Inf, and keeps logits[r] - m finite)
//   e[r] = exp(logits[r] - m)    otherwise
//   w[r] = e[r] / (((e[0] + e[1]) + e[2]) + e[3])   (e[r] = 0 for r >= k)
//   w[r] = +0                    where w[r] < 2^-126, float32's smallest normal number: the spec
//                                flushes subnormal weights (WGSL lets GPUs flush them, and real ones
//                                do), so this is explicit, whatever the hardware's flush mode
// and every w[r] is NaN (the first NaN logit, copied) when any logit is NaN. So [Inf, 0] gives [1, 0], [Inf, Inf] [0.5, 0.5],
// [-Inf, 0] [0, 1], [NaN, 0] [NaN, NaN]. Every comparison is made on integer sort keys built from
// the bits (NaN and infinities included), never on floats, so compilers that assume finite math
// (fast-math) cannot fold them away; exp only ever sees a finite argument in [-128, 0].
// Why a kernel of its own: the logits may live on the GPU (a tfjs tensor), and recomputing the
// softmax in every invocation of the window kernels cost about a third of their time on the CPU
// adapters (llvmpipe) this project measures on. A host that has the logits as numbers may write
// w into the weights buffer itself instead (src/webgpu/plan.ts, WeightsSource).
//
// Bindings (group 0):
//   0  logits   storage, read        array<f32>  k unnormalised weights, [0] weights the largest
//   1  weights  storage, read_write  vec4<f32>   w; the same buffer is then bound as a uniform
//                                                (usage STORAGE | UNIFORM) by the other kernels
//   2  params   uniform              Params: the 32-byte layout of sort_pool2d_forward*.wgsl; only
//                                    k (the sixth u32) is read
// Dispatch: exactly one workgroup, (1, 1, 1), before the kernels that read the weights.

#include "shared/params.wgsl" layout=2x2

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> weights: vec4<f32>;
@group(0) @binding(2) var<uniform> params: Params;

#include "shared/softmax_keys.wgsl"

@compute @workgroup_size(1)
fn main() {
  #include "shared/softmax.wgsl" layout=vec4 first=logits[0] logit=logits[r]
}
