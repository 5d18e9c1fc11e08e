/**
 * The registry entries of the WGSL kernels: `wgsl` (raw GPUDevice) and `wgsl@tfjs` (the
 * sortPool2d op inside tfjs's webgpu backend). Both create their device on first use.
 *
 * @module
 */
import type { Implementation } from "../types.ts";
import { createWgslImplementation } from "./wgsl.ts";
import { createWgslTfjsImplementation } from "./wgsl_tfjs.ts";

/** `wgsl` and `wgsl@tfjs`; both gated: their speed is this project's kernels and host code. */
export const wgslImplementations: readonly Implementation[] = [
  { ...createWgslImplementation({ name: "wgsl" }), gated: true },
  { ...createWgslTfjsImplementation({ name: "wgsl@tfjs" }), gated: true },
];
