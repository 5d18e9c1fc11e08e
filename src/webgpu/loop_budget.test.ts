/**
 * The loop budget (src/webgpu/chunks.ts LOOP_ITERATION_BUDGET): Mesa's CPU adapters cut an
 * invocation's loops short, silently, past 65,535 iterations in total (src/webgpu/loop_limit_probe.ts
 * measures it), so no invocation of the project's kernels may loop more than the budget.
 *
 * Without a GPU: every loop of every generated kernel is listed here with its bound, so a new or
 * changed loop fails this file until its bound is accounted for; the kernels whose loops have
 * fixed bounds stay far below the budget; and the planners split the dLogits sums (the only loops
 * that grow with the input) into blocks within the budget at the largest storage bindings any
 * device may have, covering every term once at aligned offsets.
 *
 * On the adapter under test: the probe (printed, and checked on the adapters the project records);
 * a gradient whose dLogits sum has more terms than one invocation of the general dLogits kernel
 * could add under Mesa's limit, against the reference (on Mesa it was cut short before the split:
 * dLogits [56098.9, 0] instead of about [401549, -401549]); and small calls at a lowered budget,
 * split into many blocks, on both hosts and both kernel families.
 */
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { referenceGradient } from "../reference.ts";
import { float32Weights, MAX_STRIDE, MAX_WINDOW_SIDE, POOL_RANGES, poolGeometry } from "../spec.ts";
import type { Implementation, Padding, Pair, Shape4, SortPoolCase } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import {
  type BindingLimits,
  dLogits2x2Cost,
  generalDLogitsCost,
  LOOP_ITERATION_BUDGET,
  loopCost,
  MESA_LOOP_LIMIT,
  MIN_LOOP_BUDGET,
  PARTIAL_BYTES,
  partialSums2x2Cost,
  planChunks,
  type SumBlock,
} from "./chunks.ts";
import { requestDeviceOrThrow } from "./device.ts";
import { type GeneralChunkRequest, planGeneralChunks } from "./general_chunks.ts";
import { GENERAL_SEGMENT } from "./general_windows.ts";
import { KERNEL_FILE_TEXT } from "./kernel_sources.ts";
import { type LoopLimitBehaviour, probeLoopLimit } from "./loop_limit_probe.ts";
import {
  currentAdapterFingerprint,
  FLOAT32_TOLERANCE,
  mismatch,
  PINNED_ADAPTERS,
  randomSignedDy,
  randomWindowCase,
  rankSumScale,
  type WindowCaseOptions,
} from "./testing.ts";
import { createWgslImplementation } from "./wgsl.ts";

/** The most channel groups one 2x2 invocation handles (programs/pool2x2.ts GroupsPerInvocation). */
const MAX_GROUPS_PER_INVOCATION = 2;
/** The most lanes (channels) one invocation handles: the vec4 kernels. */
const MAX_LANES = 4;
/** The largest k: a 4 x 4 window. */
const MAX_K = MAX_WINDOW_SIDE * MAX_WINDOW_SIDE;
/** Windows along one axis that contain one input cell, at most (window side ≤ 4, stride ≥ 1). */
const MAX_WINDOWS_PER_AXIS = MAX_WINDOW_SIDE;

/**
 * Every loop of every generated kernel (its header, trimmed) and the bound of its trips; the
 * `cost` of each file is its worst invocation in Mesa's count (chunks.ts loopCost), for the
 * kernels whose loops do not grow with the input. `planned` marks the summing kernels, whose
 * trip counts the planners bound (checked below).
 */
