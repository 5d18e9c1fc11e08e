// sort_pool2d forward, 4 channels per invocation (use when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): for every 2x2 window (stride 2, NHWC,
// SPEC.md §2 "Windows") and channel,
//   y = w[0] * v[0] + w[1] * v[1] + ... + w[k-1] * v[k-1]   (in this order)
// where v[r] is the value of rank r and w = softmax(logits) (SPEC.md §5 "Weights": written by
// sort_pool2d_weights.wgsl, or by the host). Ranks follow SPEC.md §4 "Ranking" (src/spec.ts
// ranksBefore): NaN first (several NaNs by cell), then larger values, equal values (+0 == -0) by
// window cell, lower first; cells are row-major
// (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right). SPEC.md §3 "Padding": a cell past the
// bottom row / right column is a zero-valued participant when k > 1 and takes no part when k = 1.
//
// How: the 5-comparator network of src/spec.ts SORTING_NETWORK, (0,1) (2,3) (0,2) (1,3) (1,2),
// each compare-exchange moving the higher-ranked entry (sort key, value, cell) to the lower
// slot. Values are compared as integer sort keys (see sort_key): NaN is found from its bit
// pattern, never by `x != x`, which compilers that assume no NaN (fast-math) may fold away.
// The first four compare-exchanges always hold the lower cell in their first slot (slots 0, 1
// hold cells 0, 1 and slots 2, 3 hold cells 2, 3 until (1,2)), so there the tie rule "equal
// keys: lower cell first" is "swap only on a strictly greater key"; (1,2) compares cells.
//
// Bindings (group 0):
//   0  x        storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//   1  weights  uniform              vec4<f32>         softmax(logits), 0 past k
//   2  y        storage, read_write  array<vec4<f32>>  output, NHWC, B*Ho*Wo*C floats
//   3  params   uniform              Params (32 bytes, eight u32, in this order):
//        height, width          H, W of x
//        channel_groups         C / 4 (vec4s per pixel)
//        out_height, out_width  Ho, Wo of y ("same": ceil(H/2), ceil(W/2); "valid": floor)
//        k                      1..4
//        work_items             B * Ho * Wo * channel_groups / GROUPS_PER_INVOCATION
//        unused                 write 0
// Override constants: WORKGROUP_SIZE (default 64), GROUPS_PER_INVOCATION (1 or 2, default 1;
//   2 needs an even channel_groups): each invocation writes that many consecutive output vec4s.
// Dispatch: after sort_pool2d_weights.wgsl, workgroups (gx, gy, 1) with
//   gx * gy * WORKGROUP_SIZE >= work_items; the work item of an invocation is
//   global_id.x + global_id.y * gx * WORKGROUP_SIZE, so a host splits a count above
//   maxComputeWorkgroupsPerDimension into a 2-D grid. Items past work_items do nothing.
//
// This file and sort_pool2d_forward.wgsl (one channel per invocation, any C) differ only in this
// header and in the variant block below.

// ---- variant block ----
alias Values = vec4<f32>;
alias Keys = vec4<i32>;
alias Cells = vec4<u32>;
alias Lanes = vec4<bool>;
// ---- end of variant block ----

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  k: u32,
  work_items: u32,
  unused: u32,
}

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<uniform> weights: vec4<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<Values>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
// Channel groups each invocation handles, 1 or 2; must divide channel_groups. Two amortise the
// index arithmetic (integer divisions run lane by lane on CPU adapters).
override GROUPS_PER_INVOCATION: u32 = 1u;

// One ranking entry per channel lane: sort key, value, window cell (0..3).
struct Entry {
  key: Keys,
  value: Values,
  cell: Cells,
}

// The key of a padded cell when k = 1: below every value's key, so it never ranks first.
const EXCLUDED_KEY: i32 = -2147483647 - 1;

// Signed keys whose order is the spec's value order: -m for negative floats, m otherwise (m the
// magnitude bits, so -0 and +0 both map to 0), and one key above +Inf for every NaN.
fn sort_key(v: Values) -> Keys {
  let bits = bitcast<Keys>(v);
  let magnitude = bits & Keys(0x7fffffff);
  let ordered = select(magnitude, -magnitude, bits < Keys(0));
  return select(ordered, Keys(0x7fffffff), magnitude > Keys(0x7f800000));
}

