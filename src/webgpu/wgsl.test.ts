/**
 * The `wgsl` host (raw GPUDevice) against the float64 reference, on whatever adapter the engine
 * gives (CI runs this file under Deno's GL and Vulkan backends and under Dawn). Limits are read
 * from the device or passed per call, never assumed. No adapter is a failure, never a skip.
 */
import { afterAll, describe, expect, test } from "vitest";
import { referenceForward, referenceGradient } from "../reference.ts";
import type { Padding, Shape4, SortPoolCase } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import { BufferTracker } from "./buffers.ts";
import { requestDeviceOrThrow } from "./device.ts";
import { SortPoolKernels } from "./sort_pool_kernels.ts";
import { KERNEL_FILES, kernelSources, kernelUrl } from "./shaders.ts";
import { asFloat32, FLOAT32_TOLERANCE, mismatch, randomCase, randomDy, rankSumScale, sameBits } from "./testing.ts";
import { createWgslImplementation } from "./wgsl.ts";

const impl = createWgslImplementation({ name: "wgsl-test" });
afterAll(() => impl.dispose());

/** Checks forward and gradient of `c` against the reference within the float32 tolerance. */
async function expectAgreement(implementation: typeof impl, c: SortPoolCase, dy: ArrayLike<number>, label: string) {
  const ref = referenceForward(c);
  const got = await implementation.forward(c);
  expect(got.shape, label).toEqual(ref.shape);
  expect(mismatch(got.y, ref.y, FLOAT32_TOLERANCE), `${label} y`).toBeNull();
  const refGrad = referenceGradient(c, dy);
  const grad = await implementation.gradient(c, dy);
  expect(mismatch(grad.dx, refGrad.dx, FLOAT32_TOLERANCE), `${label} dx`).toBeNull();
  const scale = rankSumScale(c, dy);
  expect(mismatch(grad.dLogits, refGrad.dLogits, FLOAT32_TOLERANCE, () => scale), `${label} dLogits`).toBeNull();
}

// Shapes that reach every kernel variant: vec4 (C % 4 == 0) and scalar, one or two channel
// groups per invocation (even / odd count per pixel), odd and even H and W, single cells.
const SHAPES: Shape4[] = [
  [2, 5, 7, 8],
  [1, 4, 6, 4],
  [2, 3, 5, 12],
  [2, 5, 4, 3],
  [1, 6, 5, 6],
  [3, 1, 1, 1],
  [1, 2, 9, 1],
];

