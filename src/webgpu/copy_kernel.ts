/**
 * The copy kernel workload: `kernels/copy_forward.wgsl` (read 4 floats, write 1) and
 * `kernels/copy_backward.wgsl` (read 5, write 4) over a sort_pool2d input's bytes, with no
 * ranking. The benchmarks (bench/) time it interleaved with the sort_pool2d kernels on the same
 * adapter and report each kernel's speed as a percentage of its bandwidth ("% of copy
 * bandwidth"; the target is judged by bench/bandwidth.ts, which pairs each forward call with a
 * call of this kernel). It is one measured copy-like kernel, not a bound of the memory system.
 *
 * @module
 */
import { sizeOf } from "../spec.ts";
import type { BenchHandle, Shape4 } from "../types.ts";
import { validateShape } from "../validate.ts";
import { BufferTracker } from "./buffers.ts";
import { describeAdapter, requestDeviceOrThrow, withGpuErrorScopes } from "./device.ts";
import { formatBytes } from "./chunks.ts";
import { dispatchGrid } from "./program.ts";
import { DEFAULT_FORWARD_WORKGROUP_SIZE } from "./sort_pool_kernels.ts";
import { copySources } from "./shaders.ts";

/**
 * Invocations per workgroup of the copy kernels: the 2x2 forward kernels' default
 * ({@link DEFAULT_FORWARD_WORKGROUP_SIZE}), so that the "% of copy bandwidth" ratio compares like
 * with like (on llvmpipe the workgroup size alone moved that ratio by several points).
 */
export const COPY_WORKGROUP_SIZE = DEFAULT_FORWARD_WORKGROUP_SIZE;

/**
 * The override constants both copy kernels are created with (entry point `main`, layout "auto"):
 * their only pipeline variant, which the compile matrix (src/webgpu/compile_matrix.test.ts) creates.
 */
export const COPY_PIPELINE_CONSTANTS: Readonly<Record<string, number>> = { WORKGROUP_SIZE: COPY_WORKGROUP_SIZE };

/** A copy-kernel bench handle plus what it moves per call. */
export interface CopyBench extends BenchHandle {
  /** Bytes read plus written by one `forward()` call. */
  readonly forwardBytes: number;
  /** Bytes read plus written by one `forwardBackward()` call. */
  readonly forwardBackwardBytes: number;
  /** The adapter and engine (src/webgpu/engine.ts describeAdapter). */
  readonly adapter: string;
}

/**
 * Prepares the copy kernel workload for an NHWC input shape on a device of its own (destroyed by
 * `dispose`). `forward()` moves the bytes of a sort_pool2d forward pass (x read, y written),
 * `forwardBackward()` adds those of the dx pass (x and dy read, dx written). Each call resolves
 * once the device has finished. Throws when there is no WebGPU adapter.
 */
export async function prepareCopyBench(shape: Shape4): Promise<CopyBench> {
  validateShape(shape as unknown);
  const { adapter, device } = await requestDeviceOrThrow("sortpool copy kernel");
  const tracker = new BufferTracker();
  try {
    // Outputs are vec4s; each reads 4 input vec4s. Round the input up to whole outputs.
    const outputs = Math.ceil(sizeOf(shape) / 16);
    const xBytes = outputs * 64;
    const yBytes = outputs * 16;
    const limit = device.limits.maxStorageBufferBindingSize;
    if (xBytes > limit) {
      throw new RangeError(
        `prepareCopyBench: shape: expected at most ${formatBytes(limit)} of float32 (maxStorageBufferBindingSize), ` +
          `received [${shape.join(", ")}] = ${formatBytes(xBytes)}`,
      );
    }
    const setup = await withGpuErrorScopes(device, "copy kernel setup", async () => {
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
      const x = tracker.create(device, { label: "copy x", size: xBytes, usage });
      const y = tracker.create(device, { label: "copy y", size: yBytes, usage });
      const dy = tracker.create(device, { label: "copy dy", size: yBytes, usage });
      const dx = tracker.create(device, { label: "copy dx", size: xBytes, usage });
      const params = tracker.create(device, {
        label: "copy params",
        size: 16,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      const fill = new Float32Array(xBytes / 4);
      for (let i = 0; i < fill.length; i++) fill[i] = ((i * 2654435761) >>> 0) / 2 ** 32 - 0.5;
      device.queue.writeBuffer(x, 0, fill);
      device.queue.writeBuffer(dy, 0, fill, 0, yBytes / 4);
      device.queue.writeBuffer(params, 0, new Uint32Array([outputs, 0, 0, 0]));

      const sources = copySources();
      const pipeline = async (code: string, label: string) => {
        const module = device.createShaderModule({ label, code });
        return await device.createComputePipelineAsync({
          label,
          layout: "auto",
          compute: { module, entryPoint: "main", constants: { ...COPY_PIPELINE_CONSTANTS } },
        });
      };
      const forwardPipeline = await pipeline(sources.forward, "copy forward");
      const backwardPipeline = await pipeline(sources.backward, "copy backward");
      const bind = (p: GPUComputePipeline, buffers: GPUBuffer[]) =>
        device.createBindGroup({
          layout: p.getBindGroupLayout(0),
          entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
        });
      return {
        forwardPipeline,
        backwardPipeline,
        forwardGroup: bind(forwardPipeline, [x, y, params]),
        backwardGroup: bind(backwardPipeline, [x, dy, dx, params]),
        grid: dispatchGrid(
          Math.ceil(outputs / COPY_WORKGROUP_SIZE),
          device.limits.maxComputeWorkgroupsPerDimension,
        ),
      };
    }, () => device.queue.onSubmittedWorkDone());
    const { forwardPipeline, backwardPipeline, forwardGroup, backwardGroup } = setup;
    const [gx, gy] = setup.grid;

    let disposed = false;
    const run = async (backward: boolean) => {
      if (disposed) throw new Error("copy kernel bench handle: used after dispose");
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass({ label: "copy kernel" });
      pass.setPipeline(forwardPipeline);
      pass.setBindGroup(0, forwardGroup);
      pass.dispatchWorkgroups(gx, gy);
      if (backward) {
        pass.setPipeline(backwardPipeline);
        pass.setBindGroup(0, backwardGroup);
        pass.dispatchWorkgroups(gx, gy);
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    };
    return {
      forward: () => run(false),
      forwardBackward: () => run(true),
      dispose: () => {
        if (disposed) return;
        disposed = true;
        tracker.destroyAll();
        device.destroy();
      },
      forwardBytes: xBytes + yBytes,
      forwardBackwardBytes: xBytes + yBytes + xBytes + yBytes + xBytes,
      adapter: describeAdapter(adapter),
    };
  } catch (e) {
    tracker.destroyAll();
    device.destroy();
    throw e;
  }
}
