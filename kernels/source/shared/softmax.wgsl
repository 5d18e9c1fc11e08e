## The body of the softmax kernels: w = softmax(logits) of one group of k logits, evaluated as its
## limit (SPEC.md §5 "Weights"; the kernel sources' headers say what that means), then written.
## Needs softmax_keys.wgsl, logits, weights and params (with k).
## Parameters: layout: vec4 (weights.wgsl: one vec4<f32> of weights) or table (general_weights.wgsl:
## a rows x width table; needs column, MAX_K and params' per_channel, rows and width); first, logit:
## the group's first logit and its logit r.
let k = params.k;
#if layout == table
let base = select(0u, column * k, params.per_channel == 1u);
#endif
var any_nan = false;
var nan_logit = 0.0;
var top = {{first}};
for (var r = 0u; r < k; r++) {
  let l = {{logit}};
  nan_logit = select(nan_logit, l, is_nan(l) && !any_nan);
  any_nan = any_nan || is_nan(l);
  top = select(top, l, sort_key(l) > sort_key(top));
}
if (any_nan) {
  // The NaN logit itself (a NaN constant would be a shader-creation error in WGSL).
#if layout == vec4
  weights = vec4<f32>(nan_logit);
#else
  for (var r = 0u; r < params.rows; r++) {
    weights[r * params.width + column] = nan_logit;
  }
#endif
  return;
}
let top_key = sort_key(top);
// +Inf as the maximum: every other logit is below it by more than any cutoff.
let top_is_inf = top_key == 0x7f800000;
let cutoff_key = sort_key(top - CUTOFF);
#if layout == vec4
var e = vec4<f32>(0.0);
#else
var e: array<f32, MAX_K>;
var total = 0.0;
#endif
for (var r = 0u; r < k; r++) {
  let l = {{logit}};
  let key = sort_key(l);
  let far = top_is_inf || key < cutoff_key;
  // A finite l - top in [-CUTOFF, 0] whenever exp is evaluated (select evaluates both sides,
  // so the argument is clamped to stay finite on the discarded side too).
  let near = exp(select(l - top, 0.0, far));
  e[r] = select(select(near, 0.0, far), 1.0, key == top_key);
#if layout == table
  // In rank order from e[0]: e[0] >= 0, so starting from +0 adds nothing to it.
  total = select(total + e[r], e[r], r == 0u);
#endif
}
#if layout == vec4
let w = e / (((e.x + e.y) + e.z) + e.w);
// w >= +0 here (no NaN: handled above), so its bits order like its values; 0x00800000 is 2^-126.
weights = select(w, vec4<f32>(0.0), bitcast<vec4<u32>>(w) < vec4<u32>(0x00800000u));
#else
for (var r = 0u; r < params.rows; r++) {
  let w = select(0.0, e[min(r, MAX_K - 1u)] / total, r < k);
  // w >= +0 here (no NaN: handled above), so its bits order like its values; 0x00800000 is 2^-126.
  weights[r * params.width + column] = select(w, 0.0, bitcast<u32>(w) < 0x00800000u);
}
#endif
