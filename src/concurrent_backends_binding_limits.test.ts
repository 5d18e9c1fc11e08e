/**
 * Two edge-case input classes, pinned on every registry entry and on the `sortPool2d` op on both tfjs
 * backends:
 *
 * - calls on different tfjs backends started together: `Promise.all` of any entries'
 *   calls gives each call its own reference answer, with every tfjs kernel on the backend its entry
 *   declares (bench handles and the op included);
 * - auxiliary buffers past the device's binding limit: the reported gradient at
 *   [3000000, 3, 3, 1], k 2, "same" (x 108 MB fits the 128 MiB limit, the dLogits partial sums,
 *   192 MB, do not) is pinned in miniature by lowering the limit (300 images, a 16 KiB limit: x
 *   10.8 KB fits, the partial sums, 19.2 KB, do not); at its real size it is planned here without
 *   running, and the tfjs families on webgpu refuse it before any work. GPU errors on the tfjs
 *   path surface as errors, never as values.
 */
import { describe, expect, test } from "vitest";
import { traceKernels } from "../props/properties.ts";
import { caseOptions, sortPool2dWithKernels } from "./op.ts";
import { referenceForward, referenceGradient } from "./reference.ts";
import { implementation, implementations } from "./registry.ts";
import { outputShape, sizeOf } from "./spec.ts";
import { checkTfjsWebGpuSize } from "./tfjs/entries.ts";
import { finishWork, tf, type TfjsBackendName, withBackend } from "./tfjs/runtime.ts";
import type { Implementation, SortPoolCase } from "./types.ts";
import { SortPoolArgumentError } from "./validate.ts";
import { BufferTracker } from "./webgpu/buffers.ts";
import { requestAdapterOrThrow, requestDeviceOrThrow, WebGpuError } from "./webgpu/device.ts";
import type { WgslImplementation } from "./webgpu/implementation.ts";
import { SortPoolKernels, type SortPoolPlan } from "./webgpu/sort_pool_kernels.ts";
import { kernelSources } from "./webgpu/shaders.ts";
import { DEFAULT_KERNEL_SET, registerKernelSet, releaseKernelSet } from "./webgpu/tfjs_kernels.ts";
import {
  asFloat32,
  FLOAT32_TOLERANCE,
  mismatch,
  randomCase,
  randomDy,
  rankSumScale,
  sameBits,
} from "./webgpu/testing.ts";
import { createWgslImplementation } from "./webgpu/wgsl.ts";
import { createWgslTfjsImplementation } from "./webgpu/wgsl_tfjs.ts";

/** The input every concurrent call shares. */
const CONCURRENT_CASE: SortPoolCase = {
  x: new Float32Array([1, 4, 3, 2]),
  shape: [1, 2, 2, 1],
  logits: [0, 0],
  k: 2,
  padding: "valid",
};

/** The tfjs backend an entry declares, if any. */
function declared(entry: Implementation): TfjsBackendName | undefined {
  return entry.backend === "tfjs-cpu" ? "cpu" : entry.backend === "tfjs-webgpu" ? "webgpu" : undefined;
}

/** Runs `body` traced against `entry`'s declared backend (untraced for entries not on tfjs). */
async function traced<T>(entry: Implementation, body: () => Promise<T>): Promise<{ value: T; wrong: string[] }> {
  const backend = declared(entry);
  if (!backend) return { value: await body(), wrong: [] };
  const { value, wrong } = await traceKernels(backend, body);
  return { value, wrong: [...wrong.keys()] };
}

function expectForward(label: string, c: SortPoolCase, y: ArrayLike<number>) {
  expect(mismatch(y, referenceForward(c).y, FLOAT32_TOLERANCE), `${label} y`).toBeNull();
}

