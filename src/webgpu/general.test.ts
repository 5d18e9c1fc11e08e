/**
 * The general-window WGSL kernels (kernels/sort_pool2d_general_*.wgsl: any poolSize and strides,
 * overlapping windows, per-channel logits) on both hosts against the float64 reference at the
 * float32 weights (src/spec.ts float32Weights), on whatever adapter the engine gives (CI runs
 * this file under Deno's GL and Vulkan backends and under Dawn); and the 2x2 / stride 2 path's
 * outputs pinned bit for bit, per adapter fingerprint (src/webgpu/testing.ts), to the kernels
 * before general windows existed. An adapter without pins runs the spec-level checks only.
 */
import { afterAll, describe, expect, test } from "vitest";
import { sortPool2d } from "../op.ts";
import { referenceForward, referenceGradient } from "../reference.ts";
import { float32Weights, outputShape, poolGeometry } from "../spec.ts";
import { tf, withBackend } from "../tfjs/runtime.ts";
import type { Implementation, Padding, Pair, Shape4, SortPoolCase } from "../types.ts";
import { mulberry32 } from "../random.ts";
import { SortPoolArgumentError } from "../validate.ts";
import { BufferTracker } from "./buffers.ts";
import { generalBytesPerImage, planGeneralChunks } from "./general_chunks.ts";
import { requestDeviceOrThrow } from "./device.ts";
import { wgslImplementations } from "./entries.ts";
import { GENERAL_SEGMENT, generalImageBytes, SortPoolKernels } from "./sort_pool_kernels.ts";
import { kernelSources } from "./shaders.ts";
import {
  asFloat32,
  currentAdapterFingerprint,
  FLOAT32_TOLERANCE,
  mismatch,
  PINNED_ADAPTERS,
  randomSignedDy,
  randomWindowCase,
  rankSumScale,
  sameBits,
  signedZeroMismatch,
} from "./testing.ts";
import { createWgslImplementation } from "./wgsl.ts";

const raw = createWgslImplementation({ name: "wgsl-general-test" });
const onTfjs = wgslImplementations[1];
afterAll(() => raw.dispose());

/**
 * Checks forward (y, sign of zeros), dx (sign of zeros) and dLogits of `impl` on `c` against the
 * reference at float32 weights; returns a description of the first disagreement, or null.
 */
async function disagreement(impl: Implementation, c: SortPoolCase, dy: ArrayLike<number>): Promise<string | null> {
  return specDisagreement(c, dy, await impl.forward(c), await impl.gradient(c, dy));
}

/** {@link disagreement} on results already computed. */
function specDisagreement(
  c: SortPoolCase,
  dy: ArrayLike<number>,
  got: { shape: readonly number[]; y: ArrayLike<number> },
  grad: { dx: ArrayLike<number>; dLogits: ArrayLike<number> },
): string | null {
  const w = float32Weights(c.logits, c.k);
  const ref = referenceForward(c, w);
  if (got.shape.join() !== ref.shape.join()) return `shape [${got.shape}], expected [${ref.shape}]`;
  const y = mismatch(got.y, ref.y, FLOAT32_TOLERANCE) ?? signedZeroMismatch(got.y, ref.y);
  if (y) return `y ${y}`;
  const refGrad = referenceGradient(c, dy, w);
  const dx = mismatch(grad.dx, refGrad.dx, FLOAT32_TOLERANCE) ?? signedZeroMismatch(grad.dx, refGrad.dx);
  if (dx) return `dx ${dx}`;
  const scale = rankSumScale(c, dy);
  const dLogits = mismatch(grad.dLogits, refGrad.dLogits, FLOAT32_TOLERANCE, () => scale);
  if (dLogits) return `dLogits ${dLogits}`;
  if (c.k === 1 && !Array.from(grad.dLogits).every((v) => Object.is(v, 0))) return "dLogits not +0 for k = 1";
  return null;
}

/** The general windows: overlapping (stride < size), tiling, gapped (stride > size), non-square. */
const WINDOWS: readonly (readonly [Pair, Pair])[] = [
  [[3, 3], [2, 2]],
  [[3, 3], [1, 1]],
  [[2, 2], [1, 1]],
  [[4, 4], [4, 4]],
  [[3, 2], [1, 2]],
  [[1, 1], [1, 1]],
  [[4, 4], [1, 1]],
  [[2, 2], [4, 4]],
  [[2, 2], [2, 2]], // per-channel logits only: shared 2x2 / stride 2 is the 2x2 kernels' case
];

