/**
 * Kernel programs: one description per WGSL kernel (modelled on tfjs-backend-webgpu's
 * WebGPUProgram), from which everything the host does with that kernel follows: the shader it
 * compiles (scalar or vec4, a parameter of the variant), the bind-group layout (from its
 * bindings, in binding order), the packing of its `Params` uniform (by field name, in the WGSL
 * struct's order), its override constants, its pipeline cache key and its dispatch grid.
 *
 * The descriptions live in src/webgpu/programs/; src/webgpu/runner.ts runs them;
 * src/webgpu/programs/programs.test.ts reflects every kernel's WGSL (wgsl_reflect) and checks the
 * description against it, so the WGSL header and the description cannot drift apart.
 *
 * @module
 */
import type { KernelSources } from "./shaders.ts";

/** A kernel source's key in {@link KernelSources} (its file in `kernels/`: src/webgpu/shaders.ts KERNEL_FILES). */
export type ShaderKey = keyof KernelSources;

/**
 * How a kernel binds a buffer: a uniform, read-only storage (`var<storage, read>`) or storage
 * (`var<storage, read_write>`); the values are WebGPU's GPUBufferBindingType names.
 */
export type BindingKind = "uniform" | "read-only-storage" | "storage";

/** One binding of group 0: the WGSL variable's name and how it is bound. Its number is its index. */
export interface ProgramBinding<B extends string = string> {
  readonly name: B;
  readonly kind: BindingKind;
}

/** WGSL type of an override constant the host sets (bool constants are passed as 0 or 1). */
export type OverrideType = "u32" | "bool";

/** The workgroup sizes of one kernel set (src/webgpu/sort_pool_kernels.ts KernelOptions). */
export interface WorkgroupSizes {
  /** Invocations per workgroup of the backward and general window kernels. */
  readonly workgroupSize: number;
  /** Invocations per workgroup of the 2x2 forward kernels. */
  readonly forwardWorkgroupSize: number;
}

/**
 * What a dispatch's work count counts and how its grid is laid out:
 * - `per`: "invocation" (workgroups = ceil(work / workgroup size)) or "workgroup" (the count itself);
 * - `grid`: "2d" goes 2-D past maxComputeWorkgroupsPerDimension (the kernel linearises
 *   `num_workgroups`); "1d" is one dimension (the kernel reads only `global_invocation_id.x`).
 */
export interface DispatchRule {
  readonly per: "invocation" | "workgroup";
  readonly grid: "1d" | "2d";
}

/** Workgroups of one dispatch: `[x]` or `[x, y]`, as passed to dispatchWorkgroups. */
export type Grid = readonly [number] | readonly [number, number];

/** Padding fields of a `Params` struct: named `unused`, `unused0`, `unused1`, ...; always packed as 0. */
export type PaddingField = "unused" | `unused${number}`;

/** The `Params` uniform a kernel reads at its binding named "params": u32 fields in WGSL order. */
export interface ParamsBlock<F extends string = string, U extends F = F> {
  /** Every field of the WGSL struct `Params`, in order (each a u32). */
  readonly fields: readonly F[];
  /**
   * Fields of a struct this kernel shares with others but does not read (packed as 0, like the
   * padding fields), so the host need not invent values for them.
   */
  readonly unread?: readonly U[];
}

/**
 * The kernel source(s) of a program: one, or a scalar and a vec4 variant (chosen by `variant.vec4`).
 * `S` is the key set of the sources its runner holds: {@link ShaderKey} for the sort_pool2d
 * kernels; the benchmarks' copy kernels have keys of their own (src/webgpu/programs/copy.ts).
 */
export type ProgramShader<S extends string = ShaderKey> = S | { readonly scalar: S; readonly vec4: S };

/**
 * One kernel program. `V` is its variant: the choices a planner makes that select a pipeline
 * (vec4 or scalar, and the values of its override constants).
 */
export interface KernelProgram<
  V = unknown,
  F extends string = string,
  B extends string = string,
  U extends F = never,
  S extends string = ShaderKey,
> {
  /** Its name: labels, its uniform buffer's label ("sortpool NAME params"), messages. */
  readonly name: string;
  /** Its shader key(s). */
  readonly shader: ProgramShader<S>;
  /** Group 0's bindings, in binding order (binding i is `bindings[i]`). */
  readonly bindings: readonly ProgramBinding<B>[];
  /** Its `Params` uniform (bound at the binding named "params"). */
  readonly params: ParamsBlock<F, U>;
  /** Every override constant the host sets, with its WGSL type (WORKGROUP_SIZE included when set). */
  readonly overrides: Readonly<Record<string, OverrideType>>;
  /**
   * Invocations per workgroup: fixed, or one of the kernel set's {@link WorkgroupSizes}. Passed as
   * the override WORKGROUP_SIZE when `overrides` lists it (else fixed in the WGSL).
   */
  readonly workgroupSize: number | keyof WorkgroupSizes;
  /** How its dispatches are sized. */
  readonly dispatch: DispatchRule;
  /**
   * What `SortPoolKernels.ready` compiles ahead: "pipelines" (every variant: they are few) or
   * "modules" (the shaders only; pipelines are specialised when a call first needs them).
   */
  readonly precompile: "pipelines" | "modules";
  /** Every variant a planner can choose (the compile matrix creates each). */
  variants(): readonly V[];
  /** Whether `variant` runs the vec4 shader. */
  vec4(variant: V): boolean;
  /** The override constants of `variant` other than WORKGROUP_SIZE (bool ones as 0 or 1). */
  constants(variant: V): Readonly<Record<string, number>>;
}

