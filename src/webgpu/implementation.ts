/**
 * What the WGSL implementations share: their options, their extra introspection, and the
 * deterministic upstream gradient their bench handles use.
 *
 * @module
 */
import type { BenchHandle, Implementation, SortPoolCase } from "../types.ts";
import type { BufferStats } from "./buffers.ts";
import type { BindingLimits } from "./chunks.ts";
import type { KernelOptions } from "./sort_pool_kernels.ts";
import type { KernelSources } from "./shaders.ts";
import { uniformFloat32 } from "../random.ts";

/** Options of `createWgslImplementation` (src/webgpu/wgsl.ts). */
export interface WgslOptions extends KernelOptions {
  /** Registry name, e.g. "wgsl" or "wgsl-slow-forward". */
  readonly name: string;
  /** One sentence for the registry table; a default names the kernels. */
  readonly description?: string;
  /** Replacement WGSL sources; absent entries use the files in `kernels/`. */
  readonly shaders?: Partial<KernelSources>;
  /**
   * Where the kernels run: "raw" (default), a GPUDevice of the implementation's own; "tfjs",
   * registered tfjs kernels on tfjs's webgpu backend and its GPUDevice (as `wgsl@tfjs`).
   */
  readonly host?: "raw" | "tfjs";
}

/** A `wgsl` implementation plus introspection for tests and benchmarks. */
export interface WgslImplementation extends Implementation {
  /** Prepares a device-resident workload (always present here). */
  prepareBench(c: SortPoolCase): Promise<BenchHandle>;
  /** Frees the device, pipelines and buffers (always present here; safe to call twice). */
  dispose(): Promise<void> | void;
  /** Counts of the GPU buffers this host created and destroyed (data, uniforms, readback). */
  bufferStats(): BufferStats;
  /** The adapter and engine (src/webgpu/engine.ts describeAdapter), once a device was acquired. */
  adapterDescription(): string | undefined;
  /**
   * This entry planned against stricter limits (a lower maxStorageBufferBindingSize or
   * maxBufferSize, a larger minStorageBufferOffsetAlignment): the same device, kernels and queue,
   * so small cases exercise the split of calls past the limits (tests, props/properties/limits.ts). WebGPU
   * cannot lower a device's limits below its defaults, so this is how a smaller device is
   * emulated. Its `dispose` does nothing (the entry owns the device).
   */
  withBindingLimits(limits: Partial<BindingLimits>): WgslImplementation;
}

/** Deterministic dy values in [-1, 1) for bench handles (seeded mulberry32, src/random.ts, so runs are comparable). */
export function benchDy(n: number): Float32Array<ArrayBuffer> {
  return uniformFloat32(n, 0x2545f491);
}
