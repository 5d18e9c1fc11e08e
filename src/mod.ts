/**
 * sortpool: sort_pool2d (max pooling's generalisation) with a float64 reference, several
 * implementations checked against it, and the spec arithmetic they share.
 *
 * @example
 * ```ts
 * import { implementations } from "./src/mod.ts";
 * const ref = implementations.find((i) => i.name === "reference")!;
 * const { y } = await ref.forward({
 *   x: new Float32Array([1, 4, 3, 2]), shape: [1, 2, 2, 1], logits: [0, 0], k: 2, padding: "valid",
 * });
 * // y[0] === 3.5: the mean of the two largest values
 * ```
 *
 * @module
 */
export { disposeAll, implementation, implementations, selectImplementations, unsupportedReason } from "./registry.ts";
export { sortPool2d, type SortPool2dOptions } from "./op.ts";
export { type TfjsBackendName, withBackend } from "./tfjs/runtime.ts";
export {
  loadFromDirectory,
  saveToDirectory,
  type SerializedInitializer,
  SortPooling2D,
  sortPooling2d,
  type SortPooling2DArgs,
} from "./layer.ts";
export { referenceForward, referenceGradient } from "./reference.ts";
export * from "./spec.ts";
export { SortPoolArgumentError, validateCase, validateDy, type ValidCase } from "./validate.ts";
export type * from "./types.ts";
