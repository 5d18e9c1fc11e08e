/**
 * The tfjs-level op `sortPool2d` on tfjs's cpu and webgpu backends: values and gradients (via
 * tf.grads) against the float64 reference (the default 2x2/2 windows, general windows and
 * per-channel logits), k = 1 against tf.maxPool, argument errors, no CPU round trip on webgpu, no
 * leaked tensors or buffers, and a training step.
 */
import { describe, expect, test } from "vitest";
import { caseOptions, sortPool2d } from "./op.ts";
import { referenceForward, referenceGradient } from "./reference.ts";
import { outputShape, sizeOf } from "./spec.ts";
import { finishWork, tf, type TfjsBackendName, useBackend } from "./tfjs/runtime.ts";
import type { Padding, Pair, Shape4, SortPoolCase } from "./types.ts";
import { SortPoolArgumentError } from "./validate.ts";
import {
  FLOAT32_TOLERANCE,
  mismatch,
  randomCase,
  randomDy,
  rankSumScale,
  sameBits,
  signedZeroMismatch,
} from "./webgpu/testing.ts";
import { DEFAULT_KERNEL_SET, kernelSetBufferStats } from "./webgpu/tfjs_kernels.ts";

const BACKENDS: TfjsBackendName[] = ["cpu", "webgpu"];

/** poolSize, strides, shape, padding, k, per-channel logits: general windows with odd sizes and overlap. */
const GENERAL_CASES: [Pair, Pair, Shape4, Padding, number, boolean][] = [
  [[3, 3], [2, 2], [2, 7, 5, 3], "same", 2, false],
  [[3, 3], [2, 2], [1, 6, 6, 4], "valid", 9, true],
  [[3, 3], [1, 1], [1, 5, 4, 2], "same", 1, true],
  [[3, 3], [1, 1], [2, 4, 5, 2], "valid", 4, false],
  [[2, 2], [1, 1], [1, 5, 5, 3], "same", 3, true],
  [[4, 4], [4, 4], [1, 9, 7, 2], "same", 6, false],
  [[3, 2], [1, 2], [1, 5, 7, 3], "valid", 2, true],
  [[1, 1], [1, 1], [1, 3, 4, 2], "same", 1, false],
  [[2, 2], [2, 2], [2, 5, 4, 3], "same", 3, true],
];

/** poolSize and strides compared with tf.maxPool for k = 1. */
const MAX_POOL_WINDOWS: [Pair, Pair][] = [[[2, 2], [2, 2]], [[3, 3], [2, 2]], [[3, 3], [1, 1]], [[2, 3], [1, 2]], [
  [4, 4],
  [4, 4],
], [[1, 1], [2, 1]]];

/** sortPool2d and its tf.grads on `backend`, read back. */
async function run(backend: TfjsBackendName, c: SortPoolCase, dyValues: Float32Array) {
  await useBackend(backend);
  const { y, dx, dLogits } = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
    const logits = tf.tensor1d(Float32Array.from(c.logits));
    const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding, c));
    const f = (a: tf.Tensor, b: tf.Tensor) => sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, caseOptions(c));
    const [gx, gl] = tf.grads(f)([x, logits], dy);
    return { y: f(x, logits), dx: gx, dLogits: gl };
  });
  try {
    return { y: await y.data(), dx: await dx.data(), dLogits: await dLogits.data(), shape: y.shape };
  } finally {
    tf.dispose([y, dx, dLogits]);
  }
}

