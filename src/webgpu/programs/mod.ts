/**
 * Every kernel program of the sort_pool2d kernels (src/webgpu/program.ts), both families: what
 * `SortPoolKernels.ready` compiles, the compile matrix enumerates and programs.test.ts checks
 * against the WGSL.
 *
 * @module
 */
import type { AnyProgram } from "../program.ts";
import { GENERAL_DLOGITS, GENERAL_FORWARD, GENERAL_GATHER, GENERAL_RANKS, GENERAL_WEIGHTS } from "./general.ts";
import { BACKWARD_2X2, DLOGITS_2X2, FORWARD_2X2, PARTIAL_SUMS_2X2, WEIGHTS_2X2 } from "./pool2x2.ts";

/** Every program, in the order `ready` compiles them (the few-variant pipelines first, then the specialised kernels' shaders). */
export const PROGRAMS: readonly AnyProgram[] = [
  BACKWARD_2X2,
  DLOGITS_2X2,
  WEIGHTS_2X2,
  GENERAL_WEIGHTS,
  PARTIAL_SUMS_2X2,
  GENERAL_DLOGITS,
  FORWARD_2X2,
  GENERAL_FORWARD,
  GENERAL_RANKS,
  GENERAL_GATHER,
];
