## The first lines of an entry point over a 2-D grid of workgroups (a host splits a count above
## maxComputeWorkgroupsPerDimension into rows): the invocation's work item, and an early return
## past the last one. Needs the builtins gid (global_invocation_id) and groups (num_workgroups).
## Parameters: item (the variable's name), count (the number of work items).
let {{item}} = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
if ({{item}} >= {{count}}) {
  return;
}
