/**
 * Makes tfjs's `webgpu` backend available when WebGPU arrives after tfjs-backend-webgpu was
 * imported. tfjs-backend-webgpu registers its backend only if `navigator.gpu` exists when the
 * module is evaluated; in Node there is none until Dawn is installed (`useEngine("dawn")`, or
 * `SORTPOOL_ENGINE=dawn`), which an ES module can only do after its static imports have run. Its
 * kernels are registered either way, so registering the backend factory (the same one tfjs-backend-
 * webgpu 4.22 registers) is all that is missing. In Deno and in browsers `navigator.gpu` exists at
 * import, tfjs registers its own factory, and this does nothing.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";

/** tfjs-backend-webgpu's priority for its backend. */
const WEBGPU_PRIORITY = 3;

/**
 * Registers tfjs's `webgpu` backend factory when tfjs has none and `navigator.gpu` exists.
 * @returns true when tfjs now has a `webgpu` backend factory.
 */
export function ensureWebGpuBackend(): boolean {
  if (tf.findBackendFactory("webgpu")) return true;
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return false;
  tf.registerBackend("webgpu", async () => {
    const adapter = await gpu.requestAdapter({
      powerPreference: tf.env().get("WEBGPU_USE_LOW_POWER_GPU") ? "low-power" : "high-performance",
    });
    if (!adapter) throw new Error("tfjs webgpu backend: navigator.gpu.requestAdapter() returned null");
    const requiredFeatures: GPUFeatureName[] = [];
    if (adapter.features.has("timestamp-query")) requiredFeatures.push("timestamp-query");
    if (adapter.features.has("bgra8unorm-storage")) requiredFeatures.push("bgra8unorm-storage");
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device, adapter.info);
  }, WEBGPU_PRIORITY);
  return true;
}
