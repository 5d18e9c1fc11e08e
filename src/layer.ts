/**
 * `SortPooling2D`: sort_pool2d as a serialisable tfjs-layers layer, so that tf.layers models
 * hold it, train its weights with `model.fit` / optimizers, and save and load it with tfjs's own
 * IO handlers. It calls the {@link sortPool2d} op (WGSL kernels on "webgpu", the float64
 * reference on "cpu"). Any window (`poolSize`, default 2) and stride (`strides`, default the
 * window; overlapping when smaller), with one set of logits shared by all channels or one per
 * channel (`perChannel: true`).
 *
 * @example
 * ```ts
 * import { tf } from "./tfjs/runtime.ts";
 * import { sortPooling2d } from "./layer.ts";
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: "same" }),
 *     sortPooling2d({ k: 3 }), // [batch, 28, 28, 8] -> [batch, 14, 14, 8]
 *     sortPooling2d({ k: 2, poolSize: 3, strides: 2, perChannel: true }), // -> [batch, 7, 7, 8], logits [8·2]
 *     tf.layers.flatten(),
 *     tf.layers.dense({ units: 10 }),
 *   ],
 * });
 * ```
 *
 * @module
 */
import { sortPool2d } from "./op.ts";
import { pooledSize } from "./spec.ts";
import type { ConfigDict, Shape, Tensor } from "./tfjs/public_types.ts";
import { tf } from "./tfjs/runtime.ts";
import type { Padding, Pair } from "./types.ts";
import {
  describe,
  SortPoolArgumentError,
  validateK,
  validateKeys,
  validatePadding,
  validatePoolSize,
  validateStrides,
  validateValidExtent,
} from "./validate.ts";

/**
 * tfjs-layers' base class (`tf.layers.Layer`) under a name of this module, so that the docs of
 * {@link SortPooling2D} do not point into tfjs's private types.
 * @internal
 */
export const LayerBase = tf.layers.Layer;

/**
 * tfjs-layers' `tf.initializers.ones`, whose return type names tfjs's (unexported) Initializer class.
 * @internal
 */
export const onesInitializer = tf.initializers.ones;

/** The base options every tfjs layer takes (name, trainable, inputShape, batchInputShape, dtype, weights, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof LayerBase>[0]>;

/** A tfjs-layers initializer object, e.g. `tf.initializers.randomNormal({ stddev: 0.1, seed: 1 })`. */
export type Initializer = ReturnType<typeof onesInitializer>;

/** An initializer as tfjs-layers serialises one: the registered class name and its config. */
export interface SerializedInitializer {
  /** The class name the initializer is registered under, e.g. "RandomNormal". */
  readonly className: string;
  /** The initializer's own config, e.g. `{ mean: 0, stddev: 0.1, seed: null }`. */
  readonly config: ConfigDict;
}

/** Configuration of {@link SortPooling2D} (and of {@link sortPooling2d}). */
export interface SortPooling2DArgs extends LayerArgs {
  /**
   * How many of each window's kh·kw ranked values are kept: 1..kh·kw. k = 1 is max pooling and holds
   * no weight.
   */
  readonly k: number;
  /**
   * "same" (default; output ceil(H / sh) x ceil(W / sw), TensorFlow's split of the padding, padded
   * cells are zeros for k > 1) or "valid" (floor((H − kh) / sh) + 1, likewise W). SPEC.md §3.
   */
  readonly padding?: Padding;
  /** Window size: `n` (an n x n window) or `[kh, kw]`, each 1..4. Default 2 (the article's 2x2). SPEC.md §2. */
  readonly poolSize?: number | Pair;
  /** Strides: `n` or `[sh, sw]`, each 1..4. Default `poolSize` (windows tile without overlap). SPEC.md §2. */
  readonly strides?: number | Pair;
  /**
   * false (default): one set of k logits shared by all channels (weight shape `[k]`). true: one set
   * per channel (weight shape `[C·k]`, channel-major, C taken from the input when the layer is
   * built). SPEC.md §1.
   */
  readonly perChannel?: boolean;
  /**
   * Initial values of the `logits` weight (k >= 2), given as an initializer object or in tfjs's
   * serialised form `{ className, config }`. Default: normal, mean 0, stddev 0.1, as the original.
   */
  readonly logitsInitializer?: Initializer | SerializedInitializer;
}

