/**
 * `SortPooling2D`: sort_pool2d as a serialisable tfjs-layers layer, so that tf.layers models
 * hold it, train its weights with `model.fit` / optimizers, and save and load it with tfjs's own
 * IO handlers. It calls the {@link sortPool2d} op (WGSL kernels on "webgpu", the float64
 * reference on "cpu").
 *
 * @example
 * ```ts
 * import { tf } from "./tfjs/runtime.ts";
 * import { sortPooling2d } from "./layer.ts";
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: "same" }),
 *     sortPooling2d({ k: 3 }), // [batch, 28, 28, 8] -> [batch, 14, 14, 8]
 *     tf.layers.flatten(),
 *     tf.layers.dense({ units: 10 }),
 *   ],
 * });
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { sortPool2d } from "./op.ts";
import { pooledSize } from "./spec.ts";
import { tf } from "./tfjs/runtime.ts";
import type { Padding } from "./types.ts";
import { describe, SortPoolArgumentError, validateK, validatePadding } from "./validate.ts";

/** The base options every tfjs layer takes (name, trainable, inputShape, batchInputShape, dtype, weights, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** A tfjs-layers initializer object, e.g. `tf.initializers.randomNormal({ stddev: 0.1, seed: 1 })`. */
export type Initializer = ReturnType<typeof tf.initializers.ones>;

/** An initializer as tfjs-layers serialises one: the registered class name and its config. */
export interface SerializedInitializer {
  readonly className: string;
  readonly config: tf.serialization.ConfigDict;
}

/** Configuration of {@link SortPooling2D} (and of {@link sortPooling2d}). */
export interface SortPooling2DArgs extends LayerArgs {
  /** How many of each 2x2 window's 4 ranked values are kept: 1..4. k = 1 is max pooling and holds no weight. */
  readonly k: number;
  /** "same" (default; output ceil(H/2) x ceil(W/2), padded cells are zeros for k > 1) or "valid" (floor). SPEC.md §3. */
  readonly padding?: Padding;
  /**
   * Initial values of the `logits` weight (k >= 2), given as an initializer object or in tfjs's
   * serialised form `{ className, config }`. Default: normal, mean 0, stddev 0.1, as the original.
   */
  readonly logitsInitializer?: Initializer | SerializedInitializer;
}

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

/**
 * Sort pooling over 2x2 windows with stride 2 (SPEC.md): in each window of each channel the 4
 * values are ranked, the top `k` are kept and combined as `y = Σ_{r<k} w[r] · value_r` with
 * `w = softmax(logits)`, one set of weights shared by all channels; `w[0]` weights the largest.
 *
 * - Input: a rank-4 NHWC tensor `[batch, height, width, channels]`, float32.
 * - Output: `[batch, ceil(height/2), ceil(width/2), channels]` with padding "same",
 *   `[batch, floor(height/2), floor(width/2), channels]` with "valid".
 * - Weights: for k >= 2 one trainable weight named "logits" of shape `[k]`; for k = 1 none (the
 *   layer is max pooling, padded cells ignored).
 *
 * Serialisation: className "SortPooling2D", registered with `tf.serialization.registerClass`
 * when this module loads, so `tf.loadLayersModel` restores it in any process that imports it.
 *
 * @throws SortPoolArgumentError (a RangeError) naming the argument, when constructed with `k`
 *   outside 1..4, an unknown `padding` or an unusable `logitsInitializer`; when built on an input
 *   that is not rank 4 or (with "valid") has height or width below 2; and when weights of the
 *   wrong shape are set or loaded (`setWeights`, `tf.loadLayersModel`).
 */
export class SortPooling2D extends tf.layers.Layer {
  /** The name under which the class is registered for (de)serialisation. */
  static className = "SortPooling2D";
  /** How many ranked values each window keeps (1..4). */
  readonly k: number;
  /** "same" or "valid". */
  readonly padding: Padding;
  /** The initializer of the `logits` weight (unused when k = 1). */
  readonly logitsInitializer: Initializer;
  private logits: tf.LayerVariable | null = null;

  /** @throws SortPoolArgumentError for bad `k`, `padding` or `logitsInitializer`. */
  constructor(args: SortPooling2DArgs) {
    super(args ?? {});
    if (args === null || typeof args !== "object") {
      throw new SortPoolArgumentError("SortPooling2D config", "an object { k, padding?, ... }", describe(args));
    }
    this.k = withLayerName(this.name, () => validateK(args.k));
    this.padding = withLayerName(this.name, () => validatePadding(args.padding ?? "same"));
    this.logitsInitializer = resolveInitializer(args.logitsInitializer, this.name);
  }

