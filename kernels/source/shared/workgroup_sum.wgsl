## Adds `count` terms of `partials` into scratch[0] in a fixed order, so that the sum is bitwise
## the same from run to run (no float atomics): invocation lid adds terms lid, lid +
## WORKGROUP_SIZE, ... in that order, then the workgroup adds those by a fixed binary tree in
## workgroup memory (WORKGROUP_SIZE a power of two). Needs the builtin lid
## (local_invocation_index); declares acc.
## Parameters: scratch (a var<workgroup> array<vec4<f32>, WORKGROUP_SIZE>), n (the loop
## variable), count, term (the index in partials of term n).
## Each invocation loops ceil(count / WORKGROUP_SIZE) + log2(WORKGROUP_SIZE) times, so the hosts
## keep count within their loop budget (src/webgpu/chunks.ts LOOP_ITERATION_BUDGET: Mesa's CPU
## adapters cut an invocation's loops short, with no error, past 65,535 iterations in all).
var acc = vec4<f32>(0.0);
for (var {{n}} = lid; {{n}} < {{count}}; {{n}} += WORKGROUP_SIZE) {
  acc += partials[{{term}}];
}
{{scratch}}[lid] = acc;
workgroupBarrier();
for (var half = WORKGROUP_SIZE / 2u; half > 0u; half = half / 2u) {
  if (lid < half) {
    {{scratch}}[lid] = {{scratch}}[lid] + {{scratch}}[lid + half];
  }
  workgroupBarrier();
}
