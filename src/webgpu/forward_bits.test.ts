/**
 * The 2x2/2 forward kernels (kernels/sort_pool2d_forward*.wgsl) bit for bit: every output equals
 * SPEC.md §5's rank sum evaluated in float32 in the kernels' order (Math.fround after every
 * product and every addition, the weights rounded as src/spec.ts float32Weights does), for every
 * pattern of ties among -0, +0 and equal values, for NaN, ±Infinity and flushed weights, for
 * padded borders, on the scalar and vec4 kernels with one and two channel groups per invocation
 * and on a 2-D dispatch grid. NaN outputs must be NaN (which NaN's payload survives a sum of
 * several NaNs is the compiler's choice). The kernels' exact float division is checked on its
 * own over large dividends. Runs on whatever adapter the engine gives (CI: Deno's GL and Vulkan
 * backends, and Dawn). The pin to twice-rounded float32 holds where the compiler evaluates
 * `acc += w * v` as written (src/webgpu/contraction_probe.ts: Mesa's llvmpipe and SwiftShader do);
 * on an adapter that fuses it into one rounding, which WGSL compilers for GPUs may do, each output
 * must instead lie within 4 float32 roundings of Σ|w·v| of it, with NaN, ±Infinity and the sign of
 * a zero still exact (SPEC.md §5 "What is bitwise").
 */
import { afterAll, describe, expect, test } from "vitest";
import { float32Weights, outputShape, rankCells, sizeOf, windowCells } from "../spec.ts";
import type { Padding, Shape4, SortPoolCase } from "../types.ts";
import { probeContraction } from "./contraction_probe.ts";
import { requestDeviceOrThrow } from "./device.ts";
import { runOneShotKernel } from "./one_shot_kernel.ts";
import { kernelSources } from "./shaders.ts";
import { createWgslImplementation } from "./wgsl.ts";

const impl = createWgslImplementation({ name: "wgsl-forward-bits" });
const twoD = createWgslImplementation({
  name: "wgsl-forward-bits-2d",
  maxWorkgroupsPerDimension: 3,
  workgroupSize: 16,
});
afterAll(async () => {
  await impl.dispose();
  await twoD.dispose();
});

/**
 * Whether this adapter rounds `acc += w * v` twice, as written (asked once per file): then outputs
 * are compared bit for bit, else within {@link fusedTolerance}.
 */
const roundsSeparately: Promise<boolean> = (async () => {
  const { device } = await requestDeviceOrThrow("forward_bits contraction probe");
  try {
    const found = await probeContraction(device);
    console.info(
      `contraction probe: ${found.separate}/${found.cases} sums rounded twice, ${found.fused} fused: ` +
        (found.roundsSeparately ? "comparing bit for bit" : "comparing within 4 roundings of Σ|w·v|"),
    );
    return found.roundsSeparately;
  } finally {
    device.destroy();
  }
})();

/** Σ|w[r]·v[r]| over each window's kept values: the scale of a fused evaluation's difference. */
const scales = new WeakMap<Float32Array, Float64Array>();

/** SPEC.md §5's forward in float32, in the kernels' order of operations. */
function float32Forward(c: SortPoolCase): Float32Array {
  const out = outputShape(c.shape, c.padding);
  const w = float32Weights(c.logits, c.k);
  const y = new Float32Array(sizeOf(out));
  const scale = new Float64Array(y.length);
  scales.set(y, scale);
  let i = 0;
  for (let b = 0; b < out[0]; b++) {
    for (let oh = 0; oh < out[1]; oh++) {
      for (let ow = 0; ow < out[2]; ow++) {
        for (let ch = 0; ch < out[3]; ch++) {
          const ranked = rankCells(windowCells(c.x, c.shape, c.k, b, oh, ow, ch));
          let acc = Math.fround(w[0] * ranked[0].value);
          let abs = Math.abs(w[0] * ranked[0].value);
          for (let r = 1; r < c.k; r++) {
            acc = Math.fround(acc + Math.fround(w[r] * ranked[r].value));
            abs += Math.abs(w[r] * ranked[r].value);
          }
          scale[i] = abs;
          y[i++] = acc;
        }
      }
    }
  }
  return y;
}

/** Allowed |got − want| on an adapter that fuses: 4 float32 roundings of Σ|w·v|. */
function fusedTolerance(scale: number): number {
  return 4 * 2 ** -24 * scale;
}

/**
 * The first element whose bits differ (NaN matches any NaN), described; null when none does. On an
 * adapter that fuses `acc += w * v` (see {@link roundsSeparately}), finite nonzero outputs may
 * instead differ by {@link fusedTolerance}.
 */
