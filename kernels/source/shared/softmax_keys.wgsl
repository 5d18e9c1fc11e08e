## The module-scope pieces of the softmax kernels (weights.wgsl, general_weights.wgsl): the
## cutoff below the maximum, and the comparisons they make on integer keys. No parameters.
// Gap below the maximum past which exp(logit - max) is 0 in float32 (exp(-104) is below the
// smallest subnormal already; any weight below 2^-126, gap about 87.3, is flushed to 0 at the end).
const CUTOFF: f32 = 128.0;

#include "shared/sort_key.wgsl" value=f32 key=i32

#include "shared/is_nan.wgsl" value=f32 mask=bool
