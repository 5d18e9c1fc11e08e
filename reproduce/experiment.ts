/**
 * The training loop of the cluttered-MNIST reproduction (the original train.py's protocol) and
 * the per-step cost measurement of the pooling layers inside that model.
 *
 * - Training: for each k, a fresh model (same initial conv/dense weights for every k), Adam
 *   0.001, batches of `batchSize` from the training set shuffled once per epoch by the project's
 *   PRNG (the same order for every k), the last partial batch included; after every epoch the
 *   whole test set is evaluated in inference mode (batch norm's moving averages): mean softmax
 *   cross-entropy and accuracy.
 * - Step cost: the same model with `tf.layers.maxPooling2d` and with `sortPooling2d` for each k,
 *   built in one process on one backend, each warmed up, then timed in interleaved rounds (one
 *   training step of each per round, on one fixed batch); medians and ratios to max pooling.
 *
 * A training step's time is wall-clock from the start of `trainOnBatch` to its loss being read
 * back (which waits for the GPU); the first step of each run (shader compilation) is excluded
 * from `msPerStep` and reported apart.
 *
 * @module
 */
import { mulberry32 } from "../src/random.ts";
import { tf } from "../src/tfjs/runtime.ts";
import { CLASSES, IMAGE_PIXELS, IMAGE_SIZE, type Split } from "./data.ts";
import { buildModel, buildTrainableModel, type Pooling, poolingFor } from "./model.ts";

/** What one experiment run does. */
export interface ExperimentConfig {
  /** The values of k to train, in order. */
  readonly ks: readonly number[];
  readonly epochs: number;
  readonly batchSize: number;
  /** Seed of the initializers and of the shuffling. */
  readonly seed: number;
  /** Images evaluated per forward pass. */
  readonly evalBatchSize: number;
  /** Batch norm's moving-average momentum (default 0.99, as the original). */
  readonly bnMomentum?: number;
}

/** Progress callbacks (the CLI draws a bar with them). */
export interface ExperimentHooks {
  /** Called before an epoch's first step. */
  epochStart?(k: number, epoch: number, steps: number): void;
  /** Called after each training step with its loss. */
  step?(k: number, epoch: number, step: number, loss: number): void;
  /** Called after an epoch's evaluation. */
  epochEnd?(k: number, epoch: number, result: EpochResult): void;
}

/** One epoch's figures. */
export interface EpochResult {
  /** Mean training loss over the epoch's steps (training mode). */
  readonly trainLoss: number;
  /** Mean softmax cross-entropy on the test set (inference mode). */
  readonly valCrossEntropy: number;
  /** Fraction of the test set classified correctly. */
  readonly valAccuracy: number;
}

/** One (k, seed) run, as written to the JSON report. */
export interface RunResult {
  readonly k: number;
  /** Seed of the initializers and the shuffle (the same seed gives every k the same weights and batches). */
  readonly seed: number;
  readonly pooling: Pooling;
  /** Per epoch, epoch 1 first. */
  readonly valCrossEntropy: number[];
  readonly valAccuracy: number[];
  readonly trainLoss: number[];
  readonly bestValCrossEntropy: number;
  /** 1-based epoch of the best validation cross-entropy. */
  readonly bestEpoch: number;
  /** Validation accuracy at the best epoch. */
  readonly valAccuracyAtBest: number;
  /** Median ms per training step, the run's first step excluded (NaN when the run had only one step). */
  readonly msPerStep: number;
  /** The first step's ms (includes shader compilation on webgpu). */
  readonly firstStepMs: number;
  readonly steps: number;
  /** softmax(logits) of each sortPooling2d layer at the end (w[0] weights the largest); [] for max pooling. */
  readonly finalWeights: number[][];
  readonly wallSeconds: number;
}

/**
 * The index of the best epoch: the first with the lowest validation cross-entropy, NaN epochs (a
 * diverged evaluation) never best unless every epoch is NaN (then the first).
 */
export function bestEpochIndex(valCrossEntropy: readonly number[]): number {
  let best = -1;
  for (const [e, v] of valCrossEntropy.entries()) {
    if (!Number.isNaN(v) && (best < 0 || v < valCrossEntropy[best])) best = e;
  }
  return Math.max(best, 0);
}

