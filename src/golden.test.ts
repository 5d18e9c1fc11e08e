import { describe, expect, test } from "vitest";
import { parseCli } from "./cli.ts";
import { GOLDEN_CLI, GOLDEN_URL, goldenFileText, goldenMain, loadGoldenCases } from "./golden.ts";
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
    // Every case carries a gradient, non-finite x and dy included (SPEC.md §5).
    for (const c of cases) expect(c.dx.length, c.name).toBe(c.x.length);
  });

  test("cover the input classes of issue 10 with the values SPEC.md §5 fixes", async () => {
    const cases = new Map((await loadGoldenCases()).map((c) => [c.name, c]));
    const get = (name: string) => {
      const c = cases.get(name);
      if (!c) throw new Error(`golden case ${name} is missing`);
      return c;
    };
    const same = (a: ArrayLike<number>, b: number[]) => expect(firstDifference(a, b)).toBeNull();
    // 1. k = 1 dLogits is exactly +0 whatever x and dy hold.
    same(get("k1-nonfinite-windows-dlogits").dLogits, [0]);
    same(get("logits-nan-k1").dLogits, [0]);
    // 2. logits finite in float64 only: one-hot weights.
    for (const name of ["logits-past-float32-1e39", "logits-past-float32-5e38", "logits-past-float32--2e39"]) {
      expect(get(name).logits.some((l) => Math.abs(l) > 3.5e38), name).toBe(true);
    }
    same(get("logits-past-float32-1e39").y, [4]);
    same(get("logits-past-float32-1e39").dx, [0, 1, 0, 0]);
    // 3. non-finite logits: the softmax limit.
    same(get("logits-plus-infinity").y, [4, 8]);
    same(get("logits-all-minus-infinity").y, [2.5, 5.5]);
    same(get("logits-nan").y, [NaN, NaN]);
    // 4. signed zeros.
    same(get("signed-zero-k1").y, [-0, 0, -0]);
    same(get("signed-zeros-k2").y, [0, -0]);
    same(get("signed-zero-k2-same").y, [-0, 0]);
    same(get("signed-zero-dx").dx, [0, -2, -0, 0]);
    // 5. non-finite dy and padded cells.
    same(get("nonfinite-dy-plus-infinity").dx, [0, Infinity, Infinity, 0]);
    same(get("nonfinite-dy-nan").dLogits, [NaN, NaN]);
    same(get("nonfinite-dy-padded").dLogits, [0, 0]);
    same(get("nonfinite-dy-one-window").dLogits, [NaN, NaN, NaN]);
  });

  test("the reference reproduces every case", async () => {
    for (const c of await loadGoldenCases()) {
      const input = { x: c.x, shape: c.shape, logits: c.logits, k: c.k, padding: c.padding };
      const forward = referenceForward(input);
      expect(forward.shape, c.name).toEqual(c.outputShape);
      expect(firstDifference(forward.y, c.y), c.name).toBeNull();
      const { dx, dLogits } = referenceGradient(input, c.dy);
      expect(firstDifference(dx, c.dx), c.name).toBeNull();
      expect(firstDifference(dLogits, c.dLogits), c.name).toBeNull();
    }
  });
});

describe("deno task golden (command line)", () => {
  test("--help asks for help only; --out writes elsewhere; --check compares without writing", async () => {
    expect(parseCli(GOLDEN_CLI, ["--help"]).help).toBe(true);
    expect(() => parseCli(GOLDEN_CLI, ["--write"])).toThrow(/^--write: expected one of/);
    const out = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const run = (args: string[]) => goldenMain(parseCli(GOLDEN_CLI, args));
      expect(await run(["--out", out])).toBe(0);
      expect(await Deno.readTextFile(out)).toBe(goldenFileText());
      expect(await run(["--check", "--out", out])).toBe(0);
      await Deno.writeTextFile(out, "{}\n");
      expect(await run(["--check", "--out", out])).toBe(1);
      expect(await Deno.readTextFile(out)).toBe("{}\n");
    } finally {
      await Deno.remove(out);
    }
  });
});
