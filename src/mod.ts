/**
 * sort_pool2d, max pooling's generalisation, for TensorFlow.js: in each pooling window the values
 * are ranked, the top `k` are kept and combined with softmax-normalised learned weights (`k = 1`
 * is max pooling). This module is the package's one entry point:
 *
 * - the op {@link sortPool2d} on tfjs tensors (WGSL kernels on the `webgpu` backend, the float64
 *   reference on `cpu`; differentiable with respect to the input and the logits);
 * - the tf.layers layer {@link SortPooling2D} (factory {@link sortPooling2d}), registered for
 *   saving and loading through tfjs's IO handlers;
 * - the WebGPU engine choice {@link useEngine} (`"dawn"` installs Dawn from the npm package
 *   `webgpu` as `navigator.gpu`, for Node and Deno);
 * - the float64 reference, the registry of implementations checked against it, and the spec
 *   arithmetic they share.
 *
 * The WGSL kernels are part of the module graph (no file reads), so the package runs the same from
 * JSR, npm, a `file:` or https URL, and a browser bundle.
 *
 * @example The op and the layer on tfjs's cpu backend
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { sortPool2d, sortPooling2d } from "@sortpool/sortpool";
 *
 * await tf.setBackend("cpu");
 * const x = tf.tensor4d([1, 4, 3, 2], [1, 2, 2, 1]);
 * const y = sortPool2d(x, tf.tensor1d([0, 0]), { k: 2, padding: "valid" });
 * console.log(await y.data()); // [3.5]: the mean of the two largest values
 *
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: "same" }),
 *     sortPooling2d({ k: 3 }), // [batch, 8, 8, 4] -> [batch, 4, 4, 4]
 *     tf.layers.flatten(),
 *     tf.layers.dense({ units: 2 }),
 *   ],
 * });
 * model.compile({ optimizer: "adam", loss: "meanSquaredError" });
 * ```
 *
 * @example The float64 reference on plain arrays
 * ```ts
 * import { implementation } from "@sortpool/sortpool";
 * const ref = implementation("reference");
 * const { y } = await ref.forward({
 *   x: new Float32Array([1, 4, 3, 2]), shape: [1, 2, 2, 1], logits: [0, 0], k: 2, padding: "valid",
 * });
 * // y[0] === 3.5
 * ```
 *
 * @example WebGPU through Dawn (Node, or Deno), before the first adapter request
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { useEngine } from "@sortpool/sortpool";
 *
 * await useEngine("dawn"); // navigator.gpu is Dawn now, and tfjs has its webgpu backend
 * await tf.setBackend("webgpu");
 * ```
 *
 * @module
 */
import { ensureWebGpuBackend } from "./tfjs/webgpu_backend.ts";
import { type EngineInfo, type EngineName, useEngine as installEngine } from "./webgpu/engine.ts";

export { disposeAll, implementation, implementations, selectImplementations, unsupportedReason } from "./registry.ts";
export { sortPool2d, type SortPool2dOptions } from "./op.ts";
export { type TfjsBackendName, throwGpuErrors, withBackend } from "./tfjs/runtime.ts";
export {
  type Initializer,
  type LayerArgs,
  LayerBase,
  onesInitializer,
  type SerializedInitializer,
  SortPooling2D,
  sortPooling2d,
  type SortPooling2DArgs,
} from "./layer.ts";
export { loadFromDirectory, saveToDirectory } from "./model_files.ts";
export { referenceForward, referenceGradient } from "./reference.ts";
export * from "./spec.ts";
export { SortPoolArgumentError, validateCase, validateDy, type ValidCase } from "./validate.ts";
export type * from "./types.ts";
export type * from "./tfjs/public_types.ts";
export {
  describeAdapter,
  ENGINE_NAMES,
  EngineError,
  type EngineInfo,
  engineInfo,
  type EngineName,
} from "./webgpu/engine.ts";

/**
 * Chooses the WebGPU engine for this process and installs it as `navigator.gpu`; idempotent.
 * Without an argument it keeps the engine already chosen, else uses `SORTPOOL_ENGINE` ("deno", the
 * runtime's own WebGPU, when unset).
 * Call it before the first adapter request: the tfjs webgpu backend and the project's devices keep
 * the engine they started with, so asking for another engine afterwards throws.
 *
 * In Node, where tfjs-backend-webgpu found no `navigator.gpu` when it was imported and so
 * registered no backend, this also registers tfjs's `webgpu` backend, so that
 * `tf.setBackend("webgpu")` runs on the engine installed here.
 *
 * @example
 * ```ts
 * import { useEngine } from "@sortpool/sortpool";
 * const engine = await useEngine("dawn"); // Dawn as navigator.gpu, before any adapter request
 * console.log(engine.implementation); // e.g. "Dawn (npm webgpu 0.6.2)"
 * ```
 *
 * @param name "deno" (the runtime's own navigator.gpu) or "dawn" (npm `webgpu`).
 * @returns what is in use.
 * @throws EngineError when `name` is unknown, another engine is already in use, or Dawn finds no adapter.
 */
export async function useEngine(name?: EngineName): Promise<EngineInfo> {
  const info = await installEngine(name);
  ensureWebGpuBackend();
  return info;
}

// SORTPOOL_ENGINE=dawn installed Dawn while the imports above were evaluated, after
// tfjs-backend-webgpu had looked for navigator.gpu: give tfjs its webgpu backend now.
ensureWebGpuBackend();