/** Training steps in one epoch: every batch, the last partial one included. */
export function stepsPerEpoch(images: number, batchSize: number): number {
  return Math.ceil(images / batchSize);
}

/** Median of a non-empty list (NaN for an empty one). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The rows of training step `step` of an epoch: its slice of the epoch's order (the last one may be short). */
export function batchRows(order: Int32Array, step: number, batchSize: number): Int32Array {
  return order.subarray(step * batchSize, Math.min(order.length, (step + 1) * batchSize));
}

/** Fisher-Yates shuffle of 0..n-1 driven by `random`. */
export function shuffledIndices(n: number, random: () => number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

/** A batch of the rows `rows` of `split` as tensors: x [n, 40, 40, 1], one-hot y [n, 10]. */
export function batchTensors(split: Split, rows: ArrayLike<number>): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = rows.length;
  const x = new Float32Array(n * IMAGE_PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    x.set(split.x.subarray(r * IMAGE_PIXELS, (r + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    labels[i] = split.y[r];
  }
  return tf.tidy(() => ({
    x: tf.tensor4d(x, [n, IMAGE_SIZE, IMAGE_SIZE, 1]),
    y: tf.oneHot(tf.tensor1d(labels, "int32"), CLASSES).toFloat() as tf.Tensor2D,
  }));
}

function range(start: number, end: number): Int32Array {
  const r = new Int32Array(end - start);
  for (let i = 0; i < r.length; i++) r[i] = start + i;
  return r;
}

/** Mean cross-entropy and accuracy of `model` on `split`, inference mode. */
export async function evaluate(
  model: tf.LayersModel,
  split: Split,
  batchSize: number,
): Promise<{ crossEntropy: number; accuracy: number }> {
  let ceSum = 0;
  let correct = 0;
  for (let start = 0; start < split.n; start += batchSize) {
    const { x, y } = batchTensors(split, range(start, Math.min(split.n, start + batchSize)));
    const [ce, hits] = tf.tidy(() => {
      const logits = model.predict(x) as tf.Tensor2D;
      return [
        tf.losses.softmaxCrossEntropy(y, logits, undefined, 0, tf.Reduction.SUM),
        tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)).toFloat().sum(),
      ];
    });
    const [ceValue, hitValue] = await Promise.all([ce.data(), hits.data()]);
    ceSum += ceValue[0];
    correct += hitValue[0];
    tf.dispose([x, y, ce, hits]);
  }
  return { crossEntropy: ceSum / split.n, accuracy: correct / split.n };
}

async function finalWeights(model: tf.LayersModel): Promise<number[][]> {
  const out: number[][] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== "SortPooling2D") continue;
    const w = tf.softmax(layer.getWeights()[0]);
    out.push(Array.from(await w.data()));
    w.dispose();
  }
  return out;
}

/** Disposes a compiled model and its optimizer (tfjs-layers keeps an optimizer passed as an object). */
export function disposeModel(model: tf.LayersModel): void {
  model.optimizer?.dispose();
  model.dispose();
}

