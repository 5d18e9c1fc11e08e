/**
 * WebGPU adapter and device acquisition, and the project's GPU error scopes (every one is opened
 * by {@link openGpuErrorScopes}). Every failure throws with the reason: checks and the speed gate
 * must fail loudly when there is no GPU, never skip.
 *
 * @module
 */

import { describeAdapter, engineInfo, useEngine } from "./engine.ts";

export { describeAdapter };

/** A device together with the adapter it came from. */
export interface AcquiredDevice {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
}

/**
 * The WebGPU API of the engine this process uses (src/webgpu/engine.ts: SORTPOOL_ENGINE or
 * useEngine), or a thrown explanation of why there is none.
 */
export async function gpuOrThrow(): Promise<GPU> {
  await useEngine();
  if (typeof navigator === "undefined" || !navigator.gpu) {
    throw new Error("WebGPU: navigator.gpu is missing: this runtime has no WebGPU API (try SORTPOOL_ENGINE=dawn)");
  }
  return navigator.gpu;
}

/** The adapter, or a thrown explanation that none exists. */
export async function requestAdapterOrThrow(): Promise<GPUAdapter> {
  const adapter = await (await gpuOrThrow()).requestAdapter();
  if (!adapter) {
    const env = typeof Deno !== "undefined" ? Deno.env.get("DENO_WEBGPU_BACKEND") : undefined;
    const engine = engineInfo();
    throw new Error(
      `WebGPU: navigator.gpu.requestAdapter() returned null on ${engine.implementation}: no WebGPU adapter` +
        (engine.name !== "deno"
          ? ""
          : env
          ? ` (DENO_WEBGPU_BACKEND=${env})`
          : " (Deno picks one from DENO_WEBGPU_BACKEND=vulkan|gl|...)"),
    );
  }
  return adapter;
}

/**
 * A new device with the adapter's largest storage-binding, buffer and dispatch limits and its
 * finest offset alignments (the defaults are coarser on some adapters).
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
      // Finer offset alignments let a call split past the binding limit bind its chunks in place.
      minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: limits.minUniformBufferOffsetAlignment,
    },
  });
  return { adapter, device };
}

/** A WebGPU validation or out-of-memory error captured by an error scope, as a thrown error. */
export class WebGpuError extends Error {
  /** Which error scope caught it. */
  readonly kind: "validation" | "out-of-memory";
  /** The GPU's message. */
  readonly gpuMessage: string;

  /** `what` names the call that raised it, e.g. "wgsl gradient". */
  constructor(what: string, kind: "validation" | "out-of-memory", gpuMessage: string) {
    super(`WebGPU ${kind} error in ${what}: ${gpuMessage}`);
    this.name = "WebGpuError";
    this.kind = kind;
    this.gpuMessage = gpuMessage;
  }
}

/** Open GPU error scopes of one device (see {@link openGpuErrorScopes}). */
export interface GpuErrorScopes {
  /**
   * Pops the scopes (at once) and resolves to the first error they caught, in the order the
   * scopes were opened (validation before out-of-memory), as a {@link WebGpuError}, or
   * undefined. Never rejects: a scope that cannot answer (a lost device) resolves to a
   * WebGpuError too.
   */
  close(): Promise<WebGpuError | undefined>;
}

/**
 * Pushes a validation and an out-of-memory error scope (or the `kinds` given, in that order) on
 * `device`; every GPU error scope of the project is opened here. `what` names the work in the
 * error, e.g. "wgsl gradient". WebGPU reports those errors asynchronously; without scopes they
 * reach only the device's uncaptured-error event, and the work they spoil returns garbage silently.
 */
export function openGpuErrorScopes(
  device: GPUDevice,
  what: string,
  kinds: readonly ("validation" | "out-of-memory")[] = ["validation", "out-of-memory"],
): GpuErrorScopes {
  for (const kind of kinds) device.pushErrorScope(kind);
  return {
    close() {
      // The innermost scope pops first: reversed, the answers line up with `kinds` again.
      const answers = kinds.map(() => device.popErrorScope()).reverse();
      return Promise.all(answers).then(
        (errors) => {
          const i = errors.findIndex((e) => e !== null);
          return i < 0 ? undefined : new WebGpuError(what, kinds[i], errors[i]!.message);
        },
        (e) => new WebGpuError(what, "validation", `error scope failed: ${String(e)}`),
      );
    },
  };
}

/**
 * Runs `body` inside validation and out-of-memory error scopes of `device`, then throws the first
 * error either scope caught as a {@link WebGpuError} (after `body` settled; the scopes are popped
 * even when `body` throws, which then wins). `settle` runs before the scopes are popped, e.g. to
 * submit work a library batches lazily.
 */
export async function withGpuErrorScopes<T>(
  device: GPUDevice,
  what: string,
  body: () => T | Promise<T>,
  settle?: () => void | Promise<void>,
): Promise<T> {
  const scopes = openGpuErrorScopes(device, what);
  let outcome: { value: T } | { thrown: unknown };
  try {
    outcome = { value: await body() };
    await settle?.();
  } catch (e) {
    outcome = { thrown: e };
  }
  const error = await scopes.close();
  if ("thrown" in outcome) throw outcome.thrown;
  if (error) throw error;
  return outcome.value;
}
