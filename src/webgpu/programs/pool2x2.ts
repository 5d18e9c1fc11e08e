/**
 * The programs of the 2x2 family (SPEC.md §2: the article's 2x2 windows, stride 2, shared
 * logits): forward and backward sorting-network kernels, the dLogits reduction, the weights
 * kernel and, for calls split past the binding limit, the per-chunk partial sums. Each
 * description mirrors its WGSL header (checked by programs.test.ts).
 *
 * @module
 */
import { POOL_RANGES } from "../../spec.ts";
import { everyCombination, type KernelProgram } from "../program.ts";

/** The `Params` struct the 2x2 forward, backward and weights kernels share, in WGSL order. */
const POOL2X2_PARAMS = [
  "height",
  "width",
  "channel_groups",
  "out_height",
  "out_width",
  "k",
  "work_items",
  "unused",
] as const;

/** Invocations of the single dLogits stage-2 workgroup (and of the partial-sums workgroup). */
export const DLOGITS_WORKGROUP_SIZE = 256;

/** Channel groups per invocation a 2x2 plan can choose (2 when their count per pixel is even). */
export type GroupsPerInvocation = 1 | 2;

/** Every value of {@link GroupsPerInvocation}. */
const GROUPS_PER_INVOCATION: readonly GroupsPerInvocation[] = [1, 2];

/**
 * Pipeline constants of the 2x2 forward kernels (kernels/sort_pool2d_forward*.wgsl): k; every
 * window inside x ("valid", or even H and W); every chunk's work items within 2^20 (one-step
 * division).
 */
export interface ForwardConstants {
  readonly k: number;
  readonly fullWindows: boolean;
  readonly fewItems: boolean;
}

/**
 * Every value each 2x2 forward constant can take: k is any k of the 2x2 window (src/spec.ts
 * POOL_RANGES), the flags either way. Typed over {@link ForwardConstants}, so a constant added
 * there does not compile until its values are listed here (and so reach the compile matrix).
 */
const FORWARD_CONSTANT_VALUES: { readonly [F in keyof ForwardConstants]: readonly ForwardConstants[F][] } = {
  k: POOL_RANGES,
  fullWindows: [false, true],
  fewItems: [false, true],
};

/** A pipeline of the 2x2 backward kernels: lanes and channel groups per invocation. */
export interface Backward2x2Variant {
  readonly vec4: boolean;
  readonly groupsPerInvocation: GroupsPerInvocation;
}

/** A pipeline of the 2x2 forward kernels: the backward's choices plus {@link ForwardConstants}. */
export interface Forward2x2Variant extends Backward2x2Variant {
  readonly forward: ForwardConstants;
}

/** A program with a single pipeline. */
type Single = Record<string, never>;
const SINGLE: readonly Single[] = [{}];

/** Scalar and vec4, each with one and two channel groups per invocation. */
function backwardVariants(): Backward2x2Variant[] {
  return [false, true].flatMap((vec4) =>
    GROUPS_PER_INVOCATION.map((groupsPerInvocation) => ({ vec4, groupsPerInvocation }))
  );
}