/** Odd sizes, a vec4 shape (C % 4 == 0) and a scalar one. */
const VEC4: Shape4 = [2, 7, 9, 8];
const SCALAR: Shape4 = [1, 6, 5, 3];

describe("general windows on a raw device (wgsl)", () => {
  test.each(WINDOWS.map(([p, s]) => [`${p[0]}x${p[1]} strides ${s[0]},${s[1]}`, p, s] as const))(
    "%s: every k, both paddings, shared and per-channel logits, vec4 and scalar",
    async (_label, poolSize, strides) => {
      const cells = poolSize[0] * poolSize[1];
      const defaultWindow = poolSize.join() === "2,2" && strides.join() === "2,2";
      const failures: string[] = [];
      let seed = poolSize[0] * 1000 + poolSize[1] * 100 + strides[0] * 10 + strides[1];
      for (let k = 1; k <= cells; k++) {
        // Every combination at k = 1 and k = kh·kw; in between, alternating ones (every k still
        // runs both kernel variants, both paddings and both logits layouts over the window's ks).
        const all = k === 1 || k === cells;
        for (const shape of [VEC4, SCALAR]) {
          for (const padding of ["same", "valid"] as Padding[]) {
            for (const perChannel of [false, true]) {
              if (defaultWindow && !perChannel) continue;
              const pick = (k + (shape === VEC4 ? 0 : 1) + (padding === "same" ? 0 : 1) + (perChannel ? 1 : 0)) % 2;
              if (!all && pick !== 0) continue;
              if (padding === "valid" && (shape[1] < poolSize[0] || shape[2] < poolSize[1])) continue;
              const c = randomWindowCase({ shape, k, padding, poolSize, strides, perChannel, seed: seed++ });
              const problem = await disagreement(raw, c, randomSignedDy(c, seed++, k % 3 === 0));
              if (problem) {
                failures.push(`[${shape}] ${padding} k=${k} ${perChannel ? "per-channel" : "shared"}: ${problem}`);
              }
            }
          }
        }
      }
      expect(failures).toEqual([]);
    },
  );

  test("a cell's dx sums its windows in output order from the first term: hand-worked 3x3 / stride 1", async () => {
    // One channel, x = 1..9 in a 3x3 image, "valid" 2x2 windows with stride 1: 4 windows. k = 1
    // keeps each window's maximum, the bottom-right cell of every window: cells 4, 5, 7, 8 (0-based).
    const c: SortPoolCase = {
      x: Float32Array.from({ length: 9 }, (_, i) => i + 1),
      shape: [1, 3, 3, 1],
      logits: [0],
      k: 1,
      padding: "valid",
      poolSize: [2, 2],
      strides: [1, 1],
    };
    expect(Array.from((await raw.forward(c)).y)).toEqual([5, 6, 8, 9]);
    expect(Array.from((await raw.gradient(c, [1, 2, 3, 4])).dx)).toEqual([0, 0, 0, 0, 1, 2, 0, 3, 4]);
    // k = 4 with equal weights: the centre cell is in all four windows: 0.25 · (1 + 2 + 3 + 4).
    const all = { ...c, k: 4, logits: [0, 0, 0, 0] };
    const dx = (await raw.gradient(all, [1, 2, 3, 4])).dx;
    expect(dx[4]).toBe(2.5);
    expect(dx[0]).toBe(0.25);
    // Signed zeros: a cell kept by two windows with dy = -0 both times is -0; +0 once makes it +0.
    const zeros = await raw.gradient(all, [-0, -0, -0, -0]);
    expect(Array.from(zeros.dx).every((v) => Object.is(v, -0))).toBe(true);
    const mixed = await raw.gradient(all, [-0, 0, -0, -0]);
    expect(Object.is(mixed.dx[0], -0) && Object.is(mixed.dx[1], 0) && Object.is(mixed.dx[4], 0)).toBe(true);
  });

  test("planted bugs in the general kernels are caught: overlap sum from +0, per-channel weights of channel 0", async () => {
    const sources = kernelSources();
    const fromZero = sources.generalGatherVec4.replace(
      "acc = select(acc, select(term, acc + term, assigned), kept);",
      "acc = select(acc, acc + term, kept);",
    );
    const channelZero = sources.generalForwardVec4.replace(
      "var acc = weights[g] * t0.value;",
      "var acc = weights[0] * t0.value;",
    );
    for (
      const [name, shaders] of [["gather", { generalGatherVec4: fromZero }], ["forward", {
        generalForwardVec4: channelZero,
      }]] as const
    ) {
      expect(Object.values(shaders)[0], name).not.toBe(
        sources[name === "gather" ? "generalGatherVec4" : "generalForwardVec4"],
      );
      const mutant = createWgslImplementation({ name: `wgsl-general-${name}-mutant`, shaders });
      try {
        const c = randomWindowCase({
          shape: [2, 7, 9, 8],
          k: 3,
          padding: "same",
          poolSize: [3, 3],
          strides: [1, 1],
          perChannel: true,
          seed: 41,
        });
        expect(await disagreement(mutant, c, randomSignedDy(c, 42)), name).not.toBeNull();
      } finally {
        await mutant.dispose();
      }
    }
  });

  test("overlapping windows are bitwise identical across 5 runs (y, dx, dLogits)", async () => {
    const c = randomWindowCase({
      shape: [3, 13, 11, 12],
      k: 5,
      padding: "same",
      poolSize: [3, 3],
      strides: [1, 1],
      perChannel: true,
      seed: 5,
    });
    const dy = randomSignedDy(c, 6);
    const first = await raw.forward(c);
    const firstGrad = await raw.gradient(c, dy);
    for (let run = 1; run < 5; run++) {
      expect(sameBits(asFloat32((await raw.forward(c)).y), asFloat32(first.y)), `y run ${run}`).toBe(true);
      const grad = await raw.gradient(c, dy);
      expect(sameBits(asFloat32(grad.dx), asFloat32(firstGrad.dx)), `dx run ${run}`).toBe(true);
      expect(sameBits(asFloat32(grad.dLogits), asFloat32(firstGrad.dLogits)), `dLogits run ${run}`).toBe(true);
    }
  });

  test("split along the batch past the binding limit (aligned, offset and staged chunks) and agree", async () => {
    const failures: string[] = [];
    let seed = 70;
    const cases: [Shape4, Pair, Pair, number, Padding, boolean][] = [
      [[9, 6, 7, 8], [3, 3], [2, 2], 4, "same", false],
      [[7, 5, 5, 3], [3, 2], [1, 2], 6, "valid", true],
      [[6, 4, 6, 4], [4, 4], [1, 1], 16, "same", true],
    ];
    for (const [shape, poolSize, strides, k, padding, perChannel] of cases) {
      const g = poolGeometry(shape, padding, { poolSize, strides });
      const image = generalBytesPerImage({
        shape,
        outShape: [shape[0], g.rows.out, g.cols.out, shape[3]],
        lanes: shape[3] % 4 === 0 ? 4 : 1,
        k,
        perChannel,
        segment: Math.min(GENERAL_SEGMENT, g.cols.out),
      });
      const perImage = Math.max(image.x, image.y, image.ranks, image.partials);
      for (const [alignment, slack] of [[256, true], [1024, true], [4096, false]] as const) {
        // Room for two images per chunk: several chunks, most starting off the alignment; bound
        // from the aligned offset before them (slack), or staged when the alignment exceeds the limit.
        const limited = raw.withBindingLimits({
          maxStorageBufferBindingSize: 2 * perImage + (slack ? alignment : 0),
          minStorageBufferOffsetAlignment: alignment,
        });
        const c = randomWindowCase({ shape, k, padding, poolSize, strides, perChannel, seed: seed++ });
        const problem = await disagreement(limited, c, randomSignedDy(c, seed++));
        if (problem) failures.push(`[${shape}] ${poolSize}/${strides} align ${alignment}: ${problem}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test("refuse, naming x, a single image past the binding limit (no row split with general windows)", async () => {
    const small = raw.withBindingLimits({ maxStorageBufferBindingSize: 4096 });
    const c = randomWindowCase({
      shape: [2, 8, 8, 32],
      k: 2,
      padding: "same",
      poolSize: [3, 3],
      strides: [2, 2],
      perChannel: false,
      seed: 1,
    });
    const before = raw.bufferStats();
    const error = await small.forward(c).catch((e) => e);
    expect(error).toBeInstanceOf(SortPoolArgumentError);
    expect(error.argument).toBe("x");
    expect(error.message).toContain("single image");
    expect(error.message).toContain("4096 bytes");
    await expect(small.gradient(c, randomSignedDy(c, 2))).rejects.toThrow(SortPoolArgumentError);
    // Refused before anything was allocated or queued.
    expect(raw.bufferStats().created).toBe(before.created);
  });
});

describe("general windows inside tfjs (wgsl@tfjs and the sortPool2d op)", () => {
  test("wgsl@tfjs agrees at k = 1 and k = kh·kw for every window, shared and per channel", async () => {
    const failures: string[] = [];
    let seed = 500;
    for (const [poolSize, strides] of WINDOWS) {
      const cells = poolSize[0] * poolSize[1];
      for (const k of new Set([1, cells])) {
        for (const perChannel of [false, true]) {
          if (poolSize.join() === "2,2" && strides.join() === "2,2" && !perChannel) continue;
          const shape = (seed % 2 === 0) ? VEC4 : SCALAR;
          const padding: Padding = seed % 3 === 0 ? "valid" : "same";
          const c = randomWindowCase({ shape, k, padding, poolSize, strides, perChannel, seed: seed++ });
          const problem = await disagreement(onTfjs, c, randomSignedDy(c, seed++));
          if (problem) failures.push(`${poolSize}/${strides} [${shape}] ${padding} k=${k} ${perChannel}: ${problem}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  test("the op computes per-channel weights on the GPU (limits of softmax, NaN, subnormal flush) and dLogits of length C·k", async () => {
    const shape: Shape4 = [2, 7, 6, 4];
    const k = 3;
    // Channel-major logits: channel 0 ordinary, 1 with +Infinity (one-hot), 2 with a NaN (its
    // outputs NaN), 3 with w[1] = exp(-87) / 2 ≈ 8e-39, a subnormal the kernel must flush to +0
    // (exp(-87) itself is normal: an adapter that keeps subnormal quotients would not flush it).
    const logits = [0.5, -0.25, 1, Infinity, 0, 2, NaN, 0, 1, 0, -87, 0];
    const c = randomWindowCase({
      shape,
      k,
      padding: "same",
      poolSize: [3, 3],
      strides: [2, 2],
      perChannel: true,
      seed: 3,
    });
    // Channel 3 of image 0: -Infinity everywhere but (1, 2) = 1, so window (1, 1) ranks [1, -Inf,
    // -Inf]: with w[1] flushed to +0, y = w[0] + 0·(-Inf) + w[2]·(-Inf) = NaN (unflushed: -Inf).
    const x = c.x as Float32Array;
    for (let p = 0; p < 7 * 6; p++) x[p * 4 + 3] = p === 1 * 6 + 2 ? 1 : -Infinity;
    const dy = randomSignedDy(c, 4);
    const w = float32Weights(logits, k);
    expect(w[3 * k + 1]).toBe(0);
    const ref = referenceForward({ ...c, logits }, w);
    expect(Number.isNaN(ref.y[(1 * 3 + 1) * 4 + 3])).toBe(true);
    const refGrad = referenceGradient({ ...c, logits }, dy, w);
    const out = outputShape(shape, "same", c);
    const got = await withBackend("webgpu", async () => {
      const x = tf.tensor4d(Float32Array.from(c.x), [...shape]);
      const l = tf.tensor1d(logits);
      const dyT = tf.tensor4d(dy, out);
      const options = { k, padding: "same" as const, poolSize: [3, 3] as Pair, strides: [2, 2] as Pair };
      const y = sortPool2d(x, l, options);
      const [dx, dl] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, options)
      )(
        [x, l],
        dyT,
      );
      const result = { y: await y.data(), dx: await dx.data(), dLogits: await dl.data(), dLogitsShape: dl.shape };
      tf.dispose([x, l, dyT, y, dx, dl]);
      return result;
    });
    expect(got.dLogitsShape).toEqual([logits.length]);
    expect(mismatch(got.y, ref.y, FLOAT32_TOLERANCE)).toBeNull();
    expect(mismatch(got.dx, refGrad.dx, FLOAT32_TOLERANCE)).toBeNull();
    expect(signedZeroMismatch(got.dx, refGrad.dx)).toBeNull();
    const scale = rankSumScale(c, dy);
    expect(mismatch(got.dLogits, refGrad.dLogits, FLOAT32_TOLERANCE, () => scale)).toBeNull();
    // Channel 2's NaN logit poisons its own outputs only; channel 3's flushed weight makes 0·(-Inf).
    expect(Number.isNaN(got.y[2]) && Number.isFinite(got.y[0]) && Number.isFinite(got.y[1])).toBe(true);
    expect(Number.isNaN(got.y[(1 * 3 + 1) * 4 + 3])).toBe(true);
  });
});

describe("planGeneralChunks", () => {
  const limits = { maxStorageBufferBindingSize: 1 << 20, minStorageBufferOffsetAlignment: 256, maxBufferSize: 1 << 30 };
  const request = (shape: Shape4, poolSize: Pair, strides: Pair, k: number, perChannel: boolean) => {
    const g = poolGeometry(shape, "same", { poolSize, strides });
    const outShape: Shape4 = [shape[0], g.rows.out, g.cols.out, shape[3]];
    const lanes = shape[3] % 4 === 0 ? 4 as const : 1 as const;
    return { shape, outShape, lanes, k, perChannel, segment: Math.min(16, outShape[2]) };
  };

  test("whole images per chunk, bindings within the limit, aligned or staged, every image once; refused only when an image cannot fit", () => {
    const random = mulberry32(9);
    const seen = { aligned: 0, offset: 0, staged: 0, refused: 0 };
    for (let i = 0; i < 300; i++) {
      const shape: Shape4 = [
        1 + Math.floor(random() * 40),
        1 + Math.floor(random() * 12),
        1 + Math.floor(random() * 12),
        1 + Math.floor(random() * 9),
      ];
      const poolSize: Pair = [1 + Math.floor(random() * 4), 1 + Math.floor(random() * 4)];
      const strides: Pair = [1 + Math.floor(random() * 4), 1 + Math.floor(random() * 4)];
      const k = 1 + Math.floor(random() * poolSize[0] * poolSize[1]);
      const r = request(shape, poolSize, strides, k, random() < 0.5);
      const image = generalBytesPerImage(r);
      const perImage = Math.max(image.x, image.y, image.ranks, image.partials);
      const imageX = image.x;
      const alignment = [4, 32, 256, 1024][Math.floor(random() * 4)];
      const limit = 4 *
        Math.max(16, Math.floor((perImage * (0.8 + random() * 5) + (random() < 0.5 ? alignment : 0)) / 4));
      const l = {
        maxStorageBufferBindingSize: limit,
        minStorageBufferOffsetAlignment: alignment,
        maxBufferSize: 1 << 30,
      };
      const mustFit = perImage <= limit && k * shape[3] * 4 <= limit;
      let layout;
      try {
        layout = planGeneralChunks(r, l);
      } catch (e) {
        expect(e).toBeInstanceOf(SortPoolArgumentError);
        expect((e as SortPoolArgumentError).argument).toBe("x");
        expect(mustFit, `refused [${shape}] at ${limit} bytes: ${(e as Error).message}`).toBe(false);
        seen.refused++;
        continue;
      }
      let next = 0;
      for (const ch of layout.chunks) {
        expect(ch.batch).toBe(next);
        next += ch.images;
        for (const range of [ch.x, ch.y]) {
          expect(range.size).toBeLessThanOrEqual(limit);
          if (!ch.staged) expect(range.offset % alignment).toBe(0);
        }
        if (ch.staged) expect(ch.xBase === 0 && ch.yBase === 0).toBe(true);
        expect(ch.x.offset + ch.xBase * 4 * r.lanes).toBe(ch.batch * imageX);
        expect(ch.x.size - ch.xBase * 4 * r.lanes).toBe(ch.images * imageX);
        expect(Math.max(ch.partialBytes, ch.ranksBytes)).toBeLessThanOrEqual(limit);
        if (ch.staged) seen.staged++;
        else if (ch.xBase > 0 || ch.yBase > 0) seen.offset++;
        else seen.aligned++;
      }
      expect(next).toBe(shape[0]);
      expect(layout.stageXBytes).toBe(Math.max(0, ...layout.chunks.filter((c) => c.staged).map((c) => c.x.size)));
    }
    // Every way of binding a chunk, and refusals, were reached.
    expect(Object.values(seen).every((n) => n > 0), JSON.stringify(seen)).toBe(true);
  });

  test("one image past the limit is refused naming x; the 2x2 planner would split it along rows instead", () => {
    const r = request([1, 64, 64, 16], [3, 3], [2, 2], 2, false);
    const error = (() => {
      try {
        planGeneralChunks(r, { ...limits, maxStorageBufferBindingSize: 8192 });
      } catch (e) {
        return e as SortPoolArgumentError;
      }
    })();
    expect(error).toBeInstanceOf(SortPoolArgumentError);
    expect(error?.argument).toBe("x");
    expect(planGeneralChunks(r, limits).chunks).toHaveLength(1);
  });
});

describe("the 2x2 / stride 2 path with shared logits is unchanged", () => {
  // FNV-1a hashes of the raw float32 bits (NaN sign and payload included) of y, dx and dLogits,
  // per adapter fingerprint (src/webgpu/testing.ts). Cases: seeded x with ties, signed zeros, NaN
  // and ±Infinity; dy with -0. Per case: wgsl and wgsl@tfjs (host weights) y, dx, dLogits; then
  // the op's (weights computed on the GPU) y, dx.
  type Row = readonly [string, string, string, string, string];
  // Recorded on Mesa llvmpipe (GL) and lavapipe (Vulkan), which agree here, with the kernels and
  // host from before general windows existed: the 2x2/2 path must keep those bits exactly.
  const MESA: Record<string, Row> = {
    "[2,7,9,8] same k=1": ["eae9b115", "a3fa31ec", "4b95f515", "eae9b115", "a3fa31ec"],
    "[2,7,9,8] same k=2": ["d2873ccb", "b150aec4", "a87ea215", "01eb6b4f", "fa7dc380"],
    "[2,7,9,8] same k=3": ["8aad0ded", "4809f7d5", "7649a148", "dd1773e5", "14a4a5b2"],
    "[2,7,9,8] same k=4": ["7c4a742c", "4d6cbf38", "6b4e7165", "b9070a12", "5bfe602b"],
    "[2,7,9,8] valid k=1": ["07319562", "d678030d", "4b95f515", "07319562", "d678030d"],
    "[2,7,9,8] valid k=2": ["ff775f5b", "0138a8c6", "287dd895", "f6c95f60", "2463f0d7"],
    "[2,7,9,8] valid k=3": ["fabd8d08", "dfd3ff0a", "251e95c8", "45916756", "4f887696"],
    "[2,7,9,8] valid k=4": ["ba12c477", "c4bfb70c", "5e85dee5", "e302cf57", "d8cadffd"],
    "[1,5,6,3] same k=1": ["ad520110", "abaa9ab3", "4b95f515", "ad520110", "abaa9ab3"],
    "[1,5,6,3] same k=2": ["195d2661", "a6e8cdd5", "287dd895", "3cbbdf85", "24f6fd96"],
    "[1,5,6,3] same k=3": ["e155bc6a", "8ab47e25", "a51f5f48", "ba31b8f0", "f301e43c"],
    "[1,5,6,3] same k=4": ["35f4a7a9", "bf8fccff", "5e49ede5", "17170449", "2326610f"],
    "[1,5,6,3] valid k=1": ["2510d01c", "02881b80", "4b95f515", "2510d01c", "02881b80"],
    "[1,5,6,3] valid k=2": ["80d21a09", "aa3762e3", "287dd895", "e96de204", "82ceb657"],
    "[1,5,6,3] valid k=3": ["11dc899a", "0d78e1f1", "a51f5f48", "73c5932e", "fffee95f"],
    "[1,5,6,3] valid k=4": ["81003ec0", "3ec559a0", "5e49ede5", "a6882217", "fcd7ae4d"],
  };
  // Recorded on Dawn / SwiftShader with the same kernels (identical in two runs). Only the two
  // [2,7,9,8] k = 4 cases differ from Mesa, and neither by a rounding of the spec's arithmetic:
  // their dLogits differ in the sign bit of one NaN element (which of two NaN operands an addition
  // returns is the compiler's choice), and the op's y and dx differ by 1 ulp because SwiftShader's
  // exp differs from llvmpipe's by 1-2 ulp at -0.6875 and -2.9375 (both within WGSL's exp accuracy),
  // which moves the GPU weights w[0] and w[3] by 1 ulp. y and dx with host weights are identical.
  const SWIFTSHADER: Record<string, Row> = {
    ...MESA,
    "[2,7,9,8] same k=4": ["7c4a742c", "4d6cbf38", "00564fe5", "7c6b8a90", "8ebe0bbb"],
    "[2,7,9,8] valid k=4": ["ba12c477", "c4bfb70c", "0d1ee265", "5c1871da", "237f21f0"],
  };
  const PINS: Record<string, Record<string, Row>> = {
    [PINNED_ADAPTERS.llvmpipeGl]: MESA,
    [PINNED_ADAPTERS.llvmpipeVulkan]: MESA,
    [PINNED_ADAPTERS.swiftShaderDawn]: SWIFTSHADER,
  };

  function fnv1a(values: ArrayLike<number>): string {
    const bits = new Uint32Array(Float32Array.from(values).buffer);
    let h = 0x811c9dc5;
    for (const v of bits) {
      for (let s = 0; s < 32; s += 8) h = Math.imul(h ^ ((v >>> s) & 255), 0x01000193) >>> 0;
    }
    return h.toString(16).padStart(8, "0");
  }

  /** The recorded cases, rebuilt from their seeds exactly as when they were recorded. */
  function pinnedCase(shape: Shape4, padding: Padding, k: number) {
    const random = mulberry32(k * 17 + shape[3]);
    const set = [-1, -0, 0, 0.5, 2, NaN, Infinity, -Infinity];
    const n = shape.reduce((a, b) => a * b);
    const x = Float32Array.from(
      { length: n },
      () => random() < 0.4 ? set[Math.floor(random() * set.length)] : Math.floor(random() * 512 - 256) / 64,
    );
    const logits = Array.from({ length: k }, () => Math.floor(random() * 64 - 32) / 16);
    const c: SortPoolCase = { x, shape, logits, k, padding };
    const dy = Float32Array.from(
      { length: outputShape(shape, padding).reduce((a, b) => a * b) },
      () => random() < 0.1 ? -0 : Math.floor(random() * 64 - 32) / 16,
    );
    return { c, dy };
  }

  /** The op on the webgpu backend: y and dx (the op's weights are computed on the GPU). */
  async function opOnGpu(c: SortPoolCase, dy: Float32Array): Promise<{ y: Float32Array; dx: Float32Array }> {
    const { shape, k, padding } = c;
    return await withBackend("webgpu", async () => {
      const x = tf.tensor4d(c.x as Float32Array, [...shape]);
      const l = tf.tensor1d(Float32Array.from(c.logits));
      const d = tf.tensor4d(dy, outputShape(shape, padding));
      const y = sortPool2d(x, l, { k, padding });
      const [dx] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, { k, padding })
      )([x, l], d);
      const out = { y: Float32Array.from(await y.data()), dx: Float32Array.from(await dx.data()) };
      tf.dispose([x, l, d, y, dx]);
      return out;
    });
  }

  test(
    "y, dx and dLogits of wgsl, wgsl@tfjs and the op: the spec on any adapter, pinned bits on the pinned ones",
    async () => {
      const fingerprint = await currentAdapterFingerprint();
      const pins = PINS[fingerprint.key];
      const got: Record<string, string[]> = {};
      const failures: string[] = [];
      for (const shape of [[2, 7, 9, 8], [1, 5, 6, 3]] as Shape4[]) {
        for (const padding of ["same", "valid"] as Padding[]) {
          for (const k of [1, 2, 3, 4]) {
            const { c, dy } = pinnedCase(shape, padding, k);
            const key = `[${shape}] ${padding} k=${k}`;
            const row: string[] = [];
            for (const impl of [raw, onTfjs]) {
              const forward = await impl.forward(c);
              const g = await impl.gradient(c, dy);
              // The spec-level check, on every adapter: the reference at float32 weights.
              const problem = specDisagreement(c, dy, forward, g);
              if (problem) failures.push(`${key} ${impl.name}: ${problem}`);
              row.push(`${impl === raw ? "wgsl" : "wgsl@tfjs"}:${fnv1a(forward.y)},${fnv1a(g.dx)},${fnv1a(g.dLogits)}`);
            }
            const op = await opOnGpu(c, dy);
            // The op's weights come from the GPU's exp: the spec within the float32 tolerance.
            const w = float32Weights(c.logits, k);
            const ref = referenceForward(c, w);
            const refGrad = referenceGradient(c, dy, w);
            const opProblem = mismatch(op.y, ref.y, FLOAT32_TOLERANCE) ??
              mismatch(op.dx, refGrad.dx, FLOAT32_TOLERANCE);
            if (opProblem) failures.push(`${key} op: ${opProblem}`);
            got[key] = [...row, `op:${fnv1a(op.y)},${fnv1a(op.dx)}`];
          }
        }
      }
      expect(failures).toEqual([]);
      if (!pins) {
        console.info(
          `no bit pins for this adapter (${fingerprint.key}): checked against the spec only; its hashes:\n` +
            JSON.stringify(got, null, 1),
        );
        return;
      }
      const want = Object.fromEntries(
        Object.entries(pins).map(([key, [y, dx, dl, opY, opDx]]) => [
          key,
          [`wgsl:${y},${dx},${dl}`, `wgsl@tfjs:${y},${dx},${dl}`, `op:${opY},${opDx}`],
        ]),
      );
      expect(got, `bits on ${fingerprint.key}`).toEqual(want);
    },
    600_000,
  ); // Dawn on SwiftShader compiles each new shape's pipelines for tens of seconds

  test("the op's on-GPU weights: the spec on any adapter, pinned bits of its vec4 softmax kernel on the pinned ones", async () => {
    // The 2x2 path keeps kernels/sort_pool2d_weights.wgsl (a reviewer found 1-ulp differences on GL
    // when it used the general weights table kernel). dx of x = [4, 3, 2, 1], k = 4, dy = 1 is w
    // itself. The bits are each adapter's exp: GL and Vulkan llvmpipe differ here by 1-2 ulp, and
    // SwiftShader differs from both; all are within WGSL's exp accuracy, and the spec's tolerance.
    const pins: Record<string, readonly number[]> = {
      [PINNED_ADAPTERS.llvmpipeGl]: [0x3e78ec36, 0x3ec10a8f, 0x3e4174f7, 0x3e4389b7],
      [PINNED_ADAPTERS.llvmpipeVulkan]: [0x3e78ec35, 0x3ec10a8e, 0x3e4174f6, 0x3e4389b5],
      [PINNED_ADAPTERS.swiftShaderDawn]: [0x3e78ec33, 0x3ec10a8e, 0x3e4174f7, 0x3e4389b7],
    };
    const logits = [-0.23705531656742096, 0.2018534392118454, -0.48914283514022827, -0.4784431457519531];
    const dx = await withBackend("webgpu", async () => {
      const x = tf.tensor4d([4, 3, 2, 1], [1, 2, 2, 1]);
      const l = tf.tensor1d(logits);
      const dy = tf.ones([1, 1, 1, 1]);
      const [g] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        sortPool2d(a as tf.Tensor4D, b as tf.Tensor1D, { k: 4, padding: "valid" })
      )([x, l], dy);
      const out = Float32Array.from(await g.data());
      tf.dispose([x, l, dy, g]);
      return out;
    });
    expect(mismatch(dx, float32Weights(logits, 4), FLOAT32_TOLERANCE)).toBeNull();
    const fingerprint = await currentAdapterFingerprint();
    const bits = Array.from(new Uint32Array(dx.buffer));
    if (!(fingerprint.key in pins)) {
      console.info(
        `no weight pins for this adapter (${fingerprint.key}); its bits: ${bits.map((b) => b.toString(16))}`,
      );
      return;
    }
    expect(bits, `bits on ${fingerprint.key}`).toEqual(pins[fingerprint.key]);
  });

  test("plans pick the general kernels exactly for other windows or per-channel logits", async () => {
    const { device } = await requestDeviceOrThrow("general pipelines");
    try {
      const kernels = new SortPoolKernels(device, kernelSources(), new BufferTracker());
      await kernels.ready();
      expect(kernels.plan([1, 6, 6, 4], 2, "same").family).toBe("2x2");
      const perChannel = kernels.plan([1, 6, 6, 4], 2, "same", undefined, { logitsLength: 8 });
      expect(perChannel.family === "general" && perChannel.perChannel).toBe(true);
      expect(kernels.plan([1, 6, 6, 4], 2, "same", undefined, { poolSize: [3, 3], strides: [2, 2] }).family)
        .toBe("general");
      expect(() => kernels.plan([1, 6, 6, 4], 2, "same", undefined, { logitsLength: 3 })).toThrow(/logitsLength/);
      // generalImageBytes predicts the refusal: a limit of exactly that plans, 4 bytes less refuses.
      expect(generalImageBytes([1, 6, 6, 4], 2, "same")).toBeUndefined();
      const random = mulberry32(12);
      for (let i = 0; i < 40; i++) {
        const shape: Shape4 = [
          3,
          2 + Math.floor(random() * 9),
          2 + Math.floor(random() * 9),
          1 + Math.floor(random() * 8),
        ];
        const poolSize: Pair = [1 + Math.floor(random() * 2), 1 + Math.floor(random() * 2)];
        const window = { poolSize, strides: [1 + Math.floor(random() * 3), 1 + Math.floor(random() * 3)] as Pair };
        const k = 1 + Math.floor(random() * poolSize[0] * poolSize[1]);
        const perChannel = { ...window, logitsLength: random() < 0.5 ? k : k * shape[3] };
        const bytes = generalImageBytes(shape, k, "valid", perChannel);
        if (bytes === undefined) continue;
        const at = (limit: number) => ({ maxStorageBufferBindingSize: limit, minStorageBufferOffsetAlignment: 4096 });
        expect(kernels.plan(shape, k, "valid", at(Math.max(bytes, k * shape[3] * 4)), perChannel).family)
          .toBe("general");
        if (bytes - 4 >= k * shape[3] * 4 && bytes - 4 >= 16) {
          expect(() => kernels.plan(shape, k, "valid", at(bytes - 4), perChannel)).toThrow(SortPoolArgumentError);
        }
      }
    } finally {
      device.destroy();
    }
  });
});
