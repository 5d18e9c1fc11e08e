/**
 * Empty inputs (SPEC.md §1 "Empty inputs", §3): a zero-size batch, height, width or channel count
 * gives an empty output of tf.maxPool's shape, an empty dx and a dLogits of exactly +0 per logit, on
 * every registry entry, the op (cpu and webgpu) and the layer; "valid" padding refuses an empty input
 * exactly where tf.maxPool does (a negative output size).
 */
import { describe, expect, test } from "vitest";
import { sortPooling2d } from "./layer.ts";
import { sortPool2d } from "./op.ts";
import { implementations } from "./registry.ts";
import { tf, type TfjsBackendName, useBackend } from "./tfjs/runtime.ts";
import type { Padding, SortPoolCase } from "./types.ts";

/** Mutable shapes and pairs, as tfjs's signatures take them. */
type Shape4 = [number, number, number, number];
type Pair = [number, number];
import { SortPoolArgumentError } from "./validate.ts";

/** Input shape, padding, poolSize, strides, and tf.maxPool's output shape for them (checked below). */
const EMPTY: [Shape4, Padding, Pair, Pair, Shape4][] = [
  [[0, 4, 4, 3], "same", [2, 2], [2, 2], [0, 2, 2, 3]],
  [[0, 5, 4, 3], "valid", [2, 2], [2, 2], [0, 2, 2, 3]],
  [[0, 4, 4, 3], "valid", [3, 3], [2, 2], [0, 1, 1, 3]],
  [[0, 4, 4, 3], "same", [3, 3], [1, 1], [0, 4, 4, 3]],
  [[0, 1, 4, 3], "valid", [2, 2], [2, 2], [0, 0, 2, 3]],
  [[2, 0, 4, 3], "same", [3, 3], [2, 2], [2, 0, 2, 3]],
  [[2, 0, 4, 3], "valid", [2, 2], [2, 2], [2, 0, 2, 3]],
  [[2, 4, 0, 3], "same", [2, 2], [2, 2], [2, 2, 0, 3]],
  [[2, 4, 4, 0], "same", [2, 2], [2, 2], [2, 2, 2, 0]],
  [[2, 4, 4, 0], "valid", [3, 3], [1, 1], [2, 2, 2, 0]],
  [[0, 0, 0, 0], "same", [2, 2], [2, 2], [0, 0, 0, 0]],
];

/** Empty inputs tf.maxPool refuses ("valid" with a negative output size), refused here too, naming shape. */
const REFUSED: [Shape4, Pair, Pair][] = [
  [[2, 0, 4, 3], [3, 3], [2, 2]],
  [[2, 4, 0, 3], [2, 2], [1, 1]],
  [[0, 1, 4, 3], [3, 3], [1, 1]],
  [[0, 0, 0, 0], [3, 3], [2, 2]],
];

const BACKENDS: TfjsBackendName[] = ["cpu", "webgpu"];

/** A shape with -0 read as 0 (tf.maxPool's "valid" size ceil((H − kh + 1) / sh) is -0 for some empty inputs). */
const dims = (shape: readonly number[]) => shape.map((d) => d + 0);

function emptyCase(shape: Shape4, padding: Padding, poolSize: Pair, strides: Pair, k: number, perChannel = false) {
  const logits = Array.from({ length: perChannel ? shape[3] * k : k }, (_, i) => i / 4);
  return { x: new Float32Array(0), shape, logits, k, padding, poolSize, strides } satisfies SortPoolCase;
}

describe.each(BACKENDS)("tf.maxPool on %s: the shapes this file expects", (backend) => {
  test("empty inputs give the listed shapes; the refused ones throw", async () => {
    await useBackend(backend);
    for (const [shape, padding, poolSize, strides, out] of EMPTY) {
      const y = tf.tidy(() => tf.maxPool(tf.zeros(shape) as tf.Tensor4D, poolSize, strides, padding));
      expect(dims(y.shape), JSON.stringify([shape, padding, poolSize, strides])).toEqual(out);
      y.dispose();
    }
    // tfjs-webgpu has no answer there either: it returns a tensor with a negative dimension, or fails on the
    // device and leaves its buffer manager broken for the rest of the process; so only cpu is asked.
    if (backend !== "cpu") return;
    for (const [shape, poolSize, strides] of REFUSED) {
      expect(() => tf.tidy(() => tf.maxPool(tf.zeros(shape) as tf.Tensor4D, poolSize, strides, "valid"))).toThrow(
        /positive integers/,
      );
    }
  });
});

