// sort_pool2d rank weights: w = softmax(logits), computed once per call by a single invocation,
// for the forward, backward and dLogits kernels to read as a uniform.
//
// What it computes (SPEC.md §5 "Forward and gradient"): w[r] = exp(logits[r] - m) / sum, with
// m = max(logits) and sum = ((e[0] + e[1]) + e[2]) + e[3] over r < k (the order of
// src/spec.ts softmax), in float32; w[r] = 0 for r >= k.
// Why a kernel of its own: the logits may live on the GPU (a tfjs tensor), and recomputing the
// softmax in every invocation of the window kernels cost about a third of their time on the CPU
// adapters (llvmpipe) this project measures on.
//
// Bindings (group 0):
//   0  logits   storage, read        array<f32>  k unnormalised weights, [0] weights the largest
//   1  weights  storage, read_write  vec4<f32>   w; the same buffer is then bound as a uniform
//                                                (usage STORAGE | UNIFORM) by the other kernels
//   2  params   uniform              Params: the 32-byte layout of sort_pool2d_forward*.wgsl; only
//                                    k (the sixth u32) is read
// Dispatch: exactly one workgroup, (1, 1, 1), before the kernels that read the weights.

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  k: u32,
  work_items: u32,
  unused: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> weights: vec4<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(1)
fn main() {
  let k = params.k;
  var l = vec4<f32>(logits[0]);
  for (var r = 1u; r < k; r++) {
    l[r] = logits[r];
  }
  // Lanes past k repeat logits[0], so the max is over the k logits only.
  let top = max(max(l.x, l.y), max(l.z, l.w));
  let keep = vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(k);
  let e = select(vec4<f32>(0.0), exp(l - vec4<f32>(top)), keep);
  weights = e / (((e.x + e.y) + e.z) + e.w);
}
