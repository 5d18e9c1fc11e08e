// generated from kernels/*.wgsl by build/kernels.ts (deno task kernels); do not edit
/**
 * The WGSL text of every file in `kernels/`, by file name. The library's kernels reach it
 * through this module (no file reads); edit the sources in `kernels/source/` and regenerate.
 *
 * @module
 */

/** WGSL text of each `kernels/*.wgsl` file, keyed by its file name. */
export const KERNEL_FILE_TEXT: Readonly<Record<string, string>> = {
  "copy_backward.wgsl":
    `// generated from kernels/source/copy.wgsl (pass = backward) by build/kernels.ts (deno task kernels); do not edit
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
`,
  "copy_forward.wgsl":
    `// generated from kernels/source/copy.wgsl (pass = forward) by build/kernels.ts (deno task kernels); do not edit
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
`,
  "sort_pool2d_backward.wgsl":
    `// generated from kernels/source/backward.wgsl (lanes = 1) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward: dx, plus stage 1 of dLogits, one channel per invocation (any C;
// sort_pool2d_backward_vec4.wgsl is faster when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): every window is ranked exactly as in
// sort_pool2d_forward.wgsl (SPEC.md §4 "Ranking", the src/spec.ts SORTING_NETWORK carrying
// cells), then with w = softmax(logits) (sort_pool2d_weights.wgsl)
//   dx[cell of rank r] = w[r] * dy   for r < k and a real (not padded) cell,
//   dx[other cells of the window] = 0,
//   dx[cells in no window] = 0   ("valid" padding with odd H or W: the last row / column, §3),
// and stage 1 of s[r] = sum over windows and channels of v[r] * dy for r < k over REAL cells: a
// padded cell ranked r < k adds exactly 0 (a select, never 0 * dy, so an infinite or NaN dy does
// not turn a padded zero into NaN), the input of dLogits (sort_pool2d_dlogits.wgsl finishes it;
// for k = 1 it writes 0 and ignores the sums).
// Windows do not overlap (§2), so each invocation writes its own windows' cells (and, on the
// last window row / column of "valid" padding, the uncovered cells beside them): no atomics and
// no clearing pass. dx is a select, never a product with 0, so an infinite dy leaves unranked
// cells at 0.
// Stage 1 is deterministic: each invocation sums its channels in a fixed order (its first
// channel, then its next) and writes one vec4 (s[0..3]) to \`partials\`; the stage-2 kernel adds
// those in a fixed order. No float atomics and no workgroup barriers (costly on CPU adapters):
// results are bitwise identical from run to run.
// NaN is found from its bit pattern (see sort_key), never by \`x != x\` (fast-math compilers).
//
// Bindings (group 0):
//   0  x         storage, read        array<f32>        input, NHWC, B*H*W*C floats
//   1  weights   uniform              vec4<f32>         softmax(logits), 0 past k
//   2  dy        storage, read        array<f32>        upstream gradient, B*Ho*Wo*C floats
//   3  dx        storage, read_write  array<f32>        dL/dx, NHWC, B*H*W*C floats
//   4  partials  storage, read_write  array<vec4<f32>>  work_items vec4s, one per work item
//   5  params    uniform              Params: the 32-byte layout of sort_pool2d_forward.wgsl
//        height, width, channel_groups (= C), out_height, out_width, k,
//        work_items (= B * Ho * Wo * channel_groups / GROUPS_PER_INVOCATION), unused (write 0)
// Override constants: WORKGROUP_SIZE (default 64), GROUPS_PER_INVOCATION (1 or 2, default 1;
//   2 needs an even channel_groups).
// Dispatch: after sort_pool2d_weights.wgsl, as the forward kernel: (gx, gy, 1) workgroups with
//   gx * gy * WORKGROUP_SIZE >= work_items; work item = global_id.x + global_id.y * gx *
//   WORKGROUP_SIZE. Then sort_pool2d_dlogits.wgsl over the work_items partials.
//
// This file and sort_pool2d_backward_vec4.wgsl (4 channels per invocation) differ only in
// this header and in the variant block below.

// ---- variant block ----
alias Values = f32;
alias Keys = i32;
alias Cells = u32;
alias Lanes = bool;

// The lanes' sum in a fixed order (one lane here).
fn lane_sum(v: Values) -> f32 {
  return v;
}
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
@group(0) @binding(2) var<storage, read> dy: array<Values>;
@group(0) @binding(3) var<storage, read_write> dx: array<Values>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
// Channel groups each invocation handles, 1 or 2; must divide channel_groups.
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

// Swaps the entries of slots a and b in the lanes where \`swap\` holds (branch-free).
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

// Whether each lane's entry is a real cell of the window (not padding, SPEC.md §3): cell 0 always
// is; cell 1 needs a column to the right, cell 2 a row below, cell 3 both.
fn is_real(cell: Cells, has_right: bool, has_below: bool) -> Lanes {
  let left_column = (cell & Cells(1u)) == Cells(0u);
  let top_row = cell < Cells(2u);
  return (left_column | Lanes(has_right)) & (top_row | Lanes(has_below));
}

// dx of window cell \`cell\`: w[r] * grad where the cell holds rank r < k, else 0.
fn cell_gradient(
  cell: u32,
  w: vec4<f32>,
  grad: Values,
  s0: Entry,
  s1: Entry,
  s2: Entry,
  s3: Entry,
) -> Values {
  let c = Cells(cell);
  var d = select(Values(0.0), w.x * grad, s0.cell == c);
  if (params.k > 1u) {
    d = select(d, w.y * grad, s1.cell == c);
  }
  if (params.k > 2u) {
    d = select(d, w.z * grad, s2.cell == c);
  }
  if (params.k > 3u) {
    d = select(d, w.w * grad, s3.cell == c);
  }
  return d;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot < params.work_items) {
    var sums = vec4<f32>(0.0);
    let slots_per_window = params.channel_groups / GROUPS_PER_INVOCATION;
    let window = slot / slots_per_window;
    let first_group = (slot - window * slots_per_window) * GROUPS_PER_INVOCATION;
    let rest = window / params.out_width;
    let ow = window - rest * params.out_width;
    let b = rest / params.out_height;
    let oh = rest - b * params.out_height;
    let row = 2u * oh;
    let col = 2u * ow;
    let has_right = col + 1u < params.width;
    let has_below = row + 1u < params.height;
    let row_stride = params.width * params.channel_groups;
    // "valid" padding with odd W or H: the last column / row lies in no window; the windows next
    // to it write its zeros.
    let uncovered_col = ow + 1u == params.out_width && col + 2u < params.width;
    let uncovered_row = oh + 1u == params.out_height && row + 2u < params.height;
    let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), params.k > 1u);
    let w = weights;

    for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {
      let g = first_group + j;
      let top_left = ((b * params.height + row) * params.width + col) * params.channel_groups + g;
      // Branch-free: a padded cell reads the top-left element and discards it.
      let right = select(top_left, top_left + params.channel_groups, has_right);
      let below = select(top_left, top_left + row_stride, has_below);
      let below_right = select(
        top_left,
        top_left + row_stride + params.channel_groups,
        has_right && has_below,
      );
      let v0 = x[top_left];
      let v1 = select(Values(0.0), x[right], has_right);
      let v2 = select(Values(0.0), x[below], has_below);
      let v3 = select(Values(0.0), x[below_right], has_right && has_below);
      var s0 = Entry(sort_key(v0), v0, Cells(0u));
      var s1 = Entry(select(padded_key, sort_key(v1), has_right), v1, Cells(1u));
      var s2 = Entry(select(padded_key, sort_key(v2), has_below), v2, Cells(2u));
      var s3 = Entry(select(padded_key, sort_key(v3), has_right && has_below), v3, Cells(3u));
      exchange_ordered(&s0, &s1);
      exchange_ordered(&s2, &s3);
      exchange_ordered(&s0, &s2);
      exchange_ordered(&s1, &s3);
      exchange(&s1, &s2);

      let grad = dy[window * params.channel_groups + g];
      dx[top_left] = cell_gradient(0u, w, grad, s0, s1, s2, s3);
      if (has_right) {
        dx[right] = cell_gradient(1u, w, grad, s0, s1, s2, s3);
      }
      if (has_below) {
        dx[below] = cell_gradient(2u, w, grad, s0, s1, s2, s3);
      }
      if (has_right && has_below) {
        dx[below_right] = cell_gradient(3u, w, grad, s0, s1, s2, s3);
      }
      if (uncovered_col) {
        dx[top_left + 2u * params.channel_groups] = Values(0.0);
        dx[below + 2u * params.channel_groups] = Values(0.0);
      }
      if (uncovered_row) {
        dx[top_left + 2u * row_stride] = Values(0.0);
        dx[top_left + 2u * row_stride + params.channel_groups] = Values(0.0);
      }
      if (uncovered_col && uncovered_row) {
        dx[top_left + 2u * row_stride + 2u * params.channel_groups] = Values(0.0);
      }

      // Padded cells are skipped (exactly 0), never multiplied by dy.
      sums.x += lane_sum(select(Values(0.0), s0.value * grad, is_real(s0.cell, has_right, has_below)));
      if (params.k > 1u) {
        sums.y += lane_sum(select(Values(0.0), s1.value * grad, is_real(s1.cell, has_right, has_below)));
      }
      if (params.k > 2u) {
        sums.z += lane_sum(select(Values(0.0), s2.value * grad, is_real(s2.cell, has_right, has_below)));
      }
      if (params.k > 3u) {
        sums.w += lane_sum(select(Values(0.0), s3.value * grad, is_real(s3.cell, has_right, has_below)));
      }
    }
    partials[slot] = sums;
  }
}
`,
  "sort_pool2d_backward_vec4.wgsl":
    `// generated from kernels/source/backward.wgsl (lanes = 4) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward: dx, plus stage 1 of dLogits, 4 channels per invocation (C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): every window is ranked exactly as in
// sort_pool2d_forward_vec4.wgsl (SPEC.md §4 "Ranking", the src/spec.ts SORTING_NETWORK carrying
// cells), then with w = softmax(logits) (sort_pool2d_weights.wgsl)
//   dx[cell of rank r] = w[r] * dy   for r < k and a real (not padded) cell,
//   dx[other cells of the window] = 0,
//   dx[cells in no window] = 0   ("valid" padding with odd H or W: the last row / column, §3),
// and stage 1 of s[r] = sum over windows and channels of v[r] * dy for r < k over REAL cells: a
// padded cell ranked r < k adds exactly 0 (a select, never 0 * dy, so an infinite or NaN dy does
// not turn a padded zero into NaN), the input of dLogits (sort_pool2d_dlogits.wgsl finishes it;
// for k = 1 it writes 0 and ignores the sums).
// Windows do not overlap (§2), so each invocation writes its own windows' cells (and, on the
// last window row / column of "valid" padding, the uncovered cells beside them): no atomics and
// no clearing pass. dx is a select, never a product with 0, so an infinite dy leaves unranked
// cells at 0.
// Stage 1 is deterministic: each invocation sums its channels in a fixed order (lanes x, y, z,
// w, then its next channel group) and writes one vec4 (s[0..3]) to \`partials\`; the stage-2
// kernel adds those in a fixed order. No float atomics and no workgroup barriers (costly on CPU
// adapters): results are bitwise identical from run to run.
// NaN is found from its bit pattern (see sort_key), never by \`x != x\` (fast-math compilers).
//
// Bindings (group 0):
//   0  x         storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//   1  weights   uniform              vec4<f32>         softmax(logits), 0 past k
//   2  dy        storage, read        array<vec4<f32>>  upstream gradient, B*Ho*Wo*C floats
//   3  dx        storage, read_write  array<vec4<f32>>  dL/dx, NHWC, B*H*W*C floats
//   4  partials  storage, read_write  array<vec4<f32>>  work_items vec4s, one per work item
//   5  params    uniform              Params: the 32-byte layout of sort_pool2d_forward_vec4.wgsl
//        height, width, channel_groups (= C / 4), out_height, out_width, k,
//        work_items (= B * Ho * Wo * channel_groups / GROUPS_PER_INVOCATION), unused (write 0)
// Override constants: WORKGROUP_SIZE (default 64), GROUPS_PER_INVOCATION (1 or 2, default 1;
//   2 needs an even channel_groups).
// Dispatch: after sort_pool2d_weights.wgsl, as the forward kernel: (gx, gy, 1) workgroups with
//   gx * gy * WORKGROUP_SIZE >= work_items; work item = global_id.x + global_id.y * gx *
//   WORKGROUP_SIZE. Then sort_pool2d_dlogits.wgsl over the work_items partials.
//
// This file and sort_pool2d_backward.wgsl (one channel per invocation, any C) differ only in
// this header and in the variant block below.

// ---- variant block ----
alias Values = vec4<f32>;
alias Keys = vec4<i32>;
alias Cells = vec4<u32>;
alias Lanes = vec4<bool>;

// The lanes' sum in a fixed order.
fn lane_sum(v: Values) -> f32 {
  return ((v.x + v.y) + v.z) + v.w;
}
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
@group(0) @binding(2) var<storage, read> dy: array<Values>;
@group(0) @binding(3) var<storage, read_write> dx: array<Values>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
// Channel groups each invocation handles, 1 or 2; must divide channel_groups.
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

// Swaps the entries of slots a and b in the lanes where \`swap\` holds (branch-free).
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

// Whether each lane's entry is a real cell of the window (not padding, SPEC.md §3): cell 0 always
// is; cell 1 needs a column to the right, cell 2 a row below, cell 3 both.
fn is_real(cell: Cells, has_right: bool, has_below: bool) -> Lanes {
  let left_column = (cell & Cells(1u)) == Cells(0u);
  let top_row = cell < Cells(2u);
  return (left_column | Lanes(has_right)) & (top_row | Lanes(has_below));
}

// dx of window cell \`cell\`: w[r] * grad where the cell holds rank r < k, else 0.
fn cell_gradient(
  cell: u32,
  w: vec4<f32>,
  grad: Values,
  s0: Entry,
  s1: Entry,
  s2: Entry,
  s3: Entry,
) -> Values {
  let c = Cells(cell);
  var d = select(Values(0.0), w.x * grad, s0.cell == c);
  if (params.k > 1u) {
    d = select(d, w.y * grad, s1.cell == c);
  }
  if (params.k > 2u) {
    d = select(d, w.z * grad, s2.cell == c);
  }
  if (params.k > 3u) {
    d = select(d, w.w * grad, s3.cell == c);
  }
  return d;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot < params.work_items) {
    var sums = vec4<f32>(0.0);
    let slots_per_window = params.channel_groups / GROUPS_PER_INVOCATION;
    let window = slot / slots_per_window;
    let first_group = (slot - window * slots_per_window) * GROUPS_PER_INVOCATION;
    let rest = window / params.out_width;
    let ow = window - rest * params.out_width;
    let b = rest / params.out_height;
    let oh = rest - b * params.out_height;
    let row = 2u * oh;
    let col = 2u * ow;
    let has_right = col + 1u < params.width;
    let has_below = row + 1u < params.height;
    let row_stride = params.width * params.channel_groups;
    // "valid" padding with odd W or H: the last column / row lies in no window; the windows next
    // to it write its zeros.
    let uncovered_col = ow + 1u == params.out_width && col + 2u < params.width;
    let uncovered_row = oh + 1u == params.out_height && row + 2u < params.height;
    let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), params.k > 1u);
    let w = weights;

    for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {
      let g = first_group + j;
      let top_left = ((b * params.height + row) * params.width + col) * params.channel_groups + g;
      // Branch-free: a padded cell reads the top-left element and discards it.
      let right = select(top_left, top_left + params.channel_groups, has_right);
      let below = select(top_left, top_left + row_stride, has_below);
      let below_right = select(
        top_left,
        top_left + row_stride + params.channel_groups,
        has_right && has_below,
      );
      let v0 = x[top_left];
      let v1 = select(Values(0.0), x[right], has_right);
      let v2 = select(Values(0.0), x[below], has_below);
      let v3 = select(Values(0.0), x[below_right], has_right && has_below);
      var s0 = Entry(sort_key(v0), v0, Cells(0u));
      var s1 = Entry(select(padded_key, sort_key(v1), has_right), v1, Cells(1u));
      var s2 = Entry(select(padded_key, sort_key(v2), has_below), v2, Cells(2u));
      var s3 = Entry(select(padded_key, sort_key(v3), has_right && has_below), v3, Cells(3u));
      exchange_ordered(&s0, &s1);
      exchange_ordered(&s2, &s3);
      exchange_ordered(&s0, &s2);
      exchange_ordered(&s1, &s3);
      exchange(&s1, &s2);

      let grad = dy[window * params.channel_groups + g];
      dx[top_left] = cell_gradient(0u, w, grad, s0, s1, s2, s3);
      if (has_right) {
        dx[right] = cell_gradient(1u, w, grad, s0, s1, s2, s3);
      }
      if (has_below) {
        dx[below] = cell_gradient(2u, w, grad, s0, s1, s2, s3);
      }
      if (has_right && has_below) {
        dx[below_right] = cell_gradient(3u, w, grad, s0, s1, s2, s3);
      }
      if (uncovered_col) {
        dx[top_left + 2u * params.channel_groups] = Values(0.0);
        dx[below + 2u * params.channel_groups] = Values(0.0);
      }
      if (uncovered_row) {
        dx[top_left + 2u * row_stride] = Values(0.0);
        dx[top_left + 2u * row_stride + params.channel_groups] = Values(0.0);
      }
      if (uncovered_col && uncovered_row) {
        dx[top_left + 2u * row_stride + 2u * params.channel_groups] = Values(0.0);
      }

      // Padded cells are skipped (exactly 0), never multiplied by dy.
      sums.x += lane_sum(select(Values(0.0), s0.value * grad, is_real(s0.cell, has_right, has_below)));
      if (params.k > 1u) {
        sums.y += lane_sum(select(Values(0.0), s1.value * grad, is_real(s1.cell, has_right, has_below)));
      }
      if (params.k > 2u) {
        sums.z += lane_sum(select(Values(0.0), s2.value * grad, is_real(s2.cell, has_right, has_below)));
      }
      if (params.k > 3u) {
        sums.w += lane_sum(select(Values(0.0), s3.value * grad, is_real(s3.cell, has_right, has_below)));
      }
    }
    partials[slot] = sums;
  }
}
`,
  "sort_pool2d_dlogits.wgsl":
    `// generated from kernels/source/dlogits.wgsl by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward, stage 2 of dLogits: one workgroup finishes the rank sums and applies the
// softmax VJP.
//
// What it computes (SPEC.md §5 "Forward and gradient"): s[r] = sum of the partial sums written
// by sort_pool2d_backward*.wgsl (stage 1, one per work item), then, with w = softmax(logits) from
// sort_pool2d_weights.wgsl,
//   dLogits[j] = w[j] * (s[j] - sum_{r < k} w[r] * s[r])   for j < k, when k > 1
// (src/spec.ts softmaxVjp; the sum over r in order r = 0, 1, ...), so one non-finite s[r]
// makes every element non-finite; and dLogits = [0] exactly for k = 1 (one logit is no free
// weight: 1 * (s - s) would be NaN for a non-finite s), src/spec.ts logitsGradient. Invocation i adds partials
// i, i + WORKGROUP_SIZE, i + 2 * WORKGROUP_SIZE, ... in that order, then the workgroup adds
// those by a fixed binary tree in workgroup memory: the order of every addition is fixed, so the
// result is bitwise identical from run to run (no float atomics).
//
// Bindings (group 0):
//   0  partials   storage, read        array<vec4<f32>>  stage-1 sums, component r = rank r
//   1  weights    uniform              vec4<f32>         softmax(logits), 0 past k
//   2  d_logits   storage, read_write  array<f32>        dL/dlogits, k floats
//   3  params     uniform              Params (8 bytes, two u32, in this order):
//        partial_count   how many partials to add: the stage-1 work_items, or, for a call whose
//                        partials the host sums in blocks (split calls, and more partials than
//                        one invocation may loop over: src/webgpu/chunks.ts), the block sums of
//                        sort_pool2d_partial_sums.wgsl
//        k               1..4
// Override constant: WORKGROUP_SIZE (default 256, a power of two).
// Dispatch: exactly one workgroup, (1, 1, 1), after the stage-1 kernel.

struct Params {
  partial_count: u32,
  k: u32,
}

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> weights: vec4<f32>;
@group(0) @binding(2) var<storage, read_write> d_logits: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 256u;

var<workgroup> sums: array<vec4<f32>, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = vec4<f32>(0.0);
  for (var i = lid; i < params.partial_count; i += WORKGROUP_SIZE) {
    acc += partials[i];
  }
  sums[lid] = acc;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half = half / 2u) {
    if (lid < half) {
      sums[lid] = sums[lid] + sums[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u && params.k == 1u) {
    d_logits[0] = 0.0;
  } else if (lid == 0u) {
    let s = sums[0];
    let w = weights;
    var dot = 0.0;
    for (var r = 0u; r < params.k; r++) {
      dot += w[r] * s[r];
    }
    for (var j = 0u; j < params.k; j++) {
      d_logits[j] = w[j] * (s[j] - dot);
    }
  }
}
`,
  "sort_pool2d_forward.wgsl":
    `// generated from kernels/source/forward.wgsl (lanes = 1) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d forward, one channel per invocation (any C; sort_pool2d_forward_vec4.wgsl is faster
// when C % 4 == 0).
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
// How: only values are needed, not which cell ranks where (the backward kernels track cells).
// Without NaN, float comparison is the spec's value order (-0 == +0), so the 5-comparator
// network of src/spec.ts SORTING_NETWORK, (0,1) (2,3) (0,2) (1,3) (1,2), moves the values
// themselves with float compares and selects, and its own swap history settles equal values by
// cell (see main). A window with a NaN has a NaN of rank 0, so its y is NaN whatever the other
// ranks: each compare-exchange also moves a NaN (found from its bit pattern) up, which brings one
// to rank 0, and the sum propagates it. The output of every input is bitwise the one the earlier
// cell-tracking version of this kernel gave (NaN payloads aside when several NaNs meet: which one
// survives is up to the network and the compiler). The window's position comes from the work
// item by float division made exact (see divide, divide_small): CPU adapters run integer
// division lane by lane. Speed on CPU adapters (llvmpipe, lavapipe: every storage access is a
// loop over lanes, both sides of every branch run) is why the host specialises this kernel with
// the constants below and picks a larger workgroup (src/webgpu/pool2x2.ts).
//
// Bindings (group 0):
//   0  x        storage, read        array<f32>        input, NHWC, B*H*W*C floats
//   1  weights  uniform              vec4<f32>         softmax(logits), 0 past k
//   2  y        storage, read_write  array<f32>        output, NHWC, B*Ho*Wo*C floats
//   3  params   uniform              Params (32 bytes, eight u32, in this order):
//        height, width          H, W of x
//        channel_groups         C (floats per pixel)
//        out_height, out_width  Ho, Wo of y ("same": ceil(H/2), ceil(W/2); "valid": floor)
//        k                      1..4 (this kernel reads the constant K instead)
//        work_items             B * Ho * Wo * channel_groups / GROUPS_PER_INVOCATION
//        unused                 write 0
// Override constants: WORKGROUP_SIZE (default 64; the host uses 256); GROUPS_PER_INVOCATION (1 or 2, default 1;
//   2 needs an even channel_groups): each invocation writes that many consecutive output floats;
//   K (default 4): k, the same as params.k. A pipeline per k lets the compiler drop the ranks
//   and products that k leaves out (CPU adapters run both sides of a branch); FULL_WINDOWS
//   (default false): true only when every window lies inside x ("valid", or even H and W), which
//   drops the border tests and selects; FEW_ITEMS (default false): true only when work_items
//   <= 2^20, which lets one rounding step divide (see divide_small).
// Dispatch: after sort_pool2d_weights.wgsl, workgroups (gx, gy, 1) with
//   gx * gy * WORKGROUP_SIZE >= work_items; the work item of an invocation is
//   global_id.x + global_id.y * gx * WORKGROUP_SIZE, so a host splits a count above
//   maxComputeWorkgroupsPerDimension into a 2-D grid. Items past work_items do nothing.
//
// This file and sort_pool2d_forward_vec4.wgsl (4 channels per invocation) differ only in this
// header and in the variant block below.

// ---- variant block ----
alias Values = f32;
alias Bits = i32;
alias Lanes = bool;
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
// index arithmetic (more were slower on llvmpipe: 4 and 8 measured below 2).
override GROUPS_PER_INVOCATION: u32 = 1u;
// Ranks kept, 1..4: params.k of the call (the host always sets it).
override K: u32 = 4u;
// Every window lies inside x: no cell is padding.
override FULL_WINDOWS: bool = false;
// work_items <= 2^20: slot indices divide in one step (divide_small).
override FEW_ITEMS: bool = false;

// Where v is NaN, from its bit pattern (exponent all ones, mantissa not 0), never by \`v != v\`,
// which compilers that assume no NaN (fast-math) may fold.
fn is_nan(v: Values) -> Lanes {
  return (bitcast<Bits>(v) & Bits(0x7fffffff)) > Bits(0x7f800000);
}

// Swaps the values of slots a and b in the lanes where \`swap\` holds (branch-free).
fn swap_where(a: ptr<function, Values>, b: ptr<function, Values>, swap: Lanes) {
  let first = *a;
  let second = *b;
  *a = select(first, second, swap);
  *b = select(second, first, swap);
}

// Compare-exchange moving the larger value to slot a; equal values (+0 == -0) stay; a NaN in b
// moves up too, so a window's NaN (if any) reaches rank 0 (when both are NaN they swap: which
// NaN leads only picks the payload of a NaN y). Returns where it swapped. The NaN test also keeps
// GLSL compilers from rewriting compare-and-select as fmax/fmin, which may order -0 and +0 either
// way.
fn exchange(a: ptr<function, Values>, b: ptr<function, Values>) -> Lanes {
  let swap = (*b > *a) | is_nan(*b);
  swap_where(a, b, swap);
  return swap;
}

// The nearest integer to v, for |v| <= 2^22: adding 1.5 * 2^23 leaves it in the low mantissa bits.
fn nearest(v: f32) -> i32 {
  return bitcast<i32>(v + 12582912.0) - 0x4b400000;
}

// floor(a / d) for 0 <= a < 2^30 and 1 <= d < 2^30, with inverse = 1 / f32(d), exact (indices
// here stay below 2^30: a storage binding of at most 2^32 bytes holds under 2^30 floats). Integer
// division runs lane by lane on CPU adapters; this is a few vector operations. The first estimate
// is within a * 2^-21.8 + 1 of a / d (WGSL's f32 division is within 2.5 ULP), so its remainder
// (exact in i32) is at most 2^9.2 + d in size; the second step rounds the remainder's quotient,
// which leaves floor(a / d) or one more, and the sign of the final remainder tells which.
fn divide(a: u32, d: u32, inverse: f32) -> u32 {
  let dividend = i32(a);
  let divisor = i32(d);
  let estimate = i32(f32(dividend) * inverse);
  let q = estimate + nearest(f32(dividend - estimate * divisor) * inverse);
  return u32(q - select(0, 1, dividend - q * divisor < 0));
}

// floor(a / d) for 0 <= a < 2^20 and 1 <= d <= 2^20, with inverse = 1 / f32(d), in one step. The
// true (a + 0.5) / d lies at least 0.5 / d from an integer (a / d is one or is at least 1 / d
// past one); the computed one is within (a + 0.5) / d * 2^-21.4 of it (2.5 ULP reciprocal, one
// rounded product), which is less than 0.5 / d for a + 0.5 < 2^20.4, so truncation is exact.
fn divide_small(a: u32, inverse: f32) -> u32 {
  return u32((f32(a) + 0.5) * inverse);
}

// floor(slot / d) for the slot arithmetic of main: in one step when FEW_ITEMS (the slot and
// every divisor of main are below work_items; a constant, so the other branch is compiled out).
fn divide_slot(slot: u32, d: u32) -> u32 {
  let inverse = 1.0 / f32(i32(d));
  if (FEW_ITEMS) {
    return divide_small(slot, inverse);
  }
  return divide(slot, d, inverse);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot >= params.work_items) {
    return;
  }
  // Window, output row (b * out_height + oh) and image of the work item: three independent
  // divisions of the slot (floor(floor(a / m) / n) = floor(a / (m * n))).
  let slots_per_window = params.channel_groups / GROUPS_PER_INVOCATION;
  let slots_per_row = slots_per_window * params.out_width;
  let slots_per_image = slots_per_row * params.out_height;
  let window = divide_slot(slot, slots_per_window);
  let rest = divide_slot(slot, slots_per_row);
  let b = divide_slot(slot, slots_per_image);
  let first_group = (slot - window * slots_per_window) * GROUPS_PER_INVOCATION;
  let ow = window - rest * params.out_width;
  let oh = rest - b * params.out_height;
  let w = weights;

  // The window's cells (SPEC.md §3): cell 0 always lies inside x; a cell past the right column or
  // the bottom row reads cell 0's element instead (a step of 0). For k = 1 that copy of cell 0
  // takes no part, as the spec asks: it ties with cell 0 and ranks after it. For k > 1 it becomes
  // the zero-valued participant.
  let row = 2u * oh;
  let col = 2u * ow;
  let has_right = FULL_WINDOWS || col + 1u < params.width;
  let has_below = FULL_WINDOWS || row + 1u < params.height;
  let zeros = K > 1u;
  let right = select(0u, params.channel_groups, has_right);
  let below = select(0u, params.width * params.channel_groups, has_below);
  let top_left = ((b * params.height + row) * params.width + col) * params.channel_groups + first_group;

  for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {
    let v0 = x[top_left + j];
    let v1 = select(x[top_left + j + right], Values(0.0), zeros && !has_right);
    let v2 = select(x[top_left + j + below], Values(0.0), zeros && !has_below);
    let v3 = select(x[top_left + j + right + below], Values(0.0), zeros && !(has_right && has_below));
    var s0 = v0;
    var s1 = v1;
    var s2 = v2;
    var s3 = v3;
    // The 5-comparator network of src/spec.ts SORTING_NETWORK. Equal values must keep the lower
    // cell first. The first four compare-exchanges hold the lower cell in their first slot (slots
    // 0, 1 hold cells 0, 1 and slots 2, 3 hold cells 2, 3 until (1,2)), so "swap on a strictly
    // greater value" keeps it. At (1,2) slot 1 holds the larger of the pairs' seconds, slot 2 the
    // smaller of their firsts: slot 1's cell is the lower one exactly when slot 1 still holds
    // cell 0 or 1 and slot 2 still holds cell 2 or 3, i.e. when neither (0,2) nor (1,3) swapped.
    // So on equal values (1,2) swaps when one of them did (src/webgpu/forward_bits.test.ts runs
    // every pattern of ties).
    exchange(&s0, &s1);
    exchange(&s2, &s3);
    let crossed = exchange(&s0, &s2) | exchange(&s1, &s3);
    swap_where(&s1, &s2, select(s2 > s1, s2 >= s1, crossed));

    // Ranks r >= k are left out, not weighted by 0: 0 * Inf would be NaN. The sum starts from the
    // first product, not from +0 (SPEC.md §5): a zero y keeps IEEE's sign (-0 exactly when every
    // product is -0), and k = 1 with w = [1] returns the rank-0 value itself.
    var acc = w.x * s0;
    if (K > 1u) {
      acc += w.y * s1;
    }
    if (K > 2u) {
      acc += w.z * s2;
    }
    if (K > 3u) {
      acc += w.w * s3;
    }
    y[window * params.channel_groups + first_group + j] = acc;
  }
}
`,
  "sort_pool2d_forward_vec4.wgsl":
    `// generated from kernels/source/forward.wgsl (lanes = 4) by build/kernels.ts (deno task kernels); do not edit
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
// How: only values are needed, not which cell ranks where (the backward kernels track cells).
// Without NaN, float comparison is the spec's value order (-0 == +0), so the 5-comparator
// network of src/spec.ts SORTING_NETWORK, (0,1) (2,3) (0,2) (1,3) (1,2), moves the values
// themselves with float compares and selects, and its own swap history settles equal values by
// cell (see main). A window with a NaN has a NaN of rank 0, so its y is NaN whatever the other
// ranks: each compare-exchange also moves a NaN (found from its bit pattern) up, which brings one
// to rank 0, and the sum propagates it. The output of every input is bitwise the one the earlier
// cell-tracking version of this kernel gave (NaN payloads aside when several NaNs meet: which one
// survives is up to the network and the compiler). The window's position comes from the work
// item by float division made exact (see divide, divide_small): CPU adapters run integer
// division lane by lane. Speed on CPU adapters (llvmpipe, lavapipe: every storage access is a
// loop over lanes, both sides of every branch run) is why the host specialises this kernel with
// the constants below and picks a larger workgroup (src/webgpu/pool2x2.ts).
//
// Bindings (group 0):
//   0  x        storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//   1  weights  uniform              vec4<f32>         softmax(logits), 0 past k
//   2  y        storage, read_write  array<vec4<f32>>  output, NHWC, B*Ho*Wo*C floats
//   3  params   uniform              Params (32 bytes, eight u32, in this order):
//        height, width          H, W of x
//        channel_groups         C / 4 (vec4s per pixel)
//        out_height, out_width  Ho, Wo of y ("same": ceil(H/2), ceil(W/2); "valid": floor)
//        k                      1..4 (this kernel reads the constant K instead)
//        work_items             B * Ho * Wo * channel_groups / GROUPS_PER_INVOCATION
//        unused                 write 0
// Override constants: WORKGROUP_SIZE (default 64; the host uses 256); GROUPS_PER_INVOCATION (1 or 2, default 1;
//   2 needs an even channel_groups): each invocation writes that many consecutive output vec4s;
//   K (default 4): k, the same as params.k. A pipeline per k lets the compiler drop the ranks
//   and products that k leaves out (CPU adapters run both sides of a branch); FULL_WINDOWS
//   (default false): true only when every window lies inside x ("valid", or even H and W), which
//   drops the border tests and selects; FEW_ITEMS (default false): true only when work_items
//   <= 2^20, which lets one rounding step divide (see divide_small).
// Dispatch: after sort_pool2d_weights.wgsl, workgroups (gx, gy, 1) with
//   gx * gy * WORKGROUP_SIZE >= work_items; the work item of an invocation is
//   global_id.x + global_id.y * gx * WORKGROUP_SIZE, so a host splits a count above
//   maxComputeWorkgroupsPerDimension into a 2-D grid. Items past work_items do nothing.
//
// This file and sort_pool2d_forward.wgsl (one channel per invocation, any C) differ only in this
// header and in the variant block below.

// ---- variant block ----
alias Values = vec4<f32>;
alias Bits = vec4<i32>;
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
// index arithmetic (more were slower on llvmpipe: 4 and 8 measured below 2).
override GROUPS_PER_INVOCATION: u32 = 1u;
// Ranks kept, 1..4: params.k of the call (the host always sets it).
override K: u32 = 4u;
// Every window lies inside x: no cell is padding.
override FULL_WINDOWS: bool = false;
// work_items <= 2^20: slot indices divide in one step (divide_small).
override FEW_ITEMS: bool = false;

// Where v is NaN, from its bit pattern (exponent all ones, mantissa not 0), never by \`v != v\`,
// which compilers that assume no NaN (fast-math) may fold.
fn is_nan(v: Values) -> Lanes {
  return (bitcast<Bits>(v) & Bits(0x7fffffff)) > Bits(0x7f800000);
}

// Swaps the values of slots a and b in the lanes where \`swap\` holds (branch-free).
fn swap_where(a: ptr<function, Values>, b: ptr<function, Values>, swap: Lanes) {
  let first = *a;
  let second = *b;
  *a = select(first, second, swap);
  *b = select(second, first, swap);
}

// Compare-exchange moving the larger value to slot a; equal values (+0 == -0) stay; a NaN in b
// moves up too, so a window's NaN (if any) reaches rank 0 (when both are NaN they swap: which
// NaN leads only picks the payload of a NaN y). Returns where it swapped. The NaN test also keeps
// GLSL compilers from rewriting compare-and-select as fmax/fmin, which may order -0 and +0 either
// way.
fn exchange(a: ptr<function, Values>, b: ptr<function, Values>) -> Lanes {
  let swap = (*b > *a) | is_nan(*b);
  swap_where(a, b, swap);
  return swap;
}

// The nearest integer to v, for |v| <= 2^22: adding 1.5 * 2^23 leaves it in the low mantissa bits.
fn nearest(v: f32) -> i32 {
  return bitcast<i32>(v + 12582912.0) - 0x4b400000;
}

// floor(a / d) for 0 <= a < 2^30 and 1 <= d < 2^30, with inverse = 1 / f32(d), exact (indices
// here stay below 2^30: a storage binding of at most 2^32 bytes holds under 2^30 floats). Integer
// division runs lane by lane on CPU adapters; this is a few vector operations. The first estimate
// is within a * 2^-21.8 + 1 of a / d (WGSL's f32 division is within 2.5 ULP), so its remainder
// (exact in i32) is at most 2^9.2 + d in size; the second step rounds the remainder's quotient,
// which leaves floor(a / d) or one more, and the sign of the final remainder tells which.
fn divide(a: u32, d: u32, inverse: f32) -> u32 {
  let dividend = i32(a);
  let divisor = i32(d);
  let estimate = i32(f32(dividend) * inverse);
  let q = estimate + nearest(f32(dividend - estimate * divisor) * inverse);
  return u32(q - select(0, 1, dividend - q * divisor < 0));
}

// floor(a / d) for 0 <= a < 2^20 and 1 <= d <= 2^20, with inverse = 1 / f32(d), in one step. The
// true (a + 0.5) / d lies at least 0.5 / d from an integer (a / d is one or is at least 1 / d
// past one); the computed one is within (a + 0.5) / d * 2^-21.4 of it (2.5 ULP reciprocal, one
// rounded product), which is less than 0.5 / d for a + 0.5 < 2^20.4, so truncation is exact.
fn divide_small(a: u32, inverse: f32) -> u32 {
  return u32((f32(a) + 0.5) * inverse);
}

// floor(slot / d) for the slot arithmetic of main: in one step when FEW_ITEMS (the slot and
// every divisor of main are below work_items; a constant, so the other branch is compiled out).
fn divide_slot(slot: u32, d: u32) -> u32 {
  let inverse = 1.0 / f32(i32(d));
  if (FEW_ITEMS) {
    return divide_small(slot, inverse);
  }
  return divide(slot, d, inverse);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot >= params.work_items) {
    return;
  }
  // Window, output row (b * out_height + oh) and image of the work item: three independent
  // divisions of the slot (floor(floor(a / m) / n) = floor(a / (m * n))).
  let slots_per_window = params.channel_groups / GROUPS_PER_INVOCATION;
  let slots_per_row = slots_per_window * params.out_width;
  let slots_per_image = slots_per_row * params.out_height;
  let window = divide_slot(slot, slots_per_window);
  let rest = divide_slot(slot, slots_per_row);
  let b = divide_slot(slot, slots_per_image);
  let first_group = (slot - window * slots_per_window) * GROUPS_PER_INVOCATION;
  let ow = window - rest * params.out_width;
  let oh = rest - b * params.out_height;
  let w = weights;

  // The window's cells (SPEC.md §3): cell 0 always lies inside x; a cell past the right column or
  // the bottom row reads cell 0's element instead (a step of 0). For k = 1 that copy of cell 0
  // takes no part, as the spec asks: it ties with cell 0 and ranks after it. For k > 1 it becomes
  // the zero-valued participant.
  let row = 2u * oh;
  let col = 2u * ow;
  let has_right = FULL_WINDOWS || col + 1u < params.width;
  let has_below = FULL_WINDOWS || row + 1u < params.height;
  let zeros = K > 1u;
  let right = select(0u, params.channel_groups, has_right);
  let below = select(0u, params.width * params.channel_groups, has_below);
  let top_left = ((b * params.height + row) * params.width + col) * params.channel_groups + first_group;

  for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {
    let v0 = x[top_left + j];
    let v1 = select(x[top_left + j + right], Values(0.0), zeros && !has_right);
    let v2 = select(x[top_left + j + below], Values(0.0), zeros && !has_below);
    let v3 = select(x[top_left + j + right + below], Values(0.0), zeros && !(has_right && has_below));
    var s0 = v0;
    var s1 = v1;
    var s2 = v2;
    var s3 = v3;
    // The 5-comparator network of src/spec.ts SORTING_NETWORK. Equal values must keep the lower
    // cell first. The first four compare-exchanges hold the lower cell in their first slot (slots
    // 0, 1 hold cells 0, 1 and slots 2, 3 hold cells 2, 3 until (1,2)), so "swap on a strictly
    // greater value" keeps it. At (1,2) slot 1 holds the larger of the pairs' seconds, slot 2 the
    // smaller of their firsts: slot 1's cell is the lower one exactly when slot 1 still holds
    // cell 0 or 1 and slot 2 still holds cell 2 or 3, i.e. when neither (0,2) nor (1,3) swapped.
    // So on equal values (1,2) swaps when one of them did (src/webgpu/forward_bits.test.ts runs
    // every pattern of ties).
    exchange(&s0, &s1);
    exchange(&s2, &s3);
    let crossed = exchange(&s0, &s2) | exchange(&s1, &s3);
    swap_where(&s1, &s2, select(s2 > s1, s2 >= s1, crossed));

    // Ranks r >= k are left out, not weighted by 0: 0 * Inf would be NaN. The sum starts from the
    // first product, not from +0 (SPEC.md §5): a zero y keeps IEEE's sign (-0 exactly when every
    // product is -0), and k = 1 with w = [1] returns the rank-0 value itself.
    var acc = w.x * s0;
    if (K > 1u) {
      acc += w.y * s1;
    }
    if (K > 2u) {
      acc += w.z * s2;
    }
    if (K > 3u) {
      acc += w.w * s3;
    }
    y[window * params.channel_groups + first_group + j] = acc;
  }
}
`,
  "sort_pool2d_general_dlogits.wgsl":
    `// generated from kernels/source/general_dlogits.wgsl by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward for any window, stage 2 of dLogits: adds the stage-1 rank sums of
// sort_pool2d_general_ranks*.wgsl per weight group in a fixed order, then applies the softmax VJP;
// one workgroup per group (one group for weights shared by every channel, C for per-channel ones).
//
// What it computes (SPEC.md §5 "Gradient"): for each group (channel c's k logits, or the one
// shared set), s[r] = the sum of its partials, then with w that group's rank weights
//   dLogits[group * k + j] = w[j] * (s[j] - sum_{r < k} w[r] * s[r])   for j < k, when k > 1
// (src/spec.ts softmaxVjp; the dot product in rank order), so one non-finite s[r] makes that
// group's every element non-finite; and exactly +0 for k = 1 (src/spec.ts logitsGradient: one
// logit is no free weight, and 1 * (s - s) would be NaN for a non-finite s).
// A call split into chunks (src/webgpu/general_windows.ts), or whose terms per group are more
// than one invocation may loop over (the host's loop budget, src/webgpu/chunks.ts: Mesa's CPU
// adapters silently cut an invocation's loops short past 65,535 iterations in all), sums its
// terms in blocks: it runs this kernel in "store" mode over each block after its chunk's stage 1
// (the block's terms bound at an offset of \`partials\`): the first block writes its sums, each
// later one adds its own to them (in block order, so the order stays fixed, and the running sums
// take one slot per group whatever the number of blocks); then once in "finish" mode over those
// running sums.
// Order of additions, fixed (so results are bitwise identical from run to run, no float
// atomics): term n of the group is partials[n * term_stride + group * quads + q]; invocation i
// adds terms i, i + WORKGROUP_SIZE, i + 2 * WORKGROUP_SIZE, ... in that order, then the workgroup
// adds those by a fixed binary tree in workgroup memory, one quad (4 ranks) at a time.
//
// Bindings (group 0):
//   0  partials  storage, read        array<vec4<f32>>  stage-1 sums (component j of quad q: rank 4q + j)
//   1  weights   storage, read        array<f32>        rank weights, a k x channels table:
//                                                       weights[r * channels + c]
//   2  out       storage, read_write  array<f32>        finish: dLogits, groups * k floats;
//                                                       store: running sums, quads vec4s per group
//   3  params    uniform              Params (32 bytes, eight u32, in this order):
//        count        terms per group (stage-1 items or rows of one block, or 1 over the running sums)
//        term_stride  vec4s between consecutive terms of a group
//        groups       workgroups doing work: 1 (shared weights) or C (per channel)
//        k            1..16
//        channels     columns of the weights table (C)
//        finish       1: write dLogits; 0: store the sums (quads vec4s per group)
//        accumulate   store mode: 0 writes the sums (first block), 1 adds them to those in \`out\`
//        quads        ceil(k / 4)
// Override constant: WORKGROUP_SIZE (default 64, a power of two).
// Dispatch: (gx, gy, 1) workgroups with gx * gy >= groups; group = workgroup_id.x +
//   workgroup_id.y * gx. After stage 1 (and, in finish mode over running sums, after every block).

struct Params {
  count: u32,
  term_stride: u32,
  groups: u32,
  k: u32,
  channels: u32,
  finish: u32,
  accumulate: u32,
  quads: u32,
}

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;

var<workgroup> scratch: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> totals: array<vec4<f32>, 4>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // Uniform across the workgroup, so the early exit keeps barriers in uniform control flow.
  let group = wid.x + wid.y * groups.x;
  if (group >= params.groups) {
    return;
  }
  for (var q = 0u; q < params.quads; q++) {
    var acc = vec4<f32>(0.0);
    for (var n = lid; n < params.count; n += WORKGROUP_SIZE) {
      acc += partials[n * params.term_stride + group * params.quads + q];
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
      totals[q] = scratch[0];
    }
    workgroupBarrier();
  }
  if (lid != 0u) {
    return;
  }
  if (params.finish == 0u) {
    let add = params.accumulate == 1u;
    for (var q = 0u; q < params.quads; q++) {
      let at = (group * params.quads + q) * 4u;
      let t = totals[q];
      out[at] = select(t.x, out[at] + t.x, add);
      out[at + 1u] = select(t.y, out[at + 1u] + t.y, add);
      out[at + 2u] = select(t.z, out[at + 2u] + t.z, add);
      out[at + 3u] = select(t.w, out[at + 3u] + t.w, add);
    }
    return;
  }
  let k = params.k;
  // Shared weights: column 0 of the table (every column holds them); per channel: the group's.
  let column = select(group, 0u, params.groups == 1u);
  if (k == 1u) {
    out[group] = 0.0;
    return;
  }
  var dot = 0.0;
  for (var r = 0u; r < k; r++) {
    dot += weights[r * params.channels + column] * totals[r / 4u][r % 4u];
  }
  for (var j = 0u; j < k; j++) {
    out[group * k + j] = weights[j * params.channels + column] * (totals[j / 4u][j % 4u] - dot);
  }
}
`,
  "sort_pool2d_general_forward.wgsl":
    `// generated from kernels/source/general_forward.wgsl (lanes = 1) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d forward for any window, one channel per invocation (any C;
// sort_pool2d_general_forward_vec4.wgsl is faster when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): for every KH x KW window (strides
// stride_h, stride_w; TensorFlow's "same"/"valid" padding, SPEC.md §2 "Windows", §3 "Padding")
// and channel c,
//   y = w[0] * v[0] + w[1] * v[1] + ... + w[K-1] * v[K-1]   (in this order)
// where v[r] is the value of rank r (SPEC.md §4 "Ranking", src/spec.ts ranksBefore: NaN first,
// then larger values, equal values (+0 == -0) by window cell, lower first; cells row-major over
// the window) and w the rank weights of channel c (SPEC.md §5 "Weights"). A cell in the padding
// is a zero-valued participant when K > 1 and takes no part when K = 1.
// The 2x2 / stride 2 windows with weights shared by every channel have their own kernels
// (sort_pool2d_forward_vec4.wgsl); this one serves every other window and per-channel weights.
//
// How: a selection network sized to the window. The invocation keeps its K best entries
// (integer sort key, value) in rank order and offers them the window's cells one by one in cell
// order. A cell goes in before every kept entry whose key is STRICTLY lower; on equal keys it
// stays behind, because every kept entry comes from an earlier cell: so the order is the spec's
// (key descending, then cell ascending) without comparing cells. Keys are integers built from the
// bits (see sort_key), never float comparisons: NaN is found from its bit pattern (compilers that
// assume no NaN may fold \`x != x\` away), and +0 and -0 get the same key but keep their own value,
// so the sign of a zero y is the spec's. Ranks >= K are dropped as soon as they fall off the end:
// the network is K compare-exchanges per cell, K * KH * KW in all. The kept entries are sixteen
// named variables, not an array: the \`K > r\` guards are pipeline constants, so a pipeline keeps
// only its K of them in registers, where an array indexed in a loop went to memory on the CPU
// adapters this project measures on and ran 5 to 15 times slower.
//
// Bindings (group 0):
//   0  x        storage, read        array<f32>        input, NHWC, B*H*W*C floats
//   1  weights  storage, read        array<f32>        rank weights, a K x C table: weights[r * C + c]
//                                                      holds w[r] of channel c
//   2  y        storage, read_write  array<f32>        output, NHWC, B*Ho*Wo*C floats
//   3  params   uniform              Params (64 bytes, sixteen u32, in this order):
//        height, width          H, W of x
//        channel_groups         C (floats per pixel)
//        out_height, out_width  Ho, Wo of y (SPEC.md §3)
//        stride_h, stride_w     window strides
//        pad_top, pad_left      padded rows above and columns left of x (TensorFlow's floor(total / 2))
//        work_items             B * Ho * Wo * channel_groups (one output float each)
//        x_base, y_base         where this call's x and y start inside their bindings, in floats
//        unused0..unused3       not read here (sort_pool2d_general_ranks*.wgsl reads them); write 0
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (window rows and columns, 1..4);
//   K (kept ranks, 1..KH*KW).
// Dispatch: workgroups (gx, gy, 1) with gx * gy * WORKGROUP_SIZE >= work_items; the work item of
//   an invocation is global_id.x + global_id.y * gx * WORKGROUP_SIZE (a 2-D grid past
//   maxComputeWorkgroupsPerDimension). Items past work_items do nothing.
//
// This file and sort_pool2d_general_forward_vec4.wgsl (4 channels per invocation) differ only
// in this header and in the variant block below.

// ---- variant block ----
alias Values = f32;
alias Keys = i32;
// ---- end of variant block ----

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  work_items: u32,
  x_base: u32,
  y_base: u32,
  unused0: u32,
  unused1: u32,
  unused2: u32,
  unused3: u32,
}

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<storage, read> weights: array<Values>;
@group(0) @binding(2) var<storage, read_write> y: array<Values>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override K: u32 = 1u;

// The key of a padded cell when K = 1 (it takes no part), and of a rank not yet filled: below
// every real value's key (-Inf is -0x7f800000), so it never ranks first.
const EXCLUDED_KEY: i32 = -2147483647 - 1;

// Signed keys whose order is the spec's value order: -m for negative floats, m otherwise (m the
// magnitude bits, so -0 and +0 both map to 0), and one key above +Inf for every NaN.
fn sort_key(v: Values) -> Keys {
  let bits = bitcast<Keys>(v);
  let magnitude = bits & Keys(0x7fffffff);
  let ordered = select(magnitude, -magnitude, bits < Keys(0));
  return select(ordered, Keys(0x7fffffff), magnitude > Keys(0x7f800000));
}

// A kept entry: sort key and value.
struct Ranked {
  key: Keys,
  value: Values,
}

// Kept entry r after cell \`e\` was offered: unchanged where e does not rank before it, the entry
// of rank r - 1 (\`above\`, still the old one) where e ranks before that too, else e itself.
fn offer(current: Ranked, above: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  let shift = e.key > above.key;
  return Ranked(
    select(current.key, select(e.key, above.key, shift), here),
    select(current.value, select(e.value, above.value, shift), here),
  );
}

// Rank 0 after cell \`e\` was offered.
fn offer_first(current: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  return Ranked(select(current.key, e.key, here), select(current.value, e.value, here));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot >= params.work_items) {
    return;
  }
  let window = slot / params.channel_groups;
  let g = slot - window * params.channel_groups;
  let rest = window / params.out_width;
  let ow = window - rest * params.out_width;
  let b = rest / params.out_height;
  let oh = rest - b * params.out_height;
  let top = i32(oh * params.stride_h) - i32(params.pad_top);
  let left = i32(ow * params.stride_w) - i32(params.pad_left);
  let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), K > 1u);

  // The K best entries so far, rank 0 first, in named registers (t0 .. t15; the \`K > r\` tests
  // are pipeline constants, so a pipeline keeps only its K of them). Not yet filled: EXCLUDED_KEY.
  let empty = Ranked(Keys(EXCLUDED_KEY), Values(0.0));
  var t0 = empty; var t1 = empty; var t2 = empty; var t3 = empty;
  var t4 = empty; var t5 = empty; var t6 = empty; var t7 = empty;
  var t8 = empty; var t9 = empty; var t10 = empty; var t11 = empty;
  var t12 = empty; var t13 = empty; var t14 = empty; var t15 = empty;

  for (var dr = 0u; dr < KH; dr++) {
    let row = top + i32(dr);
    let row_inside = row >= 0 && row < i32(params.height);
    let row_start = (b * params.height + u32(row)) * params.width;
    for (var dc = 0u; dc < KW; dc++) {
      let col = left + i32(dc);
      let inside = row_inside && col >= 0 && col < i32(params.width);
      // Branch-free: a padded cell reads element 0 and discards it.
      let index = select(0u, (row_start + u32(col)) * params.channel_groups + g, inside);
      let value = select(Values(0.0), x[params.x_base + index], inside);
      let e = Ranked(select(padded_key, sort_key(value), inside), value);
      // From the last rank up, so that entry r - 1 is still the old one when entry r takes it.
      if (K > 15u) { t15 = offer(t15, t14, e); }
      if (K > 14u) { t14 = offer(t14, t13, e); }
      if (K > 13u) { t13 = offer(t13, t12, e); }
      if (K > 12u) { t12 = offer(t12, t11, e); }
      if (K > 11u) { t11 = offer(t11, t10, e); }
      if (K > 10u) { t10 = offer(t10, t9, e); }
      if (K > 9u) { t9 = offer(t9, t8, e); }
      if (K > 8u) { t8 = offer(t8, t7, e); }
      if (K > 7u) { t7 = offer(t7, t6, e); }
      if (K > 6u) { t6 = offer(t6, t5, e); }
      if (K > 5u) { t5 = offer(t5, t4, e); }
      if (K > 4u) { t4 = offer(t4, t3, e); }
      if (K > 3u) { t3 = offer(t3, t2, e); }
      if (K > 2u) { t2 = offer(t2, t1, e); }
      if (K > 1u) { t1 = offer(t1, t0, e); }
      t0 = offer_first(t0, e);
    }
  }

  // The sum starts from the first product, not from +0 (SPEC.md §5): a zero y keeps IEEE's sign
  // and K = 1 with w = [1] returns the rank-0 value itself. Ranks >= K are left out, not weighted
  // by 0 (0 * Inf would be NaN).
  let cg = params.channel_groups;
  var acc = weights[g] * t0.value;
  if (K > 1u) { acc += weights[cg + g] * t1.value; }
  if (K > 2u) { acc += weights[2u * cg + g] * t2.value; }
  if (K > 3u) { acc += weights[3u * cg + g] * t3.value; }
  if (K > 4u) { acc += weights[4u * cg + g] * t4.value; }
  if (K > 5u) { acc += weights[5u * cg + g] * t5.value; }
  if (K > 6u) { acc += weights[6u * cg + g] * t6.value; }
  if (K > 7u) { acc += weights[7u * cg + g] * t7.value; }
  if (K > 8u) { acc += weights[8u * cg + g] * t8.value; }
  if (K > 9u) { acc += weights[9u * cg + g] * t9.value; }
  if (K > 10u) { acc += weights[10u * cg + g] * t10.value; }
  if (K > 11u) { acc += weights[11u * cg + g] * t11.value; }
  if (K > 12u) { acc += weights[12u * cg + g] * t12.value; }
  if (K > 13u) { acc += weights[13u * cg + g] * t13.value; }
  if (K > 14u) { acc += weights[14u * cg + g] * t14.value; }
  if (K > 15u) { acc += weights[15u * cg + g] * t15.value; }
  y[params.y_base + window * params.channel_groups + g] = acc;
}
`,
  "sort_pool2d_general_forward_vec4.wgsl":
    `// generated from kernels/source/general_forward.wgsl (lanes = 4) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d forward for any window, 4 channels per invocation (use when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): for every KH x KW window (strides
// stride_h, stride_w; TensorFlow's "same"/"valid" padding, SPEC.md §2 "Windows", §3 "Padding")
// and channel c,
//   y = w[0] * v[0] + w[1] * v[1] + ... + w[K-1] * v[K-1]   (in this order)
// where v[r] is the value of rank r (SPEC.md §4 "Ranking", src/spec.ts ranksBefore: NaN first,
// then larger values, equal values (+0 == -0) by window cell, lower first; cells row-major over
// the window) and w the rank weights of channel c (SPEC.md §5 "Weights"). A cell in the padding
// is a zero-valued participant when K > 1 and takes no part when K = 1.
// The 2x2 / stride 2 windows with weights shared by every channel have their own kernels
// (sort_pool2d_forward_vec4.wgsl); this one serves every other window and per-channel weights.
//
// How: a selection network sized to the window. The invocation keeps its K best entries
// (integer sort key, value) in rank order and offers them the window's cells one by one in cell
// order. A cell goes in before every kept entry whose key is STRICTLY lower; on equal keys it
// stays behind, because every kept entry comes from an earlier cell: so the order is the spec's
// (key descending, then cell ascending) without comparing cells. Keys are integers built from the
// bits (see sort_key), never float comparisons: NaN is found from its bit pattern (compilers that
// assume no NaN may fold \`x != x\` away), and +0 and -0 get the same key but keep their own value,
// so the sign of a zero y is the spec's. Ranks >= K are dropped as soon as they fall off the end:
// the network is K compare-exchanges per cell, K * KH * KW in all. The kept entries are sixteen
// named variables, not an array: the \`K > r\` guards are pipeline constants, so a pipeline keeps
// only its K of them in registers, where an array indexed in a loop went to memory on the CPU
// adapters this project measures on and ran 5 to 15 times slower.
//
// Bindings (group 0):
//   0  x        storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//   1  weights  storage, read        array<vec4<f32>>  rank weights, a K x C table: weights[r * (C/4) + g]
//                                                      holds w[r] of channels 4g..4g+3
//   2  y        storage, read_write  array<vec4<f32>>  output, NHWC, B*Ho*Wo*C floats
//   3  params   uniform              Params (64 bytes, sixteen u32, in this order):
//        height, width          H, W of x
//        channel_groups         C / 4 (vec4s per pixel)
//        out_height, out_width  Ho, Wo of y (SPEC.md §3)
//        stride_h, stride_w     window strides
//        pad_top, pad_left      padded rows above and columns left of x (TensorFlow's floor(total / 2))
//        work_items             B * Ho * Wo * channel_groups (one output vec4 each)
//        x_base, y_base         where this call's x and y start inside their bindings, in vec4s
//        unused0..unused3       not read here (sort_pool2d_general_ranks*.wgsl reads them); write 0
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (window rows and columns, 1..4);
//   K (kept ranks, 1..KH*KW).
// Dispatch: workgroups (gx, gy, 1) with gx * gy * WORKGROUP_SIZE >= work_items; the work item of
//   an invocation is global_id.x + global_id.y * gx * WORKGROUP_SIZE (a 2-D grid past
//   maxComputeWorkgroupsPerDimension). Items past work_items do nothing.
//
// This file and sort_pool2d_general_forward.wgsl (one channel per invocation, any C) differ only
// in this header and in the variant block below.

// ---- variant block ----
alias Values = vec4<f32>;
alias Keys = vec4<i32>;
// ---- end of variant block ----

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  work_items: u32,
  x_base: u32,
  y_base: u32,
  unused0: u32,
  unused1: u32,
  unused2: u32,
  unused3: u32,
}

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<storage, read> weights: array<Values>;
@group(0) @binding(2) var<storage, read_write> y: array<Values>;
@group(0) @binding(3) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override K: u32 = 1u;

// The key of a padded cell when K = 1 (it takes no part), and of a rank not yet filled: below
// every real value's key (-Inf is -0x7f800000), so it never ranks first.
const EXCLUDED_KEY: i32 = -2147483647 - 1;

// Signed keys whose order is the spec's value order: -m for negative floats, m otherwise (m the
// magnitude bits, so -0 and +0 both map to 0), and one key above +Inf for every NaN.
fn sort_key(v: Values) -> Keys {
  let bits = bitcast<Keys>(v);
  let magnitude = bits & Keys(0x7fffffff);
  let ordered = select(magnitude, -magnitude, bits < Keys(0));
  return select(ordered, Keys(0x7fffffff), magnitude > Keys(0x7f800000));
}

// A kept entry: sort key and value.
struct Ranked {
  key: Keys,
  value: Values,
}

// Kept entry r after cell \`e\` was offered: unchanged where e does not rank before it, the entry
// of rank r - 1 (\`above\`, still the old one) where e ranks before that too, else e itself.
fn offer(current: Ranked, above: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  let shift = e.key > above.key;
  return Ranked(
    select(current.key, select(e.key, above.key, shift), here),
    select(current.value, select(e.value, above.value, shift), here),
  );
}

// Rank 0 after cell \`e\` was offered.
fn offer_first(current: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  return Ranked(select(current.key, e.key, here), select(current.value, e.value, here));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot >= params.work_items) {
    return;
  }
  let window = slot / params.channel_groups;
  let g = slot - window * params.channel_groups;
  let rest = window / params.out_width;
  let ow = window - rest * params.out_width;
  let b = rest / params.out_height;
  let oh = rest - b * params.out_height;
  let top = i32(oh * params.stride_h) - i32(params.pad_top);
  let left = i32(ow * params.stride_w) - i32(params.pad_left);
  let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), K > 1u);

  // The K best entries so far, rank 0 first, in named registers (t0 .. t15; the \`K > r\` tests
  // are pipeline constants, so a pipeline keeps only its K of them). Not yet filled: EXCLUDED_KEY.
  let empty = Ranked(Keys(EXCLUDED_KEY), Values(0.0));
  var t0 = empty; var t1 = empty; var t2 = empty; var t3 = empty;
  var t4 = empty; var t5 = empty; var t6 = empty; var t7 = empty;
  var t8 = empty; var t9 = empty; var t10 = empty; var t11 = empty;
  var t12 = empty; var t13 = empty; var t14 = empty; var t15 = empty;

  for (var dr = 0u; dr < KH; dr++) {
    let row = top + i32(dr);
    let row_inside = row >= 0 && row < i32(params.height);
    let row_start = (b * params.height + u32(row)) * params.width;
    for (var dc = 0u; dc < KW; dc++) {
      let col = left + i32(dc);
      let inside = row_inside && col >= 0 && col < i32(params.width);
      // Branch-free: a padded cell reads element 0 and discards it.
      let index = select(0u, (row_start + u32(col)) * params.channel_groups + g, inside);
      let value = select(Values(0.0), x[params.x_base + index], inside);
      let e = Ranked(select(padded_key, sort_key(value), inside), value);
      // From the last rank up, so that entry r - 1 is still the old one when entry r takes it.
      if (K > 15u) { t15 = offer(t15, t14, e); }
      if (K > 14u) { t14 = offer(t14, t13, e); }
      if (K > 13u) { t13 = offer(t13, t12, e); }
      if (K > 12u) { t12 = offer(t12, t11, e); }
      if (K > 11u) { t11 = offer(t11, t10, e); }
      if (K > 10u) { t10 = offer(t10, t9, e); }
      if (K > 9u) { t9 = offer(t9, t8, e); }
      if (K > 8u) { t8 = offer(t8, t7, e); }
      if (K > 7u) { t7 = offer(t7, t6, e); }
      if (K > 6u) { t6 = offer(t6, t5, e); }
      if (K > 5u) { t5 = offer(t5, t4, e); }
      if (K > 4u) { t4 = offer(t4, t3, e); }
      if (K > 3u) { t3 = offer(t3, t2, e); }
      if (K > 2u) { t2 = offer(t2, t1, e); }
      if (K > 1u) { t1 = offer(t1, t0, e); }
      t0 = offer_first(t0, e);
    }
  }

  // The sum starts from the first product, not from +0 (SPEC.md §5): a zero y keeps IEEE's sign
  // and K = 1 with w = [1] returns the rank-0 value itself. Ranks >= K are left out, not weighted
  // by 0 (0 * Inf would be NaN).
  let cg = params.channel_groups;
  var acc = weights[g] * t0.value;
  if (K > 1u) { acc += weights[cg + g] * t1.value; }
  if (K > 2u) { acc += weights[2u * cg + g] * t2.value; }
  if (K > 3u) { acc += weights[3u * cg + g] * t3.value; }
  if (K > 4u) { acc += weights[4u * cg + g] * t4.value; }
  if (K > 5u) { acc += weights[5u * cg + g] * t5.value; }
  if (K > 6u) { acc += weights[6u * cg + g] * t6.value; }
  if (K > 7u) { acc += weights[7u * cg + g] * t7.value; }
  if (K > 8u) { acc += weights[8u * cg + g] * t8.value; }
  if (K > 9u) { acc += weights[9u * cg + g] * t9.value; }
  if (K > 10u) { acc += weights[10u * cg + g] * t10.value; }
  if (K > 11u) { acc += weights[11u * cg + g] * t11.value; }
  if (K > 12u) { acc += weights[12u * cg + g] * t12.value; }
  if (K > 13u) { acc += weights[13u * cg + g] * t13.value; }
  if (K > 14u) { acc += weights[14u * cg + g] * t14.value; }
  if (K > 15u) { acc += weights[15u * cg + g] * t15.value; }
  y[params.y_base + window * params.channel_groups + g] = acc;
}
`,
  "sort_pool2d_general_gather.wgsl":
    `// generated from kernels/source/general_gather.wgsl (lanes = 1) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward for any window, pass 2 of 2: dx by gathering over the windows that contain
// each input cell; one channel per invocation (any C;
// sort_pool2d_general_gather_vec4.wgsl is faster when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Gradient"): for every input cell (b, h, w) and channel c,
//   dx = sum over the windows containing the cell that keep it at a rank r < K of w[r] * dy[window]
// in output order (output row ascending, then output column), STARTING FROM THE FIRST TERM (not
// from +0: a single term keeps its sign, -0 included, exactly as when windows do not overlap);
// a cell kept by no window (ranked >= K everywhere, or in no window at all, e.g. between windows
// whose stride exceeds their size) gets exactly +0, never 0 * dy. This is src/reference.ts's
// order, so dx matches the float64 reference up to float32 rounding, and zeros carry its sign.
// Which cells a window keeps comes from sort_pool2d_general_ranks*.wgsl (pass 1).
// Why a gather: with overlapping windows (a stride below the window size) a cell belongs to up to
// ceil(KH / stride_h) * ceil(KW / stride_w) windows. Each invocation owns its cells' dx and reads
// the windows around them, so there are no atomics and no write conflicts, every cell is written
// exactly once (no clearing pass), and the order of the additions is fixed.
//
// Windows containing input row h (src/spec.ts windowsContaining): with p = h + pad_top,
//   first = ceil((p - KH + 1) / stride_h) (0 when negative),  last = min(Ho - 1, floor(p / stride_h))
// (none when first > last); likewise for columns. Within window (oh, ow) the cell is number
// (p - oh * stride_h) * KW + (q - ow * stride_w), q = w + pad_left.
//
// Bindings (group 0):
//   0  ranks    storage, read        array<u32>        kept cells per window (pass 1's layout)
//   1  weights  storage, read        array<f32>        rank weights, a K x C table: weights[r * C + c]
//   2  dy       storage, read        array<f32>        upstream gradient, B*Ho*Wo*C floats
//   3  dx       storage, read_write  array<f32>        dL/dx, NHWC, B*H*W*C floats
//   4  params   uniform              Params: the 64-byte layout of sort_pool2d_general_ranks*.wgsl
//        height, width, channel_groups (= C), out_height, out_width, stride_h, stride_w,
//        pad_top, pad_left,
//        work_items   B * H * W * channel_groups (one input float each)
//        x_base       where this call's dx starts inside its binding, in floats
//        y_base       where this call's dy starts inside its binding, in floats (ranks start at 0)
//        segment, segments, per_channel   not read here
//        rank_plane   u32s of one word of ranks
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (1..4); K (1..KH*KW).
// Dispatch: after pass 1, (gx, gy, 1) workgroups with gx * gy * WORKGROUP_SIZE >= work_items;
//   work item = global_id.x + global_id.y * gx * WORKGROUP_SIZE.
//
// This file and sort_pool2d_general_gather_vec4.wgsl (4 channels per invocation) differ only
// in this header and in the variant block below.

// ---- variant block ----
alias Values = f32;
alias Cells = u32;
alias Lanes = bool;
// ---- end of variant block ----

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  work_items: u32,
  x_base: u32,
  y_base: u32,
  segment: u32,
  segments: u32,
  rank_plane: u32,
  per_channel: u32,
}

@group(0) @binding(0) var<storage, read> ranks: array<Cells>;
@group(0) @binding(1) var<storage, read> weights: array<Values>;
@group(0) @binding(2) var<storage, read> dy: array<Values>;
@group(0) @binding(3) var<storage, read_write> dx: array<Values>;
@group(0) @binding(4) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override K: u32 = 1u;

// The output windows along one axis that contain padded position p: [first, last], empty when
// first > last.
fn windows_containing(p: u32, window: u32, stride: u32, out: u32) -> vec2<u32> {
  let first = select(0u, (p + 1u - window + stride - 1u) / stride, p + 1u > window);
  let last = min(out - 1u, p / stride);
  return vec2<u32>(first, last);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot >= params.work_items) {
    return;
  }
  let cg = params.channel_groups;
  let pixel = slot / cg;
  let g = slot - pixel * cg;
  let rest = pixel / params.width;
  let w = pixel - rest * params.width;
  let b = rest / params.height;
  let h = rest - b * params.height;
  let p = h + params.pad_top;
  let q = w + params.pad_left;
  let rows = windows_containing(p, KH, params.stride_h, params.out_height);
  let cols = windows_containing(q, KW, params.stride_w, params.out_width);

  // The rank weights of this channel group, read once.
  let w0 = weights[g];
  var w1 = Values(0.0); var w2 = Values(0.0); var w3 = Values(0.0); var w4 = Values(0.0);
  var w5 = Values(0.0); var w6 = Values(0.0); var w7 = Values(0.0); var w8 = Values(0.0);
  var w9 = Values(0.0); var w10 = Values(0.0); var w11 = Values(0.0); var w12 = Values(0.0);
  var w13 = Values(0.0); var w14 = Values(0.0); var w15 = Values(0.0);
  if (K > 1u) { w1 = weights[cg + g]; }
  if (K > 2u) { w2 = weights[2u * cg + g]; }
  if (K > 3u) { w3 = weights[3u * cg + g]; }
  if (K > 4u) { w4 = weights[4u * cg + g]; }
  if (K > 5u) { w5 = weights[5u * cg + g]; }
  if (K > 6u) { w6 = weights[6u * cg + g]; }
  if (K > 7u) { w7 = weights[7u * cg + g]; }
  if (K > 8u) { w8 = weights[8u * cg + g]; }
  if (K > 9u) { w9 = weights[9u * cg + g]; }
  if (K > 10u) { w10 = weights[10u * cg + g]; }
  if (K > 11u) { w11 = weights[11u * cg + g]; }
  if (K > 12u) { w12 = weights[12u * cg + g]; }
  if (K > 13u) { w13 = weights[13u * cg + g]; }
  if (K > 14u) { w14 = weights[14u * cg + g]; }
  if (K > 15u) { w15 = weights[15u * cg + g]; }

  var acc = Values(0.0);
  var assigned = Lanes(false);
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let dr = p - oh * params.stride_h;
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let cell = Cells(dr * KW + q - ow * params.stride_w);
      let window = ((b * params.out_height + oh) * params.out_width + ow) * cg + g;
      let word0 = ranks[window];
      // Which rank (if any) keeps the cell: each lane has its own; the weight of that rank.
      var kept = (word0 & Cells(15u)) == cell;
      var weight = select(Values(0.0), w0, kept);
      if (K > 1u) { let hit = ((word0 >> Cells(4u)) & Cells(15u)) == cell; weight = select(weight, w1, hit); kept = kept | hit; }
      if (K > 2u) { let hit = ((word0 >> Cells(8u)) & Cells(15u)) == cell; weight = select(weight, w2, hit); kept = kept | hit; }
      if (K > 3u) { let hit = ((word0 >> Cells(12u)) & Cells(15u)) == cell; weight = select(weight, w3, hit); kept = kept | hit; }
      if (K > 4u) { let hit = ((word0 >> Cells(16u)) & Cells(15u)) == cell; weight = select(weight, w4, hit); kept = kept | hit; }
      if (K > 5u) { let hit = ((word0 >> Cells(20u)) & Cells(15u)) == cell; weight = select(weight, w5, hit); kept = kept | hit; }
      if (K > 6u) { let hit = ((word0 >> Cells(24u)) & Cells(15u)) == cell; weight = select(weight, w6, hit); kept = kept | hit; }
      if (K > 7u) { let hit = (word0 >> Cells(28u)) == cell; weight = select(weight, w7, hit); kept = kept | hit; }
      if (K > 8u) {
        let word1 = ranks[params.rank_plane + window];
        var hit = (word1 & Cells(15u)) == cell;
        weight = select(weight, w8, hit);
        kept = kept | hit;
        if (K > 9u) { hit = ((word1 >> Cells(4u)) & Cells(15u)) == cell; weight = select(weight, w9, hit); kept = kept | hit; }
        if (K > 10u) { hit = ((word1 >> Cells(8u)) & Cells(15u)) == cell; weight = select(weight, w10, hit); kept = kept | hit; }
        if (K > 11u) { hit = ((word1 >> Cells(12u)) & Cells(15u)) == cell; weight = select(weight, w11, hit); kept = kept | hit; }
        if (K > 12u) { hit = ((word1 >> Cells(16u)) & Cells(15u)) == cell; weight = select(weight, w12, hit); kept = kept | hit; }
        if (K > 13u) { hit = ((word1 >> Cells(20u)) & Cells(15u)) == cell; weight = select(weight, w13, hit); kept = kept | hit; }
        if (K > 14u) { hit = ((word1 >> Cells(24u)) & Cells(15u)) == cell; weight = select(weight, w14, hit); kept = kept | hit; }
        if (K > 15u) { hit = (word1 >> Cells(28u)) == cell; weight = select(weight, w15, hit); kept = kept | hit; }
      }
      // w[r] * dy, assigned by the first window that keeps the cell and added by later ones.
      let term = weight * dy[params.y_base + window];
      acc = select(acc, select(term, acc + term, assigned), kept);
      assigned = assigned | kept;
    }
  }
  dx[params.x_base + slot] = acc;
}
`,
  "sort_pool2d_general_gather_vec4.wgsl":
    `// generated from kernels/source/general_gather.wgsl (lanes = 4) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward for any window, pass 2 of 2: dx by gathering over the windows that contain
// each input cell; 4 channels per invocation (use when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Gradient"): for every input cell (b, h, w) and channel c,
//   dx = sum over the windows containing the cell that keep it at a rank r < K of w[r] * dy[window]
// in output order (output row ascending, then output column), STARTING FROM THE FIRST TERM (not
// from +0: a single term keeps its sign, -0 included, exactly as when windows do not overlap);
// a cell kept by no window (ranked >= K everywhere, or in no window at all, e.g. between windows
// whose stride exceeds their size) gets exactly +0, never 0 * dy. This is src/reference.ts's
// order, so dx matches the float64 reference up to float32 rounding, and zeros carry its sign.
// Which cells a window keeps comes from sort_pool2d_general_ranks*.wgsl (pass 1).
// Why a gather: with overlapping windows (a stride below the window size) a cell belongs to up to
// ceil(KH / stride_h) * ceil(KW / stride_w) windows. Each invocation owns its cells' dx and reads
// the windows around them, so there are no atomics and no write conflicts, every cell is written
// exactly once (no clearing pass), and the order of the additions is fixed.
//
// Windows containing input row h (src/spec.ts windowsContaining): with p = h + pad_top,
//   first = ceil((p - KH + 1) / stride_h) (0 when negative),  last = min(Ho - 1, floor(p / stride_h))
// (none when first > last); likewise for columns. Within window (oh, ow) the cell is number
// (p - oh * stride_h) * KW + (q - ow * stride_w), q = w + pad_left.
//
// Bindings (group 0):
//   0  ranks    storage, read        array<vec4<u32>>  kept cells per window (pass 1's layout)
//   1  weights  storage, read        array<vec4<f32>>  rank weights, a K x C table: weights[r * (C/4) + g]
//   2  dy       storage, read        array<vec4<f32>>  upstream gradient, B*Ho*Wo*C floats
//   3  dx       storage, read_write  array<vec4<f32>>  dL/dx, NHWC, B*H*W*C floats
//   4  params   uniform              Params: the 64-byte layout of sort_pool2d_general_ranks*.wgsl
//        height, width, channel_groups (= C / 4), out_height, out_width, stride_h, stride_w,
//        pad_top, pad_left,
//        work_items   B * H * W * channel_groups (one input vec4 each)
//        x_base       where this call's dx starts inside its binding, in vec4s
//        y_base       where this call's dy starts inside its binding, in vec4s (ranks start at 0)
//        segment, segments, per_channel   not read here
//        rank_plane   vec4s of one word of ranks
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (1..4); K (1..KH*KW).
// Dispatch: after pass 1, (gx, gy, 1) workgroups with gx * gy * WORKGROUP_SIZE >= work_items;
//   work item = global_id.x + global_id.y * gx * WORKGROUP_SIZE.
//
// This file and sort_pool2d_general_gather.wgsl (one channel per invocation, any C) differ only
// in this header and in the variant block below.

// ---- variant block ----
alias Values = vec4<f32>;
alias Cells = vec4<u32>;
alias Lanes = vec4<bool>;
// ---- end of variant block ----

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  work_items: u32,
  x_base: u32,
  y_base: u32,
  segment: u32,
  segments: u32,
  rank_plane: u32,
  per_channel: u32,
}

@group(0) @binding(0) var<storage, read> ranks: array<Cells>;
@group(0) @binding(1) var<storage, read> weights: array<Values>;
@group(0) @binding(2) var<storage, read> dy: array<Values>;
@group(0) @binding(3) var<storage, read_write> dx: array<Values>;
@group(0) @binding(4) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override K: u32 = 1u;

// The output windows along one axis that contain padded position p: [first, last], empty when
// first > last.
fn windows_containing(p: u32, window: u32, stride: u32, out: u32) -> vec2<u32> {
  let first = select(0u, (p + 1u - window + stride - 1u) / stride, p + 1u > window);
  let last = min(out - 1u, p / stride);
  return vec2<u32>(first, last);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let slot = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (slot >= params.work_items) {
    return;
  }
  let cg = params.channel_groups;
  let pixel = slot / cg;
  let g = slot - pixel * cg;
  let rest = pixel / params.width;
  let w = pixel - rest * params.width;
  let b = rest / params.height;
  let h = rest - b * params.height;
  let p = h + params.pad_top;
  let q = w + params.pad_left;
  let rows = windows_containing(p, KH, params.stride_h, params.out_height);
  let cols = windows_containing(q, KW, params.stride_w, params.out_width);

  // The rank weights of this channel group, read once.
  let w0 = weights[g];
  var w1 = Values(0.0); var w2 = Values(0.0); var w3 = Values(0.0); var w4 = Values(0.0);
  var w5 = Values(0.0); var w6 = Values(0.0); var w7 = Values(0.0); var w8 = Values(0.0);
  var w9 = Values(0.0); var w10 = Values(0.0); var w11 = Values(0.0); var w12 = Values(0.0);
  var w13 = Values(0.0); var w14 = Values(0.0); var w15 = Values(0.0);
  if (K > 1u) { w1 = weights[cg + g]; }
  if (K > 2u) { w2 = weights[2u * cg + g]; }
  if (K > 3u) { w3 = weights[3u * cg + g]; }
  if (K > 4u) { w4 = weights[4u * cg + g]; }
  if (K > 5u) { w5 = weights[5u * cg + g]; }
  if (K > 6u) { w6 = weights[6u * cg + g]; }
  if (K > 7u) { w7 = weights[7u * cg + g]; }
  if (K > 8u) { w8 = weights[8u * cg + g]; }
  if (K > 9u) { w9 = weights[9u * cg + g]; }
  if (K > 10u) { w10 = weights[10u * cg + g]; }
  if (K > 11u) { w11 = weights[11u * cg + g]; }
  if (K > 12u) { w12 = weights[12u * cg + g]; }
  if (K > 13u) { w13 = weights[13u * cg + g]; }
  if (K > 14u) { w14 = weights[14u * cg + g]; }
  if (K > 15u) { w15 = weights[15u * cg + g]; }

  var acc = Values(0.0);
  var assigned = Lanes(false);
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let dr = p - oh * params.stride_h;
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let cell = Cells(dr * KW + q - ow * params.stride_w);
      let window = ((b * params.out_height + oh) * params.out_width + ow) * cg + g;
      let word0 = ranks[window];
      // Which rank (if any) keeps the cell: each lane has its own; the weight of that rank.
      var kept = (word0 & Cells(15u)) == cell;
      var weight = select(Values(0.0), w0, kept);
      if (K > 1u) { let hit = ((word0 >> Cells(4u)) & Cells(15u)) == cell; weight = select(weight, w1, hit); kept = kept | hit; }
      if (K > 2u) { let hit = ((word0 >> Cells(8u)) & Cells(15u)) == cell; weight = select(weight, w2, hit); kept = kept | hit; }
      if (K > 3u) { let hit = ((word0 >> Cells(12u)) & Cells(15u)) == cell; weight = select(weight, w3, hit); kept = kept | hit; }
      if (K > 4u) { let hit = ((word0 >> Cells(16u)) & Cells(15u)) == cell; weight = select(weight, w4, hit); kept = kept | hit; }
      if (K > 5u) { let hit = ((word0 >> Cells(20u)) & Cells(15u)) == cell; weight = select(weight, w5, hit); kept = kept | hit; }
      if (K > 6u) { let hit = ((word0 >> Cells(24u)) & Cells(15u)) == cell; weight = select(weight, w6, hit); kept = kept | hit; }
      if (K > 7u) { let hit = (word0 >> Cells(28u)) == cell; weight = select(weight, w7, hit); kept = kept | hit; }
      if (K > 8u) {
        let word1 = ranks[params.rank_plane + window];
        var hit = (word1 & Cells(15u)) == cell;
        weight = select(weight, w8, hit);
        kept = kept | hit;
        if (K > 9u) { hit = ((word1 >> Cells(4u)) & Cells(15u)) == cell; weight = select(weight, w9, hit); kept = kept | hit; }
        if (K > 10u) { hit = ((word1 >> Cells(8u)) & Cells(15u)) == cell; weight = select(weight, w10, hit); kept = kept | hit; }
        if (K > 11u) { hit = ((word1 >> Cells(12u)) & Cells(15u)) == cell; weight = select(weight, w11, hit); kept = kept | hit; }
        if (K > 12u) { hit = ((word1 >> Cells(16u)) & Cells(15u)) == cell; weight = select(weight, w12, hit); kept = kept | hit; }
        if (K > 13u) { hit = ((word1 >> Cells(20u)) & Cells(15u)) == cell; weight = select(weight, w13, hit); kept = kept | hit; }
        if (K > 14u) { hit = ((word1 >> Cells(24u)) & Cells(15u)) == cell; weight = select(weight, w14, hit); kept = kept | hit; }
        if (K > 15u) { hit = (word1 >> Cells(28u)) == cell; weight = select(weight, w15, hit); kept = kept | hit; }
      }
      // w[r] * dy, assigned by the first window that keeps the cell and added by later ones.
      let term = weight * dy[params.y_base + window];
      acc = select(acc, select(term, acc + term, assigned), kept);
      assigned = assigned | kept;
    }
  }
  dx[params.x_base + slot] = acc;
}
`,
  "sort_pool2d_general_ranks.wgsl":
    `// generated from kernels/source/general_ranks.wgsl (lanes = 1) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward for any window, pass 1 of 2: which cells each window keeps, and stage 1 of
// dLogits; one channel per invocation (any C;
// sort_pool2d_general_ranks_vec4.wgsl is faster when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): every window is ranked exactly as in
// sort_pool2d_general_forward*.wgsl (SPEC.md §4 "Ranking", §3 "Padding"), then
//   ranks: for each window and channel, the window cells (0..KH*KW-1, row-major) of ranks
//          0..K-1, four bits each, rank r in bits 4*(r % 8) of word r / 8 (word 1 only when
//          K > 8). sort_pool2d_general_gather*.wgsl reads them to build dx.
//   partials: stage 1 of the rank sums s[r] = sum over windows of v[r] * dy for r < K, over REAL
//          cells only: a padded cell ranked r < K adds exactly 0 (a select, never 0 * dy, so an
//          infinite or NaN dy does not turn a padded zero into NaN). With weights shared by every
//          channel, one sum per rank; with per-channel weights, one per rank and channel.
//          sort_pool2d_general_dlogits.wgsl finishes them (the sign of a zero sum is not fixed by
//          the spec, so v[r] is rebuilt from its sort key: a -0 may come back as +0 there).
// Why two passes: windows overlap when a stride is below the window size, so a cell may be kept
// by several windows. Scattering w[r] * dy from each window would need atomics (float atomics do
// not exist in WGSL, and their order would not be fixed); instead this pass records the kept
// cells and the gather pass sums, for each input cell, over the windows containing it in a fixed
// order. Results are bitwise identical from run to run.
//
// Work items: one per (image, output row, segment of \`segment\` output columns, channel group); the
// invocation ranks the segment's windows from left to right, adding each window's v[r] * dy to
// per-lane sums in that order, and writes them once (fewer, larger partials than one per window).
// Partials layout (vec4<f32>, QUADS = ceil(K / 4) of them per group: component j of quad q is rank
// 4q + j, 0 past K): item * QUADS + q for shared and per-channel weights alike (one
// channel per item; per channel that is (row * C + channel) * QUADS + q, row = item / C).
//
// Bindings (group 0):
//   0  x         storage, read        array<f32>        input, NHWC, B*H*W*C floats
//   1  dy        storage, read        array<f32>        upstream gradient, B*Ho*Wo*C floats
//   2  ranks     storage, read_write  array<u32>        kept cells: word 0 of every window, then
//                                                       (K > 8) word 1, rank_plane u32s apart
//   3  partials  storage, read_write  array<vec4<f32>>  stage-1 rank sums, see above
//   4  params    uniform              Params: the 64-byte layout of sort_pool2d_general_forward*.wgsl
//        height, width, channel_groups (= C), out_height, out_width, stride_h, stride_w,
//        pad_top, pad_left,
//        work_items     B * Ho * segments * channel_groups
//        x_base, y_base where this call's x and dy start inside their bindings, in floats (ranks
//                       and partials start at 0)
//        segment        output columns per work item (>= 1)
//        segments       ceil(Wo / segment)
//        rank_plane     B * Ho * Wo * channel_groups: u32s of one word of ranks
//        per_channel    1: per-channel weights (partials per channel), 0: shared
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (1..4); K (1..KH*KW).
// Dispatch: as sort_pool2d_general_forward*.wgsl: (gx, gy, 1) workgroups with
//   gx * gy * WORKGROUP_SIZE >= work_items; work item = global_id.x + global_id.y * gx *
//   WORKGROUP_SIZE. Then sort_pool2d_general_gather.wgsl and sort_pool2d_general_dlogits.wgsl.
//
// This file and sort_pool2d_general_ranks_vec4.wgsl (4 channels per invocation) differ only in
// this header and in the variant block below.

// ---- variant block ----
alias Values = f32;
alias Keys = i32;
alias Cells = u32;
alias Lanes = bool;

// Channels per invocation.
const LANES: u32 = 1u;

// The lanes' sum: one lane.
fn lane_sum(v: Values) -> f32 {
  return v;
}

// Lane l (always 0) of v.
fn lane(v: Values, l: u32) -> f32 {
  return v;
}
// ---- end of variant block ----

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  work_items: u32,
  x_base: u32,
  y_base: u32,
  segment: u32,
  segments: u32,
  rank_plane: u32,
  per_channel: u32,
}

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<storage, read> dy: array<Values>;
@group(0) @binding(2) var<storage, read_write> ranks: array<Cells>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override K: u32 = 1u;
// vec4s of partial sums per group: ranks 4q .. 4q + 3 in quad q.
override QUADS: u32 = (K + 3u) / 4u;

// The key of a padded cell when K = 1 (it takes no part), and of a rank not yet filled: below
// every real value's key (-Inf is -0x7f800000), so it never ranks first.
const EXCLUDED_KEY: i32 = -2147483647 - 1;
// Added to the cell number of a padded cell: real cells are < PADDED.
const PADDED: u32 = 16u;

// Signed keys whose order is the spec's value order: -m for negative floats, m otherwise (m the
// magnitude bits, so -0 and +0 both map to 0), and one key above +Inf for every NaN.
fn sort_key(v: Values) -> Keys {
  let bits = bitcast<Keys>(v);
  let magnitude = bits & Keys(0x7fffffff);
  let ordered = select(magnitude, -magnitude, bits < Keys(0));
  return select(ordered, Keys(0x7fffffff), magnitude > Keys(0x7f800000));
}

// The value of a sort key (a NaN for the NaN key; +0 for a zero of either sign).
fn key_value(key: Keys) -> Values {
  return bitcast<Values>(select(key, (-key) | Keys(EXCLUDED_KEY), key < Keys(0)));
}

// A kept entry: sort key and window cell (+ PADDED for a padded one).
struct Ranked {
  key: Keys,
  cell: Cells,
}

// Kept entry r after cell \`e\` was offered (see sort_pool2d_general_forward*.wgsl: e comes from
// a later cell than every kept entry, so it goes in only before strictly lower keys).
fn offer(current: Ranked, above: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  let shift = e.key > above.key;
  return Ranked(
    select(current.key, select(e.key, above.key, shift), here),
    select(current.cell, select(e.cell, above.cell, shift), here),
  );
}

// Rank 0 after cell \`e\` was offered.
fn offer_first(current: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  return Ranked(select(current.key, e.key, here), select(current.cell, e.cell, here));
}

// v[r] * dy of a kept entry, exactly 0 for a padded cell.
fn rank_term(t: Ranked, grad: Values) -> Values {
  return select(Values(0.0), key_value(t.key) * grad, t.cell < Cells(PADDED));
}

// The window cell of a kept entry shifted into its four bits of a ranks word.
fn packed(t: Ranked, r: u32) -> Cells {
  return (t.cell & Cells(15u)) << Cells(4u * (r % 8u));
}

// Writes quad q of this work item's partial sums (ranks 4q .. 4q + 3: a, b, c, d).
fn write_quad(item: u32, q: u32, a: Values, b: Values, c: Values, d: Values) {
  if (params.per_channel == 0u) {
    partials[item * QUADS + q] = vec4<f32>(lane_sum(a), lane_sum(b), lane_sum(c), lane_sum(d));
  } else {
    for (var l = 0u; l < LANES; l++) {
      partials[(item * LANES + l) * QUADS + q] = vec4<f32>(lane(a, l), lane(b, l), lane(c, l), lane(d, l));
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let item = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (item >= params.work_items) {
    return;
  }
  let cg = params.channel_groups;
  let run = item / cg;
  let g = item - run * cg;
  let row = run / params.segments;
  let seg = run - row * params.segments;
  let b = row / params.out_height;
  let oh = row - b * params.out_height;
  let top = i32(oh * params.stride_h) - i32(params.pad_top);
  let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), K > 1u);
  let first_ow = seg * params.segment;
  let end_ow = min(first_ow + params.segment, params.out_width);

  // Rank sums of this item, per lane, windows added left to right.
  var s0 = Values(0.0); var s1 = Values(0.0); var s2 = Values(0.0); var s3 = Values(0.0);
  var s4 = Values(0.0); var s5 = Values(0.0); var s6 = Values(0.0); var s7 = Values(0.0);
  var s8 = Values(0.0); var s9 = Values(0.0); var s10 = Values(0.0); var s11 = Values(0.0);
  var s12 = Values(0.0); var s13 = Values(0.0); var s14 = Values(0.0); var s15 = Values(0.0);

  for (var ow = first_ow; ow < end_ow; ow++) {
    let left = i32(ow * params.stride_w) - i32(params.pad_left);
    // The K best entries so far, rank 0 first, in named registers (t0 .. t15; the \`K > r\` tests
    // are pipeline constants, so a pipeline keeps only its K of them).
    let empty = Ranked(Keys(EXCLUDED_KEY), Cells(0u));
    var t0 = empty; var t1 = empty; var t2 = empty; var t3 = empty;
    var t4 = empty; var t5 = empty; var t6 = empty; var t7 = empty;
    var t8 = empty; var t9 = empty; var t10 = empty; var t11 = empty;
    var t12 = empty; var t13 = empty; var t14 = empty; var t15 = empty;
    for (var dr = 0u; dr < KH; dr++) {
      let in_row = top + i32(dr);
      let row_inside = in_row >= 0 && in_row < i32(params.height);
      let row_start = (b * params.height + u32(in_row)) * params.width;
      for (var dc = 0u; dc < KW; dc++) {
        let col = left + i32(dc);
        let inside = row_inside && col >= 0 && col < i32(params.width);
        // Branch-free: a padded cell reads element 0 and discards it.
        let index = select(0u, (row_start + u32(col)) * cg + g, inside);
        let value = select(Values(0.0), x[params.x_base + index], inside);
        let e = Ranked(select(padded_key, sort_key(value), inside), Cells(dr * KW + dc + select(PADDED, 0u, inside)));
        if (K > 15u) { t15 = offer(t15, t14, e); }
        if (K > 14u) { t14 = offer(t14, t13, e); }
        if (K > 13u) { t13 = offer(t13, t12, e); }
        if (K > 12u) { t12 = offer(t12, t11, e); }
        if (K > 11u) { t11 = offer(t11, t10, e); }
        if (K > 10u) { t10 = offer(t10, t9, e); }
        if (K > 9u) { t9 = offer(t9, t8, e); }
        if (K > 8u) { t8 = offer(t8, t7, e); }
        if (K > 7u) { t7 = offer(t7, t6, e); }
        if (K > 6u) { t6 = offer(t6, t5, e); }
        if (K > 5u) { t5 = offer(t5, t4, e); }
        if (K > 4u) { t4 = offer(t4, t3, e); }
        if (K > 3u) { t3 = offer(t3, t2, e); }
        if (K > 2u) { t2 = offer(t2, t1, e); }
        if (K > 1u) { t1 = offer(t1, t0, e); }
        t0 = offer_first(t0, e);
      }
    }

    let window = (row * params.out_width + ow) * cg + g;
    let grad = dy[params.y_base + window];
    var word0 = packed(t0, 0u);
    s0 += rank_term(t0, grad);
    if (K > 1u) { word0 |= packed(t1, 1u); s1 += rank_term(t1, grad); }
    if (K > 2u) { word0 |= packed(t2, 2u); s2 += rank_term(t2, grad); }
    if (K > 3u) { word0 |= packed(t3, 3u); s3 += rank_term(t3, grad); }
    if (K > 4u) { word0 |= packed(t4, 4u); s4 += rank_term(t4, grad); }
    if (K > 5u) { word0 |= packed(t5, 5u); s5 += rank_term(t5, grad); }
    if (K > 6u) { word0 |= packed(t6, 6u); s6 += rank_term(t6, grad); }
    if (K > 7u) { word0 |= packed(t7, 7u); s7 += rank_term(t7, grad); }
    ranks[window] = word0;
    if (K > 8u) {
      var word1 = packed(t8, 8u);
      s8 += rank_term(t8, grad);
      if (K > 9u) { word1 |= packed(t9, 9u); s9 += rank_term(t9, grad); }
      if (K > 10u) { word1 |= packed(t10, 10u); s10 += rank_term(t10, grad); }
      if (K > 11u) { word1 |= packed(t11, 11u); s11 += rank_term(t11, grad); }
      if (K > 12u) { word1 |= packed(t12, 12u); s12 += rank_term(t12, grad); }
      if (K > 13u) { word1 |= packed(t13, 13u); s13 += rank_term(t13, grad); }
      if (K > 14u) { word1 |= packed(t14, 14u); s14 += rank_term(t14, grad); }
      if (K > 15u) { word1 |= packed(t15, 15u); s15 += rank_term(t15, grad); }
      ranks[params.rank_plane + window] = word1;
    }
  }

  write_quad(item, 0u, s0, s1, s2, s3);
  if (K > 4u) { write_quad(item, 1u, s4, s5, s6, s7); }
  if (K > 8u) { write_quad(item, 2u, s8, s9, s10, s11); }
  if (K > 12u) { write_quad(item, 3u, s12, s13, s14, s15); }
}
`,
  "sort_pool2d_general_ranks_vec4.wgsl":
    `// generated from kernels/source/general_ranks.wgsl (lanes = 4) by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d backward for any window, pass 1 of 2: which cells each window keeps, and stage 1 of
// dLogits; 4 channels per invocation (use when C % 4 == 0).
//
// What it computes (SPEC.md §5 "Forward and gradient"): every window is ranked exactly as in
// sort_pool2d_general_forward*.wgsl (SPEC.md §4 "Ranking", §3 "Padding"), then
//   ranks: for each window and channel, the window cells (0..KH*KW-1, row-major) of ranks
//          0..K-1, four bits each, rank r in bits 4*(r % 8) of word r / 8 (word 1 only when
//          K > 8). sort_pool2d_general_gather*.wgsl reads them to build dx.
//   partials: stage 1 of the rank sums s[r] = sum over windows of v[r] * dy for r < K, over REAL
//          cells only: a padded cell ranked r < K adds exactly 0 (a select, never 0 * dy, so an
//          infinite or NaN dy does not turn a padded zero into NaN). With weights shared by every
//          channel, one sum per rank; with per-channel weights, one per rank and channel.
//          sort_pool2d_general_dlogits.wgsl finishes them (the sign of a zero sum is not fixed by
//          the spec, so v[r] is rebuilt from its sort key: a -0 may come back as +0 there).
// Why two passes: windows overlap when a stride is below the window size, so a cell may be kept
// by several windows. Scattering w[r] * dy from each window would need atomics (float atomics do
// not exist in WGSL, and their order would not be fixed); instead this pass records the kept
// cells and the gather pass sums, for each input cell, over the windows containing it in a fixed
// order. Results are bitwise identical from run to run.
//
// Work items: one per (image, output row, segment of \`segment\` output columns, channel group); the
// invocation ranks the segment's windows from left to right, adding each window's v[r] * dy to
// per-lane sums in that order, and writes them once (fewer, larger partials than one per window).
// Partials layout (vec4<f32>, QUADS = ceil(K / 4) of them per group: component j of quad q is rank
// 4q + j, 0 past K): shared weights: item * QUADS + q, the lanes added in the fixed order
// ((x + y) + z) + w; per-channel weights: (item * 4 + lane) * QUADS + q, which is
// (row * C + channel) * QUADS + q with row = item / channel_groups.
//
// Bindings (group 0):
//   0  x         storage, read        array<vec4<f32>>  input, NHWC, B*H*W*C floats
//   1  dy        storage, read        array<vec4<f32>>  upstream gradient, B*Ho*Wo*C floats
//   2  ranks     storage, read_write  array<vec4<u32>>  kept cells: word 0 of every window, then
//                                                       (K > 8) word 1, rank_plane vec4s apart
//   3  partials  storage, read_write  array<vec4<f32>>  stage-1 rank sums, see above
//   4  params    uniform              Params: the 64-byte layout of sort_pool2d_general_forward*.wgsl
//        height, width, channel_groups (= C / 4), out_height, out_width, stride_h, stride_w,
//        pad_top, pad_left,
//        work_items     B * Ho * segments * channel_groups
//        x_base, y_base where this call's x and dy start inside their bindings, in vec4s (ranks
//                       and partials start at 0)
//        segment        output columns per work item (>= 1)
//        segments       ceil(Wo / segment)
//        rank_plane     B * Ho * Wo * channel_groups: vec4s of one word of ranks
//        per_channel    1: per-channel weights (partials per channel), 0: shared
// Override constants: WORKGROUP_SIZE (default 64); KH, KW (1..4); K (1..KH*KW).
// Dispatch: as sort_pool2d_general_forward*.wgsl: (gx, gy, 1) workgroups with
//   gx * gy * WORKGROUP_SIZE >= work_items; work item = global_id.x + global_id.y * gx *
//   WORKGROUP_SIZE. Then sort_pool2d_general_gather_vec4.wgsl and sort_pool2d_general_dlogits.wgsl.
//
// This file and sort_pool2d_general_ranks.wgsl (one channel per invocation, any C) differ only in
// this header and in the variant block below.

// ---- variant block ----
alias Values = vec4<f32>;
alias Keys = vec4<i32>;
alias Cells = vec4<u32>;
alias Lanes = vec4<bool>;

// Channels per invocation.
const LANES: u32 = 4u;

// The lanes' sum in a fixed order.
fn lane_sum(v: Values) -> f32 {
  return ((v.x + v.y) + v.z) + v.w;
}

// Lane l of v.
fn lane(v: Values, l: u32) -> f32 {
  return v[l];
}
// ---- end of variant block ----

struct Params {
  height: u32,
  width: u32,
  channel_groups: u32,
  out_height: u32,
  out_width: u32,
  stride_h: u32,
  stride_w: u32,
  pad_top: u32,
  pad_left: u32,
  work_items: u32,
  x_base: u32,
  y_base: u32,
  segment: u32,
  segments: u32,
  rank_plane: u32,
  per_channel: u32,
}

@group(0) @binding(0) var<storage, read> x: array<Values>;
@group(0) @binding(1) var<storage, read> dy: array<Values>;
@group(0) @binding(2) var<storage, read_write> ranks: array<Cells>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;
override KH: u32 = 3u;
override KW: u32 = 3u;
override K: u32 = 1u;
// vec4s of partial sums per group: ranks 4q .. 4q + 3 in quad q.
override QUADS: u32 = (K + 3u) / 4u;

// The key of a padded cell when K = 1 (it takes no part), and of a rank not yet filled: below
// every real value's key (-Inf is -0x7f800000), so it never ranks first.
const EXCLUDED_KEY: i32 = -2147483647 - 1;
// Added to the cell number of a padded cell: real cells are < PADDED.
const PADDED: u32 = 16u;

// Signed keys whose order is the spec's value order: -m for negative floats, m otherwise (m the
// magnitude bits, so -0 and +0 both map to 0), and one key above +Inf for every NaN.
fn sort_key(v: Values) -> Keys {
  let bits = bitcast<Keys>(v);
  let magnitude = bits & Keys(0x7fffffff);
  let ordered = select(magnitude, -magnitude, bits < Keys(0));
  return select(ordered, Keys(0x7fffffff), magnitude > Keys(0x7f800000));
}

// The value of a sort key (a NaN for the NaN key; +0 for a zero of either sign).
fn key_value(key: Keys) -> Values {
  return bitcast<Values>(select(key, (-key) | Keys(EXCLUDED_KEY), key < Keys(0)));
}

// A kept entry: sort key and window cell (+ PADDED for a padded one).
struct Ranked {
  key: Keys,
  cell: Cells,
}

// Kept entry r after cell \`e\` was offered (see sort_pool2d_general_forward*.wgsl: e comes from
// a later cell than every kept entry, so it goes in only before strictly lower keys).
fn offer(current: Ranked, above: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  let shift = e.key > above.key;
  return Ranked(
    select(current.key, select(e.key, above.key, shift), here),
    select(current.cell, select(e.cell, above.cell, shift), here),
  );
}

// Rank 0 after cell \`e\` was offered.
fn offer_first(current: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  return Ranked(select(current.key, e.key, here), select(current.cell, e.cell, here));
}

// v[r] * dy of a kept entry, exactly 0 for a padded cell.
fn rank_term(t: Ranked, grad: Values) -> Values {
  return select(Values(0.0), key_value(t.key) * grad, t.cell < Cells(PADDED));
}

// The window cell of a kept entry shifted into its four bits of a ranks word.
fn packed(t: Ranked, r: u32) -> Cells {
  return (t.cell & Cells(15u)) << Cells(4u * (r % 8u));
}

// Writes quad q of this work item's partial sums (ranks 4q .. 4q + 3: a, b, c, d).
fn write_quad(item: u32, q: u32, a: Values, b: Values, c: Values, d: Values) {
  if (params.per_channel == 0u) {
    partials[item * QUADS + q] = vec4<f32>(lane_sum(a), lane_sum(b), lane_sum(c), lane_sum(d));
  } else {
    for (var l = 0u; l < LANES; l++) {
      partials[(item * LANES + l) * QUADS + q] = vec4<f32>(lane(a, l), lane(b, l), lane(c, l), lane(d, l));
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let item = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (item >= params.work_items) {
    return;
  }
  let cg = params.channel_groups;
  let run = item / cg;
  let g = item - run * cg;
  let row = run / params.segments;
  let seg = run - row * params.segments;
  let b = row / params.out_height;
  let oh = row - b * params.out_height;
  let top = i32(oh * params.stride_h) - i32(params.pad_top);
  let padded_key = select(Keys(EXCLUDED_KEY), Keys(0), K > 1u);
  let first_ow = seg * params.segment;
  let end_ow = min(first_ow + params.segment, params.out_width);

  // Rank sums of this item, per lane, windows added left to right.
  var s0 = Values(0.0); var s1 = Values(0.0); var s2 = Values(0.0); var s3 = Values(0.0);
  var s4 = Values(0.0); var s5 = Values(0.0); var s6 = Values(0.0); var s7 = Values(0.0);
  var s8 = Values(0.0); var s9 = Values(0.0); var s10 = Values(0.0); var s11 = Values(0.0);
  var s12 = Values(0.0); var s13 = Values(0.0); var s14 = Values(0.0); var s15 = Values(0.0);

  for (var ow = first_ow; ow < end_ow; ow++) {
    let left = i32(ow * params.stride_w) - i32(params.pad_left);
    // The K best entries so far, rank 0 first, in named registers (t0 .. t15; the \`K > r\` tests
    // are pipeline constants, so a pipeline keeps only its K of them).
    let empty = Ranked(Keys(EXCLUDED_KEY), Cells(0u));
    var t0 = empty; var t1 = empty; var t2 = empty; var t3 = empty;
    var t4 = empty; var t5 = empty; var t6 = empty; var t7 = empty;
    var t8 = empty; var t9 = empty; var t10 = empty; var t11 = empty;
    var t12 = empty; var t13 = empty; var t14 = empty; var t15 = empty;
    for (var dr = 0u; dr < KH; dr++) {
      let in_row = top + i32(dr);
      let row_inside = in_row >= 0 && in_row < i32(params.height);
      let row_start = (b * params.height + u32(in_row)) * params.width;
      for (var dc = 0u; dc < KW; dc++) {
        let col = left + i32(dc);
        let inside = row_inside && col >= 0 && col < i32(params.width);
        // Branch-free: a padded cell reads element 0 and discards it.
        let index = select(0u, (row_start + u32(col)) * cg + g, inside);
        let value = select(Values(0.0), x[params.x_base + index], inside);
        let e = Ranked(select(padded_key, sort_key(value), inside), Cells(dr * KW + dc + select(PADDED, 0u, inside)));
        if (K > 15u) { t15 = offer(t15, t14, e); }
        if (K > 14u) { t14 = offer(t14, t13, e); }
        if (K > 13u) { t13 = offer(t13, t12, e); }
        if (K > 12u) { t12 = offer(t12, t11, e); }
        if (K > 11u) { t11 = offer(t11, t10, e); }
        if (K > 10u) { t10 = offer(t10, t9, e); }
        if (K > 9u) { t9 = offer(t9, t8, e); }
        if (K > 8u) { t8 = offer(t8, t7, e); }
        if (K > 7u) { t7 = offer(t7, t6, e); }
        if (K > 6u) { t6 = offer(t6, t5, e); }
        if (K > 5u) { t5 = offer(t5, t4, e); }
        if (K > 4u) { t4 = offer(t4, t3, e); }
        if (K > 3u) { t3 = offer(t3, t2, e); }
        if (K > 2u) { t2 = offer(t2, t1, e); }
        if (K > 1u) { t1 = offer(t1, t0, e); }
        t0 = offer_first(t0, e);
      }
    }

    let window = (row * params.out_width + ow) * cg + g;
    let grad = dy[params.y_base + window];
    var word0 = packed(t0, 0u);
    s0 += rank_term(t0, grad);
    if (K > 1u) { word0 |= packed(t1, 1u); s1 += rank_term(t1, grad); }
    if (K > 2u) { word0 |= packed(t2, 2u); s2 += rank_term(t2, grad); }
    if (K > 3u) { word0 |= packed(t3, 3u); s3 += rank_term(t3, grad); }
    if (K > 4u) { word0 |= packed(t4, 4u); s4 += rank_term(t4, grad); }
    if (K > 5u) { word0 |= packed(t5, 5u); s5 += rank_term(t5, grad); }
    if (K > 6u) { word0 |= packed(t6, 6u); s6 += rank_term(t6, grad); }
    if (K > 7u) { word0 |= packed(t7, 7u); s7 += rank_term(t7, grad); }
    ranks[window] = word0;
    if (K > 8u) {
      var word1 = packed(t8, 8u);
      s8 += rank_term(t8, grad);
      if (K > 9u) { word1 |= packed(t9, 9u); s9 += rank_term(t9, grad); }
      if (K > 10u) { word1 |= packed(t10, 10u); s10 += rank_term(t10, grad); }
      if (K > 11u) { word1 |= packed(t11, 11u); s11 += rank_term(t11, grad); }
      if (K > 12u) { word1 |= packed(t12, 12u); s12 += rank_term(t12, grad); }
      if (K > 13u) { word1 |= packed(t13, 13u); s13 += rank_term(t13, grad); }
      if (K > 14u) { word1 |= packed(t14, 14u); s14 += rank_term(t14, grad); }
      if (K > 15u) { word1 |= packed(t15, 15u); s15 += rank_term(t15, grad); }
      ranks[params.rank_plane + window] = word1;
    }
  }

  write_quad(item, 0u, s0, s1, s2, s3);
  if (K > 4u) { write_quad(item, 1u, s4, s5, s6, s7); }
  if (K > 8u) { write_quad(item, 2u, s8, s9, s10, s11); }
  if (K > 12u) { write_quad(item, 3u, s12, s13, s14, s15); }
}
`,
  "sort_pool2d_general_weights.wgsl":
    `// generated from kernels/source/general_weights.wgsl by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d rank weights for the general kernels (any window, or per-channel logits):
// w = softmax(logits), evaluated as its limit, computed once per call (one invocation per
// weights-table column), for the general window and dLogits kernels to read. The 2x2 / stride 2
// kernels with shared logits read the vec4 of sort_pool2d_weights.wgsl instead, whose arithmetic
// (and so whose bits) this project keeps unchanged.
//
// What it computes (SPEC.md §5 "Weights", src/spec.ts softmax), in float32, over one group of k
// logits (the k shared logits, or channel c's logits[c * k .. c * k + k) when they are per
// channel, SPEC.md §1):
//   m = max(logits of the group)
//   e[r] = 1                     where logits[r] == m (covers m = +Inf, and all logits -Inf)
//   e[r] = 0                     where logits[r] < m - 128 (exp underflows float32 there; this
//                                also covers logits[r] = -Inf, and keeps logits[r] - m finite)
//   e[r] = exp(logits[r] - m)    otherwise
//   w[r] = e[r] / (((e[0] + e[1]) + e[2]) + ... + e[k-1])   (added in rank order)
//   w[r] = +0                    where w[r] < 2^-126, float32's smallest normal number: the spec
//                                flushes subnormal weights (WGSL lets GPUs flush them, and real ones
//                                do), so this is explicit, whatever the hardware's flush mode
// and every w[r] of the group is NaN (the group's first NaN logit, copied) when any of its logits
// is NaN. So [Inf, 0] gives [1, 0], [Inf, Inf] [0.5, 0.5], [-Inf, 0] [0, 1], [NaN, 0] [NaN, NaN].
// Every comparison is made on integer sort keys built from the bits (NaN and infinities
// included), never on floats, so compilers that assume finite math (fast-math) cannot fold them
// away; exp only ever sees a finite argument in [-128, 0].
// Why a kernel of its own: the logits may live on the GPU (a tfjs tensor), and recomputing the
// softmax in every invocation of the window kernels cost about a third of their time on the CPU
// adapters (llvmpipe) this project measures on. A host that has the logits as numbers may write
// w into the weights buffer itself instead (src/webgpu/plan.ts, WeightsSource).
//
// Output layout: a table of \`rows\` rows and \`width\` columns, weights[r * width + c] = w[r] of
// column c's group (0 for r >= k). The general kernels use width C and rows k:
// row r holds every channel's w[r] (the same for all when the logits are shared), so a kernel
// handling 4 channels reads their w[r] as one vec4.
//
// Bindings (group 0):
//   0  logits   storage, read        array<f32>  k (shared) or C * k (per channel, channel-major)
//                                                unnormalised weights; [0] weights the largest
//   1  weights  storage, read_write  array<f32>  rows * width floats, see above
//   2  params   uniform              Params (16 bytes, four u32, in this order):
//        k            1..16, the logits per group
//        width        columns of the table (1, or C)
//        per_channel  1: column c uses logits[c * k ..]; 0: every column uses logits[0 .. k)
//        rows         rows of the table (>= k; rows past k are written 0)
// Override constant: WORKGROUP_SIZE (default 64).
// Dispatch: ceil(width / WORKGROUP_SIZE) workgroups, (n, 1, 1), before the kernels that read the
//   weights.

struct Params {
  k: u32,
  width: u32,
  per_channel: u32,
  rows: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 64u;

// Largest k: a 4 x 4 window.
const MAX_K: u32 = 16u;

// Gap below the maximum past which exp(logit - max) is 0 in float32 (exp(-104) is below the
// smallest subnormal already; any weight below 2^-126, gap about 87.3, is flushed to 0 at the end).
const CUTOFF: f32 = 128.0;

// Signed keys whose order is the value order of non-NaN floats: -m for negative floats, m
// otherwise (m the magnitude bits: -0 and +0 both map to 0; -Inf is the smallest key, +Inf the
// largest). NaN is handled before any key is compared.
fn sort_key(v: f32) -> i32 {
  let bits = bitcast<i32>(v);
  let magnitude = bits & 0x7fffffff;
  return select(magnitude, -magnitude, bits < 0);
}

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let column = gid.x;
  if (column >= params.width) {
    return;
  }
  let k = params.k;
  let base = select(0u, column * k, params.per_channel == 1u);
  var any_nan = false;
  var nan_logit = 0.0;
  var top = logits[base];
  for (var r = 0u; r < k; r++) {
    let l = logits[base + r];
    nan_logit = select(nan_logit, l, is_nan(l) && !any_nan);
    any_nan = any_nan || is_nan(l);
    top = select(top, l, sort_key(l) > sort_key(top));
  }
  if (any_nan) {
    // The NaN logit itself (a NaN constant would be a shader-creation error in WGSL).
    for (var r = 0u; r < params.rows; r++) {
      weights[r * params.width + column] = nan_logit;
    }
    return;
  }
  let top_key = sort_key(top);
  // +Inf as the maximum: every other logit is below it by more than any cutoff.
  let top_is_inf = top_key == 0x7f800000;
  let cutoff_key = sort_key(top - CUTOFF);
  var e: array<f32, MAX_K>;
  var total = 0.0;
  for (var r = 0u; r < k; r++) {
    let l = logits[base + r];
    let key = sort_key(l);
    let far = top_is_inf || key < cutoff_key;
    // A finite l - top in [-CUTOFF, 0] whenever exp is evaluated (select evaluates both sides,
    // so the argument is clamped to stay finite on the discarded side too).
    let near = exp(select(l - top, 0.0, far));
    e[r] = select(select(near, 0.0, far), 1.0, key == top_key);
    // In rank order from e[0]: e[0] >= 0, so starting from +0 adds nothing to it.
    total = select(total + e[r], e[r], r == 0u);
  }
  for (var r = 0u; r < params.rows; r++) {
    let w = select(0.0, e[min(r, MAX_K - 1u)] / total, r < k);
    // w >= +0 here (no NaN: handled above), so its bits order like its values; 0x00800000 is 2^-126.
    weights[r * params.width + column] = select(w, 0.0, bitcast<u32>(w) < 0x00800000u);
  }
}
`,
  "sort_pool2d_partial_sums.wgsl":
    `// generated from kernels/source/partial_sums.wgsl by build/kernels.ts (deno task kernels); do not edit
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
// runs over \`sums\` (one vec4 per block) instead of the partials. Every addition has a fixed
// place, so the result is bitwise identical from run to run (no float atomics). Non-finite
// partials propagate by IEEE arithmetic.
//
// Bindings (group 0):
//   0  partials  storage, read        array<vec4<f32>>  one block of a chunk's stage-1 partials
//   1  sums      storage, read_write  array<vec4<f32>>  one vec4 per block
//   2  params    uniform              Params (16 bytes, four u32, in this order):
//        count     how many partials to add (the block's stage-1 work items)
//        index     where in \`sums\` to store the total
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
`,
  "sort_pool2d_weights.wgsl":
    `// generated from kernels/source/weights.wgsl by build/kernels.ts (deno task kernels); do not edit
// sort_pool2d rank weights: w = softmax(logits), evaluated as its limit, computed once per call by
// a single invocation, for the forward, backward and dLogits kernels to read as a uniform.
//
// What it computes (SPEC.md §5 "Weights", src/spec.ts softmax), in float32, over r < k:
//   m = max(logits)
//   e[r] = 1                     where logits[r] == m (covers m = +Inf, and all logits -Inf)
//   e[r] = 0                     where logits[r] < m - 128 (exp underflows float32 there; this
//                                also covers logits[r] = -Inf, and keeps logits[r] - m finite)
//   e[r] = exp(logits[r] - m)    otherwise
//   w[r] = e[r] / (((e[0] + e[1]) + e[2]) + e[3])   (e[r] = 0 for r >= k)
//   w[r] = +0                    where w[r] < 2^-126, float32's smallest normal number: the spec
//                                flushes subnormal weights (WGSL lets GPUs flush them, and real ones
//                                do), so this is explicit, whatever the hardware's flush mode
// and every w[r] is NaN (the first NaN logit, copied) when any logit is NaN. So [Inf, 0] gives [1, 0], [Inf, Inf] [0.5, 0.5],
// [-Inf, 0] [0, 1], [NaN, 0] [NaN, NaN]. Every comparison is made on integer sort keys built from
// the bits (NaN and infinities included), never on floats, so compilers that assume finite math
// (fast-math) cannot fold them away; exp only ever sees a finite argument in [-128, 0].
// Why a kernel of its own: the logits may live on the GPU (a tfjs tensor), and recomputing the
// softmax in every invocation of the window kernels cost about a third of their time on the CPU
// adapters (llvmpipe) this project measures on. A host that has the logits as numbers may write
// w into the weights buffer itself instead (src/webgpu/plan.ts, WeightsSource).
//
// Bindings (group 0):
//   0  logits   storage, read        array<f32>  k unnormalised weights, [0] weights the largest
//   1  weights  storage, read_write  vec4<f32>   w; the same buffer is then bound as a uniform
//                                                (usage STORAGE | UNIFORM) by the other kernels
//   2  params   uniform              Params: the 32-byte layout of sort_pool2d_forward*.wgsl; only
//                                    k (the sixth u32) is read
// Dispatch: exactly one workgroup, (1, 1, 1), before the kernels that read the weights.

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

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> weights: vec4<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// Gap below the maximum past which exp(logit - max) is 0 in float32 (exp(-104) is below the
// smallest subnormal already; any weight below 2^-126, gap about 87.3, is flushed to 0 at the end).
const CUTOFF: f32 = 128.0;

// Signed keys whose order is the value order of non-NaN floats: -m for negative floats, m
// otherwise (m the magnitude bits: -0 and +0 both map to 0; -Inf is the smallest key, +Inf the
// largest). NaN is handled before any key is compared.
fn sort_key(v: f32) -> i32 {
  let bits = bitcast<i32>(v);
  let magnitude = bits & 0x7fffffff;
  return select(magnitude, -magnitude, bits < 0);
}

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(1)
fn main() {
  let k = params.k;
  var any_nan = false;
  var nan_logit = 0.0;
  var top = logits[0];
  for (var r = 0u; r < k; r++) {
    let l = logits[r];
    nan_logit = select(nan_logit, l, is_nan(l) && !any_nan);
    any_nan = any_nan || is_nan(l);
    top = select(top, l, sort_key(l) > sort_key(top));
  }
  if (any_nan) {
    // The NaN logit itself (a NaN constant would be a shader-creation error in WGSL).
    weights = vec4<f32>(nan_logit);
    return;
  }
  let top_key = sort_key(top);
  // +Inf as the maximum: every other logit is below it by more than any cutoff.
  let top_is_inf = top_key == 0x7f800000;
  let cutoff_key = sort_key(top - CUTOFF);
  var e = vec4<f32>(0.0);
  for (var r = 0u; r < k; r++) {
    let l = logits[r];
    let key = sort_key(l);
    let far = top_is_inf || key < cutoff_key;
    // A finite l - top in [-CUTOFF, 0] whenever exp is evaluated (select evaluates both sides,
    // so the argument is clamped to stay finite on the discarded side too).
    let near = exp(select(l - top, 0.0, far));
    e[r] = select(select(near, 0.0, far), 1.0, key == top_key);
  }
  let w = e / (((e.x + e.y) + e.z) + e.w);
  // w >= +0 here (no NaN: handled above), so its bits order like its values; 0x00800000 is 2^-126.
  weights = select(w, vec4<f32>(0.0), bitcast<vec4<u32>>(w) < vec4<u32>(0x00800000u));
}
`,
};
