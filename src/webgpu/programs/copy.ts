/**
 * The programs of the copy kernels (kernels/copy_forward.wgsl, kernels/copy_backward.wgsl): the
 * benchmarks' "% of copy bandwidth" reference (bench/copy_kernel.ts), run by the same runner as
 * the sort_pool2d kernels and checked against their WGSL by programs.test.ts. Not part of the
 * library: nothing under src/mod.ts imports this module.
 *
 * Their shader keys are their COPY_FILES keys prefixed "copy", because the bare keys ("forward",
 * "backward") already name sort_pool2d kernels in KERNEL_FILES.
 *
 * @module
 */
import type { BufferTracker } from "../buffers.ts";
import type { KernelProgram, WorkgroupSizes } from "../program.ts";
import { ProgramRunner } from "../runner.ts";
import { DEFAULT_FORWARD_WORKGROUP_SIZE } from "../sort_pool_kernels.ts";
import { COPY_FILES, copySources } from "../shaders.ts";

/** A copy kernel's shader key. */
export type CopyShaderKey = "copyForward" | "copyBackward";

/** File name in `kernels/` of each copy program's shader key. */
export const COPY_PROGRAM_FILES: Readonly<Record<CopyShaderKey, string>> = {
  copyForward: COPY_FILES.forward,
  copyBackward: COPY_FILES.backward,
};

/** The copy kernels' WGSL by shader key (the generated module's text of `kernels/copy_*.wgsl`). */
export function copyProgramSources(): Readonly<Record<CopyShaderKey, string>> {
  const copy = copySources();
  return { copyForward: copy.forward, copyBackward: copy.backward };
}

/**
 * Invocations per workgroup of the copy kernels: the 2x2 forward kernels' default
 * ({@link DEFAULT_FORWARD_WORKGROUP_SIZE}), so that the "% of copy bandwidth" ratio compares like
 * with like (on llvmpipe the workgroup size alone moved that ratio by several points).
 */
export const COPY_WORKGROUP_SIZE = DEFAULT_FORWARD_WORKGROUP_SIZE;

/** The copy kernels' `Params` struct, in WGSL order (both kernels share it). */
const COPY_PARAMS = ["outputs", "unused0", "unused1", "unused2"] as const;

/** A copy program has a single pipeline. */
type Single = Record<string, never>;
const SINGLE: readonly Single[] = [{}];

/** kernels/copy_forward.wgsl: every output vec4 the max of 4 consecutive input vec4s (a forward pass's bytes). */
export const COPY_FORWARD = {
  name: "copyForward",
  shader: "copyForward",
  bindings: [
    { name: "x", kind: "read-only-storage" },
    { name: "y", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: COPY_PARAMS },
  overrides: { WORKGROUP_SIZE: "u32" },
  workgroupSize: COPY_WORKGROUP_SIZE,
  // One invocation per output; 2-D past maxComputeWorkgroupsPerDimension (the kernel linearises it).
  dispatch: { per: "invocation", grid: "2d" },
  precompile: "pipelines",
  variants: () => SINGLE,
  vec4: () => false,
  constants: () => ({}),
} as const satisfies KernelProgram<Single, (typeof COPY_PARAMS)[number], string, never, CopyShaderKey>;

/** kernels/copy_backward.wgsl: reads x and dy, writes dx (a backward pass's bytes), over the same outputs. */
export const COPY_BACKWARD = {
  name: "copyBackward",
  shader: "copyBackward",
  bindings: [
    { name: "x", kind: "read-only-storage" },
    { name: "dy", kind: "read-only-storage" },
    { name: "dx", kind: "storage" },
    { name: "params", kind: "uniform" },
  ],
  params: { fields: COPY_PARAMS },
  overrides: { WORKGROUP_SIZE: "u32" },
  workgroupSize: COPY_WORKGROUP_SIZE,
  dispatch: { per: "invocation", grid: "2d" },
  precompile: "pipelines",
  variants: () => SINGLE,
  vec4: () => false,
  constants: () => ({}),
} as const satisfies KernelProgram<Single, (typeof COPY_PARAMS)[number], string, never, CopyShaderKey>;

/** Both copy programs. */
export const COPY_PROGRAMS = [COPY_FORWARD, COPY_BACKWARD] as const;

/**
 * A runner of the copy programs on `device` (its uniform buffers created through `tracker`).
 * Their workgroup size is fixed in their descriptions, so the kernel set's sizes only fill the
 * runner's signature.
 */
export function copyRunner(device: GPUDevice, tracker: BufferTracker): ProgramRunner<CopyShaderKey> {
  const sizes: WorkgroupSizes = { workgroupSize: COPY_WORKGROUP_SIZE, forwardWorkgroupSize: COPY_WORKGROUP_SIZE };
  return new ProgramRunner(
    device,
    copyProgramSources(),
    tracker,
    sizes,
    device.limits.maxComputeWorkgroupsPerDimension,
  );
}
