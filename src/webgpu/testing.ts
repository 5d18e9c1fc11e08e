/**
 * Helpers shared by the WGSL tests: seeded cases, float32 comparisons against the float64
 * reference, and the adapter fingerprint that keys bit pins (a pin holds for the adapter it was
 * recorded on, never for "any WebGPU"; an adapter without pins gets the spec-level checks).
 *
 * Tolerance (float32 implementations against the float64 reference): |actual − expected| ≤
 * `FLOAT32_TOLERANCE` · (1 + |expected|) for y and dx, and ≤ `FLOAT32_TOLERANCE` · (1 + Σ|v·dy|)
 * for dLogits, whose natural scale is the sum it differentiates. NaN must meet NaN and ±Infinity
 * itself. 1e-5 is ~80 float32 ulps: softmax runs in float32 with the adapter's own exp, and the
 * rank sums add thousands of float32 terms.
 *
 * @module
 */
import { outputShape, sizeOf } from "../spec.ts";
import { mulberry32 } from "../random.ts";
import type { Padding, Pair, Shape4, SortPoolCase } from "../types.ts";
import { requestAdapterOrThrow } from "./device.ts";
import { engineInfo } from "./engine.ts";

/** Relative tolerance of float32 results against the float64 reference (see the module docs). */
export const FLOAT32_TOLERANCE = 1e-5;

/**
 * A random case; with `ties` the values come from a 5-element set so windows hold exact ties
 * (and signed zeros), else from multiples of 1/64 in [-4, 4).
 */
export function randomCase(shape: Shape4, k: number, padding: Padding, seed: number, ties = false): SortPoolCase {
  const random = mulberry32(seed);
  const set = [-1, -0, 0, 0.5, 2];
  const x = Float32Array.from(
    { length: sizeOf(shape) },
    () => ties ? set[Math.floor(random() * set.length)] : Math.floor(random() * 512 - 256) / 64,
  );
  const logits = Array.from({ length: k }, () => Math.floor(random() * 64 - 32) / 16);
  return { x, shape, logits, k, padding };
}

/** Upstream gradient for a case (multiples of 1/16 in [-2, 2)). */
export function randomDy(c: SortPoolCase, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from(
    { length: sizeOf(outputShape(c.shape, c.padding, c)) },
    () => Math.floor(random() * 64 - 32) / 16,
  );
}

/** Options of {@link randomWindowCase}. */
export interface WindowCaseOptions {
  readonly shape: Shape4;
  readonly k: number;
  readonly padding: Padding;
  readonly poolSize: Pair;
  readonly strides: Pair;
  /** Logits of length C·k (per channel) instead of k. */
  readonly perChannel: boolean;
  readonly seed: number;
}

/**
 * A random case with any window, for the general kernels: x mixes multiples of 1/64 in [-4, 4)
 * with exact ties and signed zeros (about 2 cells in 5) and a few NaN and ±Infinity (1 in 50);
 * logits are multiples of 1/16 in [-2, 2) with some -Infinity (zero weights, so 0·∞ products
 * reach the sums).
 */
export function randomWindowCase(o: WindowCaseOptions): SortPoolCase {
  const random = mulberry32(o.seed);
  const ties = [-1, -0, 0, 0.5, 2];
  const odd = [NaN, Infinity, -Infinity];
  const x = Float32Array.from({ length: sizeOf(o.shape) }, () => {
    const u = random();
    if (u < 0.02) return odd[Math.floor(random() * odd.length)];
    if (u < 0.4) return ties[Math.floor(random() * ties.length)];
    return Math.floor(random() * 512 - 256) / 64;
  });
  const logits = Array.from(
    { length: o.perChannel ? o.k * o.shape[3] : o.k },
    () => random() < 0.1 ? -Infinity : Math.floor(random() * 64 - 32) / 16,
  );
  return { x, shape: o.shape, logits, k: o.k, padding: o.padding, poolSize: o.poolSize, strides: o.strides };
}

/**
 * Upstream gradient with signed zeros (so the sign of a zero dx is tested: -0 · w is -0) and, with
 * `nonFinite`, a few ±Infinity and NaN: otherwise multiples of 1/16 in [-2, 2).
 */
export function randomSignedDy(c: SortPoolCase, seed: number, nonFinite = false): Float32Array {
  const random = mulberry32(seed);
  const odd = [Infinity, -Infinity, NaN];
  return Float32Array.from({ length: sizeOf(outputShape(c.shape, c.padding, c)) }, () => {
    const u = random();
    if (u < 0.12) return -0;
    if (nonFinite && u < 0.14) return odd[Math.floor(random() * odd.length)];
    return Math.floor(random() * 64 - 32) / 16;
  });
}

/**
 * The first element where `actual` misses `expected` by more than `tolerance · (1 + scale(i))`,
 * described, or null when all agree. `scale` defaults to |expected[i]|.
 */
