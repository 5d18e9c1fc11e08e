/**
 * The project's JSON encoding of numbers: JSON numbers, except the strings "NaN", "Infinity",
 * "-Infinity" and "-0" for the values JSON cannot hold. The golden vectors, the conformance kit's
 * wire protocol and check-grads' --json output all use it.
 *
 * @module
 */

/** A number as JSON holds it: a JSON number, or a string for the values JSON cannot hold. */
export type EncodedNumber = number | "NaN" | "Infinity" | "-Infinity" | "-0";

/** Encodes a number (NaN, ±Infinity and -0 become strings). */
export function encodeNumber(v: number): EncodedNumber {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

/**
 * Decodes an encoded number: a JSON number (a JSON `-0.0` parses to -0 already) or one of the four
 * strings; undefined for anything else.
 */
export function decodeNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  switch (v) {
    case "NaN":
      return NaN;
    case "Infinity":
      return Infinity;
    case "-Infinity":
      return -Infinity;
    case "-0":
      return -0;
  }
  return undefined;
}

/** A decoded array, or a description of what was wrong with it. */
export type DecodedArray = { ok: true; values: Float64Array } | { ok: false; problem: string };

/** Decodes an array of encoded numbers, naming the first element that is not one. */
export function decodeNumberArray(v: unknown): DecodedArray {
  if (!Array.isArray(v)) return { ok: false, problem: `not an array (${briefJson(v)})` };
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const d = decodeNumber(v[i]);
    if (d === undefined) {
      return {
        ok: false,
        problem: `element ${i} is ${briefJson(v[i])}: expected a JSON number or "NaN", "Infinity", "-Infinity", "-0"`,
      };
    }
    out[i] = d;
  }
  return { ok: true, values: out };
}

/** A short JSON rendering of any value for messages (at most ~80 characters). */
export function briefJson(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