/**
 * tfjs-layers' own base options (LayerArgs), which every layer config may carry, serialised configs
 * included, and `customObjects`, which tfjs's deserialisation adds to the config it constructs from.
 */
export const LAYER_BASE_KEYS: readonly string[] = [
  "name",
  "trainable",
  "inputShape",
  "batchInputShape",
  "batchSize",
  "dtype",
  "weights",
  "inputDType",
  "customObjects",
];

/**
 * Every key a {@link SortPooling2D} config may have: its own options, then tfjs-layers' base keys.
 * Any other key is an error (SPEC.md §6 "Unknown keys").
 */
export const LAYER_CONFIG_KEYS: readonly string[] = [
  "k",
  "padding",
  "poolSize",
  "strides",
  "perChannel",
  "logitsInitializer",
  ...LAYER_BASE_KEYS,
];

/** Default logits initializer: N(0, 0.1), as the original's weight variable. */
export const DEFAULT_LOGITS_STDDEV = 0.1;

/** tfjs-layers' Initializer base class (not exported by name; every built-in initializer extends it). */
const INITIALIZER_BASE: abstract new (...args: never[]) => Initializer = Object.getPrototypeOf(
  tf.initializers.zeros().constructor,
);

function isInitializer(v: unknown): v is Initializer {
  return v instanceof INITIALIZER_BASE;
}

/** Builds an initializer from its serialised form through tfjs's class registry (where tfjs-layers registers them). */
function resolveInitializer(spec: unknown, layerName: string): Initializer {
  if (spec === undefined || spec === null) {
    return tf.initializers.randomNormal({ mean: 0, stddev: DEFAULT_LOGITS_STDDEV });
  }
  if (isInitializer(spec)) return spec;
  const argument = `${layerName}: logitsInitializer`;
  const expected = "a tf.initializers object or { className, config } of a registered initializer";
  if (typeof spec !== "object" || typeof (spec as SerializedInitializer).className !== "string") {
    throw new SortPoolArgumentError(argument, expected, describe(spec));
  }
  const { className, config } = spec as SerializedInitializer;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) throw new SortPoolArgumentError(argument, expected, `unknown class ${JSON.stringify(className)}`);
  const [cls, fromConfig] = entry;
  if (!(cls.prototype instanceof INITIALIZER_BASE)) {
    throw new SortPoolArgumentError(argument, expected, `class ${className} (not an initializer)`);
  }
  try {
    return fromConfig(cls, config ?? {}) as unknown as Initializer;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SortPoolArgumentError(argument, expected, `${className} with a config it rejects (${why})`);
  }
}

/** An initializer's config without absent entries (tfjs stores an unset seed as undefined, reloads it as null). */
function initializerConfig(init: Initializer): tf.serialization.ConfigDict {
  return Object.fromEntries(Object.entries(init.getConfig()).filter(([, v]) => v !== undefined && v !== null));
}

/** "1 channel", "3 channels". */
function channelsText(c: number): string {
  return `${c} channel${c === 1 ? "" : "s"}`;
}

