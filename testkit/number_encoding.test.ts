import { describe, expect, test } from "vitest";
import { briefJson, decodeNumber, decodeNumberArray, encodeNumber } from "./number_encoding.ts";

describe("number encoding", () => {
  test("NaN, ±Infinity and -0 become strings, other numbers stay numbers; decoding inverts it", () => {
    const values = [NaN, Infinity, -Infinity, -0, 0, 1.5, -3e38, 2 ** -149];
    const encoded = values.map(encodeNumber);
    expect(encoded).toEqual(["NaN", "Infinity", "-Infinity", "-0", 0, 1.5, -3e38, 2 ** -149]);
    // Through JSON and back, bit for bit (Object.is: -0 stays -0, NaN stays NaN).
    const decoded = (JSON.parse(JSON.stringify(encoded)) as unknown[]).map(decodeNumber);
    decoded.forEach((v, i) => expect(Object.is(v, values[i]), `${values[i]}`).toBe(true));
  });

  test("anything else decodes to undefined; an array names its first bad element", () => {
    for (const bad of ["nan", "inf", "1", null, true, [1], {}]) expect(decodeNumber(bad)).toBeUndefined();
    expect(decodeNumberArray([1, "-0", "NaN"])).toEqual({ ok: true, values: Float64Array.from([1, -0, NaN]) });
    expect(decodeNumberArray([1, "abc", null])).toEqual({
      ok: false,
      problem: 'element 1 is "abc": expected a JSON number or "NaN", "Infinity", "-Infinity", "-0"',
    });
    expect(decodeNumberArray({ y: 1 })).toEqual({ ok: false, problem: 'not an array ({"y":1})' });
  });

  test("briefJson shortens long values to about 80 characters", () => {
    expect(briefJson([1, 2])).toBe("[1,2]");
    const long = briefJson("x".repeat(200));
    expect(long.length).toBe(80);
    expect(long.endsWith("...")).toBe(true);
    expect(briefJson(undefined)).toBe("undefined");
  });
});
