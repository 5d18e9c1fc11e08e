import { describe, expect, test } from "vitest";
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { implementations } from "../src/registry.ts";
import type { Implementation } from "../src/types.ts";
import { oracleWeights, properties } from "./properties.ts";
import { logitsPrecisionOf, opSubjects, selectSubjects } from "./subjects.ts";
import { formatOutcome } from "./report.ts";
import { runProperty, slotsFor } from "./runner.ts";
import { VerdictBuilder } from "./verdict.ts";

/** Fixed so that CI is reproducible; set SORTPOOL_PROPS_SEED to explore other cases. */
const SEED = Number(Deno.env.get("SORTPOOL_PROPS_SEED") ?? 20240611);

describe("check subjects and their oracle weights (SPEC.md §5 Weights)", () => {
  test("the op's subjects hold logits in float32; registry entries in float64; --impl filters both", () => {
    expect(opSubjects.map((s) => s.name)).toEqual(["sortPool2d@cpu", "sortPool2d@webgpu"]);
    for (const s of opSubjects) expect(logitsPrecisionOf(s)).toBe("float32");
    for (const e of implementations) expect(logitsPrecisionOf(e)).toBe("float64");
    expect(selectSubjects("cpu").map((s) => s.name)).toEqual([
      "tfjs-topk@cpu",
      "tfjs-network@cpu",
      "sortPool2d@cpu",
    ]);
    expect(selectSubjects("sortPool2d").length).toBe(2);
    expect(() => selectSubjects("nothing-matches")).toThrow(/sortPool2d@webgpu/);
  });

  test("float64 softmax, rounded to the entry's precision; the op rounds its logits to float32 first", () => {
    const reference = implementations.find((e) => e.name === "reference")!;
    const wgsl = implementations.find((e) => e.name === "wgsl")!;
    const logits = [1e8, 1e8 * (1 + 2 ** -30)];
    const w64 = oracleWeights(reference, logits);
    expect(w64[1]).toBeGreaterThan(w64[0]);
    expect(Array.from(oracleWeights(wgsl, logits))).toEqual(Array.from(Float32Array.from(w64)));
    // float32 cannot tell the two logits apart: equal weights for the op.
    expect(Array.from(oracleWeights(opSubjects[0], logits))).toEqual([0.5, 0.5]);
    expect(Array.from(oracleWeights(wgsl, [1e39, 0]))).toEqual([1, 0]);
    expect(Array.from(oracleWeights(opSubjects[1], [1e39, 0]))).toEqual([1, 0]);
  });
});

describe("verdict comparisons", () => {
  test("NaN meets only NaN, infinities match exactly, +0 equals -0, finite values within tolerance", () => {
    const v = new VerdictBuilder();
    expect(v.compare("a", NaN, NaN, 0, () => undefined)).toBe(true);
    expect(v.compare("b", NaN, 1, 1e9, () => undefined)).toBe(false);
    expect(v.compare("c", 1, NaN, 1e9, () => undefined)).toBe(false);
    expect(v.compare("d", Infinity, Infinity, 0, () => undefined)).toBe(true);
    expect(v.compare("e", Infinity, 1e300, Infinity, () => undefined)).toBe(false);
    expect(v.compare("f", 0, -0, 0, () => undefined)).toBe(true);
    expect(v.compare("g", 1, 1.5, 0.5, () => undefined)).toBe(true);
    expect(v.compare("h", 1, 1.5, 0.25, () => undefined)).toBe(false);
    expect(v.within("i", 0, 1, 1.1, 0.05, () => undefined)).toBe(false);
    expect(v.within("j", 0, 1, NaN, 1e9, () => undefined)).toBe(false);
    const verdict = v.build();
    expect(verdict.mismatches.map((m) => m.check).sort()).toEqual(["b", "c", "e", "h", "i", "j"]);
    expect(verdict.comparisons).toBe(10);
  });

  test("sameSign / compareSigned: zeros must agree in sign, NaN and other values are left to compare", () => {
    const v = new VerdictBuilder();
    expect(v.sameSign("a", -0, -0, () => undefined)).toBe(true);
    expect(v.sameSign("b", 0, -0, () => undefined)).toBe(false);
    expect(v.sameSign("c", 1, -0, () => undefined)).toBe(true);
    expect(v.compareSigned("d", -0, 0, 1, () => undefined)).toBe(false);
    expect(v.compareSigned("e", -0, -1e-30, 1, () => undefined)).toBe(true);
    expect(v.compareSigned("f", NaN, NaN, 0, () => undefined)).toBe(true);
    expect(v.build().mismatches.map((m) => m.check).sort()).toEqual([
      "b: sign of a zero (SPEC.md §5 fixes it)",
      "d: sign of a zero (SPEC.md §5 fixes it)",
    ]);
  });

  test("a deviation is kept apart from failures and sorted after them", () => {
    const v = new VerdictBuilder();
    v.compare("tie", 1, 2, 0, () => undefined, "deviation");
    v.compare("other", 1, 3, 0, () => undefined, "fail");
    expect(v.build().mismatches.map((m) => m.severity)).toEqual(["fail", "deviation"]);
  });
});