/** Trains one k and evaluates after every epoch. */
export async function trainOne(
  k: number,
  train: Split,
  test: Split,
  config: ExperimentConfig,
  hooks: ExperimentHooks = {},
): Promise<RunResult> {
  const started = performance.now();
  const model = buildTrainableModel({ k, seed: config.seed, bnMomentum: config.bnMomentum });
  const random = mulberry32(config.seed);
  const stepMs: number[] = [];
  const valCrossEntropy: number[] = [];
  const valAccuracy: number[] = [];
  const trainLoss: number[] = [];
  const steps = stepsPerEpoch(train.n, config.batchSize);
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      hooks.epochStart?.(k, epoch, steps);
      const order = shuffledIndices(train.n, random);
      let lossSum = 0;
      for (let s = 0; s < steps; s++) {
        const rows = batchRows(order, s, config.batchSize);
        const { x, y } = batchTensors(train, rows);
        const t0 = performance.now();
        const out = await model.trainOnBatch(x, y);
        stepMs.push(performance.now() - t0);
        tf.dispose([x, y]);
        const loss = Array.isArray(out) ? out[0] : out;
        lossSum += loss;
        hooks.step?.(k, epoch, s + 1, loss);
      }
      const { crossEntropy, accuracy } = await evaluate(model, test, config.evalBatchSize);
      const result = { trainLoss: lossSum / steps, valCrossEntropy: crossEntropy, valAccuracy: accuracy };
      trainLoss.push(result.trainLoss);
      valCrossEntropy.push(crossEntropy);
      valAccuracy.push(accuracy);
      hooks.epochEnd?.(k, epoch, result);
    }
    const best = bestEpochIndex(valCrossEntropy);
    return {
      k,
      seed: config.seed,
      pooling: poolingFor(k),
      valCrossEntropy,
      valAccuracy,
      trainLoss,
      bestValCrossEntropy: valCrossEntropy[best],
      bestEpoch: best + 1,
      valAccuracyAtBest: valAccuracy[best],
      msPerStep: median(stepMs.slice(1)),
      firstStepMs: stepMs[0],
      steps: stepMs.length,
      finalWeights: await finalWeights(model),
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    disposeModel(model);
  }
}

/** One subject of the step-cost measurement. */
export interface StepCostRow {
  /** "tf.layers.maxPooling2d" or "sortPooling2d k=N". */
  readonly subject: string;
  readonly pooling: Pooling;
  readonly k: number;
  /** Median ms per training step over the timed rounds. */
  readonly medianMs: number;
  /** Median over rounds of (this subject's ms / max pooling's ms in the same round). */
  readonly ratioToMaxPool: number;
  /** Every timed sample, ms, in round order. */
  readonly samplesMs: number[];
}

/** Options of {@link measureStepCost}. */
export interface StepCostConfig {
  /** sortPooling2d subjects (k = 1..4); tf.layers.maxPooling2d is always measured as the baseline. */
  readonly ks: readonly number[];
  readonly batchSize: number;
  readonly seed: number;
  /** Untimed steps per subject before timing (the first compiles shaders). */
  readonly warmup: number;
  /** Timed rounds; each round runs one step of every subject, in a rotating order. */
  readonly rounds: number;
}

/**
 * ms per training step of the experiment's model with tf.layers.maxPooling2d and with
 * sortPooling2d for each k, in one process on the active backend: warm-up steps, then
 * `rounds` interleaved rounds on one fixed batch. Reports medians and per-round ratios to max pooling.
 */
export async function measureStepCost(
  train: Split,
  config: StepCostConfig,
  onSample?: (subject: string, round: number, ms: number) => void,
): Promise<StepCostRow[]> {
  const subjects = [
    { subject: "tf.layers.maxPooling2d", pooling: "maxPooling2d" as Pooling, k: 1 },
    ...config.ks.map((k) => ({ subject: `sortPooling2d k=${k}`, pooling: "sortPooling2d" as Pooling, k })),
  ];
  const models = subjects.map((s) => {
    const model = buildModel({ k: s.k, seed: config.seed, pooling: s.pooling });
    model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-8), loss: tf.losses.softmaxCrossEntropy });
    return model;
  });
  const { x, y } = batchTensors(train, range(0, Math.min(train.n, config.batchSize)));
  const samples: number[][] = subjects.map(() => []);
  try {
    for (let w = 0; w < config.warmup; w++) {
      for (const m of models) await m.trainOnBatch(x, y);
    }
    for (let r = 0; r < config.rounds; r++) {
      for (let j = 0; j < models.length; j++) {
        const i = (j + r) % models.length; // rotate who goes first
        const t0 = performance.now();
        await models[i].trainOnBatch(x, y);
        const ms = performance.now() - t0;
        samples[i].push(ms);
        onSample?.(subjects[i].subject, r + 1, ms);
      }
    }
  } finally {
    tf.dispose([x, y]);
    models.forEach(disposeModel);
  }
  return subjects.map((s, i) => ({
    ...s,
    medianMs: median(samples[i]),
    ratioToMaxPool: median(samples[i].map((ms, r) => ms / samples[0][r])),
    samplesMs: samples[i],
  }));
}
