/**
 * The subnormal probe (src/webgpu/subnormal_probe.ts) on whatever adapter the engine gives, with
 * what it found printed per adapter fingerprint and checked where the adapter is one the project
 * records; and SPEC.md §4 "Subnormal values" on the WGSL entries: generated x with float32
 * subnormals (props/generators.ts kind `subnormals`) compared with the reference by the rule
 * (props/agreement.ts), on a device that flushes and on one that does not.
 */
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { checkForwardAgainstReference, checkGradientAgainstReference, entryCase } from "../../props/agreement.ts";
import { caseArbitrary } from "../../props/generators.ts";
import { VerdictBuilder } from "../../props/verdict.ts";
import type { SortPoolCase } from "../types.ts";
import { requestDeviceOrThrow } from "./device.ts";
import { wgslImplementations } from "./entries.ts";
import { probeSubnormals, type SubnormalBehaviour } from "./subnormal_probe.ts";
import { currentAdapterFingerprint, PINNED_ADAPTERS } from "./testing.ts";
import { createWgslImplementation } from "./wgsl.ts";

const raw = createWgslImplementation({ name: "wgsl-subnormal-test" });
afterAll(() => raw.dispose());

/** What the probe found on the adapters the project records (measured; a change is news). */
const KNOWN: Record<string, Omit<SubnormalBehaviour, "summary">> = {
  [PINNED_ADAPTERS.llvmpipeGl]: {
    comparisonsFlushInputs: false,
    arithmeticFlushesInputs: false,
    arithmeticFlushesOutputs: false,
    copiesKeepBits: true,
    flushes: false,
  },
  [PINNED_ADAPTERS.llvmpipeVulkan]: {
    comparisonsFlushInputs: false,
    arithmeticFlushesInputs: false,
    arithmeticFlushesOutputs: false,
    copiesKeepBits: true,
    flushes: false,
  },
  [PINNED_ADAPTERS.swiftShaderDawn]: {
    comparisonsFlushInputs: true,
    arithmeticFlushesInputs: true,
    arithmeticFlushesOutputs: true,
    copiesKeepBits: true,
    flushes: true,
  },
};

async function probe(): Promise<SubnormalBehaviour> {
  const { device } = await requestDeviceOrThrow("subnormal probe test");
  try {
    return await probeSubnormals(device);
  } finally {
    device.destroy();
  }
}

describe("subnormal probe", () => {
  test("says whether this adapter flushes float32 subnormals (printed per adapter)", async () => {
    const fingerprint = await currentAdapterFingerprint();
    const found = await probe();
    console.info(`subnormal probe on ${fingerprint.key}: ${found.summary}`);
    expect(found.flushes).toBe(
      found.comparisonsFlushInputs || found.arithmeticFlushesInputs || found.arithmeticFlushesOutputs,
    );
    // Loads and stores move bits on every WebGPU implementation the project knows.
    expect(found.copiesKeepBits).toBe(true);
    const known = KNOWN[fingerprint.key];
    if (known) {
      const { summary: _, ...fields } = found;
      expect(fields, fingerprint.key).toEqual(known);
    }
  });
});

describe("SPEC.md §4 subnormal values on the WGSL entries", () => {
  test("a subnormal ranks by its exact value in the WGSL kernels (bit keys), flushing device or not", async () => {
    // The kernels rank on integer keys made from the bits, so a subnormal ranks above +0 and
    // below the smallest normal even where arithmetic flushes: dx follows the exact ranking.
    const sub = 2 ** -140;
    const c: SortPoolCase = {
      x: new Float32Array([0, sub, -1, -2]),
      shape: [1, 2, 2, 1],
      logits: [0],
      k: 1,
      padding: "valid",
    };
    expect(Array.from((await raw.gradient(c, [1])).dx)).toEqual([0, 1, 0, 0]);
    const neg: SortPoolCase = { ...c, x: new Float32Array([-sub, -0, -1, -2]) };
    const dx = (await raw.gradient(neg, [1])).dx;
    expect(Object.is(dx[0], 0) && dx[1] === 1).toBe(true);
    // k = 1: y = 1·v[0], the subnormal itself, or on a device whose arithmetic flushes a zero of
    // its sign (SwiftShader gives +0 here).
    const flushes = (await probe()).flushes;
    const y = (await raw.forward(c)).y[0];
    expect(y === Math.fround(sub) || (flushes && Object.is(y, 0)), `y = ${y}`).toBe(true);
    const yNeg = (await raw.forward({ ...c, x: new Float32Array([-sub, -1, -2, -3]) })).y[0];
    expect(yNeg === -Math.fround(sub) || (flushes && Object.is(yNeg, -0)), `y = ${yNeg}`).toBe(true);
  });

  test("generated x with subnormals agrees with the reference by the rule (wgsl, wgsl@tfjs)", async () => {
    const flushes = (await probe()).flushes;
    const cases = fc.sample(
      caseArbitrary("float32", { kinds: ["subnormals"], windows: "any", perChannelLogits: true }),
      { numRuns: 12, seed: 20240611 },
    );
    expect(cases.some((c) => c.x.some((v) => v !== 0 && Math.abs(v) < 2 ** -126))).toBe(true);
    const failures: string[] = [];
    for (const entry of [raw, ...wgslImplementations.slice(1)]) {
      for (const c of cases) {
        const v = new VerdictBuilder();
        const note = () => `${entry.name} on a device that ${flushes ? "flushes" : "keeps"} subnormals`;
        const ec = entryCase(entry, c);
        checkForwardAgainstReference(v, "", entry, c, (await entry.forward(ec)).y, note);
        checkGradientAgainstReference(v, "", entry, c, await entry.gradient(ec, Float32Array.from(c.dy)), note);
        for (const m of v.build().mismatches) {
          failures.push(`${entry.name} [${c.shape}] k=${c.k}: ${m.check}: expected ${m.expected}, got ${m.actual}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
