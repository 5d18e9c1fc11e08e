/**
 * A per-channel SortPooling2D refuses any input whose channel count differs from the one its
 * `[C·k]` logits were built for (SPEC.md §1 "Per-channel weights and the layer"): applied
 * symbolically (a layer shared in one functional model), eagerly, and after loading a saved model,
 * with a SortPoolArgumentError naming the layer and both channel counts. tfjs builds a layer once,
 * so build() alone cannot catch the second input. Shared logits (`[k]`) and k = 1 take any C.
 */
import { describe, expect, test } from "vitest";
import { sortPooling2d } from "./layer.ts";
import { tf, type TfjsBackendName, useBackend } from "./tfjs/runtime.ts";
import { SortPoolArgumentError } from "./validate.ts";

function errorOf(f: () => unknown): SortPoolArgumentError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SortPoolArgumentError);
    return e as SortPoolArgumentError;
  }
  throw new Error("no error thrown");
}

/** The error a per-channel layer named `name` with `k` gives for `received` channels after building for `built`. */
function expectChannelError(e: SortPoolArgumentError, name: string, built: number, k: number, received: number) {
  // "1 channel", never "1 channels"
  const channels = (c: number) => `${c} channel${c === 1 ? "" : "s"}`;
  expect(e.argument).toBe(`${name}: input shape`);
  expect(e.expected).toBe(
    `${channels(built)} (the layer's per-channel logits have C·k = ${built}·${k} = ${built * k} values, ` +
      `built for ${channels(built)})`,
  );
  expect(e.received).toMatch(new RegExp(`^${channels(received)} \\[`));
}

describe.each(["cpu", "webgpu"] as TfjsBackendName[])("per-channel layer channel count, tfjs %s", (backend) => {
  test("shared in one functional model: C = 1 then C = 3, and C = 3 then C = 5, refused when applied", async () => {
    await useBackend(backend);
    for (const [first, second] of [[1, 3], [3, 5], [4, 2]]) {
      const s = sortPooling2d({ k: 2, perChannel: true, name: `shared${first}${second}` });
      const a = tf.input({ shape: [4, 4, first] });
      const b = tf.input({ shape: [4, 4, second] });
      s.apply(a);
      expectChannelError(errorOf(() => s.apply(b)), `shared${first}${second}`, first, 2, second);
      // The same input shape again is fine (a layer shared between two inputs of one channel count).
      expect((s.apply(tf.input({ shape: [6, 6, first] })) as tf.SymbolicTensor).shape).toEqual([null, 3, 3, first]);
    }
  });

  test("eagerly: a layer built on C = 3 refuses a C = 5 tensor before computing anything", async () => {
    await useBackend(backend);
    const s = sortPooling2d({ k: 3, poolSize: 3, strides: 2, perChannel: true, name: "eager" });
    const ok = tf.zeros([2, 5, 5, 3]);
    const y = s.apply(ok) as tf.Tensor;
    expect(y.shape).toEqual([2, 3, 3, 3]);
    const bad = tf.zeros([2, 5, 5, 5]);
    const before = tf.memory().numTensors;
    expectChannelError(errorOf(() => s.apply(bad)), "eager", 3, 3, 5);
    expect(tf.memory().numTensors).toBe(before);
    // computeOutputShape, which tfjs calls for every symbolic application, says the same.
    expectChannelError(errorOf(() => s.computeOutputShape([null, 5, 5, 5])), "eager", 3, 3, 5);
    expect(s.computeOutputShape([null, 5, 5, 3])).toEqual([null, 3, 3, 3]);
    tf.dispose([ok, y, bad]);
    s.dispose();
  });

  test("after loading a saved model: the loaded layer refuses another channel count", async () => {
    await useBackend(backend);
    const model = tf.sequential({
      layers: [sortPooling2d({ k: 2, perChannel: true, name: "saved", inputShape: [4, 4, 3] })],
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler((a) => {
      artifacts = { ...a, modelTopology: JSON.parse(JSON.stringify(a.modelTopology)) };
      return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) });
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const layer = loaded.getLayer("saved");
    const bad = tf.zeros([1, 4, 4, 2]);
    expectChannelError(errorOf(() => layer.apply(bad)), "saved", 3, 2, 2);
    expectChannelError(errorOf(() => layer.apply(tf.input({ shape: [4, 4, 1] }))), "saved", 3, 2, 1);
    const good = tf.zeros([1, 4, 4, 3]);
    const y = layer.apply(good) as tf.Tensor;
    expect(y.shape).toEqual([1, 2, 2, 3]);
    tf.dispose([bad, good, y]);
    model.dispose();
    loaded.dispose();
  });

  test("shared logits ([k]) and k = 1 hold no per-channel weight: any channel count, on one layer", async () => {
    await useBackend(backend);
    for (const config of [{ k: 2 }, { k: 1, perChannel: true }]) {
      const s = sortPooling2d(config);
      for (const c of [1, 3, 5]) {
        const x = tf.zeros([1, 4, 4, c]);
        const y = s.apply(x) as tf.Tensor;
        expect(y.shape).toEqual([1, 2, 2, c]);
        expect((s.apply(tf.input({ shape: [4, 4, c] })) as tf.SymbolicTensor).shape).toEqual([null, 2, 2, c]);
        tf.dispose([x, y]);
      }
      s.dispose();
    }
  });
});
