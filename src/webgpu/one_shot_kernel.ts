/**
 * Runs a small WGSL kernel once, for probes and tests that ask the device a question (does it
 * flush subnormals, does it fuse `a + b·c`, is a division exact): binding 0 is the input
 * (storage, read), binding 1 the output (storage, read_write), one invocation per 64-wide
 * workgroup lane; validation errors throw with the caller's label.
 *
 * @module
 */
import { openGpuErrorScopes } from "./device.ts";

/**
 * Compiles `code` (entry point `main`), dispatches `ceil(invocations / 64)` workgroups (declare
 * @workgroup_size(64) and guard with arrayLength, or @workgroup_size(1) for one invocation) with
 * `input` at binding 0 and an output buffer of `outputBytes` at binding 1, and returns the output.
 *
 * @example
 * ```ts
 * import { requestDeviceOrThrow } from "./device.ts";
 * const { device } = await requestDeviceOrThrow("example");
 * const code = "@group(0) @binding(0) var<storage, read> a: array<f32>;\n" +
 *   "@group(0) @binding(1) var<storage, read_write> b: array<f32>;\n" +
 *   "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {\n" +
 *   "  if (g.x < arrayLength(&b)) { b[g.x] = 2.0 * a[g.x]; } }";
 * const out = new Float32Array(await runOneShotKernel(device, "double", code, new Float32Array([1, 2]), 8, 2));
 * ```
 * @throws Error naming `label` when the device reports a validation error.
 */
export async function runOneShotKernel(
  device: GPUDevice,
  label: string,
  code: string,
  input: ArrayBufferView,
  outputBytes: number,
  invocations: number,
): Promise<ArrayBuffer> {
  const scopes = openGpuErrorScopes(device, label, ["validation"]);
  const module = device.createShaderModule({ label, code });
  const pipeline = device.createComputePipeline({ label, layout: "auto", compute: { module, entryPoint: "main" } });
  const inputBuffer = device.createBuffer({
    size: Math.max(16, Math.ceil(input.byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const output = device.createBuffer({ size: outputBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: outputBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    device.queue.writeBuffer(inputBuffer, 0, input.buffer as ArrayBuffer, input.byteOffset, input.byteLength);
    const encoder = device.createCommandEncoder({ label });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: inputBuffer } }, { binding: 1, resource: { buffer: output } }],
      }),
    );
    pass.dispatchWorkgroups(Math.ceil(invocations / 64));
    pass.end();
    encoder.copyBufferToBuffer(output, 0, readback, 0, outputBytes);
    device.queue.submit([encoder.finish()]);
    const error = await scopes.close();
    if (error) throw new Error(`${label}: ${error.gpuMessage}`);
    await readback.mapAsync(GPUMapMode.READ);
    const result = readback.getMappedRange().slice(0);
    readback.unmap();
    return result;
  } finally {
    inputBuffer.destroy();
    output.destroy();
    readback.destroy();
  }
}
