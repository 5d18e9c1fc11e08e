/**
 * The SortPooling2D layer in tf.layers models on tfjs's cpu and webgpu backends: it computes the
 * op, trains (loss falls, logits move), saves and loads back with identical predictions through
 * tfjs's IO handlers (memory, and files on disk under Deno), leaves no tensors behind, and
 * rejects bad configurations, inputs and weights with named errors.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { SortPooling2D, sortPooling2d } from "./layer.ts";
import { loadFromDirectory, saveToDirectory } from "./model_files.ts";
import { referenceForward } from "./reference.ts";
import { outputShape } from "./spec.ts";
import { tf, type TfjsBackendName, useBackend } from "./tfjs/runtime.ts";
import type { Padding, Pair, Shape4 } from "./types.ts";
import { SortPoolArgumentError } from "./validate.ts";
import { FLOAT32_TOLERANCE, mismatch } from "./webgpu/testing.ts";

const BACKENDS: TfjsBackendName[] = ["cpu", "webgpu"];
const INPUT: Shape4 = [8, 5, 4, 3]; // odd height: "same" pads a row

/** A tiny classifier: sortPooling2d (or tf max pooling) on a [5, 4, 3] input, flatten, dense 2. */
function tinyModel(pool: tf.layers.Layer): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.inputLayer({ inputShape: INPUT.slice(1) }),
      pool,
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.1), loss: tf.losses.softmaxCrossEntropy });
  return model;
}

function data(): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomNormal([...INPUT], 0, 1, "float32", 11) as tf.Tensor4D;
    // Labels a pooling-dependent function of the input, so the logits get gradient.
    const labels = x.max([1, 2, 3]).greater(x.mean([1, 2, 3]).add(1.5)).toInt();
    return { x, y: tf.oneHot(labels, 2).toFloat() as tf.Tensor2D };
  });
}

/** Saves through tf.io.withSaveHandler, with the artifacts' JSON passed through text as a file would be. */
async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    artifacts = { ...a, modelTopology: JSON.parse(JSON.stringify(a.modelTopology)) };
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) });
  }));
  return artifacts!;
}

async function predictions(model: tf.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const p = model.predict(x) as tf.Tensor;
  try {
    return (await p.data()) as Float32Array;
  } finally {
    p.dispose();
  }
}

function disposeModel(model: tf.LayersModel): void {
  model.optimizer?.dispose();
  model.dispose();
}

async function logitsOf(layer: tf.layers.Layer): Promise<Float32Array> {
  return (await layer.getWeights()[0].data()) as Float32Array;
}

