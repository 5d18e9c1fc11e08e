// generated from kernels/source/copy.wgsl (pass = backward) by build/kernels.ts (deno task kernels); do not edit
// Copy kernel of the sort_pool2d backward pass: the same minimum memory traffic as the dx kernel
// (read the 4 window floats and 1 upstream-gradient float, write 4 floats) with no ranking. The
// forward copy kernel plus this one is what the benchmarks compare a forward + backward pass with
// ("% of copy bandwidth"); a measured reference, not a bound.
//
// What it computes: dx[4i + j] = x[4i + j] * dy[i] for j = 0..3, over vec4s.
//
// Bindings (group 0):
//   0  x       storage, read        array<vec4<f32>>  4 * outputs vec4s
//   1  dy      storage, read        array<vec4<f32>>  outputs vec4s
//   2  dx      storage, read_write  array<vec4<f32>>  4 * outputs vec4s
//   3  params  uniform              Params (16 bytes: u32 outputs, then three unused u32)
// Override constant: WORKGROUP_SIZE (default 64).
// Dispatch: (gx, gy, 1) workgroups with gx * gy * WORKGROUP_SIZE >= outputs; item =
//   global_id.x + global_id.y * gx * WORKGROUP_SIZE.

struct Params {
  outputs: u32,
  unused0: u32,
  unused1: u32,
  unused2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dx: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= params.outputs) {
    return;
  }
  let g = dy[i];
  let base = 4u * i;
  dx[base] = x[base] * g;
  dx[base + 1u] = x[base + 1u] * g;
  dx[base + 2u] = x[base + 2u] * g;
  dx[base + 3u] = x[base + 3u] * g;
}