describe.each(BACKENDS)("sortPool2d on tfjs %s", (backend) => {
  test("forward and tf.grads match the reference", async () => {
    let seed = 1;
    const shapes: Shape4[] = [[2, 5, 7, 8], [1, 4, 6, 4], [2, 5, 4, 3], [1, 6, 5, 6], [1, 1, 1, 2]];
    for (const shape of shapes) {
      for (const k of [1, 2, 3, 4]) {
        for (const padding of ["same", "valid"] as Padding[]) {
          if (padding === "valid" && (shape[1] < 2 || shape[2] < 2)) continue;
          const c = randomCase(shape, k, padding, seed++, seed % 3 === 0);
          const dy = randomDy(c, seed++);
          const label = `[${shape}] k=${k} ${padding}`;
          const got = await run(backend, c, dy);
          const ref = referenceForward(c);
          const refGrad = referenceGradient(c, dy);
          expect(got.shape, label).toEqual(ref.shape);
          expect(mismatch(got.y, ref.y, FLOAT32_TOLERANCE), `${label} y`).toBeNull();
          expect(mismatch(got.dx, refGrad.dx, FLOAT32_TOLERANCE), `${label} dx`).toBeNull();
          const scale = rankSumScale(c, dy);
          expect(mismatch(got.dLogits, refGrad.dLogits, FLOAT32_TOLERANCE, () => scale), `${label} dLogits`)
            .toBeNull();
        }
      }
    }
  });

  test("general windows and per-channel logits: forward and tf.grads match the reference", async () => {
    let seed = 700;
    for (const [poolSize, strides, shape, padding, k, perChannel] of GENERAL_CASES) {
      const base = randomCase(shape, k, padding, seed++, seed % 2 === 0);
      const c: SortPoolCase = {
        ...base,
        poolSize,
        strides,
        logits: perChannel ? randomCase([1, 1, 1, shape[3] * k], 1, "same", seed++).x.map((v) => v / 2) : base.logits,
      };
      const dy = randomDy(c, seed++);
      const label = `[${shape}] ${poolSize}/${strides} ${padding} k=${k}${perChannel ? " per-channel" : ""}`;
      const got = await run(backend, c, dy);
      const ref = referenceForward(c);
      const refGrad = referenceGradient(c, dy);
      expect(got.shape, label).toEqual(ref.shape);
      expect(mismatch(got.y, ref.y, FLOAT32_TOLERANCE), `${label} y`).toBeNull();
      expect(mismatch(got.dx, refGrad.dx, FLOAT32_TOLERANCE), `${label} dx`).toBeNull();
      expect(signedZeroMismatch(got.dx, refGrad.dx), `${label} sign of dx`).toBeNull();
      expect(got.dLogits.length, label).toBe(c.logits.length);
      const scale = rankSumScale(c, dy);
      expect(mismatch(got.dLogits, refGrad.dLogits, FLOAT32_TOLERANCE, () => scale), `${label} dLogits`).toBeNull();
    }
  });

  test("k = 1 is tf.maxPool with the same window, strides and padding: y bitwise, dx as tf.grad of tf.maxPool", async () => {
    await useBackend(backend);
    const shape: Shape4 = [2, 7, 6, 3];
    const n = sizeOf(shape);
    // Distinct values (no ties, so max pooling's routing is unique), negative ones included.
    const values = Float32Array.from({ length: n }, (_, i) => ((i * 97) % n) / 8 - n / 16);
    for (const [poolSize, strides] of MAX_POOL_WINDOWS) {
      for (const padding of ["same", "valid"] as Padding[]) {
        const label = `${poolSize}/${strides} ${padding}`;
        const [ours, theirs, dxOurs, dxTheirs] = tf.tidy(() => {
          const x = tf.tensor4d(values, [...shape]);
          const logits = tf.tensor1d([0.25]);
          const pool = (t: tf.Tensor) => sortPool2d(t as tf.Tensor4D, logits, { k: 1, padding, poolSize, strides });
          const max = (t: tf.Tensor) =>
            tf.maxPool(t as tf.Tensor4D, poolSize as [number, number], strides as [number, number], padding);
          const dy = tf.randomUniform(max(x).shape, -2, 2, "float32", 3);
          return [pool(x), max(x), tf.grad(pool)(x, dy), tf.grad(max)(x, dy)];
        });
        expect(ours.shape, label).toEqual(theirs.shape);
        expect(sameBits((await ours.data()) as Float32Array, (await theirs.data()) as Float32Array), `${label} y`).toBe(
          true,
        );
        expect(mismatch(await dxOurs.data(), await dxTheirs.data(), FLOAT32_TOLERANCE), `${label} dx`).toBeNull();
        tf.dispose([ours, theirs, dxOurs, dxTheirs]);
      }
    }
  });

  test("tf.grad with respect to x alone, and a training step with tf.train.sgd", async () => {
    await useBackend(backend);
    const c = randomCase([2, 4, 4, 4], 3, "same", 5);
    const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
    const logits = tf.variable(tf.tensor1d(Float32Array.from(c.logits)));
    try {
      const dx = tf.grad((a: tf.Tensor) => sortPool2d(a as tf.Tensor4D, logits as tf.Tensor1D, caseOptions(c)).sum())(
        x,
      );
      const ones = new Float32Array(referenceForward(c).y.length).fill(1);
      const refGrad = referenceGradient(c, ones);
      expect(mismatch(await dx.data(), refGrad.dx, FLOAT32_TOLERANCE)).toBeNull();
      dx.dispose();
      const before = Float32Array.from(await logits.data());
      const learningRate = 0.5;
      const optimizer = tf.train.sgd(learningRate);
      optimizer.minimize(() => sortPool2d(x, logits as tf.Tensor1D, caseOptions(c)).sum());
      optimizer.dispose();
      const after = await logits.data();
      const expected = before.map((v, i) => v - learningRate * refGrad.dLogits[i]);
      expect(mismatch(after, expected, FLOAT32_TOLERANCE, () => rankSumScale(c, ones))).toBeNull();
    } finally {
      x.dispose();
      logits.dispose();
    }
  });

  test("1000 forward + backward calls leave no tensor and no GPU buffer behind", async () => {
    await useBackend(backend);
    const c = randomCase([1, 6, 6, 8], 2, "same", 9);
    const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
    const logits = tf.tensor1d(Float32Array.from(c.logits));
    const dy = tf.tensor4d(randomDy(c, 10), outputShape(c.shape, c.padding));
    const gradients = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, caseOptions(c))
    );
    tf.dispose(gradients([x, logits], dy));
    await finishWork();
    // numBytesInGPU: bytes of tfjs-webgpu's buffers in use (undefined on cpu).
    const gpuBytes = () => (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU;
    const tensors = tf.memory().numTensors;
    const tfjsBytes = gpuBytes();
    const buffers = kernelSetBufferStats(DEFAULT_KERNEL_SET);
    for (let i = 0; i < 1000; i++) {
      const y = sortPool2d(x, logits, caseOptions(c));
      const grads = gradients([x, logits], dy);
      tf.dispose([y, ...grads]);
    }
    await finishWork();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(gpuBytes()).toBe(tfjsBytes);
    expect(kernelSetBufferStats(DEFAULT_KERNEL_SET)).toEqual(buffers);
    // Still correct after the loop (and the queue drained).
    const y = sortPool2d(x, logits, caseOptions(c));
    expect(mismatch(await y.data(), referenceForward(c).y, FLOAT32_TOLERANCE)).toBeNull();
    tf.dispose([y, x, logits, dy]);
  });

  test("rejects bad arguments with SortPoolArgumentError naming them", async () => {
    await useBackend(backend);
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    const logits = tf.zeros([2]) as tf.Tensor1D;
    const cases: [() => unknown, string][] = [
      [() => sortPool2d(tf.zeros([4, 4, 2]) as unknown as tf.Tensor4D, logits, { k: 2, padding: "same" }), "x"],
      [() => sortPool2d(tf.zeros([1, 4, 4, 2], "int32") as tf.Tensor4D, logits, { k: 2, padding: "same" }), "x"],
      [() => sortPool2d([1, 2] as unknown as tf.Tensor4D, logits, { k: 2, padding: "same" }), "x"],
      [() => sortPool2d(x, logits, { k: 5, padding: "same" }), "k"],
      [() => sortPool2d(x, logits, { k: 3, padding: "same" }), "logits"],
      [() => sortPool2d(x, tf.zeros([1, 2]) as unknown as tf.Tensor1D, { k: 2, padding: "same" }), "logits"],
      [() => sortPool2d(x, logits, { k: 2, padding: "full" as Padding }), "padding"],
      [() => sortPool2d(tf.zeros([1, 1, 4, 2]) as tf.Tensor4D, logits, { k: 2, padding: "valid" }), "shape"],
      [() => sortPool2d(x, logits, undefined as unknown as { k: number; padding: Padding }), "options"],
      [() => sortPool2d(x, logits, { k: 2, padding: "same", poolSize: [5, 2] }), "poolSize[0]"],
      [() => sortPool2d(x, logits, { k: 2, padding: "same", poolSize: 3 as unknown as Pair }), "poolSize"],
      [() => sortPool2d(x, logits, { k: 2, padding: "same", poolSize: [2, 1.5] }), "poolSize[1]"],
      [() => sortPool2d(x, logits, { k: 2, padding: "same", strides: [2, 0] }), "strides[1]"],
      [() => sortPool2d(x, logits, { k: 2, padding: "same", strides: [1, 2, 1] as unknown as Pair }), "strides"],
      [() => sortPool2d(x, logits, { k: 5, padding: "same", poolSize: [2, 2] }), "k"],
      [() => sortPool2d(x, logits, { k: 3, padding: "same", poolSize: [1, 2] }), "k"],
      [() => sortPool2d(x, tf.zeros([10]) as tf.Tensor1D, { k: 10, padding: "same", poolSize: [3, 3] }), "k"],
      // Neither k = 2 nor C·k = 4.
      [() => sortPool2d(x, tf.zeros([3]) as tf.Tensor1D, { k: 2, padding: "same", poolSize: [3, 3] }), "logits"],
      [() => sortPool2d(x, logits, { k: 2, padding: "valid", poolSize: [4, 4] }).dispose(), ""],
      [
        () => sortPool2d(tf.zeros([1, 4, 2, 2]) as tf.Tensor4D, logits, { k: 2, padding: "valid", poolSize: [3, 3] }),
        "shape",
      ],
      [
        () => sortPool2d(tf.zeros([1, 2, 4, 2]) as tf.Tensor4D, logits, { k: 2, padding: "valid", poolSize: [3, 1] }),
        "shape",
      ],
    ];
    const before = tf.memory().numTensors;
    for (const [call, argument] of cases) {
      let error: unknown;
      try {
        tf.tidy(() => {
          call();
        });
      } catch (e) {
        error = e;
      }
      if (argument === "") {
        expect(error, "a valid call").toBeUndefined();
        continue;
      }
      expect(error, argument).toBeInstanceOf(SortPoolArgumentError);
      expect((error as SortPoolArgumentError).argument, (error as Error).message).toBe(argument);
    }
    // Per-channel logits (C·k = 4 for C = 2, k = 2) are accepted; the k·1 logits too.
    tf.tidy(() => {
      expect(sortPool2d(x, tf.zeros([4]) as tf.Tensor1D, { k: 2, padding: "same", poolSize: [3, 3] }).shape).toEqual([
        1,
        2,
        2,
        2,
      ]);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, logits]);
  });
});