function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe.each(BACKENDS)("SortPooling2D on tfjs %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  test("computes sortPool2d with the layer's logits (k = 1..4, both paddings)", async () => {
    const x = tf.randomNormal([...INPUT], 0, 1, "float32", 3) as tf.Tensor4D;
    const xs = (await x.data()) as Float32Array;
    for (const padding of ["same", "valid"] as Padding[]) {
      for (const k of [1, 2, 3, 4]) {
        const init = tf.initializers.randomNormal({ stddev: 1, seed: k });
        const layer = sortPooling2d({ k, padding, logitsInitializer: init });
        const y = layer.apply(x) as tf.Tensor;
        const logits = k === 1 ? [0] : Array.from(await logitsOf(layer));
        const ref = referenceForward({ x: xs, shape: INPUT, logits, k, padding });
        expect(y.shape).toEqual(ref.shape);
        expect(layer.computeOutputShape([...INPUT])).toEqual(ref.shape);
        expect(mismatch((await y.data()) as Float32Array, ref.y, FLOAT32_TOLERANCE), `k=${k} ${padding}`).toBeNull();
        expect(layer.getWeights().length).toBe(k === 1 ? 0 : 1);
        y.dispose();
        layer.dispose();
      }
    }
    x.dispose();
  });

  test("k = 1 is tf.layers.maxPooling2d bit for bit, with the default and with general windows", async () => {
    const x = tf.randomNormal([2, 7, 6, 3], 0, 1, "float32", 13) as tf.Tensor4D;
    const windows: [number | [number, number] | undefined, number | [number, number] | undefined][] = [
      [undefined, undefined],
      [3, 2],
      [3, 1],
      [[2, 3], [1, 2]],
      [4, undefined],
      [1, 2],
    ];
    for (const [poolSize, strides] of windows) {
      for (const padding of ["same", "valid"] as Padding[]) {
        const label = `poolSize ${poolSize} strides ${strides} ${padding}`;
        const ours = sortPooling2d({ k: 1, padding, poolSize, strides });
        const theirs = tf.layers.maxPooling2d({ poolSize: poolSize ?? 2, strides: strides ?? poolSize ?? 2, padding });
        const a = ours.apply(x) as tf.Tensor;
        const b = theirs.apply(x) as tf.Tensor;
        expect(a.shape, label).toEqual(b.shape);
        expect(ours.computeOutputShape([...x.shape]), label).toEqual(b.shape);
        expect(bitwiseEqual((await a.data()) as Float32Array, (await b.data()) as Float32Array), label).toBe(true);
        tf.dispose([a, b]);
        ours.dispose();
      }
    }
    x.dispose();
  });

  test("a model holding it trains: loss falls, logits move; trainable: false freezes them", async () => {
    const { x, y } = data();
    for (const trainable of [true, false]) {
      const pool = sortPooling2d({ k: 3, trainable, logitsInitializer: tf.initializers.randomNormal({ seed: 5 }) });
      const model = tinyModel(pool);
      const before = await logitsOf(pool);
      const history = await model.fit(x, y, { epochs: 6, batchSize: 4, shuffle: false, verbose: 0 });
      const after = await logitsOf(pool);
      const loss = history.history.loss as number[];
      const moved = Math.max(...after.map((v, i) => Math.abs(v - before[i])));
      if (trainable) {
        expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
        expect(moved).toBeGreaterThan(1e-3);
        expect(model.trainableWeights.map((w) => w.name)).toContain(`${pool.name}/logits`);
      } else {
        expect(moved).toBe(0);
        expect(model.trainableWeights.map((w) => w.name)).not.toContain(`${pool.name}/logits`);
      }
      disposeModel(model);
    }
    tf.dispose([x, y]);
  });

  test("save + tf.loadLayersModel (withSaveHandler / fromMemory) gives identical predictions, k = 1..4", async () => {
    const { x, y } = data();
    for (const [k, padding] of [[1, "same"], [2, "valid"], [3, "same"], [4, "same"]] as [number, Padding][]) {
      const model = tinyModel(sortPooling2d({ k, padding, name: "pool" }));
      await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
      const artifacts = await saveToMemory(model);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const layer = loaded.getLayer("pool");
      expect(layer).toBeInstanceOf(SortPooling2D);
      expect(layer.getConfig()).toEqual(model.getLayer("pool").getConfig());
      expect(bitwiseEqual(await predictions(loaded, x), await predictions(model, x)), `k=${k}`).toBe(true);
      disposeModel(model);
      loaded.dispose();
    }
    tf.dispose([x, y]);
  });

  test("saves to files on disk (saveToDirectory) and loads them back (loadFromDirectory)", async () => {
    const { x, y } = data();
    const dir = await Deno.makeTempDir({ prefix: "sortpool-layer-" });
    try {
      const model = tinyModel(sortPooling2d({ k: 2, name: "pool" }));
      await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
      await model.save(saveToDirectory(dir));
      const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
      expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toContain("pool/logits");
      const loaded = await loadFromDirectory(dir);
      expect(bitwiseEqual(await predictions(loaded, x), await predictions(model, x))).toBe(true);
      disposeModel(model);
      loaded.dispose();
    } finally {
      await Deno.remove(dir, { recursive: true });
      tf.dispose([x, y]);
    }
  });

  test("leaves no tensors behind beyond what the same model with tf max pooling leaves", async () => {
    const leftBy = async (makePool: () => tf.layers.Layer) => {
      const start = tf.memory().numTensors;
      const { x, y } = data();
      const model = tinyModel(makePool());
      await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
      await predictions(model, x);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
      await predictions(loaded, x);
      disposeModel(model);
      loaded.dispose();
      tf.dispose([x, y]);
      return tf.memory().numTensors - start;
    };
    const baseline = await leftBy(() => tf.layers.maxPooling2d({ poolSize: 2, padding: "same" }));
    for (const k of [1, 3]) expect(await leftBy(() => sortPooling2d({ k })), `k=${k}`).toBe(baseline);
  });
});

