import { describe, expect, test } from "vitest";
import { referenceForward, referenceGradient } from "./reference.ts";
import type { SortPoolCase } from "./types.ts";
import { SortPoolArgumentError } from "./validate.ts";

const good: SortPoolCase = {
  x: new Float32Array(2 * 3 * 5 * 2),
  shape: [2, 3, 5, 2],
  logits: [0, 1],
  k: 2,
  padding: "same",
};

/** Runs `fn`, expects a SortPoolArgumentError for `argument`, and returns its message. */
function rejection(fn: () => unknown, argument: string, fragment: string): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SortPoolArgumentError);
    const err = e as SortPoolArgumentError;
    expect(err.argument).toBe(argument);
    expect(err.message).toContain("expected");
    expect(err.message).toContain("received");
    expect(err.message).toContain(fragment);
    return err.message;
  }
  throw new Error(`expected a rejection of ${argument}`);
}

// deno-lint-ignore no-explicit-any
const bad = (patch: Record<string, unknown>) => ({ ...good, ...patch }) as any;

describe("validation errors name the argument, the expectation and what was received", () => {
  const cases: [string, () => unknown, string, string][] = [
    ["rank not 4", () => referenceForward(bad({ shape: [3, 5, 2] })), "shape", "rank 3"],
    ["non-integer dimension", () => referenceForward(bad({ shape: [2, 3.5, 5, 2] })), "shape[1] (height)", "3.5"],
    // A zero dimension is an empty input (SPEC.md §1): x must then be empty too.
    ["zero dimension, x not empty", () => referenceForward(bad({ shape: [2, 3, 0, 2] })), "x", "length B·H·W·C"],
    ["negative dimension", () => referenceForward(bad({ shape: [2, 3, -1, 2] })), "shape[2] (width)", "received -1"],
    [
      "valid, empty input past tf.maxPool's range",
      () =>
        referenceForward(
          bad({ x: new Float32Array(0), shape: [0, 1, 5, 2], padding: "valid", poolSize: [3, 3], strides: [1, 1] }),
        ),
      "shape",
      "height >= 2 and width >= 2 (poolSize − strides) for an empty input",
    ],
    ["unknown case key", () => referenceForward(bad({ stride: [1, 1] })), "case", 'unknown key "stride"'],
    ["x length", () => referenceForward(bad({ x: new Float32Array(7) })), "x", "length 7"],
    ["x type", () => referenceForward(bad({ x: [1, 2, 3] })), "x", "Float32Array or Float64Array"],
    ["k out of range", () => referenceForward(bad({ k: 5 })), "k", "received 5"],
    ["k not integer", () => referenceForward(bad({ k: 1.5 })), "k", "1.5"],
    ["logits length", () => referenceForward(bad({ logits: [0, 1, 2] })), "logits", "length 3"],
    ["logit not a number", () => referenceForward(bad({ logits: [0, "1"] })), "logits[1]", '"1"'],
    ["logits not an array", () => referenceForward(bad({ logits: 0.5 })), "logits", "0.5"],
    ["unknown padding", () => referenceForward(bad({ padding: "SAME" })), "padding", '"SAME"'],
    [
      "valid on H < 2",
      () => referenceForward(bad({ x: new Float32Array(10), shape: [1, 1, 5, 2], padding: "valid" })),
      "shape",
      "output would be empty",
    ],
    ["dy length", () => referenceGradient(good, new Float32Array(3)), "dy", "length 3"],
    ["dy type", () => referenceGradient(good, "nope" as unknown as number[]), "dy", '"nope"'],
    [
      "dy element not a number",
      () => referenceGradient(good, [...new Array(23).fill(0), "b"] as unknown as number[]),
      "dy[23]",
      '"b"',
    ],
    [
      "dy of bigints",
      () => referenceGradient(good, new BigInt64Array(24) as unknown as number[]),
      "dy[0]",
      "0 (bigint)",
    ],
  ];
  for (const [label, fn, argument, fragment] of cases) {
    test(label, () => {
      rejection(fn, argument, fragment);
    });
  }

  test("a valid case passes", () => {
    expect(referenceForward(good).shape).toEqual([2, 2, 3, 2]);
  });

  test("any number is a valid logit, ±Infinity and NaN included (SPEC.md §5 Weights)", () => {
    for (const logits of [[Infinity, 0], [0, -Infinity], [NaN, 0], [1e39, -1e39], [-Infinity, -Infinity]]) {
      expect(referenceForward({ ...good, logits }).shape, `${logits}`).toEqual([2, 2, 3, 2]);
    }
  });

  test("a case must be a plain object; inherited and non-enumerable keys do not slip past the key check", () => {
    rejection(
      () => referenceForward(Object.assign(Object.create({ stride: [1, 1] }), good)),
      "case",
      'inheriting the keys "stride"',
    );
    rejection(
      () => referenceForward(Object.assign(Object.create({ strides: [1, 1] }), good)),
      "case",
      "a plain object",
    );
    rejection(
      () => referenceForward(Object.defineProperty({ ...good }, "stride", { value: [1, 1] })),
      "case",
      'unknown key "stride" (not enumerable)',
    );
    rejection(() => referenceForward(new Map(Object.entries(good)) as never), "case", "a Map");
  });
});