describe("sortPool2d on tfjs webgpu", () => {
  test("keeps data on the GPU: no readback in forward or backward", async () => {
    await useBackend("webgpu");
    const backend = tf.backend() as unknown as Record<string, unknown>;
    const c = randomCase([2, 6, 6, 8], 3, "same", 31);
    const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
    const logits = tf.tensor1d(Float32Array.from(c.logits));
    const dy = tf.tensor4d(randomDy(c, 32), outputShape(c.shape, c.padding));
    const readers = ["readSync", "read", "getBufferData", "readToGPU"] as const;
    const originals = readers.map((name) => backend[name]);
    let reads = 0;
    for (const name of readers) {
      backend[name] = () => {
        reads++;
        throw new Error(`${name} called during sortPool2d`);
      };
    }
    let outputs: tf.Tensor[];
    try {
      const y = sortPool2d(x, logits, caseOptions(c));
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, caseOptions(c))
      )(
        [x, logits],
        dy,
      );
      outputs = [y, ...grads];
    } finally {
      readers.forEach((name, i) => (backend[name] = originals[i]));
    }
    expect(reads).toBe(0);
    expect(mismatch(await outputs[0].data(), referenceForward(c).y, FLOAT32_TOLERANCE)).toBeNull();
    tf.dispose([...outputs, x, logits, dy]);
  });
});