/** Runs a check, prefixing the layer's name to the argument of a SortPoolArgumentError it throws. */
function withLayerName<T>(layerName: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof SortPoolArgumentError) {
      throw new SortPoolArgumentError(`${layerName}: ${e.argument}`, e.expected, e.received);
    }
    throw e;
  }
}

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? "null" : String(d))).join(", ")}]`;
}

/** A layer option given as `n` or `[a, b]`, as a pair (`n` → `[n, n]`); anything else is passed on to be rejected. */
function asPair(value: unknown): unknown {
  return typeof value === "number" ? [value, value] : value;
}

/**
 * Sort pooling (SPEC.md): in each `poolSize` window (default 2x2, moved by `strides`, default the
 * window) of each channel the kh·kw values are ranked, the top `k` are kept and combined as
 * `y = Σ_{r<k} w[r] · value_r` with `w = softmax(logits)`, one set of weights shared by all
 * channels (or, with `perChannel: true`, one per channel); `w[0]` weights the largest.
 *
 * - Input: a rank-4 NHWC tensor `[batch, height, width, channels]`, float32.
 * - Output: `[batch, Ho, Wo, channels]` (src/spec.ts `pooledSize` per axis): `ceil(height / sh)`
 *   with padding "same", `floor((height − kh) / sh) + 1` with "valid"; likewise the width. The
 *   default 2x2/2 gives ceil(height/2) and floor(height/2).
 * - Weights: for k >= 2 one trainable weight named "logits" of shape `[k]` (`[C·k]` with
 *   `perChannel`); for k = 1 none (the layer is max pooling, `tf.layers.maxPooling2d` with the same
 *   poolSize, strides and padding; padded cells ignored).
 *
 * Serialisation: className "SortPooling2D", registered with `tf.serialization.registerClass`
 * when this module loads, so `tf.loadLayersModel` restores it in any process that imports it.
 * The config holds `k`, `padding`, `poolSize` and `strides` (as pairs), `perChannel` and the
 * initializer; configs saved before `poolSize` existed load as the 2x2/2 defaults.
 *
 * @throws SortPoolArgumentError (a RangeError) naming the argument, when constructed with a bad
 *   `poolSize` or `strides`, `k` outside 1..kh·kw, an unknown `padding`, a `perChannel` that is not
 *   a boolean or an unusable `logitsInitializer`; when built on an input that is not rank 4, (with
 *   "valid") smaller than the window, or (with `perChannel`) of unknown channel count; and when
 *   weights of the wrong shape are set or loaded (`setWeights`, `tf.loadLayersModel`).
 */
export class SortPooling2D extends LayerBase {
  /** The name under which the class is registered for (de)serialisation. */
  static className = "SortPooling2D";
  /** How many ranked values each window keeps (1..kh·kw). */
  readonly k: number;
  /** "same" or "valid". */
  readonly padding: Padding;
  /** Window `[kh, kw]`. */
  readonly poolSize: Pair;
  /** Strides `[sh, sw]`. */
  readonly strides: Pair;
  /** Whether the logits are per channel (`[C·k]`) rather than shared (`[k]`). */
  readonly perChannel: boolean;
  /** The initializer of the `logits` weight (unused when k = 1). */
  readonly logitsInitializer: Initializer;
  private logits: tf.LayerVariable | null = null;
  /** Channels of the input the layer was built on (null before build). */
  private channels: number | null = null;

  /**
   * Makes the layer from its config (see {@link SortPooling2DArgs}); {@link sortPooling2d} is the factory.
   * @throws SortPoolArgumentError for bad `k`, `padding`, `poolSize`, `strides`, `perChannel` or
   *   `logitsInitializer`.
   */
  constructor(args: SortPooling2DArgs) {
    super(args ?? {});
    if (args === null || typeof args !== "object") {
      throw new SortPoolArgumentError("SortPooling2D config", "an object { k, padding?, ... }", describe(args));
    }
    // A misspelled option (pool_size, stride) would otherwise be ignored and its default used.
    validateKeys(args, `${this.name}: config`, LAYER_CONFIG_KEYS);
    this.poolSize = withLayerName(this.name, () => validatePoolSize(asPair(args.poolSize)));
    this.strides = withLayerName(this.name, () => validateStrides(asPair(args.strides), this.poolSize));
    this.k = withLayerName(this.name, () => validateK(args.k, this.poolSize[0] * this.poolSize[1]));
    this.padding = withLayerName(this.name, () => validatePadding(args.padding ?? "same"));
    const perChannel = args.perChannel ?? false;
    if (typeof perChannel !== "boolean") {
      throw new SortPoolArgumentError(`${this.name}: perChannel`, "true or false", describe(perChannel));
    }
    this.perChannel = perChannel;
    this.logitsInitializer = resolveInitializer(args.logitsInitializer, this.name);
  }

  /** Checks an input shape: rank 4, and height >= kh, width >= kw for "valid" (unknown dimensions are null). */
  private checkInputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const list = inputShape.length > 0 && Array.isArray(inputShape[0]) ? (inputShape as tf.Shape[]) : null;
    if (list !== null && list.length !== 1) {
      throw new SortPoolArgumentError(`${this.name}: inputs`, "exactly one input tensor", `${list.length} inputs`);
    }
    const s = list !== null ? list[0] : (inputShape as tf.Shape);
    if (s.length !== 4) {
      throw new SortPoolArgumentError(
        `${this.name}: input shape`,
        "rank 4 [batch, height, width, channels] (NHWC)",
        `rank ${s.length} ${shapeText(s)}`,
      );
    }
    if (this.padding === "valid") {
      validateValidExtent(s, this.poolSize, this.strides, `${this.name}: input shape`);
    }
    this.checkChannels(s);
    return s;
  }

  /**
   * Refuses an input whose channel count differs from the one the per-channel logits were built for
   * (`[C·k]`). tfjs builds a layer once, so a layer shared between inputs, called eagerly or
   * loaded is checked here, on every symbolic application (computeOutputShape) and every call.
   */
  private checkChannels(s: readonly (number | null)[]): void {
    const c = this.channels;
    if (!this.perChannel || this.logits === null || c === null || s[3] === null || s[3] === c) return;
    throw new SortPoolArgumentError(
      `${this.name}: input shape`,
      `${channelsText(c)} (the layer's per-channel logits have C·k = ${c}·${this.k} = ${c * this.k} values, ` +
        `built for ${channelsText(c)})`,
      `${channelsText(s[3])} ${shapeText(s)}`,
    );
  }

  /** What the `logits` weight's shape must be: `[k]`, or `[C·k]` with `perChannel` (C known once built). */
  private expectedLogits(): { length: number | null; text: string } {
    if (!this.perChannel) return { length: this.k, text: `shape [${this.k}] (k = ${this.k})` };
    const c = this.channels;
    if (c === null) {
      return { length: null, text: `shape [C·${this.k}] (perChannel; C is known once the layer is built)` };
    }
    return { length: c * this.k, text: `shape [${c * this.k}] (perChannel: C·k = ${c}·${this.k})` };
  }

  /** Throws unless `shape` is the logits shape this layer expects. */
  private checkLogitsShape(shape: readonly number[], source: string): void {
    const expected = this.expectedLogits();
    if (expected.length === null || shape.length !== 1 || shape[0] !== expected.length) {
      throw new SortPoolArgumentError(`${this.name}: logits (${source})`, expected.text, `shape ${shapeText(shape)}`);
    }
  }

  /**
   * Creates the `logits` weight (k >= 2): `[k]`, or `[C·k]` with `perChannel`.
   * @throws SortPoolArgumentError when `inputShape` is not rank 4, too small for "valid", or (with
   *   `perChannel`) has an unknown channel count.
   */
  override build(inputShape: Shape | Shape[]): void {
    const s = this.checkInputShape(inputShape);
    if (this.perChannel && this.k >= 2) {
      if (s[3] === null) {
        throw new SortPoolArgumentError(
          `${this.name}: input shape`,
          "a known channel count (perChannel: true sizes the logits C·k when the layer is built)",
          shapeText(s),
        );
      }
      // A second build on another channel count was refused by checkInputShape (checkChannels).
      this.channels ??= s[3];
    }
    if (this.k >= 2 && this.logits === null) {
      const logits = this.addWeight(
        "logits",
        [this.expectedLogits().length!],
        "float32",
        this.logitsInitializer,
        undefined,
        true,
        undefined,
        () => tf.initializers.zeros(),
      );
      // tf.loadLayersModel writes loaded values straight into the variable (LayerVariable.write),
      // whose own check throws an unnamed "Shape mismatch". Check first, naming the layer.
      const write = logits.write.bind(logits);
      logits.write = (value: tf.Tensor) => {
        this.checkLogitsShape(value.shape, "loaded weight");
        return write(value);
      };
      this.logits = logits;
    }
    this.built = true;
  }

  /**
   * Sets the layer's weights: `[logits]` of shape `[k]` (`[C·k]` with `perChannel`) for k >= 2, `[]`
   * for k = 1.
   * @throws SortPoolArgumentError for a wrong count or shape.
   */
  override setWeights(weights: Tensor[]): void {
    const expected = this.k >= 2 ? 1 : 0;
    if (!Array.isArray(weights) || weights.length !== expected) {
      throw new SortPoolArgumentError(
        `${this.name}: weights`,
        expected === 1 ? `[logits] (one tensor of ${this.expectedLogits().text})` : "[] (k = 1 holds no weight)",
        Array.isArray(weights) ? `${weights.length} tensors` : describe(weights),
      );
    }
    if (expected === 1) this.checkLogitsShape(weights[0].shape, "setWeights");
    super.setWeights(weights);
  }

  /**
   * `[batch, Ho, Wo, c]` with each spatial size from src/spec.ts `pooledSize` (SPEC.md §3: "same"
   * `ceil(h / sh)`, "valid" `floor((h − kh) / sh) + 1`); unknown (null) dimensions stay null.
   * @throws SortPoolArgumentError as {@link build}.
   */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w, c] = this.checkInputShape(inputShape);
    const pool = (d: number | null, axis: 0 | 1) =>
      d === null ? null : pooledSize(d, this.padding, this.poolSize[axis], this.strides[axis]);
    return [b, pool(h, 0), pool(w, 1), c];
  }

  /** Applies {@link sortPool2d} to the one NHWC input. */
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      if (Array.isArray(inputs) && inputs.length !== 1) {
        throw new SortPoolArgumentError(`${this.name}: inputs`, "exactly one input tensor", `${inputs.length} inputs`);
      }
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (x instanceof tf.Tensor && x.rank === 4) this.checkChannels(x.shape);
      // k = 1 has no free weight: softmax of one logit is [1] whatever its value.
      const logits = this.logits === null ? tf.zeros([1]) as tf.Tensor1D : this.logits.read() as tf.Tensor1D;
      return sortPool2d(x, logits, {
        k: this.k,
        padding: this.padding,
        poolSize: this.poolSize,
        strides: this.strides,
      });
    });
  }

  /**
   * The layer's config: the base LayerArgs plus `k`, `padding`, `poolSize` and `strides` (pairs),
   * `perChannel` and the serialised `logitsInitializer`.
   */
  override getConfig(): ConfigDict {
    const init = this.logitsInitializer;
    return {
      ...super.getConfig(),
      k: this.k,
      padding: this.padding,
      poolSize: [...this.poolSize],
      strides: [...this.strides],
      perChannel: this.perChannel,
      logitsInitializer: { className: init.getClassName(), config: initializerConfig(init) },
    };
  }
}

tf.serialization.registerClass(SortPooling2D);

/**
 * Makes a {@link SortPooling2D} layer: `sortPooling2d({ k: 3 })` pools 2x2 windows keeping the top
 * 3 values, with padding "same" and N(0, 0.1) logits; `sortPooling2d({ k: 2, poolSize: 3,
 * strides: 2, perChannel: true })` pools overlapping 3x3 windows with each channel's own 2 logits.
 * @throws SortPoolArgumentError for bad `k`, `padding`, `poolSize`, `strides`, `perChannel` or
 *   `logitsInitializer`.
 */
export function sortPooling2d(config: SortPooling2DArgs): SortPooling2D {
  return new SortPooling2D(config);
}
