// generated from kernels/source/partial_sums.wgsl by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward, block sums of dLogits stage 1: one workgroup adds one block of a chunk's
// stage-1 partial sums into one vec4, in a fixed order, and stores it at a given index.
//
// What it computes (SPEC.md §5 "Gradient", the rank sums s[r]): when a call is split into
// chunks because its buffers exceed the device's maxStorageBufferBindingSize (src/webgpu/
// chunks.ts), sort_pool2d_backward*.wgsl writes each chunk's partials to a scratch buffer
// that the next chunk reuses. Before that, this kernel reduces them, block by block: the host
// binds at most as many partials per dispatch as one invocation may loop over (its loop budget:
// Mesa's CPU adapters silently cut an invocation's loops short past 65,535 iterations in all):
//   sums[index] = partials[0] + partials[1] + ... + partials[count - 1]   (component r = rank r)
// in this order of additions: invocation i adds partials i, i + WORKGROUP_SIZE,
// i + 2 * WORKGROUP_SIZE, ... in that order, then the workgroup adds those by a fixed binary tree
// in workgroup memory (the scheme of sort_pool2d_dlogits.wgsl). sort_pool2d_dlogits.wgsl then
// runs over `sums` (one vec4 per block) instead of the partials. Every addition has a fixed
// place, so the result is bitwise identical from run to run (no float atomics). Non-finite
// partials propagate by IEEE arithmetic.
//
// Bindings (group 0):
//   0  partials  storage, read        array<vec4<f32>>  one block of a chunk's stage-1 partials
//   1  sums      storage, read_write  array<vec4<f32>>  one vec4 per block
//   2  params    uniform              Params (16 bytes, four u32, in this order):
//        count     how many partials to add (the block's stage-1 work items)
//        index     where in `sums` to store the total
//        unused0, unused1   write 0
// Override constant: WORKGROUP_SIZE (default 256, a power of two).
// Dispatch: exactly one workgroup, (1, 1, 1), after the chunk's stage-1 dispatch and before the
//   next chunk's stage 1 overwrites the partials.

struct Params {
  count: u32,
  index: u32,
  unused0: u32,
  unused1: u32,
}

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> sums: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 256u;

var<workgroup> scratch: array<vec4<f32>, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = vec4<f32>(0.0);
  for (var i = lid; i < params.count; i += WORKGROUP_SIZE) {
    acc += partials[i];
  }
  scratch[lid] = acc;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half = half / 2u) {
    if (lid < half) {
      scratch[lid] = scratch[lid] + scratch[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    sums[params.index] = scratch[0];
  }
}
