// generated from kernels/source/copy.wgsl (pass = forward) by build/kernels.ts (deno task kernels); do not edit
// Copy kernel of the sort_pool2d forward pass: the same minimum memory traffic (read 4 floats,
// write 1) with no ranking. The benchmarks time it next to the forward kernels and report their
// speed as a percentage of its bandwidth ("% of copy bandwidth", bench/bandwidth.ts). It is one
// measured copy-like kernel, not a bound: another kernel may beat it (other access pattern, caches).
//
// What it computes: y[i] = max(max(x[4i], x[4i+1]), max(x[4i+2], x[4i+3])) over vec4s, i.e.
// every output vec4 reads 4 consecutive input vec4s. A forward pass over B*H*W*C input floats
// moves the same bytes when run with outputs = B*H*W*C / 16 (for even H and W).
//
// Bindings (group 0):
//   0  x       storage, read        array<vec4<f32>>  4 * outputs vec4s
//   1  y       storage, read_write  array<vec4<f32>>  outputs vec4s
//   2  params  uniform              Params (16 bytes: u32 outputs, then three unused u32)
// Override constant: WORKGROUP_SIZE (default 64).
// Dispatch: (gx, gy, 1) workgroups with gx * gy * WORKGROUP_SIZE >= outputs; the output of an
//   invocation is global_id.x + global_id.y * gx * WORKGROUP_SIZE (2-D when gx would exceed
//   maxComputeWorkgroupsPerDimension).

struct Params {
  outputs: u32,
  unused0: u32,
  unused1: u32,
  unused2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= params.outputs) {
    return;
  }
  let base = 4u * i;
  y[i] = max(max(x[base], x[base + 1u]), max(x[base + 2u], x[base + 3u]));
}