describe("SortPooling2D shapes and config", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  test("computeOutputShape: ceil for same, floor for valid, null stays null", () => {
    expect(sortPooling2d({ k: 2 }).computeOutputShape([null, 5, 7, 3])).toEqual([null, 3, 4, 3]);
    expect(sortPooling2d({ k: 2, padding: "valid" }).computeOutputShape([null, 5, 7, 3])).toEqual([null, 2, 3, 3]);
    expect(sortPooling2d({ k: 1, padding: "valid" }).computeOutputShape([2, null, 4, 1])).toEqual([2, null, 2, 1]);
    expect(sortPooling2d({ k: 4 }).computeOutputShape([[1, 1, 1, 2]])).toEqual([1, 1, 1, 2]);
  });

  test("computeOutputShape with general windows is src/spec.ts outputShape (null stays null)", () => {
    const shape: Shape4 = [2, 7, 9, 3];
    for (
      const [poolSize, strides] of [[[3, 3], [2, 2]], [[3, 3], [1, 1]], [[3, 2], [1, 2]], [[4, 4], [4, 4]], [[1, 1], [
        2,
        3,
      ]]] as [Pair, Pair][]
    ) {
      for (const padding of ["same", "valid"] as Padding[]) {
        const layer = sortPooling2d({ k: 1, padding, poolSize, strides });
        const expected = outputShape(shape, padding, { poolSize, strides });
        expect(layer.computeOutputShape([...shape]), `${poolSize}/${strides} ${padding}`).toEqual(expected);
        expect(layer.computeOutputShape([null, 7, null, 3])).toEqual([null, expected[1], null, 3]);
      }
    }
    // A number is a square window; strides default to the window.
    expect(sortPooling2d({ k: 1, poolSize: 3 }).computeOutputShape([1, 9, 7, 1])).toEqual([1, 3, 3, 1]);
  });

  test("getConfig round-trips through fromConfig and JSON, default initializer N(0, 0.1)", () => {
    const layer = sortPooling2d({ k: 3, padding: "valid", name: "sp", trainable: false });
    const config = JSON.parse(JSON.stringify(layer.getConfig()));
    expect(config).toMatchObject({
      name: "sp",
      trainable: false,
      k: 3,
      padding: "valid",
      poolSize: [2, 2],
      strides: [2, 2],
      perChannel: false,
      logitsInitializer: { className: "RandomNormal", config: { mean: 0, stddev: 0.1 } },
    });
    const again = SortPooling2D.fromConfig(SortPooling2D, config) as SortPooling2D;
    expect(again).toBeInstanceOf(SortPooling2D);
    expect(again.getConfig()).toEqual(layer.getConfig());
    expect(sortPooling2d({ k: 2 }).padding).toBe("same");
  });

  test("poolSize, strides and perChannel round-trip; numbers become pairs; configs from before them load as 2x2/2", () => {
    const layer = sortPooling2d({ k: 5, poolSize: [3, 2], strides: [1, 2], perChannel: true, name: "g" });
    const config = JSON.parse(JSON.stringify(layer.getConfig()));
    expect(config).toMatchObject({ k: 5, poolSize: [3, 2], strides: [1, 2], perChannel: true });
    const again = SortPooling2D.fromConfig(SortPooling2D, config) as SortPooling2D;
    expect(again.getConfig()).toEqual(layer.getConfig());
    expect([again.poolSize, again.strides, again.perChannel]).toEqual([[3, 2], [1, 2], true]);
    const square = sortPooling2d({ k: 9, poolSize: 3 });
    expect([square.poolSize, square.strides]).toEqual([[3, 3], [3, 3]]);
    expect(sortPooling2d({ k: 2, poolSize: 3, strides: 2 }).strides).toEqual([2, 2]);
    // A config saved before general windows existed has none of the three keys.
    const { poolSize: _p, strides: _s, perChannel: _c, ...old } = JSON.parse(JSON.stringify(square.getConfig()));
    const legacy = SortPooling2D.fromConfig(SortPooling2D, { ...old, k: 3 }) as SortPooling2D;
    expect([legacy.poolSize, legacy.strides, legacy.perChannel]).toEqual([[2, 2], [2, 2], false]);
  });

  test("a model with poolSize 3, strides 2 and perChannel trains (loss falls, logits [C·k] move) and reloads", async () => {
    const { x, y } = data();
    const pool = sortPooling2d({
      k: 4,
      poolSize: 3,
      strides: 2,
      perChannel: true,
      name: "pool",
      logitsInitializer: tf.initializers.randomNormal({ seed: 9 }),
    });
    const model = tinyModel(pool);
    expect(pool.getWeights()[0].shape).toEqual([INPUT[3] * 4]);
    expect(model.outputs[0].shape).toEqual([null, 2]);
    const before = await logitsOf(pool);
    const history = await model.fit(x, y, { epochs: 6, batchSize: 4, shuffle: false, verbose: 0 });
    const after = await logitsOf(pool);
    const loss = history.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
    // Every channel's logits get their own gradient.
    for (let c = 0; c < INPUT[3]; c++) {
      const moved = Math.max(...[0, 1, 2, 3].map((r) => Math.abs(after[c * 4 + r] - before[c * 4 + r])));
      expect(moved, `channel ${c}`).toBeGreaterThan(1e-3);
    }
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
    expect(loaded.getLayer("pool").getConfig()).toEqual(pool.getConfig());
    expect(bitwiseEqual(await predictions(loaded, x), await predictions(model, x))).toBe(true);
    // The layer computes the op with its per-channel logits, as the reference does.
    const xs = (await x.data()) as Float32Array;
    const yPool = pool.apply(x) as tf.Tensor;
    const ref = referenceForward({
      x: xs,
      shape: INPUT,
      logits: Array.from(after),
      k: 4,
      padding: "same",
      poolSize: [3, 3],
      strides: [2, 2],
    });
    expect(yPool.shape).toEqual(ref.shape);
    expect(mismatch((await yPool.data()) as Float32Array, ref.y, FLOAT32_TOLERANCE)).toBeNull();
    yPool.dispose();
    disposeModel(model);
    loaded.dispose();
    tf.dispose([x, y]);
  });

  test("bad configuration: named errors at construction", () => {
    const bad: [unknown, string][] = [
      [{ k: 0 }, "k"],
      [{ k: 5 }, "k"],
      [{ k: 2.5 }, "k"],
      [{ k: "2" }, "k"],
      [{}, "k"],
      [{ k: 2, padding: "full" }, "padding"],
      [{ k: 2, padding: "SAME" }, "padding"],
      [{ k: 2, logitsInitializer: { className: "NoSuchInitializer", config: {} } }, "logitsInitializer"],
      [{ k: 2, logitsInitializer: { className: "Dense", config: {} } }, "logitsInitializer"],
      [{ k: 2, logitsInitializer: 0.1 }, "logitsInitializer"],
      [{ k: 2, poolSize: 5 }, "poolSize\\[0\\]"],
      [{ k: 2, poolSize: [2] }, "poolSize"],
      [{ k: 2, poolSize: "3" }, "poolSize"],
      [{ k: 2, strides: 0 }, "strides\\[0\\]"],
      [{ k: 2, strides: [2, 2.5] }, "strides\\[1\\]"],
      [{ k: 10, poolSize: 3 }, "k"],
      [{ k: 3, poolSize: [1, 2] }, "k"],
      [{ k: 2, perChannel: "yes" }, "perChannel"],
    ];
    for (const [config, argument] of bad) {
      let error: unknown;
      try {
        sortPooling2d(config as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(config)).toBeInstanceOf(SortPoolArgumentError);
      expect((error as SortPoolArgumentError).argument, JSON.stringify(config)).toMatch(
        new RegExp(`^sort_pooling2d_SortPooling2D\\d+: ${argument}$`),
      );
    }
  });

  test("bad input: not rank 4, or too small for valid, named when the layer is built", () => {
    const argumentOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SortPoolArgumentError);
        return (e as SortPoolArgumentError).argument;
      }
      throw new Error("no error thrown");
    };
    const rank3 = tf.input({ shape: [4, 4] });
    expect(argumentOf(() => sortPooling2d({ k: 2, name: "p3" }).apply(rank3))).toBe("p3: input shape");
    const rank5 = tf.input({ shape: [4, 4, 4, 1] });
    expect(argumentOf(() => sortPooling2d({ k: 1 }).apply(rank5))).toContain("input shape");
    const thin = tf.input({ shape: [1, 4, 2] });
    expect(argumentOf(() => sortPooling2d({ k: 2, padding: "valid" }).apply(thin))).toContain("input shape");
    expect(() => sortPooling2d({ k: 2 }).apply(thin)).not.toThrow(); // "same" pools a 1-row input
    const t = tf.zeros([2, 4, 4]);
    expect(argumentOf(() => sortPooling2d({ k: 3 }).apply(t))).toContain("input shape");
    t.dispose();
    // "valid" needs the window to fit: height >= kh and width >= kw.
    const small = tf.input({ shape: [3, 5, 2] });
    expect(argumentOf(() => sortPooling2d({ k: 2, padding: "valid", poolSize: [4, 2] }).apply(small))).toContain(
      "input shape",
    );
    expect(() => sortPooling2d({ k: 2, padding: "valid", poolSize: [3, 4] }).apply(small)).not.toThrow();
    // perChannel sizes its logits from the channel count, which must be known.
    const unknown = tf.input({ shape: [4, 4, null] as unknown as number[] });
    expect(argumentOf(() => sortPooling2d({ k: 2, perChannel: true, name: "pc" }).apply(unknown))).toBe(
      "pc: input shape",
    );
  });

  test("weights of the wrong shape: named errors from setWeights and from tf.loadLayersModel", async () => {
    const layer = sortPooling2d({ k: 3, name: "sw" });
    layer.apply(tf.input({ shape: [4, 4, 1] }));
    const two = tf.zeros([2]);
    expect(() => layer.setWeights([two])).toThrow(SortPoolArgumentError);
    expect(() => layer.setWeights([])).toThrow(/sw: weights/);
    expect(() => sortPooling2d({ k: 1 }).setWeights([two])).toThrow(SortPoolArgumentError);
    const three = tf.tensor1d([1, 2, 3]);
    layer.setWeights([three]);
    expect(Array.from(await logitsOf(layer))).toEqual([1, 2, 3]);
    tf.dispose([two, three]);
    layer.dispose();

    // A saved k = 2 model whose topology is edited to k = 3: the stored logits are [2].
    const model = tinyModel(sortPooling2d({ k: 2, name: "pool" }));
    const artifacts = await saveToMemory(model);
    disposeModel(model);
    const text = JSON.stringify(artifacts.modelTopology);
    expect(text).toContain('"k":2');
    const edited = { ...artifacts, modelTopology: JSON.parse(text.replace('"k":2', '"k":3')) };
    await expect(tf.loadLayersModel(tf.io.fromMemory(edited))).rejects.toThrow(
      /pool: logits \(loaded weight\): expected shape \[3\] \(k = 3\), received shape \[2\]/,
    );
    // And one edited to k = 1 (no weight) is refused by tfjs's strict loading.
    const noWeight = { ...artifacts, modelTopology: JSON.parse(text.replace('"k":2', '"k":1')) };
    await expect(tf.loadLayersModel(tf.io.fromMemory(noWeight))).rejects.toThrow(/pool\/logits/);
    // A per-channel model (logits [3·2]) edited to shared logits, and a shared one edited to per-channel.
    const perChannel = tinyModel(sortPooling2d({ k: 2, perChannel: true, name: "pool" }));
    const saved = await saveToMemory(perChannel);
    disposeModel(perChannel);
    const topology = JSON.stringify(saved.modelTopology);
    expect(topology).toContain('"per_channel":true');
    const shared = {
      ...saved,
      modelTopology: JSON.parse(topology.replace('"per_channel":true', '"per_channel":false')),
    };
    await expect(tf.loadLayersModel(tf.io.fromMemory(shared))).rejects.toThrow(
      /pool: logits \(loaded weight\): expected shape \[2\] \(k = 2\), received shape \[6\]/,
    );
    const widened = {
      ...artifacts,
      modelTopology: JSON.parse(text.replace('"per_channel":false', '"per_channel":true')),
    };
    await expect(tf.loadLayersModel(tf.io.fromMemory(widened))).rejects.toThrow(
      /pool: logits \(loaded weight\): expected shape \[6\] \(perChannel: C·k = 3·2\), received shape \[2\]/,
    );
    // setWeights on a built per-channel layer checks [C·k].
    const layerPc = sortPooling2d({ k: 2, perChannel: true, name: "pcw" });
    layerPc.apply(tf.input({ shape: [4, 4, 3] }));
    const wrong = tf.zeros([2]);
    expect(() => layerPc.setWeights([wrong])).toThrow(/pcw: logits \(setWeights\): expected shape \[6\]/);
    wrong.dispose();
    layerPc.dispose();
  });
});
