/**
 * What the two kernel families' planners and encoders share (src/webgpu/pool2x2.ts,
 * src/webgpu/general_windows.ts): dispatch grids checked when a call is planned, the staging of
 * unaligned chunks through scratch, and the usage checks of the caller's buffers.
 *
 * @module
 */
import { SortPoolArgumentError } from "../validate.ts";
import type { ByteRange } from "./chunks.ts";
import type { AnyProgram, BoundBuffer, Grid } from "./program.ts";
import type { ProgramRunner } from "./runner.ts";
import type { ScratchBuffers } from "./plan.ts";

/** The grid of a dispatch of `program` over `work`, or a SortPoolArgumentError naming x (when planning). */
export function planGrid(runner: ProgramRunner, program: AnyProgram, work: number): Grid {
  try {
    return runner.grid(program, work);
  } catch (e) {
    throw new SortPoolArgumentError("x", `a shape whose ${work} work items fit one dispatch`, (e as Error).message);
  }
}

/** Usage of staging scratch (read and written by kernels, copied to and from the data buffers). */
export function stageUsage(): GPUBufferUsageFlags {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/**
 * Checks that `buffer` has `flags` (staged chunks copy inputs out and outputs in; cleared dx rows
 * need COPY_DST), so a caller's buffer missing one fails here, naming it, not as a validation error.
 */
export function requireUsage(buffer: GPUBuffer, flags: GPUBufferUsageFlags, what: string): void {
  if ((buffer.usage & flags) !== flags) {
    throw new Error(
      `SortPoolKernels: ${what}: this plan copies it, so it needs usage ${flags}, received ${buffer.usage}`,
    );
  }
}

/** `scratch`, or an error when a plan that stages chunks was encoded without one. */
export function scratchOf(scratch: ScratchBuffers | undefined): ScratchBuffers {
  if (!scratch) throw new Error("SortPoolKernels: this plan stages unaligned chunks and needs scratch buffers");
  return scratch;
}

/** A staging scratch buffer of `bytes` (at least one byte), or undefined when nothing is staged. */
export function stageBuffer(scratch: ScratchBuffers | undefined, name: string, bytes: number): GPUBuffer | undefined {
  return bytes > 0 ? scratchOf(scratch).get(name, bytes, stageUsage()) : undefined;
}

/** What a chunk binds for one of its ranges: the staging buffer from 0 when staged, else the range of `buffer` in place. */
export function chunkRange(buffer: GPUBuffer, range: ByteRange, staged: GPUBuffer | undefined): BoundBuffer {
  return staged ? { buffer: staged, size: range.size } : { buffer, size: range.size, offset: range.offset };
}
