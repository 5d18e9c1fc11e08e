// generated from kernels/source/weights.wgsl by build/kernels.ts (deno task kernels); do not edit
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

// Gap below the maximum past which exp(logit - max) is 0 in float32 (exp(-104) is below the
// smallest subnormal already; any weight below 2^-126, gap about 87.3, is flushed to 0 at the end).
const CUTOFF: f32 = 128.0;

// Signed keys whose order is the value order of non-NaN floats: -m for negative floats, m
// otherwise (m the magnitude bits: -0 and +0 both map to 0; -Inf is the smallest key, +Inf the
// largest). NaN is handled before any key is compared.
fn sort_key(v: f32) -> i32 {
  let bits = bitcast<i32>(v);
  let magnitude = bits & 0x7fffffff;
  return select(magnitude, -magnitude, bits < 0);
}

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(1)
fn main() {
  let k = params.k;
  var any_nan = false;
  var nan_logit = 0.0;
  var top = logits[0];
  for (var r = 0u; r < k; r++) {
    let l = logits[r];
    nan_logit = select(nan_logit, l, is_nan(l) && !any_nan);
    any_nan = any_nan || is_nan(l);
    top = select(top, l, sort_key(l) > sort_key(top));
  }
  if (any_nan) {
    // The NaN logit itself (a NaN constant would be a shader-creation error in WGSL).
    weights = vec4<f32>(nan_logit);
    return;
  }
  let top_key = sort_key(top);
  // +Inf as the maximum: every other logit is below it by more than any cutoff.
  let top_is_inf = top_key == 0x7f800000;
  let cutoff_key = sort_key(top - CUTOFF);
  var e = vec4<f32>(0.0);
  for (var r = 0u; r < k; r++) {
    let l = logits[r];
    let key = sort_key(l);
    let far = top_is_inf || key < cutoff_key;
    // A finite l - top in [-CUTOFF, 0] whenever exp is evaluated (select evaluates both sides,
    // so the argument is clamped to stay finite on the discarded side too).
    let near = exp(select(l - top, 0.0, far));
    e[r] = select(select(near, 0.0, far), 1.0, key == top_key);
  }
  let w = e / (((e.x + e.y) + e.z) + e.w);
  // w >= +0 here (no NaN: handled above), so its bits order like its values; 0x00800000 is 2^-126.
  weights = select(w, vec4<f32>(0.0), bitcast<vec4<u32>>(w) < vec4<u32>(0x00800000u));
}