function expectGradient(
  label: string,
  c: SortPoolCase,
  dy: ArrayLike<number>,
  g: { dx: ArrayLike<number>; dLogits: ArrayLike<number> },
) {
  const ref = referenceGradient(c, dy);
  expect(mismatch(g.dx, ref.dx, FLOAT32_TOLERANCE), `${label} dx`).toBeNull();
  const scale = rankSumScale(c, dy);
  expect(mismatch(g.dLogits, ref.dLogits, FLOAT32_TOLERANCE, () => scale), `${label} dLogits`).toBeNull();
}

describe("calls on different tfjs backends started together", () => {
  test("the reported input: Promise.all of wgsl@tfjs and tfjs-topk@cpu, and of tfjs-topk@webgpu and tfjs-topk@cpu", async () => {
    for (const [a, b] of [["wgsl@tfjs", "tfjs-topk@cpu"], ["tfjs-topk@webgpu", "tfjs-topk@cpu"]]) {
      const [ea, eb] = [implementation(a), implementation(b)];
      const results = await Promise.all([
        traced(ea, () => ea.forward(CONCURRENT_CASE)),
        traced(eb, () => eb.forward(CONCURRENT_CASE)),
        traced(ea, () => ea.gradient(CONCURRENT_CASE, [1])),
        traced(eb, () => eb.gradient(CONCURRENT_CASE, [1])),
      ]);
      for (const [i, r] of results.entries()) {
        const name = i % 2 === 0 ? a : b;
        expect(r.wrong, `${name}: kernels on another backend`).toEqual([]);
        if ("y" in r.value) expect(Array.from(r.value.y), name).toEqual([3.5]);
        else {
          expect(Array.from(r.value.dx), name).toEqual([0, 0.5, 0.5, 0]);
          expect(Array.from(r.value.dLogits), name).toEqual([0.25, -0.25]);
        }
      }
    }
  });

  test("every entry's forward and gradient started at once, each on its own case, give their own answers", async () => {
    const jobs = implementations.flatMap((entry, i) => {
      const c = randomCase([2, 5, 3, 4], 1 + (i % 4), i % 2 ? "same" : "valid", 600 + i);
      const dy = randomDy(c, 700 + i);
      return [
        traced(entry, () => entry.forward(c)).then((r) => () => {
          expect(r.wrong, `${entry.name} forward: kernels on another backend`).toEqual([]);
          expectForward(entry.name, c, r.value.y);
        }),
        traced(entry, () => entry.gradient(c, dy)).then((r) => () => {
          expect(r.wrong, `${entry.name} gradient: kernels on another backend`).toEqual([]);
          expectGradient(entry.name, c, dy, r.value);
        }),
      ];
    });
    for (const check of await Promise.all(jobs)) check();
  });

  test("bench handles of tfjs entries on both backends run together, each on its own backend", async () => {
    const c = randomCase([2, 6, 6, 4], 3, "same", 11);
    const entries = implementations.filter((e) => declared(e) !== undefined && e.prepareBench);
    const handles = await Promise.all(entries.map((e) => e.prepareBench!(c)));
    try {
      const runs = await Promise.all(
        entries.flatMap((e, i) => [
          traced(e, () => handles[i].forward()).then((r) => [e.name, r.wrong] as const),
          traced(e, () => handles[i].forwardBackward()).then((r) => [e.name, r.wrong] as const),
        ]),
      );
      for (const [name, wrong] of runs) expect(wrong, `${name} bench handle`).toEqual([]);
    } finally {
      for (const h of handles) await h.dispose();
    }
  });

  test("sortPool2d on cpu and webgpu started together: each backend's kernels, the reference answer", async () => {
    const c = randomCase([1, 5, 6, 3], 2, "same", 21);
    const dyValues = Float32Array.from(randomDy(c, 22));
    const onBackend = (backend: TfjsBackendName) =>
      traceKernels(backend, () =>
        withBackend(backend, async () => {
          const [y, dx, dLogits] = tf.tidy(() => {
            const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
            const logits = tf.tensor1d(Float32Array.from(c.logits));
            const dy = tf.tensor4d(dyValues, outputShape(c.shape, c.padding));
            const f = (a: tf.Tensor, b: tf.Tensor) =>
              sortPool2dWithKernels(a as tf.Tensor4D, b as tf.Tensor1D, caseOptions(c), DEFAULT_KERNEL_SET);
            return [f(x, logits), ...tf.grads(f)([x, logits], dy)];
          });
          try {
            return { y: await y.data(), dx: await dx.data(), dLogits: await dLogits.data() };
          } finally {
            tf.dispose([y, dx, dLogits]);
          }
        }));
    const results = await Promise.all([onBackend("cpu"), onBackend("webgpu"), onBackend("cpu"), onBackend("webgpu")]);
    for (const [i, r] of results.entries()) {
      const backend = i % 2 ? "webgpu" : "cpu";
      expect([...r.wrong.keys()], backend).toEqual([]);
      expectForward(`op on ${backend}`, c, r.value.y);
      expectGradient(`op on ${backend}`, c, dyValues, r.value);
    }
  });

  test("one call asking for another backend inside its turn is an error, not a silent switch", async () => {
    await expect(withBackend("cpu", () => withBackend("webgpu", () => 1))).rejects.toThrow(/holding backend "cpu"/);
    // The same backend nests.
    expect(await withBackend("cpu", () => withBackend("cpu", () => 2))).toBe(2);
  });
});

