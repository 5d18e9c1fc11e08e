/**
 * What the two kernel families' planners and encoders share (src/webgpu/pool2x2.ts,
 * src/webgpu/general_windows.ts): dispatch grids checked when a call is planned, the staging of
 * unaligned chunks through scratch (the chunk loop with its copies in and out), and the usage
 * checks of the caller's buffers.
 *
 * @module
 */
import { SortPoolArgumentError } from "../validate.ts";
import type { ChunkGeometry } from "./chunks.ts";
import type { AnyProgram, BoundBuffer, Grid } from "./program.ts";
import type { ProgramRunner } from "./runner.ts";
import type { ScratchBuffers, SortPoolPlan } from "./plan.ts";

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
function stageBuffer(scratch: ScratchBuffers | undefined, name: string, bytes: number): GPUBuffer | undefined {
  return bytes > 0 ? scratchOf(scratch).get(name, bytes, stageUsage()) : undefined;
}

/**
 * A caller's data buffer as the chunks of a call bind it: `range` names the chunk's range of it
 * (`x` for x and dx, `y` for y and dy); `stage` is the scratch a staged chunk binds instead.
 */
export interface StagedBuffer {
  readonly buffer: GPUBuffer;
  readonly range: "x" | "y";
  readonly stage: GPUBuffer | undefined;
}

/** What `chunk` binds for `data`: the staging buffer from 0 when the chunk is staged, else its range in place. */
export function bindChunk(data: StagedBuffer, chunk: ChunkGeometry): BoundBuffer {
  const { offset, size } = chunk[data.range];
  const stage = chunk.staged ? data.stage : undefined;
  return stage ? { buffer: stage, size } : { buffer: data.buffer, size, offset };
}

/** `buffer` as chunks bind it, staged through the scratch buffer `name` of `bytes` (0: nothing staged). */
function stagedBuffer(
  scratch: ScratchBuffers | undefined,
  name: string,
  bytes: number,
  buffer: GPUBuffer,
  range: "x" | "y",
): StagedBuffer {
  return { buffer, range, stage: stageBuffer(scratch, name, bytes) };
}

/** The scratch bytes a plan of either family stages through (0: nothing staged). */
type StagingBytes = Pick<SortPoolPlan, "stageXBytes" | "stageYBytes">;

/** The caller's buffers a staged chunk copies into its staging buffers before its passes and back after. */
export interface ChunkStaging {
  readonly inputs: readonly StagedBuffer[];
  readonly outputs: readonly StagedBuffer[];
}

/**
 * x and y of a forward call as its chunks bind them: a staged chunk copies x in and y out. Both
 * families name the staging scratch alike, so a pool shared by their calls holds one of each.
 */
export function forwardStaging(
  plan: StagingBytes,
  buffers: { readonly x: GPUBuffer; readonly y: GPUBuffer },
  scratch: ScratchBuffers | undefined,
): ChunkStaging & { readonly x: StagedBuffer; readonly y: StagedBuffer } {
  const x = stagedBuffer(scratch, "stage x", plan.stageXBytes, buffers.x, "x");
  const y = stagedBuffer(scratch, "stage y", plan.stageYBytes, buffers.y, "y");
  return { x, y, inputs: [x], outputs: [y] };
}

/**
 * x, dy and dx of a backward call as its chunks bind them: a staged chunk copies x and dy in and
 * dx out (dy shares the forward's y staging scratch; dx has its own, as x is read while dx is written).
 */
export function backwardStaging(
  plan: StagingBytes,
  buffers: { readonly x: GPUBuffer; readonly dy: GPUBuffer; readonly dx: GPUBuffer },
  scratch: ScratchBuffers | undefined,
): ChunkStaging & { readonly x: StagedBuffer; readonly dy: StagedBuffer; readonly dx: StagedBuffer } {
  const x = stagedBuffer(scratch, "stage x", plan.stageXBytes, buffers.x, "x");
  const dx = stagedBuffer(scratch, "stage dx", plan.stageXBytes, buffers.dx, "x");
  const dy = stagedBuffer(scratch, "stage y", plan.stageYBytes, buffers.dy, "y");
  return { x, dy, dx, inputs: [x, dy], outputs: [dx] };
}

/**
 * Records `body` once per chunk into compute passes labelled `label`, starting in `pass` (already
 * open, so the caller can record into it first), and returns the pass left open. A copy between
 * buffers cannot be recorded inside a pass: around a staged chunk the pass is ended, its `inputs`
 * are copied into their staging buffers, a pass labelled "`label` (staged chunk)" runs the body,
 * then the `outputs` are copied back from theirs and a new `label` pass begins.
 */
export function encodeChunks<C extends ChunkGeometry>(
  encoder: GPUCommandEncoder,
  pass: GPUComputePassEncoder,
  label: string,
  chunks: readonly C[],
  staging: ChunkStaging,
  body: (pass: GPUComputePassEncoder, chunk: C) => void,
): GPUComputePassEncoder {
  for (const chunk of chunks) {
    if (chunk.staged) {
      pass.end();
      for (const { buffer, range, stage } of staging.inputs) {
        encoder.copyBufferToBuffer(buffer, chunk[range].offset, stage!, 0, chunk[range].size);
      }
      pass = encoder.beginComputePass({ label: `${label} (staged chunk)` });
    }
    body(pass, chunk);
    if (chunk.staged) {
      pass.end();
      for (const { buffer, range, stage } of staging.outputs) {
        encoder.copyBufferToBuffer(stage!, 0, buffer, chunk[range].offset, chunk[range].size);
      }
      pass = encoder.beginComputePass({ label });
    }
  }
  return pass;
}
