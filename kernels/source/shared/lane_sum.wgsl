## lane_sum: the sum of a Values' lanes as one f32, in the fixed order ((x + y) + z) + w, so that
## sums are bitwise the same from run to run. The includer writes the doc comment above it.
fn lane_sum(v: Values) -> f32 {
#if lanes == 1
  return v;
#else
  return ((v.x + v.y) + v.z) + v.w;
#endif
}
