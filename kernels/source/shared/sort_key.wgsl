## sort_key: SPEC.md §4's value order as signed integer keys built from the bits, so that no
## compiler that assumes finite math can fold a comparison away, and +0 and -0 share a key.
## Parameters: value, key: the argument and key types.
## - value=Values key=Keys (the window kernels, either lane width): every NaN gets one key above
##   +Inf, so a NaN ranks first.
## - value=f32 key=i32 (the softmax kernels): NaN gets no key of its own; they handle it first.
//[value != f32] Signed keys whose order is the spec's value order: -m for negative floats, m otherwise (m the
//[value != f32] magnitude bits, so -0 and +0 both map to 0), and one key above +Inf for every NaN.
//[value == f32] Signed keys whose order is the value order of non-NaN floats: -m for negative floats, m
//[value == f32] otherwise (m the magnitude bits: -0 and +0 both map to 0; -Inf is the smallest key, +Inf the
//[value == f32] largest). NaN is handled before any key is compared.
fn sort_key(v: {{value}}) -> {{key}} {
  let bits = bitcast<{{key}}>(v);
#if value == f32
  let magnitude = bits & 0x7fffffff;
  return select(magnitude, -magnitude, bits < 0);
#else
  let magnitude = bits & Keys(0x7fffffff);
  let ordered = select(magnitude, -magnitude, bits < Keys(0));
  return select(ordered, Keys(0x7fffffff), magnitude > Keys(0x7f800000));
#endif
}