/** Any kernel program with shader keys `S`, whatever its variant, fields and bindings. */
export type AnyProgram<S extends string = ShaderKey> = KernelProgram<unknown, string, string, string, S>;

/** The variant type of a program. */
export type VariantOf<P> = P extends { variants(): readonly (infer V)[] } ? V : never;
/** The binding names of a program. */
export type BindingOf<P> = P extends { readonly bindings: readonly { readonly name: infer B }[] } ? B : never;
/** The `Params` field names of a program. */
type FieldOf<P> = P extends { readonly params: { readonly fields: readonly (infer F extends string)[] } } ? F : never;
/** The `Params` fields a program does not read. */
type UnreadOf<P> = P extends { readonly params: { readonly unread: readonly (infer U)[] } } ? U : never;
/** The `Params` values of a program, by field name: every field but padding and unread ones. */
export type ParamsOf<P> = Readonly<Record<Exclude<FieldOf<P>, UnreadOf<P> | PaddingField>, number>>;

/** A buffer range bound to one binding: `size` bytes of `buffer` from `offset` (default 0). */
export interface BoundBuffer {
  readonly buffer: GPUBuffer;
  readonly size: number;
  readonly offset?: number;
}

/** The shader key `variant` of `program` runs. */
export function shaderOf<V, S extends string>(program: KernelProgram<V, string, string, string, S>, variant: V): S {
  const shader = program.shader;
  if (typeof shader === "string") return shader;
  return program.vec4(variant) ? shader.vec4 : shader.scalar;
}

/** Every shader key of `program`. */
export function shadersOf<S extends string>(program: AnyProgram<S>): S[] {
  const shader = program.shader;
  return typeof shader === "string" ? [shader] : [shader.scalar, shader.vec4];
}

/** The workgroup size of `program` in a kernel set with `sizes`. */
export function workgroupSizeOf(program: AnyProgram<string>, sizes: WorkgroupSizes): number {
  const size = program.workgroupSize;
  return typeof size === "number" ? size : sizes[size];
}

/** Every override constant `variant` of `program` is created with: WORKGROUP_SIZE (when set) first. */
export function pipelineConstants<V>(
  program: KernelProgram<V, string, string, string, string>,
  variant: V,
  sizes: WorkgroupSizes,
): Record<string, number> {
  const constants: Record<string, number> = {};
  if ("WORKGROUP_SIZE" in program.overrides) constants.WORKGROUP_SIZE = workgroupSizeOf(program, sizes);
  return Object.assign(constants, program.constants(variant));
}

/**
 * The pipeline cache key of `variant`: its shader key and constants' values, so two variants
 * share a pipeline exactly when they would create the same one.
 */
export function pipelineKey(source: string, constants: Readonly<Record<string, number>>): string {
  let key = source;
  for (const name in constants) key += `/${name}=${constants[name]}`;
  return key;
}

/** Bytes of a program's `Params` block as bound: its u32 fields rounded up to 16 (uniform layout). */
export function paramsBytes(program: AnyProgram<string>): number {
  return Math.ceil((program.params.fields.length * 4) / 16) * 16;
}

/**
 * Packs `values` into `program`'s `Params` block by field name, in the WGSL struct's order,
 * padding and unread fields 0; the block is {@link paramsBytes} long.
 */
export function packParams<P extends AnyProgram<string>>(
  program: P,
  values: ParamsOf<P>,
): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(paramsBytes(program) / 4);
  const byName = values as Readonly<Record<string, number>>;
  program.params.fields.forEach((field, i) => {
    const value = byName[field];
    if (value !== undefined) out[i] = value;
  });
  return out;
}

/** The bind-group layout entries of `program`: binding i of kind `bindings[i].kind`, compute stage. */
export function layoutEntries(program: AnyProgram<string>): GPUBindGroupLayoutEntry[] {
  return program.bindings.map((binding, i) => ({
    binding: i,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type: binding.kind },
  }));
}

/**
 * Workgroup grid `[gx, gy]` for `count` workgroups when one dimension holds at most `maxPerDim`:
 * 1-D while it fits, else 2-D (the kernels linearise it). Throws when even 2-D cannot hold it.
 */
export function dispatchGrid(count: number, maxPerDim: number): [number, number] {
  if (count <= maxPerDim) return [Math.max(1, count), 1];
  const gy = Math.ceil(count / maxPerDim);
  if (gy > maxPerDim) {
    throw new RangeError(`dispatch of ${count} workgroups exceeds ${maxPerDim}² (maxComputeWorkgroupsPerDimension²)`);
  }
  return [maxPerDim, gy];
}

/**
 * The grid of a dispatch of `program` over `work` (invocations or workgroups, per its
 * {@link DispatchRule}). A "2d" grid throws a RangeError past maxComputeWorkgroupsPerDimension².
 */
export function gridOf(
  program: AnyProgram<string>,
  work: number,
  sizes: WorkgroupSizes,
  maxPerDim: number,
): Grid {
  const rule = program.dispatch;
  const groups = rule.per === "invocation" ? Math.ceil(work / workgroupSizeOf(program, sizes)) : work;
  return rule.grid === "2d" ? dispatchGrid(groups, maxPerDim) : [groups];
}

/** Every combination of the values listed per key (the cartesian product), in key order. */
export function everyCombination<T extends object>(values: { readonly [F in keyof T]: readonly T[F][] }): T[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, options] of Object.entries(values) as [string, readonly unknown[]][]) {
    out = out.flatMap((partial) => options.map((value) => ({ ...partial, [key]: value })));
  }
  return out as T[];
}