/** kernels/sort_pool2d_forward{,_vec4}.wgsl: y of each 2x2 window (one or two channel groups per invocation). */
export const FORWARD_2X2 = {
  name: "forward",
  shader: { scalar: "forward", vec4: "forwardVec4" },
  bindings: [
    { name: "x", kind: "read-only-storage" },
    { name: "weights", kind: "uniform" },
    { name: "y", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: POOL2X2_PARAMS },
  overrides: { WORKGROUP_SIZE: "u32", GROUPS_PER_INVOCATION: "u32", K: "u32", FULL_WINDOWS: "bool", FEW_ITEMS: "bool" },
  workgroupSize: "forwardWorkgroupSize",
  dispatch: { per: "invocation", grid: "2d" },
  precompile: "modules",
  variants: () =>
    backwardVariants().flatMap((base) =>
      everyCombination<ForwardConstants>(FORWARD_CONSTANT_VALUES).map((forward) => ({ ...base, forward }))
    ),
  vec4: (v) => v.vec4,
  constants: (v) => ({
    GROUPS_PER_INVOCATION: v.groupsPerInvocation,
    K: v.forward.k,
    FULL_WINDOWS: v.forward.fullWindows ? 1 : 0,
    FEW_ITEMS: v.forward.fewItems ? 1 : 0,
  }),
} as const satisfies KernelProgram<Forward2x2Variant, (typeof POOL2X2_PARAMS)[number]>;

/** kernels/sort_pool2d_backward{,_vec4}.wgsl: dx and dLogits stage 1 (one partial sum per work item). */
export const BACKWARD_2X2 = {
  name: "backward",
  shader: { scalar: "backward", vec4: "backwardVec4" },
  bindings: [
    { name: "x", kind: "read-only-storage" },
    { name: "weights", kind: "uniform" },
    { name: "dy", kind: "read-only-storage" },
    { name: "dx", kind: "storage" },
    { name: "partials", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: POOL2X2_PARAMS },
  overrides: { WORKGROUP_SIZE: "u32", GROUPS_PER_INVOCATION: "u32" },
  workgroupSize: "workgroupSize",
  dispatch: { per: "invocation", grid: "2d" },
  precompile: "pipelines",
  variants: backwardVariants,
  vec4: (v) => v.vec4,
  constants: (v) => ({ GROUPS_PER_INVOCATION: v.groupsPerInvocation }),
} as const satisfies KernelProgram<Backward2x2Variant, (typeof POOL2X2_PARAMS)[number]>;

/** kernels/sort_pool2d_dlogits.wgsl: dLogits stage 2 (one workgroup over the partials or chunk sums). */
export const DLOGITS_2X2 = {
  name: "dLogits",
  shader: "dLogits",
  bindings: [
    { name: "partials", kind: "read-only-storage" },
    { name: "weights", kind: "uniform" },
    { name: "d_logits", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: ["partial_count", "k"] },
  overrides: { WORKGROUP_SIZE: "u32" },
  workgroupSize: DLOGITS_WORKGROUP_SIZE,
  dispatch: { per: "workgroup", grid: "1d" },
  precompile: "pipelines",
  variants: () => SINGLE,
  vec4: () => false,
  constants: () => ({}),
} as const satisfies KernelProgram<Single, "partial_count" | "k">;

/**
 * kernels/sort_pool2d_weights.wgsl: softmax(logits) as the vec4 the 2x2 kernels read, one
 * invocation (its workgroup size is fixed in the WGSL). It reads the 2x2 `Params` for k only.
 */
export const WEIGHTS_2X2 = {
  name: "weights",
  shader: "weights",
  bindings: [
    { name: "logits", kind: "read-only-storage" },
    { name: "weights", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: {
    fields: POOL2X2_PARAMS,
    unread: ["height", "width", "channel_groups", "out_height", "out_width", "work_items"],
  },
  overrides: {},
  workgroupSize: 1,
  dispatch: { per: "workgroup", grid: "1d" },
  precompile: "pipelines",
  variants: () => SINGLE,
  vec4: () => false,
  constants: () => ({}),
} as const satisfies KernelProgram<
  Single,
  (typeof POOL2X2_PARAMS)[number],
  string,
  "height" | "width" | "channel_groups" | "out_height" | "out_width" | "work_items"
>;

/**
 * kernels/sort_pool2d_partial_sums.wgsl: one chunk's stage-1 partials summed into its slot of the
 * chunk sums (calls split past the binding limit), one workgroup.
 */
export const PARTIAL_SUMS_2X2 = {
  name: "partialSums",
  shader: "partialSums",
  bindings: [
    { name: "partials", kind: "read-only-storage" },
    { name: "sums", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: ["count", "index", "unused0", "unused1"] },
  overrides: { WORKGROUP_SIZE: "u32" },
  workgroupSize: DLOGITS_WORKGROUP_SIZE,
  dispatch: { per: "workgroup", grid: "1d" },
  precompile: "pipelines",
  variants: () => SINGLE,
  vec4: () => false,
  constants: () => ({}),
} as const satisfies KernelProgram<Single, "count" | "index" | "unused0" | "unused1">;
