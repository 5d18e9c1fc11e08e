/**
 * The programs of the general family (SPEC.md §2: any window and stride 1..4, overlapping or
 * gapped, and per-channel logits): the weights table, the forward selection network, the
 * backward's two passes (each window's kept cells, then dx gathered per input cell) and the
 * dLogits reduction per weight group. Each description mirrors its WGSL header (checked by
 * programs.test.ts).
 *
 * @module
 */
import { MAX_WINDOW_SIDE } from "../../spec.ts";
import type { KernelProgram } from "../program.ts";

/** Invocations per workgroup of the weights kernel (one invocation per column of the weights table). */
export const WEIGHTS_WORKGROUP_SIZE = 64;
/** Invocations of each workgroup of the general dLogits kernel (one workgroup per weight group). */
export const GENERAL_DLOGITS_WORKGROUP_SIZE = 64;

/** The window kernels' pipeline constants: window height KH, width KW, kept ranks K. */
export interface WindowConstants {
  readonly KH: number;
  readonly KW: number;
  readonly K: number;
}

/** A pipeline of a window kernel: lanes and the window's constants. */
export interface WindowVariant {
  readonly vec4: boolean;
  readonly window: WindowConstants;
}

/** Every window constant set: KH and KW 1..MAX_WINDOW_SIDE (SPEC.md §2), K 1..KH·KW. */
export function windowConstantSets(): WindowConstants[] {
  const out: WindowConstants[] = [];
  for (let kh = 1; kh <= MAX_WINDOW_SIDE; kh++) {
    for (let kw = 1; kw <= MAX_WINDOW_SIDE; kw++) {
      for (let k = 1; k <= kh * kw; k++) out.push({ KH: kh, KW: kw, K: k });
    }
  }
  return out;
}

/** Every window variant: scalar and vec4, each with every window constant set. */
function windowVariants(): WindowVariant[] {
  return [false, true].flatMap((vec4) => windowConstantSets().map((window) => ({ vec4, window })));
}

/** The `Params` fields the window kernels share: the input and output geometry, the window's steps. */
const WINDOW_GEOMETRY = [
  "height",
  "width",
  "channel_groups",
  "out_height",
  "out_width",
  "stride_h",
  "stride_w",
  "pad_top",
  "pad_left",
  "work_items",
  "x_base",
  "y_base",
] as const;

/** The `Params` struct of the backward window kernels (ranks and gather), in WGSL order. */
const BACKWARD_WINDOW_PARAMS = [...WINDOW_GEOMETRY, "segment", "segments", "rank_plane", "per_channel"] as const;

/** A program with a single pipeline. */
type Single = Record<string, never>;
const SINGLE: readonly Single[] = [{}];

/** What the window kernels share in their descriptions: constants, workgroup size, dispatch. */
const WINDOW_KERNEL = {
  overrides: { WORKGROUP_SIZE: "u32", KH: "u32", KW: "u32", K: "u32" },
  workgroupSize: "workgroupSize",
  dispatch: { per: "invocation", grid: "2d" },
  precompile: "modules",
  variants: windowVariants,
  vec4: (v: WindowVariant) => v.vec4,
  constants: (v: WindowVariant) => ({ ...v.window }),
} as const;

/** kernels/sort_pool2d_general_weights.wgsl: the k x C rank weights table (softmax per weight group). */
export const GENERAL_WEIGHTS = {
  name: "generalWeights",
  shader: "generalWeights",
  bindings: [
    { name: "logits", kind: "read-only-storage" },
    { name: "weights", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: ["k", "width", "per_channel", "rows"] },
  overrides: { WORKGROUP_SIZE: "u32" },
  workgroupSize: WEIGHTS_WORKGROUP_SIZE,
  dispatch: { per: "invocation", grid: "1d" },
  precompile: "pipelines",
  variants: () => SINGLE,
  vec4: () => false,
  constants: () => ({}),
} as const satisfies KernelProgram<Single, "k" | "width" | "per_channel" | "rows">;

/** kernels/sort_pool2d_general_forward{,_vec4}.wgsl: y of each window (selection network sized by KH, KW, K). */
export const GENERAL_FORWARD = {
  name: "generalForward",
  shader: { scalar: "generalForward", vec4: "generalForwardVec4" },
  bindings: [
    { name: "x", kind: "read-only-storage" },
    { name: "weights", kind: "read-only-storage" },
    { name: "y", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: [...WINDOW_GEOMETRY, "unused0", "unused1", "unused2", "unused3"] },
  ...WINDOW_KERNEL,
} as const satisfies KernelProgram<WindowVariant, string>;

/** kernels/sort_pool2d_general_ranks{,_vec4}.wgsl: backward pass 1, each window's kept cells and dLogits partials. */
export const GENERAL_RANKS = {
  name: "generalRanks",
  shader: { scalar: "generalRanks", vec4: "generalRanksVec4" },
  bindings: [
    { name: "x", kind: "read-only-storage" },
    { name: "dy", kind: "read-only-storage" },
    { name: "ranks", kind: "storage" },
    { name: "partials", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: BACKWARD_WINDOW_PARAMS },
  ...WINDOW_KERNEL,
} as const satisfies KernelProgram<WindowVariant, string>;

/** kernels/sort_pool2d_general_gather{,_vec4}.wgsl: backward pass 2, dx gathered per input cell over its windows. */
export const GENERAL_GATHER = {
  name: "generalGather",
  shader: { scalar: "generalGather", vec4: "generalGatherVec4" },
  bindings: [
    { name: "ranks", kind: "read-only-storage" },
    { name: "weights", kind: "read-only-storage" },
    { name: "dy", kind: "read-only-storage" },
    { name: "dx", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: BACKWARD_WINDOW_PARAMS },
  ...WINDOW_KERNEL,
} as const satisfies KernelProgram<WindowVariant, string>;

/**
 * kernels/sort_pool2d_general_dlogits.wgsl: dLogits stage 2, one workgroup per weight group, in
 * "store" mode into the chunk sums after each chunk of a split call, else finishing into dLogits.
 */
export const GENERAL_DLOGITS = {
  name: "generalDLogits",
  shader: "generalDLogits",
  bindings: [
    { name: "partials", kind: "read-only-storage" },
    { name: "weights", kind: "read-only-storage" },
    { name: "out", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: ["count", "term_stride", "groups", "k", "channels", "finish", "accumulate", "quads"] },
  overrides: { WORKGROUP_SIZE: "u32" },
  workgroupSize: GENERAL_DLOGITS_WORKGROUP_SIZE,
  dispatch: { per: "workgroup", grid: "2d" },
  precompile: "pipelines",
  variants: () => SINGLE,
  vec4: () => false,
  constants: () => ({}),
} as const satisfies KernelProgram<Single, string>;
