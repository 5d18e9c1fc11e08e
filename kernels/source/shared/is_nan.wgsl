## is_nan: where v is NaN, from its bit pattern (exponent all ones, mantissa not 0), never by
## `v != v`, which compilers that assume no NaN (fast-math) may fold.
## Parameters: value, mask: the argument and result types.
## - value=Values mask=Lanes (the 2x2 forward kernel, either lane width; needs the alias Bits);
## - value=f32 mask=bool (the softmax kernels).
//[value != f32] Where v is NaN, from its bit pattern (exponent all ones, mantissa not 0), never by `v != v`,
//[value != f32] which compilers that assume no NaN (fast-math) may fold.
fn is_nan(v: {{value}}) -> {{mask}} {
#if value == f32
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
#else
  return (bitcast<Bits>(v) & Bits(0x7fffffff)) > Bits(0x7f800000);
#endif
}
