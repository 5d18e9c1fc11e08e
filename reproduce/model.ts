/**
 * The article's cluttered-MNIST model (the original repository's model.py), in tf.layers:
 *
 * input 40x40x1; conv 3x3, 16 filters, "same", batch norm, relu; pool; conv 3x3, 16, "same",
 * batch norm, relu; pool; flatten; dense 1024, batch norm, relu; dense 10 without bias (logits).
 * Pooling is 2x2, stride 2, "same": `tf.layers.maxPooling2d` for k = 1 (the original calls
 * tf.nn.max_pool there), {@link SortPooling2D} for k = 2..4.
 *
 * Every initializer is seeded from one seed, the same for every k, so the runs for different k
 * start from the same conv and dense weights. The per-layer seeds are drawn from the seed by the
 * project's PRNG, so different seeds share no layer's stream (seed s + 1's first layer is not
 * seed s's second).
 *
 * @module
 */
import { sortPooling2d } from "../src/layer.ts";
import { mulberry32 } from "../src/random.ts";
import { tf } from "../src/tfjs/runtime.ts";
import { CLASSES, IMAGE_SIZE } from "./data.ts";

/** The article's best validation cross-entropy on cluttered MNIST, k = 1..4 (max pooling is k = 1). */
export const ARTICLE_BEST_VAL_CE: Readonly<Record<number, number>> = { 1: 0.259, 2: 0.202, 3: 0.196, 4: 0.196 };

/** Which pooling layer a model uses. */
export type Pooling = "maxPooling2d" | "sortPooling2d";

/** Options of {@link buildModel}. */
export interface ModelOptions {
  /** Values kept per window, 1..4. */
  readonly k: number;
  /** Seed of every initializer. */
  readonly seed: number;
  /** Default: maxPooling2d for k = 1 (as the original), sortPooling2d otherwise. */
  readonly pooling?: Pooling;
  /** Momentum of batch norm's moving averages (default {@link DEFAULT_BN_MOMENTUM}, TF1's and tfjs's). */
  readonly bnMomentum?: number;
}

/** TF1's tf.layers.batch_normalization default momentum (tfjs's too). */
export const DEFAULT_BN_MOMENTUM = 0.99;

/** The pooling the experiment uses for `k`. */
export function poolingFor(k: number): Pooling {
  return k === 1 ? "maxPooling2d" : "sortPooling2d";
}

/**
 * The initializer seeds of one run: four for the conv and dense weights (conv1, conv2, fc1,
 * logits), two for the sortPooling2d logits (pool1, pool2). All six are drawn up front, whatever
 * the pooling, so every k gets the same weights from the same seed.
 */
export function layerSeedsOf(seed: number): { weights: number[]; logits: number[] } {
  const random = mulberry32(seed ^ 0x5eed5eed);
  const draw = () => Math.floor(random() * 2 ** 31);
  return { weights: [draw(), draw(), draw(), draw()], logits: [draw(), draw()] };
}

/** Builds (does not compile) the model; its output is the 10 class logits. */
export function buildModel(options: ModelOptions): tf.Sequential {
  const { k, seed } = options;
  const momentum = options.bnMomentum ?? DEFAULT_BN_MOMENTUM;
  const pooling = options.pooling ?? poolingFor(k);
  const layerSeeds = layerSeedsOf(seed);
  let dense = 0;
  const glorot = () => tf.initializers.glorotUniform({ seed: layerSeeds.weights[dense++] });
  let pools = 0;
  const pool = () => {
    const name = `pool${++pools}`;
    return pooling === "maxPooling2d"
      ? tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: "same", name })
      : sortPooling2d({
        k,
        padding: "same",
        name,
        logitsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: layerSeeds.logits[pools - 1] }),
      });
  };
  return tf.sequential({
    name: `cluttered_mnist_${pooling}_k${k}`,
    layers: [
      tf.layers.conv2d({
        inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1],
        filters: 16,
        kernelSize: 3,
        padding: "same",
        kernelInitializer: glorot(),
        name: "conv1",
      }),
      tf.layers.batchNormalization({ momentum, name: "bn1" }),
      tf.layers.activation({ activation: "relu", name: "relu1" }),
      pool(),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", kernelInitializer: glorot(), name: "conv2" }),
      tf.layers.batchNormalization({ momentum, name: "bn2" }),
      tf.layers.activation({ activation: "relu", name: "relu2" }),
      pool(),
      tf.layers.flatten({ name: "flatten" }),
      tf.layers.dense({ units: 1024, kernelInitializer: glorot(), name: "fc1" }),
      tf.layers.batchNormalization({ momentum, name: "bn3" }),
      tf.layers.activation({ activation: "relu", name: "relu3" }),
      tf.layers.dense({ units: CLASSES, useBias: false, kernelInitializer: glorot(), name: "logits" }),
    ],
  });
}

/** Softmax cross-entropy on logits, mean over the batch (the original's loss). */
export function softmaxCrossEntropy(yTrue: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(yTrue, logits) as tf.Scalar;
}

/** Builds and compiles the model with Adam (learning rate 0.001, TF1 defaults otherwise). */
export function buildTrainableModel(options: ModelOptions): tf.Sequential {
  const model = buildModel(options);
  model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-8), loss: softmaxCrossEntropy });
  return model;
}