async function bitMismatch(got: Float32Array, want: Float32Array, c: SortPoolCase): Promise<string | null> {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  const exact = await roundsSeparately;
  const scale = scales.get(want);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const e = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < g.length; i++) {
    if (Number.isNaN(got[i]) && Number.isNaN(want[i])) continue;
    // Zeros of both: their signs stay exact (a fused sum of signed zeros rounds nothing).
    const close = !exact && scale !== undefined && Number.isFinite(want[i]) && !(want[i] === 0 && got[i] === 0) &&
      Math.abs(got[i] - want[i]) <= fusedTolerance(scale[i]);
    if (g[i] !== e[i] && !close) {
      const [, , , ch] = outputShape(c.shape, c.padding);
      const pixel = Math.floor(i / ch);
      return `y[${i}] (pixel ${pixel}, channel ${i % ch}): 0x${g[i].toString(16)} (${got[i]}), expected ` +
        `0x${e[i].toString(16)} (${want[i]}) for shape [${c.shape}] ${c.padding} k=${c.k}`;
    }
  }
  return null;
}

/**
 * x holding every window of `values`^4 (cells in row-major window order) in each channel, the
 * channels seeing the windows in different orders: shape [1, 2, 2 * windows, C].
 */
function everyWindow(values: readonly number[], channels: number): { x: Float32Array; shape: Shape4 } {
  const n = values.length;
  const windows = n ** 4;
  const shape: Shape4 = [1, 2, 2 * windows, channels];
  const x = new Float32Array(sizeOf(shape));
  for (let win = 0; win < windows; win++) {
    for (let ch = 0; ch < channels; ch++) {
      const pattern = (win * (2 * ch + 1) + ch) % windows; // a permutation of the windows per channel
      for (let cell = 0; cell < 4; cell++) {
        const v = values[Math.floor(pattern / n ** cell) % n];
        const row = cell >> 1;
        const col = 2 * win + (cell & 1);
        x[(row * shape[2] + col) * channels + ch] = v;
      }
    }
  }
  return { x, shape };
}

/** Seeded values with many ties, signed zeros and infinities, no subnormal products. */
function tieHeavy(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const pool = [0, -0, 1, -1, 2, Infinity, -Infinity, 0.75, -3.5];
  return Float32Array.from(
    { length: n },
    () => (next() < 0.6 ? pool[Math.floor(next() * pool.length)] : next() * 8 - 4),
  );
}

const LOGITS: readonly number[][] = [
  [0.4, 0.1, -0.2, -0.5], // distinct weights
  [0, 0, 0, 0], // equal weights
  [0, -100, -200, 50], // weights 1 and three flushed to +0: 0 * ±Infinity is NaN
];

/**
 * Runs `call` (a WGSL expression over `p: vec2<u32>` = (dividend, divisor), with `functions` in
 * scope) on every pair of `pairs` (flat: a0, d0, a1, d1, ...) and fails on the first quotient
 * that is not floor(a / d).
 */
async function expectFloorDivision(functions: string, call: string, name: string, pairs: number[]): Promise<void> {
  const count = pairs.length / 2;
  const { device } = await requestDeviceOrThrow(`forward_bits ${name} test`);
  try {
    const code = `${functions}
@group(0) @binding(0) var<storage, read> pairs: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read_write> quotients: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= arrayLength(&quotients)) {
    return;
  }
  let p = pairs[gid.x];
  quotients[gid.x] = ${call};
}`;
    const got = new Uint32Array(
      await runOneShotKernel(device, `${name} test`, code, Uint32Array.from(pairs), count * 4, count),
    );
    for (let i = 0; i < count; i++) {
      const [a, d] = [pairs[2 * i], pairs[2 * i + 1]];
      if (got[i] !== Math.floor(a / d)) expect.fail(`${name}(${a}, ${d}) = ${got[i]}, expected ${Math.floor(a / d)}`);
    }
  } finally {
    device.destroy();
  }
}

