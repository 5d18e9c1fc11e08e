/**
 * The `wgsl@tfjs` entry (the WGSL kernels inside tfjs's webgpu backend) and the registry rows of
 * both WGSL entries, on whatever adapter the engine gives (Deno's GL or Vulkan backend, or Dawn).
 */
import { describe, expect, test } from "vitest";
import { implementations } from "../registry.ts";
import { referenceForward, referenceGradient } from "../reference.ts";
import { tf, useBackend } from "../tfjs/runtime.ts";
import type { Shape4, SortPoolCase } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import { kernelSources } from "./shaders.ts";
import { FLOAT32_TOLERANCE, mismatch, randomCase, randomDy, rankSumScale } from "./testing.ts";
import { wgslImplementations } from "./entries.ts";
import type { WgslImplementation } from "./wgsl.ts";
import { createWgslTfjsImplementation } from "./wgsl_tfjs.ts";

async function expectAgreement(impl: WgslImplementation, c: SortPoolCase, label: string) {
  const dy = randomDy(c, 77);
  const got = await impl.forward(c);
  expect(mismatch(got.y, referenceForward(c).y, FLOAT32_TOLERANCE), `${label} y`).toBeNull();
  const grad = await impl.gradient(c, dy);
  const ref = referenceGradient(c, dy);
  expect(mismatch(grad.dx, ref.dx, FLOAT32_TOLERANCE), `${label} dx`).toBeNull();
  const scale = rankSumScale(c, dy);
  expect(mismatch(grad.dLogits, ref.dLogits, FLOAT32_TOLERANCE, () => scale), `${label} dLogits`).toBeNull();
}

describe("registry rows", () => {
  test("wgsl and wgsl@tfjs are registered, run on webgpu and declare the spec's tie rule", () => {
    const names = wgslImplementations.map((i) => i.name);
    expect(names).toEqual(["wgsl", "wgsl@tfjs"]);
    for (const impl of wgslImplementations) {
      expect(implementations).toContain(impl);
      expect(impl.device).toBe("webgpu");
      expect(impl.precision).toBe("float32");
      expect(impl.ties).toEqual({ kind: "spec" });
      expect(typeof impl.prepareBench).toBe("function");
    }
  });
});

describe("wgsl@tfjs", () => {
  const impl = wgslImplementations[1] as WgslImplementation;

  test("agrees with the reference (forward, and gradient through tf.grads)", async () => {
    let seed = 3;
    for (const shape of [[2, 5, 7, 8], [1, 4, 4, 12], [2, 3, 5, 3], [1, 5, 6, 2]] as Shape4[]) {
      for (const k of [1, 4]) {
        const c = randomCase(shape, k, seed % 2 ? "same" : "valid", seed++, seed % 3 === 0);
        await expectAgreement(impl, c, `[${shape}] k=${k} ${c.padding}`);
      }
    }
  });

  test("bench handles run on tfjs's device and free their tensors", async () => {
    await useBackend("webgpu");
    const before = tf.memory().numTensors;
    const handle = await impl.prepareBench(randomCase([2, 8, 8, 8], 3, "same", 5));
    await handle.forward();
    await handle.forwardBackward();
    await handle.dispose();
    await handle.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(handle.forward()).rejects.toThrow(/after dispose/);
  });

  test("kernel sets with their own shaders and knobs: a mutant is caught, the 2-D path agrees", async () => {
    const source = kernelSources().forwardVec4;
    const mutant = createWgslTfjsImplementation({
      name: "wgsl@tfjs-mutant",
      shaders: { forwardVec4: source.replace("var acc = w.x * s0;", "var acc = w.x * s1;") },
    });
    const c = randomCase([1, 4, 4, 8], 2, "same", 13);
    expect(mismatch((await mutant.forward(c)).y, referenceForward(c).y, FLOAT32_TOLERANCE)).not.toBeNull();
    await mutant.dispose();
    // The default kernel set, which sortPool2d uses, is untouched.
    expect(mismatch((await impl.forward(c)).y, referenceForward(c).y, FLOAT32_TOLERANCE)).toBeNull();

    const twoD = createWgslTfjsImplementation({
      name: "wgsl@tfjs-2d",
      maxWorkgroupsPerDimension: 3,
      workgroupSize: 16,
    });
    await expectAgreement(twoD, randomCase([2, 9, 11, 8], 3, "same", 14), "2-D vec4");
    await expectAgreement(twoD, randomCase([2, 7, 10, 3], 2, "valid", 15), "2-D scalar");
    await twoD.dispose();
  });

  test("splits calls past the storage-binding limit and refuses a window row past it without leaking tensors", async () => {
    const small = createWgslTfjsImplementation({ name: "wgsl@tfjs-small", maxBindingBytes: 4096 });
    await expectAgreement(small, randomCase([1, 8, 8, 32], 2, "same", 3), "rows split");
    await expectAgreement(small, randomCase([40, 3, 5, 3], 3, "valid", 4), "batch split");
    await expectAgreement(
      small.withBindingLimits({ minStorageBufferOffsetAlignment: 256 }),
      randomCase([9, 5, 3, 8], 4, "same", 5),
      "staged",
    );
    const wide = randomCase([1, 2, 64, 32], 2, "same", 3);
    await useBackend("webgpu");
    const before = tf.memory().numTensors;
    const error = await small.forward(wide).catch((e) => e);
    expect(error).toBeInstanceOf(SortPoolArgumentError);
    expect(error.argument).toBe("x");
    expect(error.message).toContain("4096 bytes");
    await expect(small.gradient(wide, randomDy(wide, 1))).rejects.toThrow(SortPoolArgumentError);
    expect(tf.memory().numTensors).toBe(before);
    await small.dispose();
  });
});