// Swaps the entries of slots a and b in the lanes where `swap` holds (branch-free).
fn swap_where(a: ptr<function, Entry>, b: ptr<function, Entry>, swap: Lanes) {
  let first = *a;
  let second = *b;
  *a = Entry(
    select(first.key, second.key, swap),
    select(first.value, second.value, swap),
    select(first.cell, second.cell, swap),
  );
  *b = Entry(
    select(second.key, first.key, swap),
    select(second.value, first.value, swap),
    select(second.cell, first.cell, swap),
  );
}

// Compare-exchange of slots (a, b) where a's cell is known to be the lower: swap on b > a.
fn exchange_ordered(a: ptr<function, Entry>, b: ptr<function, Entry>) {
  swap_where(a, b, (*b).key > (*a).key);
}

// Compare-exchange with the full tie rule: swap where b ranks before a (src/spec.ts ranksBefore).
fn exchange(a: ptr<function, Entry>, b: ptr<function, Entry>) {
  let first = *a;
  let second = *b;
  swap_where(a, b, (second.key > first.key) | ((second.key == first.key) & (second.cell < first.cell)));
}

// The four cells of the window at output position (b, oh, ow), channel group g, as ranking
// entries in cell order. Cell 0 always lies inside x; cells 1..3 may be padded (SPEC.md §3).
fn load_window(b: u32, oh: u32, ow: u32, g: u32) -> array<Entry, 4> {
  let row = 2u * oh;
  let col = 2u * ow;
  let has_right = col + 1u < params.width;
  let has_below = row + 1u < params.height;
  let top_left = ((b * params.height + row) * params.width + col) * params.channel_groups + g;
  let row_stride = params.width * params.channel_groups;
  // Branch-free: a padded cell reads the top-left element and discards it.
  let right = select(top_left, top_left + params.channel_groups, has_right);
  let below = select(top_left, top_left + row_stride, has_below);
  let below_right = select(top_left, top_left + row_stride + params.channel_groups, has_right && has_below);
  let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), params.k > 1u);
  let v0 = x[top_left];
  let v1 = select(Values(0.0), x[right], has_right);
  let v2 = select(Values(0.0), x[below], has_below);
  let v3 = select(Values(0.0), x[below_right], has_right && has_below);
  return array<Entry, 4>(
    Entry(sort_key(v0), v0, Cells(0u)),
    Entry(select(padded_key, sort_key(v1), has_right), v1, Cells(1u)),
    Entry(select(padded_key, sort_key(v2), has_below), v2, Cells(2u)),
    Entry(select(padded_key, sort_key(v3), has_right && has_below), v3, Cells(3u)),
  );
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot >= params.work_items) {
    return;
  }
  let slots_per_window = params.channel_groups / GROUPS_PER_INVOCATION;
  let window = slot / slots_per_window;
  let first_group = (slot - window * slots_per_window) * GROUPS_PER_INVOCATION;
  let rest = window / params.out_width;
  let ow = window - rest * params.out_width;
  let b = rest / params.out_height;
  let oh = rest - b * params.out_height;
  let w = weights;

  for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {
    let g = first_group + j;
    let cells = load_window(b, oh, ow, g);
    var s0 = cells[0];
    var s1 = cells[1];
    var s2 = cells[2];
    var s3 = cells[3];
    exchange_ordered(&s0, &s1);
    exchange_ordered(&s2, &s3);
    exchange_ordered(&s0, &s2);
    exchange_ordered(&s1, &s3);
    exchange(&s1, &s2);

    // Ranks r >= k are left out, not weighted by 0: 0 * Inf would be NaN. The sum starts from the
    // first product, not from +0 (SPEC.md §5): a zero y keeps IEEE's sign (-0 exactly when every
    // product is -0), and k = 1 with w = [1] returns the rank-0 value itself.
    var acc = w.x * s0.value;
    if (params.k > 1u) {
      acc += w.y * s1.value;
    }
    if (params.k > 2u) {
      acc += w.z * s2.value;
    }
    if (params.k > 3u) {
      acc += w.w * s3.value;
    }
    y[window * params.channel_groups + g] = acc;
  }
}
