## Integer division by float arithmetic, made exact: CPU adapters (llvmpipe, lavapipe) run integer
## division lane by lane, these few vector operations run on all lanes at once. No parameters.
// The nearest integer to v, for |v| <= 2^22: adding 1.5 * 2^23 leaves it in the low mantissa bits.
fn nearest(v: f32) -> i32 {
  return bitcast<i32>(v + 12582912.0) - 0x4b400000;
}

// floor(a / d) for 0 <= a < 2^30 and 1 <= d < 2^30, with inverse = 1 / f32(d), exact (indices
// here stay below 2^30: a storage binding of at most 2^32 bytes holds under 2^30 floats). Integer
// division runs lane by lane on CPU adapters; this is a few vector operations. The first estimate
// is within a * 2^-21.8 + 1 of a / d (WGSL's f32 division is within 2.5 ULP), so its remainder
// (exact in i32) is at most 2^9.2 + d in size; the second step rounds the remainder's quotient,
// which leaves floor(a / d) or one more, and the sign of the final remainder tells which.
fn divide(a: u32, d: u32, inverse: f32) -> u32 {
  let dividend = i32(a);
  let divisor = i32(d);
  let estimate = i32(f32(dividend) * inverse);
  let q = estimate + nearest(f32(dividend - estimate * divisor) * inverse);
  return u32(q - select(0, 1, dividend - q * divisor < 0));
}

// floor(a / d) for 0 <= a < 2^20 and 1 <= d <= 2^20, with inverse = 1 / f32(d), in one step. The
// true (a + 0.5) / d lies at least 0.5 / d from an integer (a / d is one or is at least 1 / d
// past one); the computed one is within (a + 0.5) / d * 2^-21.4 of it (2.5 ULP reciprocal, one
// rounded product), which is less than 0.5 / d for a + 0.5 < 2^20.4, so truncation is exact.
fn divide_small(a: u32, inverse: f32) -> u32 {
  return u32((f32(a) + 0.5) * inverse);
}
