/**
 * The one entry point to TensorFlow.js for the project: loads tfjs and its WebGPU backend,
 * keeps tfjs's Node.js banner out of the harness's output, and switches backends.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";

export { tf };

/** tfjs backends the project runs on. */
export type TfjsBackendName = "cpu" | "webgpu";

const ready = new Map<TfjsBackendName, Promise<void>>();

async function initialise(name: TfjsBackendName): Promise<void> {
  if (name === "webgpu") {
    if (typeof navigator === "undefined" || !navigator.gpu) {
      throw new Error("tfjs webgpu backend: navigator.gpu is missing: this runtime has no WebGPU");
    }
    if (!(await navigator.gpu.requestAdapter())) {
      throw new Error("tfjs webgpu backend: navigator.gpu.requestAdapter() returned null: no WebGPU adapter");
    }
  }
  if (name === "webgpu") {
    // By default tfjs-webgpu runs ops on small CPU-resident inputs on the CPU (WEBGPU_CPU_FORWARD).
    // The harness wants to measure and check the GPU kernels themselves, whatever the size.
    tf.env().set("WEBGPU_CPU_FORWARD", false);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs: backend "${name}" failed to initialise`);
  // The cpu backend prints a "running TensorFlow.js in Node.js" banner on its first write when
  // tfjs believes it runs under Node (Deno looks like Node to it). The banner is advice for
  // Node users, not a diagnostic, so the harness marks the first use as done.
  if (name === "cpu") (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
}

/**
 * Makes `name` the active tfjs backend, initialising it on first use. Throws with the reason
 * when the backend cannot run here (e.g. no WebGPU adapter). tfjs has one active backend per
 * process, so callers switch before each use and never interleave two backends concurrently.
 */
export async function useBackend(name: TfjsBackendName): Promise<typeof tf> {
  let p = ready.get(name);
  if (!p) {
    p = initialise(name);
    ready.set(name, p);
    p.catch(() => ready.delete(name));
  }
  await p;
  if (tf.getBackend() !== name) {
    if (!(await tf.setBackend(name))) throw new Error(`tfjs: could not switch to backend "${name}"`);
  }
  return tf;
}

/** The parts of tfjs-backend-webgpu's backend object that `finishWork` needs. */
interface WebGPUBackendQueue {
  readonly device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * Resolves once every operation issued so far on the active backend has finished executing.
 * tfjs-webgpu batches dispatches into a command encoder that it submits lazily; this submits
 * the pending batch and waits for the GPU queue. The cpu backend computes synchronously.
 */
export async function finishWork(): Promise<void> {
  if (tf.getBackend() !== "webgpu") return;
  const backend = tf.backend() as unknown as WebGPUBackendQueue;
  if (backend.commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  await backend.device.queue.onSubmittedWorkDone();
}