const LOOPS: Readonly<Record<string, { readonly headers: readonly string[]; readonly cost?: number }>> = {
  "copy_forward.wgsl": { headers: [], cost: 0 },
  "copy_backward.wgsl": { headers: [], cost: 0 },
  // The channel groups of one invocation.
  "sort_pool2d_forward.wgsl": {
    headers: ["for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {"],
    cost: loopCost(MAX_GROUPS_PER_INVOCATION),
  },
  "sort_pool2d_forward_vec4.wgsl": {
    headers: ["for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {"],
    cost: loopCost(MAX_GROUPS_PER_INVOCATION),
  },
  "sort_pool2d_backward.wgsl": {
    headers: ["for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {"],
    cost: loopCost(MAX_GROUPS_PER_INVOCATION),
  },
  "sort_pool2d_backward_vec4.wgsl": {
    headers: ["for (var j = 0u; j < GROUPS_PER_INVOCATION; j++) {"],
    cost: loopCost(MAX_GROUPS_PER_INVOCATION),
  },
  // Two loops over k ≤ 4 logits.
  "sort_pool2d_weights.wgsl": {
    headers: ["for (var r = 0u; r < k; r++) {", "for (var r = 0u; r < k; r++) {"],
    cost: 2 * loopCost(Math.max(...POOL_RANGES)),
  },
  // Over k ≤ 16 logits twice, then the table's rows (k of them); or, for a NaN, once then the rows.
  "sort_pool2d_general_weights.wgsl": {
    headers: [
      "for (var r = 0u; r < k; r++) {",
      "for (var r = 0u; r < params.rows; r++) {",
      "for (var r = 0u; r < k; r++) {",
      "for (var r = 0u; r < params.rows; r++) {",
    ],
    cost: 3 * loopCost(MAX_K),
  },
  // The window's rows, and its columns in each.
  "sort_pool2d_general_forward.wgsl": {
    headers: ["for (var dr = 0u; dr < KH; dr++) {", "for (var dc = 0u; dc < KW; dc++) {"],
    cost: loopCost(MAX_WINDOW_SIDE) + MAX_WINDOW_SIDE * loopCost(MAX_WINDOW_SIDE),
  },
  "sort_pool2d_general_forward_vec4.wgsl": {
    headers: ["for (var dr = 0u; dr < KH; dr++) {", "for (var dc = 0u; dc < KW; dc++) {"],
    cost: loopCost(MAX_WINDOW_SIDE) + MAX_WINDOW_SIDE * loopCost(MAX_WINDOW_SIDE),
  },
  // A segment of GENERAL_SEGMENT windows, each window's cells; then up to 4 quads of partial sums,
  // each written per lane (per-channel weights).
  ...Object.fromEntries(["sort_pool2d_general_ranks.wgsl", "sort_pool2d_general_ranks_vec4.wgsl"].map((file) => [
    file,
    {
      headers: [
        "for (var l = 0u; l < LANES; l++) {",
        "for (var ow = first_ow; ow < end_ow; ow++) {",
        "for (var dr = 0u; dr < KH; dr++) {",
        "for (var dc = 0u; dc < KW; dc++) {",
      ],
      cost: loopCost(GENERAL_SEGMENT) +
        GENERAL_SEGMENT * (loopCost(MAX_WINDOW_SIDE) + MAX_WINDOW_SIDE * loopCost(MAX_WINDOW_SIDE)) +
        (MAX_K / 4) * loopCost(MAX_LANES),
    },
  ])),
  // The windows containing one input cell: rows, and columns in each.
  ...Object.fromEntries(["sort_pool2d_general_gather.wgsl", "sort_pool2d_general_gather_vec4.wgsl"].map((file) => [
    file,
    {
      headers: ["for (var oh = rows.x; oh <= rows.y; oh++) {", "for (var ow = cols.x; ow <= cols.y; ow++) {"],
      cost: loopCost(MAX_WINDOWS_PER_AXIS) + MAX_WINDOWS_PER_AXIS * loopCost(MAX_WINDOWS_PER_AXIS),
    },
  ])),
  // Planned: chunks.ts dLogits2x2Cost, partialSums2x2Cost, generalDLogitsCost.
  "sort_pool2d_dlogits.wgsl": {
    headers: [
      "for (var i = lid; i < params.partial_count; i += WORKGROUP_SIZE) {",
      "for (var half = WORKGROUP_SIZE / 2u; half > 0u; half = half / 2u) {",
      "for (var r = 0u; r < params.k; r++) {",
      "for (var j = 0u; j < params.k; j++) {",
    ],
  },
  "sort_pool2d_partial_sums.wgsl": {
    headers: [
      "for (var i = lid; i < params.count; i += WORKGROUP_SIZE) {",
      "for (var half = WORKGROUP_SIZE / 2u; half > 0u; half = half / 2u) {",
    ],
  },
  "sort_pool2d_general_dlogits.wgsl": {
    headers: [
      "for (var q = 0u; q < params.quads; q++) {",
      "for (var n = lid; n < params.count; n += WORKGROUP_SIZE) {",
      "for (var half = WORKGROUP_SIZE / 2u; half > 0u; half = half / 2u) {",
      "for (var q = 0u; q < params.quads; q++) {",
      "for (var r = 0u; r < k; r++) {",
      "for (var j = 0u; j < k; j++) {",
    ],
  },
};