export function mismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  scale: (i: number) => number = (i) => Math.abs(expected[i]),
): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) return `index ${i}: ${a}, expected ${e}`;
      continue;
    }
    if (!(a === e || Math.abs(a - e) <= tolerance * (1 + scale(i)))) return `index ${i}: ${a}, expected ${e}`;
  }
  return null;
}

/**
 * The first index where `actual` and `expected` are both zeros of different sign, described, or
 * null. SPEC.md §5 fixes the sign of a zero y (the sum starts from the first product) and of a
 * zero dx (w[r]·dy at kept cells, +0 elsewhere); compare those with this on top of
 * {@link mismatch}, which treats +0 and -0 as equal.
 */
export function signedZeroMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  for (let i = 0; i < Math.min(actual.length, expected.length); i++) {
    if (actual[i] === 0 && expected[i] === 0 && !Object.is(actual[i], expected[i])) {
      return `index ${i}: ${Object.is(actual[i], -0) ? "-0" : "+0"}, expected ${
        Object.is(expected[i], -0) ? "-0" : "+0"
      }`;
    }
  }
  return null;
}

/** Σ |v·dy| over the ranked values the reference used: the scale of dLogits (upper bound via |x|). */
export function rankSumScale(c: SortPoolCase, dy: ArrayLike<number>): number {
  let maxAbs = 0;
  for (let i = 0; i < c.x.length; i++) if (Number.isFinite(c.x[i])) maxAbs = Math.max(maxAbs, Math.abs(c.x[i]));
  let dyAbs = 0;
  // Non-finite dy poisons dLogits exactly (compared exactly); the scale is that of the finite rest.
  for (let i = 0; i < dy.length; i++) if (Number.isFinite(dy[i])) dyAbs += Math.abs(dy[i]);
  return maxAbs * dyAbs;
}

/** Whether two float arrays hold the same bits. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

/** Float32 view of a result array (the implementations return Float32Array). */
export function asFloat32(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/**
 * What identifies an adapter's float arithmetic for bit pins: the engine (its WGSL compiler) and
 * every field of adapter.info, subgroup sizes included. Deno's GL and Vulkan paths to Mesa's
 * llvmpipe report the same vendor, device and description and differ only in subgroupMinSize
 * (4 on GL, 8 on Vulkan), yet they compile WGSL through different front ends (GLSL and SPIR-V)
 * and round some kernels differently, so the subgroup sizes are part of the key.
 */
export interface AdapterFingerprint {
  readonly engine: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly subgroupMinSize: number | undefined;
  readonly subgroupMaxSize: number | undefined;
  /** All of the above in one string: the key of pin tables. */
  readonly key: string;
}

/** The fingerprint of `adapter` on the engine in use (src/webgpu/engine.ts). */
export function adapterFingerprint(adapter: GPUAdapter): AdapterFingerprint {
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const fields = {
    engine: engineInfo().name,
    vendor: info.vendor ?? "",
    architecture: info.architecture ?? "",
    device: info.device ?? "",
    description: info.description ?? "",
    subgroupMinSize: info.subgroupMinSize,
    subgroupMaxSize: info.subgroupMaxSize,
  };
  const key = [
    fields.engine,
    fields.vendor,
    fields.architecture,
    fields.device,
    fields.description,
    `subgroups ${fields.subgroupMinSize ?? "?"}-${fields.subgroupMaxSize ?? "?"}`,
  ].join(" / ");
  return { ...fields, key };
}

/** The fingerprint of the adapter this process's WebGPU implementations get (a plain requestAdapter()). */
export async function currentAdapterFingerprint(): Promise<AdapterFingerprint> {
  return adapterFingerprint(await requestAdapterOrThrow());
}

/** Fingerprint keys of the adapters whose bits the tests pin (see {@link adapterFingerprint}). */
export const PINNED_ADAPTERS = {
  /** Mesa llvmpipe through Deno's wgpu GL backend (naga emits GLSL). */
  llvmpipeGl: "deno / 65541 /  / 0 / llvmpipe (LLVM 15.0.6, 256 bits) / subgroups 4-128",
  /** Mesa lavapipe (llvmpipe's Vulkan driver) through Deno's wgpu Vulkan backend (naga emits SPIR-V). */
  llvmpipeVulkan: "deno / 65541 /  / 0 / llvmpipe (LLVM 15.0.6, 256 bits) / subgroups 8-8",
  /** SwiftShader's Vulkan driver (Subzero JIT) through Dawn (Tint emits SPIR-V). */
  swiftShaderDawn:
    "dawn / google / swiftshader / swiftshader-device-subzero- / SwiftShader driver 5.0.0 / subgroups 4-4",
} as const;

/** A NaN-insensitive copy: every NaN replaced by the canonical quiet NaN 0x7fc00000. */
export function canonicalNaN(values: ArrayLike<number>): Float32Array {
  return Float32Array.from(values, (v) => (Number.isNaN(v) ? NaN : v));
}