describe("tie bracket", () => {
  test("dx lies between the one-sided derivatives only where the weights are monotone over the tie group", () => {
    // Three tied cells, k = 3, w = [0.1, 0.8, 0.1]: the spec gives the middle cell (rank 1) 0.8,
    // but moving it up makes it rank 0 (derivative 0.1) and down rank 2 (0.1). So the ties
    // property checks the bracket only where it holds for every tie order (monotone weights,
    // which includes every tie of two cells), and checks dx against the reference elsewhere.
    const c = { x: Float64Array.from([1, 1, 1, 0]), shape: [1, 2, 2, 1] as const, k: 3, padding: "valid" as const };
    const logits = [0, Math.log(8), 0];
    const eps = 2 ** -4;
    const f = (x: number[]) => referenceForward({ ...c, x: Float64Array.from(x), logits }).y[0];
    const up = (f([1, 1 + eps, 1, 0]) - f([1, 1, 1, 0])) / eps;
    const down = (f([1, 1, 1, 0]) - f([1, 1 - eps, 1, 0])) / eps;
    const dx = referenceGradient({ ...c, logits }, [1]).dx[1];
    expect(up).toBeCloseTo(0.1, 12);
    expect(down).toBeCloseTo(0.1, 12);
    expect(dx).toBeCloseTo(0.8, 12);
  });
});

describe("unsupported cases (an entry's supports)", () => {
  test("are skipped, counted and given a reason; never run and never counted as passing", async () => {
    const reference = implementations.find((e) => e.name === "reference")!;
    const seen: string[] = [];
    const limited: Implementation = {
      ...reference,
      name: "limited",
      supports: { windows: "2x2/2", perChannelLogits: false, limitation: "test entry: 2x2/2, shared logits" },
      forward: (c) => {
        const shared = c.logits.length === c.k || c.shape[3] === 1;
        seen.push(`${c.poolSize ?? [2, 2]}/${c.strides ?? c.poolSize ?? [2, 2]} ${shared ? "shared" : "per-channel"}`);
        return reference.forward(c);
      },
    };
    const outcome = await runProperty(limited, properties.find((p) => p.name === "fwd-ref")!, {
      seed: SEED,
      runs: 20,
      shrinkLimit: 0,
      context: { slots: 4 },
      replayCommand: "deno task check-grads",
    });
    expect(outcome.status).toBe("pass");
    expect(outcome.coverage.evaluated).toBe(20);
    expect(outcome.coverage.general).toBe(0);
    expect(outcome.coverage.perChannel).toBe(0);
    expect(outcome.skips.count).toBeGreaterThan(5);
    expect(outcome.skips.windows).toBeGreaterThan(0);
    expect(outcome.skips.reason).toContain("limited does not support");
    expect(outcome.skips.reason).toContain("test entry: 2x2/2, shared logits");
    // Only supported cases reached the entry: 2x2/2 windows (left out or passed), shared logits (or C = 1).
    expect(seen.length).toBe(20);
    for (const s of seen) expect(s).toBe("2,2/2,2 shared");
  });
});

/** Few runs per property: CI time. `deno task check-grads` runs the full plan. */
function ciRuns(entry: Implementation): number {
  return entry.device === "webgpu" ? 3 : 6;
}

describe("every registry entry and the op on both backends pass every property (few runs; full: check-grads)", () => {
  for (const entry of [...implementations, ...opSubjects]) {
    test(`${entry.name} (${entry.precision}, ${entry.device}, ties ${entry.ties.kind})`, async () => {
      const problems: string[] = [];
      for (const property of properties) {
        const outcome = await runProperty(entry, property, {
          seed: SEED,
          runs: ciRuns(entry),
          shrinkLimit: entry.device === "webgpu" ? 10 : 50,
          context: { slots: slotsFor(entry) },
          replayCommand: "deno task check-grads",
        });
        const declared = entry.ties.kind === "deviates" && outcome.status === "deviation";
        if (outcome.status !== "pass" && !declared) problems.push(formatOutcome(outcome));
      }
      await entry.dispose?.();
      expect(problems.join("\n\n")).toBe("");
    });
  }
});
