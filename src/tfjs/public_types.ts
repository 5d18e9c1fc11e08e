/**
 * The tfjs types in the library's public API, under names of its own: `deno doc --lint` counts a
 * type imported from tfjs as private, and an alias exported from the entry point as public.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** A tfjs tensor (`tf.Tensor`). */
export type Tensor = tf.Tensor;
/** A rank-1 tfjs tensor (`tf.Tensor1D`). */
export type Tensor1D = tf.Tensor1D;
/** A rank-4 tfjs tensor (`tf.Tensor4D`), NHWC for the op and the layer. */
export type Tensor4D = tf.Tensor4D;
/** A tf.layers shape: dimensions, `null` where unknown (`tf.Shape`). */
export type Shape = tf.Shape;
/** A serialised config, as tf.layers and tf.serialization use (`tf.serialization.ConfigDict`). */
export type ConfigDict = tf.serialization.ConfigDict;
/** A tfjs model IO handler (`tf.io.IOHandler`). */
export type IOHandler = tf.io.IOHandler;
/** A tf.layers model (`tf.LayersModel`). */
export type LayersModel = tf.LayersModel;
