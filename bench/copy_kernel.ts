/**
 * The copy kernel workload: `kernels/copy_forward.wgsl` (read 4 floats, write 1) and
 * `kernels/copy_backward.wgsl` (read 5, write 4) over a sort_pool2d input's bytes, with no
 * ranking. The benchmarks (bench/) time it interleaved with the sort_pool2d kernels on the same
 * adapter and report each kernel's speed as a percentage of its bandwidth ("% of copy
 * bandwidth"; the target is judged by bench/bandwidth.ts, which pairs each forward call with a
 * call of this kernel). It is one measured copy-like kernel, not a bound of the memory system.
 * Its two kernels are described as programs (src/webgpu/programs/copy.ts) and run by the same
 * runner as the sort_pool2d kernels, so their bindings, uniform and constants are checked
 * against the WGSL like theirs.
 *
 * @module
 */
import { sizeOf } from "../src/spec.ts";
import type { BenchHandle, Shape4 } from "../src/types.ts";
import { validateShape } from "../src/validate.ts";
import { BufferTracker } from "../src/webgpu/buffers.ts";
import { describeAdapter, requestDeviceOrThrow, withGpuErrorScopes } from "../src/webgpu/device.ts";
import { formatBytes } from "../src/webgpu/chunks.ts";
import { packParams } from "../src/webgpu/program.ts";
import { COPY_BACKWARD, COPY_FORWARD, COPY_PROGRAMS, copyRunner } from "../src/webgpu/programs/copy.ts";

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
  const runner = copyRunner(device, tracker);
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
      const fill = new Float32Array(xBytes / 4);
      for (let i = 0; i < fill.length; i++) fill[i] = ((i * 2654435761) >>> 0) / 2 ** 32 - 0.5;
      device.queue.writeBuffer(x, 0, fill);
      device.queue.writeBuffer(dy, 0, fill, 0, yBytes / 4);

      await runner.ready(COPY_PROGRAMS);
      // The two kernels share one Params struct, so the backward binds the forward's block.
      const params = runner.writeParams(COPY_FORWARD, packParams(COPY_FORWARD, { outputs }));
      const whole = (buffer: GPUBuffer) => ({ buffer, size: buffer.size });
      return {
        forwardPipeline: runner.pipeline(COPY_FORWARD, {}),
        backwardPipeline: runner.pipeline(COPY_BACKWARD, {}),
        forwardGroup: runner.bind(COPY_FORWARD, { x: whole(x), y: whole(y), params }),
        backwardGroup: runner.bind(COPY_BACKWARD, { x: whole(x), dy: whole(dy), dx: whole(dx), params }),
        // Both kernels run one invocation per output.
        grid: runner.grid(COPY_FORWARD, outputs),
      };
    }, () => device.queue.onSubmittedWorkDone());
    const { forwardPipeline, backwardPipeline, forwardGroup, backwardGroup, grid } = setup;

    let disposed = false;
    const run = async (backward: boolean) => {
      if (disposed) throw new Error("copy kernel bench handle: used after dispose");
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass({ label: "copy kernel" });
      runner.dispatch(pass, forwardPipeline, forwardGroup, grid);
      if (backward) runner.dispatch(pass, backwardPipeline, backwardGroup, grid);
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
