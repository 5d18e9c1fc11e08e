import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { implementations } from "../src/registry.ts";
import { poolGeometry, sizeOf } from "../src/spec.ts";
import { containingWindows, hasOverlap, isRepresentable, windowFacts } from "../testkit/mod.ts";
import {
  buildCase,
  caseArbitrary,
  classify,
  fdStepX,
  MAX_SIDE,
  paramsArbitrary,
  perturb,
  slotCells,
  smallestGap,
  VALUE_KINDS,
  type ValueKind,
  WORK_CAP,
} from "./generators.ts";
import { CALIBRATION_PARAMS, GENERAL_CALIBRATION_PARAMS } from "./plan.ts";
import { oracleWeights, properties, toEntryCase } from "./properties.ts";

/** Fixed so that CI is reproducible; set SORTPOOL_PROPS_SEED to explore other cases. */
const SEED = Number(Deno.env.get("SORTPOOL_PROPS_SEED") ?? 20240611);

describe("generators", () => {
  test("shapes run from 1x1 to odd and even sides >= 12, batch 1..3, channels 1..8; valid only with H, W >= 2", () => {
    const params = fc.sample(paramsArbitrary({ kinds: ["distinct"] }), { numRuns: 3000, seed: SEED });
    const sides = new Set(params.flatMap((p) => [p.height, p.width]));
    for (const side of [1, 2, 12, 13]) expect(sides.has(side), `side ${side}`).toBe(true);
    expect(new Set(params.map((p) => p.batch))).toEqual(new Set([1, 2, 3]));
    expect(new Set(params.map((p) => p.channels))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(new Set(params.map((p) => p.k))).toEqual(new Set([1, 2, 3, 4]));
    expect(params.some((p) => p.padding === "valid")).toBe(true);
    for (const p of params) if (p.padding === "valid") expect(Math.min(p.height, p.width)).toBeGreaterThanOrEqual(2);
  });

  test("empty-input draws a zero batch, height, width and channel count, each case valid (SPEC.md §1, §3)", () => {
    const empty = properties.find((p) => p.name === "empty-input")!;
    const cases = fc.sample(caseArbitrary("float32", empty.constraints), { numRuns: 400, seed: SEED });
    const zeros = new Set<string>();
    for (const c of cases) {
      const dims = (["batch", "height", "width", "channels"] as const).filter((_, i) => c.shape[i] === 0);
      expect(dims, JSON.stringify(c.shape)).toHaveLength(1);
      zeros.add(dims[0]);
      // valid for the reference: an empty y of the output shape, an empty dx
      const sc = {
        x: c.x,
        shape: c.shape,
        logits: [...c.logits],
        k: c.k,
        padding: c.padding,
        ...(c.poolSize ? { poolSize: c.poolSize } : {}),
        ...(c.strides ? { strides: c.strides } : {}),
      };
      expect(referenceForward(sc).y.length).toBe(0);
      expect(referenceGradient(sc, c.dy).dx.length).toBe(0);
      const [kh, kw] = c.poolSize ?? [2, 2];
      const [sh, sw] = c.strides ?? [kh, kw];
      if (c.padding === "valid" && c.shape[1] === 0) expect(sh).toBeGreaterThanOrEqual(kh);
      if (c.padding === "valid" && c.shape[2] === 0) expect(sw).toBeGreaterThanOrEqual(kw);
    }
    expect(zeros).toEqual(new Set(["batch", "height", "width", "channels"]));
    expect(cases.some((c) => c.padding === "valid" && (c.shape[1] === 0 || c.shape[2] === 0))).toBe(true);
  });

  test("general windows: every family, k up to kh·kw, per-channel logits, small and boundary sizes, work capped", () => {
    const params = fc.sample(paramsArbitrary({ kinds: ["distinct"], windows: "any", perChannelLogits: true }), {
      numRuns: 3000,
      seed: SEED,
    });
    let defaults = 0;
    let overlapping = 0;
    let gaps = 0;
    let perChannel = 0;
    let sameSmall = 0;
    let validEqual = 0;
    const windows = new Set<string>();
    const ks = new Set<number>();
    for (const p of params) {
      const [kh, kw] = p.window.poolSize;
      const [sh, sw] = p.window.strides;
      for (const d of [kh, kw, sh, sw]) expect(d >= 1 && d <= 4, `${kh}x${kw}/${sh},${sw}`).toBe(true);
      expect(p.k >= 1 && p.k <= kh * kw, `k ${p.k} for ${kh}x${kw}`).toBe(true);
      ks.add(p.k);
      windows.add(`${kh}x${kw}/${sh},${sw}`);
      const g = poolGeometry([p.batch, p.height, p.width, p.channels], p.padding, p.window);
      if (!p.window.explicit) {
        defaults++;
        expect([kh, kw, sh, sw]).toEqual([2, 2, 2, 2]);
      } else {
        expect(g.rows.out * g.cols.out * g.cells).toBeLessThanOrEqual(WORK_CAP);
      }
      if (hasOverlap(g)) overlapping++;
      if (sh > kh || sw > kw) gaps++;
      if (p.perChannel && p.channels > 1) perChannel++;
      if (p.padding === "same" && p.height < kh) sameSmall++;
      if (p.padding === "valid") {
        expect(p.height >= kh && p.width >= kw, `valid ${p.height}x${p.width} for ${kh}x${kw}`).toBe(true);
        if (p.height === kh) validEqual++;
      }
      expect(Math.max(p.height, p.width)).toBeLessThanOrEqual(MAX_SIDE);
    }
    // The default 2x2/2 stays the common path; the other families all occur.
    expect(defaults / params.length).toBeGreaterThan(0.3);
    expect(overlapping / params.length).toBeGreaterThan(0.2);
    expect(gaps).toBeGreaterThan(50);
    expect(perChannel / params.length).toBeGreaterThan(0.15);
    expect(sameSmall).toBeGreaterThan(50);
    expect(validEqual).toBeGreaterThan(50);
    for (const w of ["3x3/2,2", "3x3/1,1", "2x2/1,1", "4x4/4,4", "3x2/1,2"]) expect(windows.has(w), w).toBe(true);
    for (let k = 1; k <= 16; k++) expect(ks.has(k), `k ${k}`).toBe(true);
  });

  test("per-channel logits: C groups of k, channel-major; the oracle weights are a softmax per group", () => {
    const cases = fc.sample(
      caseArbitrary("float32", { kinds: ["distinct"], windows: "any", perChannelLogits: true }),
      { numRuns: 300, seed: SEED },
    );
    const perChannel = cases.filter((c) => classify(c).perChannel);
    expect(perChannel.length).toBeGreaterThan(30);
    for (const c of cases) {
      expect(c.logits.length === c.k || c.logits.length === c.k * c.shape[3]).toBe(true);
      expect(c.logitDirection.length).toBe(c.logits.length);
    }
    const reference = implementations.find((e) => e.name === "reference")!;
    for (const c of perChannel.slice(0, 10)) {
      const w = oracleWeights(reference, c.logits, c.k);
      for (let start = 0; start < w.length; start += c.k) {
        const sum = Array.from(w.subarray(start, start + c.k)).reduce((a, b) => a + b, 0);
        expect(sum).toBeCloseTo(1, 12);
      }
    }
  });

  test("overlapping windows: slot cells never share a window; each covered cell is in one slot", () => {
    const cases = fc.sample(caseArbitrary("float32", { kinds: ["distinct"], windows: "any" }), {
      numRuns: 60,
      seed: SEED,
    });
    let multi = 0;
    for (const c of cases) {
      const facts = windowFacts(c, c.x);
      const windows = containingWindows(c, facts);
      multi += windows.filter((held) => held.length > 1).length;
      const seen = new Uint8Array(sizeOf(c.shape));
      for (let slot = 0; slot < c.poolSize[0] * c.poolSize[1]; slot++) {
        const cells = slotCells(c, windows, slot);
        const moved = new Set(cells);
        for (const w of facts) {
          expect(w.cells.filter((q) => q.index >= 0 && moved.has(q.index)).length).toBeLessThanOrEqual(1);
        }
        for (const i of cells) seen[i]++;
      }
      for (let i = 0; i < seen.length; i++) expect(seen[i]).toBe(windows[i].length > 0 ? 1 : 0);
    }
    expect(multi).toBeGreaterThan(30);
  });

  const gapless: ValueKind[] = ["ties", "nonfinite", "infinities", "signed-zeros"];
  for (const precision of ["float32", "float64"] as const) {
    test(`${precision}: every value is exact; distinct kinds keep a positive gap; x ± eps·v stays exact`, () => {
      for (const kind of VALUE_KINDS) {
        const cases = fc.sample(caseArbitrary(precision, { kinds: [kind], windows: "any", perChannelLogits: true }), {
          numRuns: 40,
          seed: SEED,
        });
        for (const c of cases) {
          for (const v of c.x) expect(isRepresentable(v, precision)).toBe(true);
          if (gapless.includes(kind)) continue;
          const facts = windowFacts(c, c.x);
          // Real cells are distinct inside every window and never equal a padded zero (padded
          // cells may tie with each other: they never move).
          for (const w of facts) {
            const values = w.cells.filter((q) => q.index >= 0).map((q) => q.value);
            expect(new Set(values).size, `${kind} window ${values}`).toBe(values.length);
            if (w.cells.some((q) => q.index < 0)) expect(values.includes(0), `${kind} window ${values}`).toBe(false);
          }
          if (kind === "mixed") continue;
          const eps = fdStepX(c, facts);
          expect(eps).toBeLessThanOrEqual(smallestGap(facts) / 4);
          expect(() => perturb(c, c.x, eps, c.direction)).not.toThrow();
          expect(() => perturb(c, c.x, -eps, c.direction)).not.toThrow();
        }
      }
    });
  }

  test("ties: exact ties, +0 and -0, and ties with padded zeros occur", () => {
    const cases = fc.sample(caseArbitrary("float32", { kinds: ["ties"] }), { numRuns: 200, seed: SEED });
    let tied = 0;
    let signedZeros = 0;
    let padTies = 0;
    for (const c of cases) {
      for (const w of windowFacts(c, c.x)) {
        const values = w.cells.map((q) => q.value);
        if (new Set(values).size < values.length) tied++;
        if (values.some((v) => Object.is(v, -0)) && values.some((v) => Object.is(v, 0))) signedZeros++;
        if (w.cells.some((q) => q.index < 0) && w.cells.some((q) => q.index >= 0 && q.value === 0)) padTies++;
      }
    }
    expect(tied).toBeGreaterThan(100);
    expect(signedZeros).toBeGreaterThan(10);
    expect(padTies).toBeGreaterThan(10);
  });

  test("nonfinite: NaN, +Infinity and -Infinity occur; huge and tiny reach 2^±60 and beyond", () => {
    const nonfinite = fc.sample(caseArbitrary("float32", { kinds: ["nonfinite"] }), { numRuns: 50, seed: SEED });
    const all = nonfinite.flatMap((c) => Array.from(c.x));
    expect(all.some(Number.isNaN)).toBe(true);
    // NaNs with the sign bit set reach a float32 entry with their bits intact.
    const bits = nonfinite.flatMap((c) => Array.from(new Uint32Array(Float32Array.from(c.x).buffer)));
    expect(bits.includes(0xffc00000)).toBe(true);
    expect(bits.includes(0x7fc00001)).toBe(true);
    expect(all.includes(Infinity) && all.includes(-Infinity)).toBe(true);
    for (
      const [kind, check] of [["huge", (v: number) => Math.abs(v) >= 2 ** 60], [
        "tiny",
        (v: number) => v !== 0 && Math.abs(v) <= 2 ** -54,
      ]] as const
    ) {
      const cases = fc.sample(caseArbitrary("float32", { kinds: [kind] }), { numRuns: 20, seed: SEED });
      for (const c of cases) for (const v of c.x) expect(check(v), `${kind} ${v}`).toBe(true);
    }
  });

  test("edge-case input classes: signed zeros, (padded) non-finite dy, logits past float32, non-finite logits", () => {
    const zeros = fc.sample(caseArbitrary("float32", { kinds: ["signed-zeros"], ks: [1] }), {
      numRuns: 40,
      seed: SEED,
    });
    let negativeZeroMax = 0;
    for (const c of zeros) {
      for (const w of windowFacts(c, c.x)) if (Object.is(w.ranked[0].value, -0)) negativeZeroMax++;
    }
    expect(negativeZeroMax).toBeGreaterThan(20);

    const dyCases = fc.sample(caseArbitrary("float32", { kinds: ["distinct"], dyKinds: ["nonfinite"] }), {
      numRuns: 40,
      seed: SEED,
    });
    const dys = dyCases.flatMap((c) => Array.from(c.dy));
    expect(dys.some(Number.isNaN) && dys.includes(Infinity) && dys.includes(-Infinity)).toBe(true);
    expect(dys.some((v) => Object.is(v, -0)) && dys.some((v) => Object.is(v, 0))).toBe(true);

    // Non-finite dy only where every kept cell is padding, so the spec's dLogits stays finite there.
    const padded = fc.sample(
      caseArbitrary("float32", { kinds: ["distinct", "ties"], dyKinds: ["padded-nonfinite"], ks: [2, 3] }),
      { numRuns: 200, seed: SEED },
    );
    let placed = 0;
    for (const c of padded) {
      for (const w of windowFacts(c, c.x)) {
        if (Number.isFinite(c.dy[w.out])) continue;
        placed++;
        expect(w.ranked.slice(0, c.k).every((q) => q.index < 0)).toBe(true);
      }
    }
    expect(placed).toBeGreaterThan(5);

    const range = fc.sample(caseArbitrary("float32", { kinds: ["distinct"], logitKinds: ["range"], ks: [2, 3, 4] }), {
      numRuns: 100,
      seed: SEED,
    });
    const logits = range.flatMap((c) => c.logits);
    expect(logits.some((l) => Number.isFinite(l) && !Number.isFinite(Math.fround(l)))).toBe(true);
    // Logits that float32 cannot tell apart while float64 can.
    expect(range.some((c) => new Set(c.logits).size > 1 && new Set(c.logits.map(Math.fround)).size === 1)).toBe(true);

    const nonfinite = fc.sample(caseArbitrary("float32", { kinds: ["distinct"], logitKinds: ["nonfinite"] }), {
      numRuns: 60,
      seed: SEED,
    });
    for (const c of nonfinite) expect(c.logits.some((l) => !Number.isFinite(l)), `${c.logits}`).toBe(true);
    const specials = nonfinite.flatMap((c) => c.logits);
    expect(specials.some(Number.isNaN) && specials.includes(Infinity) && specials.includes(-Infinity)).toBe(true);
  });

  test("buildCase is deterministic (a seed and path replay the same case)", () => {
    for (const params of [CALIBRATION_PARAMS, GENERAL_CALIBRATION_PARAMS]) {
      const a = buildCase(params, "float32");
      const b = buildCase(params, "float32");
      expect(Array.from(a.x)).toEqual(Array.from(b.x));
      expect(Array.from(a.dy)).toEqual(Array.from(b.dy));
      expect(Array.from(a.xPermuted)).toEqual(Array.from(b.xPermuted));
      expect(a.logits).toEqual(b.logits);
    }
    // The default window is left out of the case an entry receives; a general one is passed.
    expect("poolSize" in toEntryCase(implementations[0], buildCase(CALIBRATION_PARAMS, "float64"))).toBe(false);
    expect(toEntryCase(implementations[0], buildCase(GENERAL_CALIBRATION_PARAMS, "float64"))).toMatchObject({
      poolSize: [3, 3],
      strides: [2, 2],
    });
  });
});
