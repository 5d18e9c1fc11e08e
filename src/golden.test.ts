import { describe, expect, test } from "vitest";
import { GOLDEN_URL, goldenFileText, loadGoldenCases } from "./golden.ts";
import { referenceForward, referenceGradient } from "./reference.ts";

/** First element that differs bitwise-in-value (Object.is: NaN equals NaN, +0 differs from -0). */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `index ${i}: ${actual[i]} vs ${expected[i]}`;
  }
  return null;
}

describe("golden vectors", () => {
  test("the committed file equals a fresh generation (regenerate with `deno task golden`)", async () => {
    const committed = await Deno.readTextFile(GOLDEN_URL);
    expect(committed === goldenFileText()).toBe(true);
  });

  test("cover k 1..4, both paddings, odd and even sizes, ties, NaN/Infinity, batch and channels > 1", async () => {
    const cases = await loadGoldenCases();
    for (const k of [1, 2, 3, 4]) {
      for (const padding of ["same", "valid"]) {
        const matching = cases.filter((c) => c.k === k && c.padding === padding);
        expect(matching.some((c) => c.shape[1] % 2 === 1 || c.shape[2] % 2 === 1)).toBe(true);
        expect(matching.some((c) => c.shape[1] % 2 === 0 && c.shape[2] % 2 === 0)).toBe(true);
      }
    }
    expect(cases.some((c) => c.x.some(Number.isNaN))).toBe(true);
    expect(cases.some((c) => c.x.some((v) => v === Infinity) && c.x.some((v) => v === -Infinity))).toBe(true);
    expect(cases.some((c) => c.shape[0] > 1 && c.shape[3] > 1)).toBe(true);
    expect(cases.some((c) => c.name.startsWith("ties"))).toBe(true);
    for (const c of cases) expect(c.dx === undefined).toBe(c.x.some((v) => !Number.isFinite(v)));
  });

  test("the reference reproduces every case", async () => {
    for (const c of await loadGoldenCases()) {
      const input = { x: c.x, shape: c.shape, logits: c.logits, k: c.k, padding: c.padding };
      const forward = referenceForward(input);
      expect(forward.shape, c.name).toEqual(c.outputShape);
      expect(firstDifference(forward.y, c.y), c.name).toBeNull();
      if (c.dy) {
        const { dx, dLogits } = referenceGradient(input, c.dy);
        expect(firstDifference(dx, c.dx!), c.name).toBeNull();
        expect(firstDifference(dLogits, c.dLogits!), c.name).toBeNull();
      }
    }
  });
});