/** The loop statements of a WGSL text, trimmed, in order (WGSL has no recursion: loops are the only repetition). */
function loopHeaders(wgsl: string): string[] {
  return wgsl.split("\n").map((line) => line.trim()).filter((line) => /^(for\s*\(|loop\s*\{|while\b)/.test(line));
}

/** Storage-binding limits from WebGPU's default to the most a binding can be addressed with. */
const BINDING_LIMITS = [2 ** 27, 2 ** 30, 2 ** 31, 2 ** 32 - 4];

function limitsOf(binding: number, alignment = 256): BindingLimits {
  return { maxStorageBufferBindingSize: binding, minStorageBufferOffsetAlignment: alignment, maxBufferSize: 2 ** 40 };
}

/** Checks that `blocks` cover terms 0 .. terms - 1 once, in order, numbered from `first`; returns the next number. */
function expectCover(blocks: readonly SumBlock[], terms: number, first: number, what: string): number {
  let next = 0;
  for (const [i, block] of blocks.entries()) {
    expect(block.index, `${what}: block ${i}'s index`).toBe(first + i);
    expect(block.first, `${what}: block ${i} starts where the last ended`).toBe(next);
    expect(block.count > 0 || terms === 0, `${what}: block ${i} is empty`).toBe(true);
    next += block.count;
  }
  expect(next, `${what}: terms covered`).toBe(terms);
  return first + blocks.length;
}

/** Checks a 2x2 layout's sum blocks against the budget; returns the number of blocks. */
function check2x2(shape: Shape4, padding: Padding, limits: BindingLimits, budget?: number): number {
  const lanes = shape[3] % 4 === 0 ? 4 : 1;
  const groupsPerInvocation = (shape[3] / lanes) % 2 === 0 ? 2 : 1;
  const layout = planChunks({ shape, padding, lanes, groupsPerInvocation, loopBudget: budget }, limits);
  const what = `2x2 [${shape}] ${padding}, binding ${limits.maxStorageBufferBindingSize}`;
  const max = budget ?? LOOP_ITERATION_BUDGET;
  let index = 0;
  for (const chunk of layout.chunks) {
    index = expectCover(chunk.sumBlocks, chunk.workItems, index, what);
    for (const block of chunk.sumBlocks) {
      expect(dLogits2x2Cost(block.count), what).toBeLessThanOrEqual(max);
      expect(partialSums2x2Cost(block.count), what).toBeLessThanOrEqual(max);
      expect((block.first * PARTIAL_BYTES) % limits.minStorageBufferOffsetAlignment, what).toBe(0);
    }
  }
  expect(layout.sumBlockCount, what).toBe(index);
  // The dLogits kernel adds the partials of a single block, else one sum per block.
  const single = layout.sumBlockCount === 1;
  expect(dLogits2x2Cost(single ? layout.chunks[0].workItems : layout.sumBlockCount), what).toBeLessThanOrEqual(max);
  expect(layout.chunkSumBytes, what).toBe(single ? 0 : layout.sumBlockCount * PARTIAL_BYTES);
  return layout.sumBlockCount;
}

function generalRequest(
  shape: Shape4,
  padding: Padding,
  poolSize: Pair,
  strides: Pair,
  k: number,
  perChannel: boolean,
  loopBudget?: number,
): GeneralChunkRequest {
  const g = poolGeometry(shape, padding, { poolSize, strides });
  const outShape: Shape4 = [shape[0], g.rows.out, g.cols.out, shape[3]];
  const lanes = shape[3] % 4 === 0 ? 4 : 1;
  return { shape, outShape, lanes, k, perChannel, segment: Math.min(GENERAL_SEGMENT, outShape[2]), loopBudget };
}

/** Checks a general layout's sum blocks against the budget; returns the number of blocks. */
function checkGeneral(r: GeneralChunkRequest, limits: BindingLimits): number {
  const layout = planGeneralChunks(r, limits);
  const what = `general [${r.shape}] k=${r.k}${
    r.perChannel ? " per channel" : ""
  }, binding ${limits.maxStorageBufferBindingSize}`;
  const max = r.loopBudget ?? LOOP_ITERATION_BUDGET;
  let index = 0;
  for (const chunk of layout.chunks) {
    index = expectCover(chunk.sumBlocks, chunk.partialTerms, index, what);
    for (const block of chunk.sumBlocks) {
      expect(generalDLogitsCost(block.count, r.k), what).toBeLessThanOrEqual(max);
      const offset = block.first * layout.termStride * PARTIAL_BYTES;
      expect(offset % limits.minStorageBufferOffsetAlignment, what).toBe(0);
    }
  }
  expect(layout.sumBlockCount, what).toBe(index);
  // A single block is finished over the partials; more are stored, then finished over one running sum.
  const single = layout.sumBlockCount === 1;
  expect(generalDLogitsCost(single ? layout.chunks[0].partialTerms : 1, r.k), what).toBeLessThanOrEqual(max);
  expect(layout.chunkSumBytes > 0, what).toBe(!single);
  return layout.sumBlockCount;
}

describe("loop budget: every kernel's loops, without a GPU", () => {
  test("the budget leaves half of Mesa's limit free", () => {
    expect(MESA_LOOP_LIMIT).toBe(65_535);
    expect(2 * LOOP_ITERATION_BUDGET).toBeLessThanOrEqual(MESA_LOOP_LIMIT + 1);
    expect(MIN_LOOP_BUDGET).toBeLessThan(LOOP_ITERATION_BUDGET);
  });

  test("every loop of every generated kernel is accounted for; fixed-bound kernels stay far below the budget", () => {
    const files = Object.keys(KERNEL_FILE_TEXT).map((path) => path.split("/").pop()!).sort();
    expect(files, "a kernel file without an entry in LOOPS").toEqual(Object.keys(LOOPS).sort());
    for (const [path, text] of Object.entries(KERNEL_FILE_TEXT)) {
      const file = path.split("/").pop()!;
      expect(loopHeaders(text), `${file}: its loops changed: give every loop a bound here`).toEqual(
        LOOPS[file].headers,
      );
      const cost = LOOPS[file].cost;
      if (cost !== undefined) expect(cost, file).toBeLessThanOrEqual(LOOP_ITERATION_BUDGET);
    }
    // The largest: general ranks at a 4 x 4 window, a full segment, vec4 per-channel partial sums.
    expect(Math.max(...Object.values(LOOPS).map((l) => l.cost ?? 0))).toBe(437);
  });

  test("the summing kernels' cost model: one loop of n trips costs n + 1, nested loops add up", () => {
    expect(dLogits2x2Cost(256)).toBe(loopCost(1) + loopCost(8) + 2 * loopCost(4));
    expect(partialSums2x2Cost(2 ** 23)).toBe(loopCost(2 ** 15) + loopCost(8));
    // k = 2: one quad; the finish mode's loops over k.
    expect(generalDLogitsCost(4_300_000, 2)).toBe(loopCost(1) + loopCost(67_188) + loopCost(6) + 2 * loopCost(2));
    // The case below: one invocation of the old single dispatch would have passed Mesa's limit.
    expect(generalDLogitsCost(4_300_000, 2)).toBeGreaterThan(MESA_LOOP_LIMIT);
  });

  test("the largest calls any binding limit accepts are summed in blocks within the budget (2x2 path)", () => {
    for (const binding of BINDING_LIMITS) {
      const items = Math.floor(binding / PARTIAL_BYTES);
      // One image per work item (C = 1): the partial sums fill the binding; then three times that
      // (batch chunks); then one image of one window row (row chunks).
      expect(check2x2([items, 2, 2, 1], "valid", limitsOf(binding))).toBeGreaterThan(1);
      expect(check2x2([3 * items, 2, 2, 1], "valid", limitsOf(binding))).toBeGreaterThan(3);
      expect(check2x2([1, 2, 2 * items, 1], "valid", limitsOf(binding))).toBeGreaterThan(1);
      expect(check2x2([2, 4, 2 * items, 1], "same", limitsOf(binding))).toBeGreaterThan(1);
    }
    // Small calls keep a single block: the dLogits kernel adds their partials itself, as before.
    expect(check2x2([8, 64, 64, 3], "same", limitsOf(2 ** 27))).toBe(1);
  });

  test("the largest calls any binding limit accepts are summed in blocks within the budget (general path)", () => {
    for (const binding of BINDING_LIMITS) {
      const terms = Math.floor(binding / PARTIAL_BYTES);
      // A 2 x 1 window over one column: one term per output row (shared logits, C = 1).
      const column = generalRequest([1, terms + 1, 1, 1], "valid", [2, 1], [1, 1], 2, false);
      expect(checkGeneral(column, limitsOf(binding))).toBeGreaterThan(1);
      // Per channel, C = 2: one term per row and group.
      const pair = generalRequest([1, terms / 2 + 1, 1, 2], "valid", [2, 1], [1, 1], 2, true);
      expect(checkGeneral(pair, limitsOf(binding))).toBeGreaterThan(1);
      // k = 16 (four quads per term) over a 4 x 4 window, "same", several images.
      const wide = generalRequest([4, terms / 16, 1, 1], "same", [4, 4], [1, 1], 16, false);
      expect(checkGeneral(wide, limitsOf(binding))).toBeGreaterThan(1);
    }
    expect(checkGeneral(generalRequest([8, 64, 64, 3], "same", [3, 3], [2, 2], 4, false), limitsOf(2 ** 27))).toBe(1);
  });

  test("random shapes, limits and lowered budgets: blocks cover every term once within the budget, aligned", () => {
    let split = 0;
    fc.assert(
      fc.property(
        fc.record({
          b: fc.integer({ min: 1, max: 24 }),
          h: fc.integer({ min: 2, max: 200 }),
          w: fc.integer({ min: 2, max: 200 }),
          c: fc.integer({ min: 1, max: 9 }),
          padding: fc.constantFrom<Padding>("same", "valid"),
          window: fc.record({
            kh: fc.integer({ min: 1, max: MAX_WINDOW_SIDE }),
            kw: fc.integer({ min: 1, max: MAX_WINDOW_SIDE }),
            sh: fc.integer({ min: 1, max: MAX_STRIDE }),
            sw: fc.integer({ min: 1, max: MAX_STRIDE }),
          }),
          kFraction: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
          perChannel: fc.boolean(),
          binding: fc.constantFrom(2 ** 16, 2 ** 20, 2 ** 27),
          alignment: fc.constantFrom(4, 32, 256),
          budget: fc.constantFrom(MIN_LOOP_BUDGET, 300, 1000, LOOP_ITERATION_BUDGET),
        }),
        ({ b, h, w, c, padding, window, kFraction, perChannel, binding, alignment, budget }) => {
          const limits = limitsOf(binding, alignment);
          const shape: Shape4 = [b, h, w, c];
          try {
            split += check2x2(shape, padding, limits, budget) > 1 ? 1 : 0;
          } catch (e) {
            // A window row past a small binding limit: refused, which is not this test's concern.
            if (!(e instanceof SortPoolArgumentError)) throw e;
          }
          const { kh, kw, sh, sw } = window;
          if (padding === "valid" && (h < kh || w < kw)) return;
          const k = 1 + Math.floor(kFraction * kh * kw);
          const r = generalRequest(shape, padding, [kh, kw], [sh, sw], k, perChannel, budget);
          try {
            split += checkGeneral(r, limits) > 1 ? 1 : 0;
          } catch (e) {
            if (!(e instanceof SortPoolArgumentError)) throw e;
          }
        },
      ),
      { numRuns: 150, seed: 20261207 },
    );
    expect(split, "cases split into more than one sum block").toBeGreaterThan(20);
  });

  test("a budget outside MIN_LOOP_BUDGET .. LOOP_ITERATION_BUDGET is refused", () => {
    const r = {
      shape: [1, 4, 4, 1] as Shape4,
      padding: "same" as const,
      lanes: 1 as const,
      groupsPerInvocation: 1 as const,
    };
    expect(() => planChunks({ ...r, loopBudget: MIN_LOOP_BUDGET - 1 }, limitsOf(2 ** 27))).toThrow(RangeError);
    expect(() => planChunks({ ...r, loopBudget: LOOP_ITERATION_BUDGET + 1 }, limitsOf(2 ** 27))).toThrow(RangeError);
    expect(() => planChunks({ ...r, loopBudget: 1000.5 }, limitsOf(2 ** 27))).toThrow(RangeError);
    expect(planChunks({ ...r, loopBudget: MIN_LOOP_BUDGET }, limitsOf(2 ** 27)).sumBlockCount).toBe(1);
  });
});

/** What the probe found on the adapters the project records (measured; a change is news). */
const MESA: Omit<LoopLimitBehaviour, "summary"> = {
  single: 65_535,
  breakLoop: 65_535,
  withContinue: 65_535,
  // The first loop's 40,000 iterations and its exit pass leave 25,534 for the second.
  sequential: [40_000, 25_534],
  // 6 full outer iterations cost 6 · (10,000 + 1 + 1); the 7th's inner loop gets the rest.
  nested: { outer: 7, inner: 65_523 },
  perWorkgroup: 60_000,
  budget: 65_535,
  sharedAcrossLoops: true,
};
const KNOWN: Record<string, Omit<LoopLimitBehaviour, "summary">> = {
  [PINNED_ADAPTERS.llvmpipeGl]: MESA,
  [PINNED_ADAPTERS.llvmpipeVulkan]: MESA,
  [PINNED_ADAPTERS.swiftShaderDawn]: {
    single: 200_000,
    breakLoop: 200_000,
    withContinue: 200_000,
    sequential: [40_000, 40_000],
    nested: { outer: 8, inner: 80_000 },
    perWorkgroup: 60_000,
    budget: undefined,
    sharedAcrossLoops: false,
  },
};

/**
 * The reference's disagreement (at the float32 weights) with `impl`'s gradient of `c`: dx, and
 * dLogits relative to the rank sums' scale; or null.
 */
async function gradientDisagreement(impl: Implementation, c: SortPoolCase, dy: Float32Array): Promise<string | null> {
  const ref = referenceGradient(c, dy, float32Weights(c.logits, c.k));
  const got = await impl.gradient(c, dy);
  const dx = mismatch(got.dx, ref.dx, FLOAT32_TOLERANCE);
  if (dx) return `dx ${dx}`;
  const scale = rankSumScale(c, dy);
  const dLogits = mismatch(got.dLogits, ref.dLogits, FLOAT32_TOLERANCE, () => scale);
  return dLogits ? `dLogits ${dLogits}: [${Array.from(got.dLogits)}], expected [${Array.from(ref.dLogits)}]` : null;
}

/** A seeded case of randomWindowCase (ties, signed zeros) with finite values only: a NaN would make every rank sum NaN. */
function finiteCase(o: Omit<WindowCaseOptions, "seed">, seed: number): SortPoolCase {
  const c = randomWindowCase({ ...o, seed });
  return {
    ...c,
    x: c.x.map((v) => (Number.isFinite(v) ? v : 0.75)),
    logits: Array.from(c.logits, (l) => (Number.isFinite(l) ? l : -1)),
  };
}

describe("loop budget on the adapter under test", () => {
  const low = createWgslImplementation({ name: "wgsl-low-loop-budget", loopBudget: MIN_LOOP_BUDGET });
  const lowTfjs = createWgslImplementation({
    name: "wgsl@tfjs-low-loop-budget",
    host: "tfjs",
    loopBudget: MIN_LOOP_BUDGET,
  });
  afterAll(async () => {
    await low.dispose();
    await lowTfjs.dispose();
  });

  test("the loop-limit probe says whether this adapter cuts loops short (printed per adapter)", async () => {
    const fingerprint = await currentAdapterFingerprint();
    const { device } = await requestDeviceOrThrow("loop limit probe test");
    let found: LoopLimitBehaviour;
    try {
      found = await probeLoopLimit(device);
    } finally {
      device.destroy();
    }
    console.info(`loop limit probe on ${fingerprint.key}: ${found.summary}`);
    // Whatever the adapter, a loop under the project's budget runs to the end.
    expect(found.budget === undefined || found.budget > LOOP_ITERATION_BUDGET, found.summary).toBe(true);
    const known = KNOWN[fingerprint.key];
    if (known) {
      const { summary: _, ...fields } = found;
      expect(fields, fingerprint.key).toEqual(known);
    }
  });

  test("a dLogits sum past what one invocation could add under Mesa's limit agrees with the reference", async () => {
    // A 2 x 1 window over one column: 4,300,000 output rows, each one term of the general dLogits
    // sum (shared logits, C = 1): one invocation of a single dispatch would loop 67,188 times.
    const h = 4_300_001;
    const x = new Float32Array(h);
    for (let i = 0; i < h; i++) x[i] = 1 + (i % 7) / 4;
    const c: SortPoolCase = {
      x,
      shape: [1, h, 1, 1],
      logits: [0.5, -0.25],
      k: 2,
      padding: "valid",
      poolSize: [2, 1],
      strides: [1, 1],
    };
    const dy = new Float32Array(h - 1).fill(1);
    const impl = createWgslImplementation({ name: "wgsl-loop-budget" });
    try {
      expect(await gradientDisagreement(impl, c, dy)).toBeNull();
    } finally {
      await impl.dispose();
    }
    // Dawn on SwiftShader takes minutes for these 4.3 million windows; Mesa's adapters seconds.
  }, 360_000);

  test(
    "at a lowered budget, calls split into many sum blocks agree with the reference (both hosts, both families)",
    async () => {
      // At MIN_LOOP_BUDGET the 2x2 path sums blocks of 27,648 partials, the general path (k ≤ 4)
      // blocks of 6,912 terms and (k = 10, three quads) 1,664: every call here has several blocks,
      // and with a 1 MiB binding several chunks, one of them of several blocks.
      const mib = 1 << 20;
      const cases: { o: Omit<WindowCaseOptions, "seed">; hosts: Implementation[]; bindings: number[] }[] = [
        // 2x2 / stride 2, C = 1: 86,400 work items; at 1 MiB, chunks of 18 and 6 images.
        {
          o: { shape: [24, 120, 120, 1], poolSize: [2, 2], strides: [2, 2], k: 3, perChannel: false, padding: "same" },
          hosts: [low, lowTfjs],
          bindings: [mib],
        },
        // A 2 x 1 window over one column: 20,000 terms.
        {
          o: { shape: [1, 20_001, 1, 1], poolSize: [2, 1], strides: [1, 1], k: 2, perChannel: false, padding: "valid" },
          hosts: [low, lowTfjs],
          bindings: [],
        },
        // 3 x 3 / 2 on C = 3: 384 terms per image, 12,288 in all; at 1 MiB, chunks of 10 images.
        {
          o: { shape: [32, 256, 32, 3], poolSize: [3, 3], strides: [2, 2], k: 4, perChannel: false, padding: "same" },
          hosts: [low],
          bindings: [mib],
        },
        // Per channel, k = 10: 3,000 rows per channel.
        {
          o: { shape: [2, 1500, 3, 2], poolSize: [3, 4], strides: [1, 1], k: 10, perChannel: true, padding: "same" },
          hosts: [low],
          bindings: [],
        },
      ];
      let seed = 700;
      for (const { o, hosts, bindings } of cases) {
        const c = finiteCase(o, seed++);
        const dy = randomSignedDy(c, seed++);
        const what = `[${o.shape}] ${o.poolSize.join("x")}/${o.strides.join("x")} k=${o.k}`;
        // The split this exercises, as planned at WebGPU's default limits and at the lowered binding.
        for (const binding of [2 ** 27, ...bindings]) {
          const blocks = o.poolSize.join() === "2,2"
            ? check2x2(o.shape, o.padding, limitsOf(binding), MIN_LOOP_BUDGET)
            : checkGeneral(
              generalRequest(o.shape, o.padding, o.poolSize, o.strides, o.k, o.perChannel, MIN_LOOP_BUDGET),
              limitsOf(binding),
            );
          expect(blocks, `${what}: sum blocks at binding ${binding}`).toBeGreaterThan(1);
        }
        for (const impl of hosts) {
          expect(await gradientDisagreement(impl, c, dy), `${impl.name} ${what}`).toBeNull();
        }
        for (const binding of bindings) {
          const limited = low.withBindingLimits({ maxStorageBufferBindingSize: binding });
          expect(await gradientDisagreement(limited, c, dy), `${limited.name} ${what}`).toBeNull();
        }
      }
    },
    360_000,
  );
});