describe("wgsl kernels on a raw device", () => {
  test("agree with the reference: k 1..4, both paddings, every kernel variant", async () => {
    let seed = 1;
    for (const shape of SHAPES) {
      for (const k of [1, 2, 3, 4]) {
        for (const padding of ["same", "valid"] as Padding[]) {
          if (padding === "valid" && (shape[1] < 2 || shape[2] < 2)) continue;
          const c = randomCase(shape, k, padding, seed++);
          await expectAgreement(impl, c, randomDy(c, seed++), `[${shape}] k=${k} ${padding}`);
        }
      }
    }
  });

  test("agree with the reference on windows full of exact ties and signed zeros", async () => {
    for (const k of [1, 2, 3, 4]) {
      const c = randomCase([2, 7, 5, 8], k, "same", 100 + k, true);
      await expectAgreement(impl, c, randomDy(c, 200 + k), `ties k=${k}`);
      const s = randomCase([1, 5, 6, 3], k, "valid", 300 + k, true);
      await expectAgreement(impl, s, randomDy(s, 400 + k), `ties scalar k=${k}`);
    }
  });

  test("route gradient by the tie rule: equal values rank by cell, -0 equals +0", async () => {
    // One window of four equal values (as -0, +0, +0, -0): rank r is cell r.
    const logits = [0.3, -0.2, 0.1, 0.4];
    const c: SortPoolCase = {
      x: new Float32Array([-0, 0, 0, -0]),
      shape: [1, 2, 2, 1],
      logits,
      k: 4,
      padding: "valid",
    };
    const w = logits.map(Math.exp);
    const total = w.reduce((a, b) => a + b);
    const { dx } = await impl.gradient(c, [2]);
    for (let r = 0; r < 4; r++) expect(dx[r]).toBeCloseTo((2 * w[r]) / total, 6);
    // k = 2 on [5, 5, 5, 1]: cells 0 and 1 take ranks 0 and 1, cell 2 (also 5) gets nothing.
    const d = await impl.gradient({ ...c, x: new Float32Array([5, 5, 5, 1]), logits: [0, 0], k: 2 }, [1]);
    expect(Array.from(d.dx)).toEqual([0.5, 0.5, 0, 0]);
  });

  test("forward of NaN and ±Infinity follows the spec", async () => {
    const windows: [number[], number, number][] = [
      // [cells], k, expected y with logits all 0
      [[1, NaN, 3, 2], 1, NaN],
      [[Infinity, NaN, 3, 2], 1, NaN],
      [[Infinity, -Infinity, 0, 0], 1, Infinity],
      [[Infinity, -Infinity, 0, 0], 2, Infinity],
      [[Infinity, -Infinity, 0, 0], 4, NaN],
      [[-Infinity, -Infinity, -Infinity, -Infinity], 4, -Infinity],
      [[-Infinity, -3, -Infinity, -5], 1, -3],
    ];
    for (const [cells, k, expected] of windows) {
      const c: SortPoolCase = {
        x: new Float32Array(cells),
        shape: [1, 2, 2, 1],
        logits: new Array(k).fill(0),
        k,
        padding: "valid",
      };
      const { y } = await impl.forward(c);
      expect(Object.is(y[0], expected) || (Number.isNaN(y[0]) && Number.isNaN(expected)), `${cells} k=${k}`)
        .toBe(true);
      expect(mismatch(y, referenceForward(c).y, FLOAT32_TOLERANCE)).toBeNull();
    }
    // Padded cells: ignored for k = 1, zero-valued participants for k > 1 ("same", odd width).
    const border: SortPoolCase = {
      x: new Float32Array([-1, -2]),
      shape: [1, 2, 1, 1],
      logits: [0],
      k: 1,
      padding: "same",
    };
    expect((await impl.forward(border)).y[0]).toBe(-1);
    // k = 2 ranks the two padded zeros above -1 and -2.
    expect((await impl.forward({ ...border, logits: [0, 0], k: 2 })).y[0] === 0).toBe(true);
  });

  test("are bitwise identical across 10 runs (y, dx and dLogits)", async () => {
    const c = randomCase([4, 18, 22, 8], 4, "same", 7);
    const dy = randomDy(c, 8);
    const first = await impl.forward(c);
    const firstGrad = await impl.gradient(c, dy);
    for (let run = 1; run < 10; run++) {
      expect(sameBits(asFloat32((await impl.forward(c)).y), asFloat32(first.y)), `y run ${run}`).toBe(true);
      const grad = await impl.gradient(c, dy);
      expect(sameBits(asFloat32(grad.dx), asFloat32(firstGrad.dx)), `dx run ${run}`).toBe(true);
      expect(sameBits(asFloat32(grad.dLogits), asFloat32(firstGrad.dLogits)), `dLogits run ${run}`).toBe(true);
    }
  });

  test("concurrent calls return each call's own result", async () => {
    const cases = [0, 1, 2, 3].map((i) => randomCase([1, 6, 6, 4], 1 + i, "same", 50 + i));
    const results = await Promise.all(cases.map((c) => impl.forward(c)));
    cases.forEach((c, i) => expect(mismatch(results[i].y, referenceForward(c).y, FLOAT32_TOLERANCE)).toBeNull());
  });
});