describe.each(BACKENDS)("sortPool2d on an empty input, tfjs %s", (backend) => {
  test("y has tf.maxPool's shape (k = 1 equals it); dx is empty, dLogits exactly +0, any logits", async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    for (const [shape, padding, poolSize, strides, out] of EMPTY) {
      for (const k of [1, 2, poolSize[0] * poolSize[1]]) {
        for (const logitValues of [[...Array(k).keys()], Array(k).fill(NaN)]) {
          const { y, dx, dLogits, maxPool } = tf.tidy(() => {
            const x = tf.zeros(shape) as tf.Tensor4D;
            const logits = tf.tensor1d(logitValues);
            const f = (a: tf.Tensor, b: tf.Tensor) =>
              sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, { k, padding, poolSize, strides });
            const [dx, dLogits] = tf.grads(f)([x, logits], tf.zeros(out));
            return { y: f(x, logits), dx, dLogits, maxPool: tf.maxPool(x, poolSize, strides, padding) };
          });
          expect(y.shape).toEqual(out);
          expect(y.shape).toEqual(dims(maxPool.shape));
          expect(dx.shape).toEqual(shape);
          expect(Array.from(await dLogits.data()).map((v) => Object.is(v, 0))).toEqual(Array(k).fill(true));
          expect(await y.data()).toHaveLength(0);
          tf.dispose([y, dx, dLogits, maxPool]);
        }
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test("per-channel logits: tf.grads gives an empty dx and six +0s; an sgd step leaves the logits as they were", async () => {
    await useBackend(backend);
    const x = tf.zeros([0, 4, 4, 3]) as tf.Tensor4D;
    const logits = tf.variable(tf.tensor1d([1, 2, 3, 4, 5, 6]));
    // tf.grads with an explicit dy: tfjs-webgpu's own sum of an empty tensor fails ("Dispatch size exceeds").
    const f = (a: tf.Tensor, b: tf.Tensor) => sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, { k: 2, padding: "same" });
    const [dx, dLogits] = tf.grads(f)([x, logits], tf.zeros([0, 2, 2, 3]));
    expect(dx.shape).toEqual([0, 4, 4, 3]);
    expect(Array.from(await dLogits.data()).map((v) => Object.is(v, 0))).toEqual(Array(6).fill(true));
    tf.train.sgd(1).applyGradients({ [logits.name]: dLogits });
    expect(Array.from(await logits.data())).toEqual([1, 2, 3, 4, 5, 6]);
    tf.dispose([x, logits, dx, dLogits]);
  });

  test('"valid" refuses an empty input where tf.maxPool does, naming shape', async () => {
    await useBackend(backend);
    for (const [shape, poolSize, strides] of REFUSED) {
      const x = tf.zeros(shape) as tf.Tensor4D;
      const logits = tf.zeros([2]) as tf.Tensor1D;
      let error: unknown;
      try {
        sortPool2d(x, logits, { k: 2, padding: "valid", poolSize, strides });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SortPoolArgumentError);
      expect((error as SortPoolArgumentError).argument).toBe("shape");
      expect((error as Error).message).toContain("empty input");
      tf.dispose([x, logits]);
    }
  });
});

describe("registry entries on empty inputs", () => {
  test.each(implementations.map((i) => [i.name, i] as const))(
    "%s: empty y of the output shape, empty dx, dLogits +0 per logit (NaN logits too)",
    async (_name, impl) => {
      for (const [shape, padding, poolSize, strides, out] of EMPTY) {
        const windows = impl.supports?.windows === "2x2/2"
          ? poolSize[0] === 2 && poolSize[1] === 2 && strides[0] === 2 && strides[1] === 2
          : true;
        if (!windows) continue;
        for (const k of [1, 3]) {
          for (const perChannel of impl.supports?.perChannelLogits === false ? [false] : [false, true]) {
            const c = emptyCase(shape, padding, poolSize, strides, k, perChannel);
            const f = await impl.forward(c);
            expect(f.shape).toEqual(out);
            expect(f.y).toHaveLength(0);
            const g = await impl.gradient(c, []);
            expect(g.dx).toHaveLength(0);
            expect(Array.from(g.dLogits).map((v) => Object.is(v, 0))).toEqual(Array(c.logits.length).fill(true));
            const nan = { ...c, logits: c.logits.map(() => NaN) };
            expect(Array.from((await impl.gradient(nan, new Float32Array(0))).dLogits)).toEqual(
              Array(c.logits.length).fill(0),
            );
          }
        }
      }
      // Still validated: a dy of the wrong length, x of the wrong length, and "valid" past tf.maxPool's range.
      const c = emptyCase([0, 4, 4, 3], "same", [2, 2], [2, 2], 2);
      await expect(impl.gradient(c, [1])).rejects.toThrow(SortPoolArgumentError);
      await expect(impl.forward({ ...c, x: new Float32Array(1) })).rejects.toThrow(/sort_pool2d: x:/);
      if (impl.supports?.windows !== "2x2/2") {
        const [shape, poolSize, strides] = REFUSED[0];
        await expect(impl.forward(emptyCase(shape, "valid", poolSize, strides, 2))).rejects.toThrow(
          /sort_pool2d: shape: .*empty input/,
        );
      }
      // A bench handle of an empty case queues nothing.
      if (impl.prepareBench) {
        const handle = await impl.prepareBench(c);
        await handle.forward();
        await handle.forwardBackward();
        await handle.dispose();
      }
    },
  );
});

describe.each(BACKENDS)("SortPooling2D on an empty batch, tfjs %s", (backend) => {
  test("a batch of 0 through a model: tf.layers.maxPooling2d's shape (k = 1..4), an empty dx", async () => {
    await useBackend(backend);
    for (const k of [1, 2, 4]) {
      const pool = sortPooling2d({ k, poolSize: 3, strides: 2, perChannel: true });
      const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [5, 4, 3] }), pool] });
      const max = tf.sequential({
        layers: [
          tf.layers.inputLayer({ inputShape: [5, 4, 3] }),
          tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }),
        ],
      });
      const x = tf.zeros([0, 5, 4, 3]);
      // model.apply, not predict: tfjs's predict concatenates its batches and has none to concatenate for a
      // batch of 0, whatever the layers (tf.layers.maxPooling2d's model fails the same way).
      const y = model.apply(x) as tf.Tensor;
      const m = max.apply(x) as tf.Tensor;
      expect(y.shape).toEqual([0, 3, 2, 3]);
      expect(y.shape).toEqual(m.shape);
      expect(await y.data()).toHaveLength(0);
      const [dx] = tf.grads((a: tf.Tensor) => pool.apply(a) as tf.Tensor)([x], tf.zeros([0, 3, 2, 3]));
      expect(dx.shape).toEqual([0, 5, 4, 3]);
      tf.dispose([x, y, m, dx]);
      model.dispose();
      max.dispose();
    }
  });
});