  /** Checks an input shape: rank 4, and height, width >= 2 for "valid" (unknown dimensions are null). */
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
    if (this.padding === "valid" && ((s[1] !== null && s[1] < 2) || (s[2] !== null && s[2] < 2))) {
      throw new SortPoolArgumentError(
        `${this.name}: input shape`,
        'height >= 2 and width >= 2 with padding "valid" (the output would be empty)',
        shapeText(s),
      );
    }
    return s;
  }

  private checkLogitsShape(shape: readonly number[], source: string): void {
    if (shape.length !== 1 || shape[0] !== this.k) {
      throw new SortPoolArgumentError(
        `${this.name}: logits (${source})`,
        `shape [${this.k}] (k = ${this.k})`,
        `shape ${shapeText(shape)}`,
      );
    }
  }

  /**
   * Creates the `logits` weight (k >= 2).
   * @throws SortPoolArgumentError when `inputShape` is not rank 4 or too small for "valid".
   */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    this.checkInputShape(inputShape);
    if (this.k >= 2 && this.logits === null) {
      const logits = this.addWeight(
        "logits",
        [this.k],
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
   * Sets the layer's weights: `[logits]` of shape `[k]` for k >= 2, `[]` for k = 1.
   * @throws SortPoolArgumentError for a wrong count or shape.
   */
  override setWeights(weights: tf.Tensor[]): void {
    const expected = this.k >= 2 ? 1 : 0;
    if (!Array.isArray(weights) || weights.length !== expected) {
      throw new SortPoolArgumentError(
        `${this.name}: weights`,
        expected === 1 ? `[logits] (one tensor of shape [${this.k}])` : "[] (k = 1 holds no weight)",
        Array.isArray(weights) ? `${weights.length} tensors` : describe(weights),
      );
    }
    if (expected === 1) this.checkLogitsShape(weights[0].shape, "setWeights");
    super.setWeights(weights);
  }

  /**
   * `[batch, ceil(h/2), ceil(w/2), c]` ("same") or `[batch, floor(h/2), floor(w/2), c]` ("valid");
   * unknown (null) dimensions stay null.
   * @throws SortPoolArgumentError as {@link build}.
   */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = this.checkInputShape(inputShape);
    const pool = (d: number | null) => (d === null ? null : pooledSize(d, this.padding));
    return [b, pool(h), pool(w), c];
  }

  /** Applies {@link sortPool2d} to the one NHWC input. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (Array.isArray(inputs) && inputs.length !== 1) {
        throw new SortPoolArgumentError(`${this.name}: inputs`, "exactly one input tensor", `${inputs.length} inputs`);
      }
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      // k = 1 has no free weight: softmax of one logit is [1] whatever its value.
      const logits = this.logits === null ? tf.zeros([1]) as tf.Tensor1D : this.logits.read() as tf.Tensor1D;
      return sortPool2d(x, logits, { k: this.k, padding: this.padding });
    });
  }

  /** The layer's config: the base LayerArgs plus `k`, `padding` and the serialised `logitsInitializer`. */
  override getConfig(): tf.serialization.ConfigDict {
    const init = this.logitsInitializer;
    return {
      ...super.getConfig(),
      k: this.k,
      padding: this.padding,
      logitsInitializer: { className: init.getClassName(), config: initializerConfig(init) },
    };
  }
}

tf.serialization.registerClass(SortPooling2D);

/**
 * Makes a {@link SortPooling2D} layer: `sortPooling2d({ k: 3 })` pools 2x2 windows keeping the top
 * 3 values, with padding "same" and N(0, 0.1) logits.
 * @throws SortPoolArgumentError for bad `k`, `padding` or `logitsInitializer`.
 */
export function sortPooling2d(config: SortPooling2DArgs): SortPooling2D {
  return new SortPooling2D(config);
}

/**
 * A save handler that writes a model to `directory` on disk as tfjs's standard pair
 * `model.json` + `weights.bin` (the layout `tf.io.http` and tfjs-node's file handler read), with
 * Deno's file APIs. tfjs's own `file://` handler exists only in tfjs-node, so under Deno
 * `model.save("file://...")` finds no handler; use `model.save(saveToDirectory(dir))` instead.
 * The directory is created if missing; existing files of those two names are replaced.
 */
export function saveToDirectory(directory: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (!(artifacts.modelTopology && artifacts.weightSpecs && artifacts.weightData)) {
      throw new Error("saveToDirectory: the model artifacts have no topology or weights (not a LayersModel save?)");
    }
    const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: ["./weights.bin"], weights: artifacts.weightSpecs }],
      ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    };
    await Deno.mkdir(directory, { recursive: true });
    await Deno.writeFile(join(directory, "weights.bin"), new Uint8Array(weights));
    await Deno.writeTextFile(join(directory, "model.json"), JSON.stringify(modelJson));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
}

/**
 * Loads a model saved by {@link saveToDirectory} (or by tfjs-node's file handler) from `directory`:
 * tfjs's own HTTP loader (`tf.io.http`) on the `file:` URL of `model.json`, which works under Deno
 * because Deno's `fetch` reads `file:` URLs. Custom layers such as {@link SortPooling2D} must be
 * registered first (importing this module does that).
 */
export function loadFromDirectory(directory: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.http(pathToFileURL(join(directory, "model.json")).href));
}
