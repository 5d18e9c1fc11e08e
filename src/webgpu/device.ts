/**
 * WebGPU adapter and device acquisition. Every failure throws with the reason: checks and the CI
 * gate must fail loudly when there is no GPU, never skip.
 *
 * @module
 */

/** A device together with the adapter it came from. */
export interface AcquiredDevice {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
}

/** The WebGPU API of this runtime, or a thrown explanation of why there is none. */
export function gpuOrThrow(): GPU {
  if (typeof navigator === "undefined" || !navigator.gpu) {
    throw new Error("WebGPU: navigator.gpu is missing: this runtime has no WebGPU API");
  }
  return navigator.gpu;
}

/** The adapter, or a thrown explanation that none exists. */
export async function requestAdapterOrThrow(): Promise<GPUAdapter> {
  const adapter = await gpuOrThrow().requestAdapter();
  if (!adapter) {
    const env = typeof Deno !== "undefined" ? Deno.env.get("DENO_WEBGPU_BACKEND") : undefined;
    throw new Error(
      "WebGPU: navigator.gpu.requestAdapter() returned null: no WebGPU adapter" +
        (env ? ` (DENO_WEBGPU_BACKEND=${env})` : " (Deno picks one from DENO_WEBGPU_BACKEND=vulkan|gl|...)"),
    );
  }
  return adapter;
}

/**
 * A new device with the adapter's largest storage-binding, buffer and dispatch limits (the
 * defaults are lower on some adapters).
 */
export async function requestDeviceOrThrow(label: string): Promise<AcquiredDevice> {
  const adapter = await requestAdapterOrThrow();
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    label,
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    },
  });
  return { adapter, device };
}

/** One line naming the adapter and the backend that Deno picked, for reports. */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const backend = typeof Deno !== "undefined" ? Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default" : "browser";
  return `${info.description || info.vendor || "unknown adapter"} (DENO_WEBGPU_BACKEND=${backend})`;
}