describe("2x2/2 forward kernels, bit for bit", () => {
  test("every pattern of ties among -0, +0 and equal values, k = 1..4, scalar and vec4 kernels", async () => {
    for (const channels of [1, 4, 8, 3]) {
      const { x, shape } = everyWindow([-0, 0, 1, 2], channels);
      for (const k of [1, 2, 3, 4]) {
        for (const logits of LOGITS) {
          const c: SortPoolCase = { x, shape, logits: logits.slice(0, k), k, padding: "valid" };
          const got = (await impl.forward(c)).y as Float32Array;
          expect(await bitMismatch(got, float32Forward(c), c), `C=${channels} k=${k} logits ${logits}`).toBeNull();
        }
      }
    }
  });

  test("NaN of either sign, ±Infinity and signed zeros in every window position", async () => {
    const f = new Float32Array(2);
    const u = new Uint32Array(f.buffer);
    u[0] = 0x7fa00001; // a signalling NaN
    u[1] = 0xffc00123; // a negative quiet NaN with a payload
    for (const channels of [1, 4]) {
      const { x, shape } = everyWindow([f[0], f[1], Infinity, -Infinity, -0, 0, -1, 1], channels);
      for (const k of [1, 2, 3, 4]) {
        for (const logits of LOGITS) {
          const c: SortPoolCase = { x, shape, logits: logits.slice(0, k), k, padding: "valid" };
          const got = (await impl.forward(c)).y as Float32Array;
          expect(await bitMismatch(got, float32Forward(c), c), `C=${channels} k=${k} logits ${logits}`).toBeNull();
        }
      }
    }
  });

  test("padded borders, odd sizes, both paddings, one and two channel groups, 1-D and 2-D grids", async () => {
    const shapes: Shape4[] = [[2, 5, 7, 8], [1, 3, 3, 4], [2, 7, 4, 12], [1, 5, 5, 3], [3, 1, 1, 2], [1, 1, 5, 1]];
    let seed = 1;
    for (const shape of shapes) {
      for (const padding of ["same", "valid"] as Padding[]) {
        if (padding === "valid" && (shape[1] < 2 || shape[2] < 2)) continue;
        for (const k of [1, 2, 3, 4]) {
          const c: SortPoolCase = {
            x: tieHeavy(sizeOf(shape), seed++),
            shape,
            logits: LOGITS[0].slice(0, k),
            k,
            padding,
          };
          const want = float32Forward(c);
          for (const host of [impl, twoD]) {
            const got = (await host.forward(c)).y as Float32Array;
            expect(await bitMismatch(got, want, c), `${host.name} [${shape}] ${padding} k=${k}`).toBeNull();
          }
        }
      }
    }
  });

  test("the kernels' float division is floor(a / d) for dividends up to 2^30", async () => {
    const source = kernelSources().forwardVec4;
    const functions = ["nearest", "divide"].map((name) => {
      const m = new RegExp(`^fn ${name}\\([\\s\\S]*?^}`, "m").exec(source);
      expect(m, `fn ${name} in sort_pool2d_forward_vec4.wgsl`).not.toBeNull();
      return m![0];
    });
    expect(kernelSources().forward).toContain(functions[1]);
    const divisors = [1, 2, 3, 5, 7, 8, 10, 56, 64, 255, 4097, 65535, 65537, 1_000_003, 2 ** 24 + 1, 2 ** 29 - 3];
    const dividends: number[] = [];
    let s = 12345;
    const next = () => (s = (s * 1664525 + 1013904223) >>> 0);
    for (const d of divisors) {
      for (const q of [0, 1, 2, 2 ** 20, 2 ** 21 + 7, Math.floor((2 ** 30 - 1) / d)]) {
        for (const r of [0, 1, d - 1]) {
          const a = q * d + r;
          if (a < 2 ** 30 && r < d) dividends.push(a, d);
        }
      }
      for (let i = 0; i < 200; i++) dividends.push(next() % 2 ** 30, d);
    }
    await expectFloorDivision(functions.join("\n\n"), "divide(p.x, p.y, 1.0 / f32(i32(p.y)))", "divide", dividends);
  });

  test("the one-step division (FEW_ITEMS) is floor(a / d) for dividends and divisors up to 2^20", async () => {
    const source = kernelSources().forwardVec4;
    const m = /^fn divide_small\([\s\S]*?^}/m.exec(source);
    expect(m, "fn divide_small in sort_pool2d_forward_vec4.wgsl").not.toBeNull();
    expect(kernelSources().forward).toContain(m![0]);
    const limit = 2 ** 20;
    const pairs: number[] = [];
    let s = 777;
    const next = () => (s = (s * 1664525 + 1013904223) >>> 0);
    for (const d of [1, 2, 3, 7, 8, 56, 255, 1000, 4097, 65535, 65537, 349525, limit - 1, limit]) {
      // Every multiple of d below the limit with its neighbours (a capped number per divisor).
      const step = Math.max(1, Math.floor(limit / d / 2000));
      for (let q = 0; q * d < limit; q += step) {
        for (const a of [q * d - 1, q * d, q * d + 1, q * d + d - 1]) if (a >= 0 && a < limit) pairs.push(a, d);
      }
      for (const a of [limit - 1, limit - 2, d - 1, d]) if (a >= 0 && a < limit) pairs.push(a, d);
      for (let i = 0; i < 500; i++) pairs.push(next() % limit, d);
    }
    await expectFloorDivision(m![0], "divide_small(p.x, 1.0 / f32(i32(p.y)))", "divide_small", pairs);
  });

  test("more than 2^20 work items (the two-step division) on an even and an odd shape", async () => {
    // Scalar kernel, C = 1: one work item per window; 2^20 + 1 windows in one row of windows.
    const windows = 2 ** 20 + 1;
    for (const [shape, padding] of [[[1, 2, 2 * windows, 1], "same"], [[1, 3, 2 * windows + 1, 1], "valid"]] as const) {
      const c: SortPoolCase = { x: tieHeavy(sizeOf(shape), 99), shape: [...shape], logits: LOGITS[0], k: 4, padding };
      const got = (await impl.forward(c)).y as Float32Array;
      expect(await bitMismatch(got, float32Forward(c), c), `[${shape}] ${padding}`).toBeNull();
    }
  });
});
