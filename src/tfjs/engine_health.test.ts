/**
 * tfjs's own webgpu kernels on the engine under test (SORTPOOL_ENGINE: Deno's wgpu or Dawn):
 * tf.maxPool, its gradient and the other ops the layer's models use agree with tfjs's cpu backend,
 * and a kernel the engine rejects surfaces as a named WebGpuError instead of the zeros its
 * unwritten output holds.
 */
import { describe, expect, test } from "vitest";
import { mulberry32 } from "../random.ts";
import { engineInfo } from "../webgpu/engine.ts";
import { sortPool2dWithKernels } from "../op.ts";
import { registerKernelSet } from "../webgpu/tfjs_kernels.ts";
import { tf, throwGpuErrors, WebGpuError, withBackend } from "./runtime.ts";

type Run = (t: typeof tf) => tf.Tensor[];

/** Runs `run` on cpu and on webgpu with the same inputs; returns both results as float arrays. */
async function onBoth(run: Run): Promise<{ cpu: Float32Array[]; gpu: Float32Array[] }> {
  const go = (backend: "cpu" | "webgpu") =>
    withBackend(backend, async () => {
      const out = tf.tidy(() => run(tf));
      const values = await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
      tf.dispose(out);
      return values;
    });
  return { cpu: await go("cpu"), gpu: await go("webgpu") };
}

function input(shape: number[], seed: number): Float32Array {
  const random = mulberry32(seed);
  // Distinct values on a 1/64 grid: max pooling's argmax is unique, so gradients must match exactly.
  const n = shape.reduce((a, b) => a * b);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Float32Array.from(order, (v) => (v - n / 2) / 64);
}

const WINDOWS: readonly [number, number, "same" | "valid"][] = [[2, 2, "valid"], [2, 2, "same"], [3, 2, "same"]];

describe(`tfjs's webgpu kernels on ${engineInfo().implementation}`, () => {
  test.each(WINDOWS)(
    "tf.maxPool %ix%i stride 2 %s and its gradient equal tfjs's cpu backend",
    async (kh, kw, padding) => {
      const shape: [number, number, number, number] = [2, 7, 9, 5];
      const x = input(shape, kh * 10 + kw);
      const { cpu, gpu } = await onBoth((t) => {
        const xt = t.tensor4d(x, shape);
        const f = (a: tf.Tensor4D) => t.maxPool(a, [kh, kw], 2, padding);
        const y = f(xt);
        const dy = t.tensor4d(input(y.shape, 7), y.shape as [number, number, number, number]);
        const dx = t.grad((a: tf.Tensor) => f(a as tf.Tensor4D).mul(dy).sum())(xt);
        return [y, dx];
      });
      expect(gpu[0]).toEqual(cpu[0]);
      expect(gpu[1]).toEqual(cpu[1]);
    },
  );

  test("transpose, conv2d, matMul and softmax (the layer's models' other ops) agree with cpu", async () => {
    const x = input([2, 6, 6, 3], 3);
    const w = input([3, 3, 3, 4], 4);
    const { cpu, gpu } = await onBoth((t) => {
      const xt = t.tensor4d(x, [2, 6, 6, 3]);
      const conv = t.conv2d(xt, t.tensor4d(w, [3, 3, 3, 4]), 1, "same");
      const flat = conv.reshape([2, 144]);
      const logits = t.matMul(flat, t.transpose(flat)).div(100);
      return [t.transpose(xt, [0, 3, 1, 2]), conv, t.softmax(logits)];
    });
    expect(gpu[0]).toEqual(cpu[0]);
    for (const i of [1, 2]) {
      const worst = gpu[i].reduce((m, v, j) => Math.max(m, Math.abs(v - cpu[i][j]) / (1 + Math.abs(cpu[i][j]))), 0);
      expect(worst, `output ${i}`).toBeLessThan(1e-5);
    }
  });

  test("a kernel the engine rejects is a named WebGpuError, not its unwritten output", async () => {
    const broken = {
      variableNames: ["A"],
      outputShape: [4],
      shaderKey: "sortpool-test-rejected-kernel",
      dispatchLayout: { x: [0] },
      dispatch: [1, 1, 1],
      workgroupSize: [64, 1, 1],
      size: true,
      getUserCode: () =>
        "fn main(index : i32) { if (index < uniforms.size) { " +
        "setOutputAtIndex(index, getAByOutputIndex(index) + symbol_no_compiler_knows); } }",
    };
    const call = withBackend("webgpu", async () => {
      const backend = tf.backend() as unknown as {
        runWebGPUProgram(p: unknown, inputs: tf.TensorInfo[], dtype: string): tf.TensorInfo;
      };
      const a = tf.tensor1d([1, 2, 3, 4]);
      const out = tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(broken, [a], "float32"));
      const values = await out.data();
      tf.dispose([a, out]);
      return values;
    });
    const error = await call.then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(WebGpuError);
    expect((error as WebGpuError).kind).toBe("validation");
    expect((error as WebGpuError).message).toMatch(/tfjs's webgpu backend/);
    expect((error as WebGpuError).gpuMessage).toMatch(/symbol_no_compiler_knows/);
    // The errors were consumed: the next call runs normally.
    const ok = await withBackend("webgpu", async () => {
      const t = tf.add(tf.tensor1d([1, 2]), 1);
      const v = Array.from(await t.data());
      t.dispose();
      return v;
    });
    expect(ok).toEqual([2, 3]);
  });

  test("a kernel of this project that the engine rejects: every withBackend call throws, and throwGpuErrors after plain use", async () => {
    registerKernelSet("sortpool-test-rejected", {
      forward: "@compute @workgroup_size(64) fn main() { let a = symbol_no_compiler_knows; }",
    });
    const call = () =>
      sortPool2dWithKernels(
        tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]),
        tf.tensor1d([0, 0]),
        { k: 2, padding: "same" },
        "sortpool-test-rejected",
      );
    for (let i = 0; i < 2; i++) {
      const outcome = await withBackend("webgpu", async () => Array.from(await call().data())).then(
        (values) => `returned ${values}`,
        (e) => (e instanceof WebGpuError ? "WebGpuError" : String(e)),
      );
      expect(outcome, `call ${i}`).toBe("WebGpuError");
    }
    // The op used after tf.setBackend("webgpu") without withBackend: its result is zeros, and the
    // error is there to be thrown once the caller asks.
    const plain = await withBackend("webgpu", () => undefined).then(async () => {
      const y = call();
      const values = Array.from(await y.data());
      y.dispose();
      return values;
    });
    expect(plain).toHaveLength(2);
    await expect(throwGpuErrors()).rejects.toBeInstanceOf(WebGpuError);
    await expect(throwGpuErrors()).resolves.toBeUndefined();
  });
});