/** The reported binding-limit case with `batch` images: [batch, 3, 3, 1], k 2, "same", x uniform in [-0.5, 0.5). */
function class7(batch: number, seed: number): { c: SortPoolCase; dy: Float32Array } {
  const c = randomCase([batch, 3, 3, 1], 2, "same", seed);
  return {
    c: { ...c, x: Float32Array.from(c.x, (v) => v / 8), logits: [0.3, -0.2] },
    dy: asFloat32(randomDy(c, seed + 1)),
  };
}

/** A 16 KiB binding limit: for 300 images x (10,800 bytes) fits, the partial sums (19,200 bytes) do not. */
const MINI_LIMIT = 16_384;

describe("auxiliary buffers past the device's binding limit", () => {
  test("the real input is planned into chunks that each fit 128 MiB (planned, not run)", async () => {
    const { device } = await requestDeviceOrThrow("binding-limit plan");
    try {
      const kernels = new SortPoolKernels(device, kernelSources(), new BufferTracker());
      // At WebGPU's default 128 MiB binding limit (every adapter has at least that; SwiftShader and
      // GPUs have more, where the partial sums would fit whole), passed per call.
      const limit = Math.min(device.limits.maxStorageBufferBindingSize, 2 ** 27);
      const plan = kernels.plan([3_000_000, 3, 3, 1], 2, "same", { maxStorageBufferBindingSize: limit });
      expect(plan.xBytes).toBe(108_000_000);
      expect(plan.workItems * 16).toBe(192_000_000);
      expect(plan.chunks.length).toBeGreaterThan(1);
      for (const chunk of plan.chunks) {
        for (const size of [chunk.x.size, chunk.y.size, chunk.partialBytes]) {
          expect(size).toBeLessThanOrEqual(limit);
        }
      }
    } finally {
      device.destroy();
    }
  });

  test("in miniature (limit lowered): wgsl and wgsl@tfjs split it, equal the reference, bitwise the same each run", async () => {
    const { c, dy } = class7(300, 5);
    const sizes = { x: sizeOf(c.shape) * 4, partials: sizeOf(outputShape(c.shape, c.padding)) * 16 };
    expect(sizes.x).toBeLessThan(MINI_LIMIT);
    expect(sizes.partials).toBeGreaterThan(MINI_LIMIT);
    for (const name of ["wgsl", "wgsl@tfjs"]) {
      const entry = (implementation(name) as WgslImplementation).withBindingLimits({
        maxStorageBufferBindingSize: MINI_LIMIT,
      });
      expectForward(entry.name, c, (await entry.forward(c)).y);
      const first = await entry.gradient(c, dy);
      expectGradient(entry.name, c, dy, first);
      for (let run = 0; run < 3; run++) {
        const again = await entry.gradient(c, dy);
        expect(sameBits(asFloat32(again.dLogits), asFloat32(first.dLogits)), `${name} dLogits run ${run}`).toBe(true);
        expect(sameBits(asFloat32(again.dx), asFloat32(first.dx)), `${name} dx run ${run}`).toBe(true);
      }
    }
  });

  test("in miniature: every other entry gives the reference answer", async () => {
    const { c, dy } = class7(300, 5);
    for (const entry of implementations.filter((e) => !e.name.startsWith("wgsl"))) {
      expectForward(entry.name, c, (await entry.forward(c)).y);
      expectGradient(entry.name, c, dy, await entry.gradient(c, dy));
    }
  });

  test("in miniature: sortPool2d on cpu and on webgpu (a kernel set with the lowered limit) equal the reference", async () => {
    const { c, dy } = class7(300, 5);
    const kernelSet = "class7-mini";
    registerKernelSet(kernelSet, {}, { maxBindingBytes: MINI_LIMIT });
    try {
      for (const backend of ["cpu", "webgpu"] as const) {
        const r = await withBackend(backend, async () => {
          const [y, dx, dLogits] = tf.tidy(() => {
            const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
            const logits = tf.tensor1d(Float32Array.from(c.logits));
            const f = (a: tf.Tensor, b: tf.Tensor) =>
              sortPool2dWithKernels(a as tf.Tensor4D, b as tf.Tensor1D, caseOptions(c), kernelSet);
            return [f(x, logits), ...tf.grads(f)([x, logits], tf.tensor4d(dy, outputShape(c.shape, c.padding)))];
          });
          try {
            return { y: await y.data(), dx: await dx.data(), dLogits: await dLogits.data() };
          } finally {
            tf.dispose([y, dx, dLogits]);
          }
        });
        expectForward(`op on ${backend}`, c, r.y);
        expectGradient(`op on ${backend}`, c, dy, r);
      }
    } finally {
      releaseKernelSet(kernelSet);
    }
  });

  test("the real input on tfjs's families on webgpu is refused before any work, naming x", async () => {
    const batch = 3_000_000;
    const c: SortPoolCase = {
      x: new Float32Array(batch * 9),
      shape: [batch, 3, 3, 1],
      logits: [0.3, -0.2],
      k: 2,
      padding: "same",
    };
    const dy = new Float32Array(batch * 4);
    // The [B·Ho·Wo·C, 4] windows tensor is 192 MB: past the 128 MiB binding limit of Mesa's
    // adapters (WebGPU's default), within SwiftShader's 1 GiB and many GPUs' limits.
    const windowsBytes = batch * 4 * 4 * 4;
    const deviceLimit = (await requestAdapterOrThrow()).limits.maxStorageBufferBindingSize;
    const before = await withBackend("webgpu", () => tf.memory().numTensors);
    for (const entry of implementations.filter((e) => e.backend === "tfjs-webgpu" && !e.name.startsWith("wgsl"))) {
      const gathersByIndex = entry.name.startsWith("tfjs-topk");
      if (windowsBytes <= deviceLimit && !gathersByIndex) {
        // This device binds it (the entry would run the 27M-element input): its guard is checked
        // by planning at WebGPU's default 128 MiB instead.
        expect(() => checkTfjsWebGpuSize(entry.name, c, 2 ** 27, gathersByIndex), entry.name).toThrow(
          "maxStorageBufferBindingSize",
        );
        continue;
      }
      const error = await entry.gradient(c, dy).catch((e) => e);
      expect(error, entry.name).toBeInstanceOf(SortPoolArgumentError);
      expect(error.argument).toBe("x");
      // Past the device's binding limit; else (tfjs-topk) past its exact float32 index range, 2^24.
      expect(error.message).toContain(windowsBytes > deviceLimit ? "maxStorageBufferBindingSize" : "2^24");
    }
    expect(await withBackend("webgpu", () => tf.memory().numTensors)).toBe(before);
  });

  test("a GPU validation error on either host is thrown (WebGpuError), never returned as a value", async () => {
    // A plan that binds x past the end of its buffer: what the device rejects, the host must not hide.
    const overrun = (plan: SortPoolPlan): SortPoolPlan => ({
      ...plan,
      chunks: plan.chunks.map((ch) => ({ ...ch, x: { offset: ch.x.offset, size: ch.x.size + (1 << 20) } })),
    });
    const c = randomCase([1, 4, 4, 4], 2, "same", 31);
    const raw = createWgslImplementation({ name: "wgsl-overrun", mutatePlan: overrun });
    const onTfjs = createWgslTfjsImplementation({ name: "wgsl@tfjs-overrun", mutatePlan: overrun });
    try {
      for (const entry of [raw, onTfjs]) {
        await expect(entry.forward(c), entry.name).rejects.toThrow(WebGpuError);
        await expect(entry.gradient(c, randomDy(c, 32)), entry.name).rejects.toThrow(WebGpuError);
      }
      // The op used directly surfaces the error at the next call on the device (or through kernelErrors).
      const kernelSet = "overrun-op";
      registerKernelSet(kernelSet, {}, { mutatePlan: overrun });
      try {
        const next = await withBackend("webgpu", async () => {
          const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
          const logits = tf.tensor1d(Float32Array.from(c.logits));
          const y = sortPool2dWithKernels(x, logits, caseOptions(c), kernelSet);
          await finishWork();
          // Let the error scopes answer, then call again.
          await new Promise((resolve) => setTimeout(resolve, 50));
          try {
            sortPool2dWithKernels(x, logits, caseOptions(c), kernelSet).dispose();
            return undefined;
          } catch (e) {
            return e;
          } finally {
            tf.dispose([x, logits, y]);
          }
        });
        expect(next).toBeInstanceOf(WebGpuError);
      } finally {
        releaseKernelSet(kernelSet);
      }
    } finally {
      await raw.dispose();
      onTfjs.dispose();
    }
  });

  test("a shape whose single window row exceeds the limit is refused by both hosts and the op, naming x", async () => {
    const c = randomCase([1, 2, 64, 32], 2, "same", 41) as SortPoolCase; // one window row: 16 KiB
    for (const name of ["wgsl", "wgsl@tfjs"]) {
      const entry = (implementation(name) as WgslImplementation).withBindingLimits({
        maxStorageBufferBindingSize: 4096,
      });
      const error = await entry.forward(c).catch((e) => e);
      expect(error, name).toBeInstanceOf(SortPoolArgumentError);
      expect(error.argument).toBe("x");
    }
    const kernelSet = "row-too-wide";
    registerKernelSet(kernelSet, {}, { maxBindingBytes: 4096 });
    try {
      const error = await withBackend("webgpu", () => {
        const before = tf.memory().numTensors;
        const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
        const logits = tf.tensor1d(Float32Array.from(c.logits));
        try {
          sortPool2dWithKernels(x, logits, caseOptions(c), kernelSet).dispose();
          return undefined;
        } catch (e) {
          return e;
        } finally {
          tf.dispose([x, logits]);
          // Refused before any work: no output tensor was made.
          expect(tf.memory().numTensors).toBe(before);
        }
      });
      expect(error).toBeInstanceOf(SortPoolArgumentError);
      expect((error as SortPoolArgumentError).argument).toBe("x");
    } finally {
      releaseKernelSet(kernelSet);
    }
  });
});