describe("wgsl host", () => {
  test("splits dispatches past maxComputeWorkgroupsPerDimension into a 2-D grid", async () => {
    const options = { maxWorkgroupsPerDimension: 3, workgroupSize: 16 };
    const { device } = await requestDeviceOrThrow("2-D dispatch test");
    try {
      const kernels = new SortPoolKernels(device, kernelSources(), new BufferTracker(), options);
      for (const shape of [[2, 9, 11, 8], [2, 7, 10, 3]] as Shape4[]) {
        const plan = kernels.plan(shape, 3, "same");
        const chunk = plan.chunks[0];
        if (chunk.family !== "2x2") throw new Error(`[${shape}]: expected a 2x2 plan, received ${chunk.family}`);
        const [gx, gy = 1] = chunk.backwardGroups;
        expect(gx, `[${shape}]`).toBe(3);
        expect(gy, `[${shape}]`).toBeGreaterThan(1);
        expect(gx * gy * 16).toBeGreaterThanOrEqual(plan.workItems);
      }
    } finally {
      device.destroy();
    }
    const twoD = createWgslImplementation({ name: "wgsl-2d", ...options });
    try {
      for (const shape of [[2, 9, 11, 8], [2, 7, 10, 3]] as Shape4[]) {
        const c = randomCase(shape, 3, "same", shape[3]);
        await expectAgreement(twoD, c, randomDy(c, 9), `2-D [${shape}]`);
      }
    } finally {
      await twoD.dispose();
    }
  });

  test("splits calls past the storage-binding limit (batch, rows, staged) and agrees with the reference", async () => {
    // 4 KiB bindings: [1, 8, 8, 32] (8 KiB of x) splits along rows, [6, 3, 5, 3] along the batch;
    // alignments of 256 (WebGPU's largest minStorageBufferOffsetAlignment) and 1024 stage the chunks
    // whose offsets are not multiples of them.
    const small = createWgslImplementation({ name: "wgsl-small-binding", maxBindingBytes: 4096 });
    try {
      const cases: [Shape4, number, Padding][] = [
        [[1, 8, 8, 32], 2, "same"],
        [[1, 9, 7, 32], 3, "valid"],
        [[1, 9, 7, 32], 4, "same"],
        [[40, 3, 5, 3], 2, "same"],
        [[40, 5, 3, 8], 1, "valid"],
      ];
      let seed = 30;
      for (const [shape, k, padding] of cases) {
        for (const alignment of [256, 1024]) {
          const c = randomCase(shape, k, padding, seed++);
          const limited = small.withBindingLimits({ minStorageBufferOffsetAlignment: alignment });
          await expectAgreement(limited, c, randomDy(c, seed++), `[${shape}] k=${k} ${padding} align ${alignment}`);
        }
      }
      // A single window row past the limit cannot be split further: refused, naming x and the limit.
      const wide = randomCase([1, 2, 64, 32], 2, "same", 3); // one window row: 2 · 64 · 32 · 4 = 16 KiB
      const error = await small.forward(wide).catch((e) => e);
      expect(error).toBeInstanceOf(SortPoolArgumentError);
      expect(error.argument).toBe("x");
      expect(error.message).toContain("4096 bytes");
      await expect(small.gradient(wide, randomDy(wide, 1))).rejects.toThrow(SortPoolArgumentError);
    } finally {
      await small.dispose();
    }
    // Planned at a 128 MiB binding limit, not allocated: WebGPU's default, which every adapter
    // supports (Mesa's have exactly that, SwiftShader 1 GiB, GPUs often more), passed as the
    // per-call limit so that the plan does not depend on the adapter.
    const { device } = await requestDeviceOrThrow("binding limit test");
    try {
      const kernels = new SortPoolKernels(device, kernelSources(), new BufferTracker());
      const limit = Math.min(device.limits.maxStorageBufferBindingSize, 2 ** 27);
      const limits = { maxStorageBufferBindingSize: limit };
      // x (108 MB) fits, the partial sums (192 MB) do not: two batch chunks.
      const plan = kernels.plan([3_000_000, 3, 3, 1], 2, "same", limits);
      expect(plan.chunks.length).toBe(2);
      for (const chunk of plan.chunks) {
        expect(Math.max(chunk.x.size, chunk.y.size, chunk.partialBytes)).toBeLessThanOrEqual(limit);
      }
      // One window row past the limit: 2 · 4096 · 4100 · 4 bytes > 128 MiB.
      expect(() => kernels.plan([1, 2, 4096, 4100], 2, "same", limits)).toThrow(String(limit));
      expect(() => kernels.plan([1, 2, 4096, 4100], 2, "same", limits)).toThrow(SortPoolArgumentError);
      // Without a per-call limit the plan uses the device's own: chunks that each fit it.
      const own = device.limits.maxStorageBufferBindingSize;
      for (const chunk of kernels.plan([3_000_000, 3, 3, 1], 2, "same").chunks) {
        expect(Math.max(chunk.x.size, chunk.y.size, chunk.partialBytes)).toBeLessThanOrEqual(own);
      }
    } finally {
      device.destroy();
    }
  });

  test("100 forward + backward calls leave no GPU buffer behind; dispose frees all", async () => {
    const host = createWgslImplementation({ name: "wgsl-leak" });
    const c = randomCase([2, 5, 6, 8], 3, "same", 11);
    const dy = randomDy(c, 12);
    await host.forward(c);
    await host.gradient(c, dy);
    const settled = host.bufferStats();
    for (let i = 0; i < 100; i++) {
      await host.forward(c);
      await host.gradient(c, dy);
    }
    expect(host.bufferStats()).toEqual(settled);
    const bench = await host.prepareBench(c);
    await bench.forwardBackward();
    expect(host.bufferStats().live).toBeGreaterThan(settled.live);
    await bench.dispose();
    expect(host.bufferStats().live).toBe(settled.live);
    await host.dispose();
    const end = host.bufferStats();
    expect(end.live).toBe(0);
    expect(end.created).toBe(end.destroyed);
  });

  test("fails loudly when there is no adapter", async () => {
    const gpu = navigator.gpu;
    const original = gpu.requestAdapter;
    const host = createWgslImplementation({ name: "wgsl-no-adapter" });
    (gpu as { requestAdapter: unknown }).requestAdapter = () => Promise.resolve(null);
    try {
      await expect(host.forward(randomCase([1, 2, 2, 1], 1, "same", 1))).rejects.toThrow(/no WebGPU adapter/);
    } finally {
      (gpu as { requestAdapter: unknown }).requestAdapter = original;
    }
    // The failure is not cached: with the adapter back, the same host works.
    const c = randomCase([1, 2, 2, 1], 1, "same", 1);
    expect((await host.forward(c)).y[0]).toBe(referenceForward(c).y[0]);
    await host.dispose();
  });

  test("runs overridden shaders: a mutated kernel is caught, a broken one rejects with the compiler's message", async () => {
    const source = kernelSources().forwardVec4;
    const mutated = source.replace("var acc = w.x * s0;", "var acc = w.x * s1;");
    expect(mutated).not.toBe(source);
    const mutant = createWgslImplementation({ name: "wgsl-mutant", shaders: { forwardVec4: mutated } });
    try {
      const c = randomCase([1, 4, 4, 8], 2, "same", 21);
      expect(mismatch((await mutant.forward(c)).y, referenceForward(c).y, FLOAT32_TOLERANCE)).not.toBeNull();
    } finally {
      await mutant.dispose();
    }
    const broken = createWgslImplementation({ name: "wgsl-broken", shaders: { forwardVec4: source + "\nfn oops( {" } });
    await expect(broken.forward(randomCase([1, 2, 2, 4], 1, "same", 1))).rejects.toThrow(
      /forwardVec4: compilation failed/,
    );
    await broken.dispose();
    expect(() => createWgslImplementation({ name: "x", shaders: { nope: "" } as never })).toThrow(/shaders.nope/);
  });
});

describe("kernel files", () => {
  test("each file documents bindings, dispatch and the spec sections it implements", async () => {
    for (const file of Object.values(KERNEL_FILES)) {
      const text = await Deno.readTextFile(kernelUrl(file));
      const header = text.slice(0, text.search(/^[^/\n]/m));
      expect(header, file).toContain("Bindings");
      expect(header, file).toContain("Dispatch");
      expect(header, file).toContain("SPEC.md §");
    }
  });
});
