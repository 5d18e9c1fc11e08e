#output copy_forward.wgsl pass=forward
#output copy_backward.wgsl pass=backward
//[pass == forward] Copy kernel of the sort_pool2d forward pass: the same minimum memory traffic (read 4 floats,
//[pass == forward] write 1) with no ranking. The benchmarks time it next to the forward kernels and report their
//[pass == forward] speed as a percentage of its bandwidth ("% of copy bandwidth", bench/bandwidth.ts). It is one
//[pass == forward] measured copy-like kernel, not a bound: another kernel may beat it (other access pattern, caches).
//[pass == backward] Copy kernel of the sort_pool2d backward pass: the same minimum memory traffic as the dx kernel
//[pass == backward] (read the 4 window floats and 1 upstream-gradient float, write 4 floats) with no ranking. The
//[pass == backward] forward copy kernel plus this one is what the benchmarks compare a forward + backward pass with
//[pass == backward] ("% of copy bandwidth"); a measured reference, not a bound.
//
//[pass == forward] What it computes: y[i] = max(max(x[4i], x[4i+1]), max(x[4i+2], x[4i+3])) over vec4s, i.e.
//[pass == forward] every output vec4 reads 4 consecutive input vec4s. A forward pass over B*H*W*C input floats
//[pass == forward] moves the same bytes when run with outputs = B*H*W*C / 16 (for even H and W).
//[pass == backward] What it computes: dx[4i + j] = x[4i + j] * dy[i] for j = 0..3, over vec4s.
//
// Bindings (group 0):
//   0  x       storage, read        array<vec4<f32>>  4 * outputs vec4s
//[pass == forward]   1  y       storage, read_write  array<vec4<f32>>  outputs vec4s
//[pass == forward]   2  params  uniform              Params (16 bytes: u32 outputs, then three unused u32)
//[pass == backward]   1  dy      storage, read        array<vec4<f32>>  outputs vec4s
//[pass == backward]   2  dx      storage, read_write  array<vec4<f32>>  4 * outputs vec4s
//[pass == backward]   3  params  uniform              Params (16 bytes: u32 outputs, then three unused u32)
// Override constant: WORKGROUP_SIZE (default 64).
//[pass == forward] Dispatch: (gx, gy, 1) workgroups with gx * gy * WORKGROUP_SIZE >= outputs; the output of an
//[pass == forward]   invocation is global_id.x + global_id.y * gx * WORKGROUP_SIZE (2-D when gx would exceed
//[pass == forward]   maxComputeWorkgroupsPerDimension).
//[pass == backward] Dispatch: (gx, gy, 1) workgroups with gx * gy * WORKGROUP_SIZE >= outputs; item =
//[pass == backward]   global_id.x + global_id.y * gx * WORKGROUP_SIZE.

struct Params {
  outputs: u32,
  unused0: u32,
  unused1: u32,
  unused2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
#if pass == forward
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;
#else
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dx: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> params: Params;
#endif

override WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  #include "shared/work_item.wgsl" item=i count=params.outputs
#if pass == backward
  let g = dy[i];
#endif
  let base = 4u * i;
#if pass == forward
  y[i] = max(max(x[base], x[base + 1u]), max(x[base + 2u], x[base + 3u]));
#else
  dx[base] = x[base] * g;
  dx[base + 1u] = x[base + 1u] * g;
  dx[base + 2u] = x[base + 2u] * g;
  dx[base + 3u] = x[base + 3u] * g;
#endif
}
