/**
 * `violationsAgainst`: a schema kept outside this folder validated with the same strict ajv and the
 * same rendering (JSON path, expected, received); `firstOnly` stops at the first violation.
 */
import { describe, expect, it } from "vitest";
import { formatViolation, violationsAgainst } from "./validate.ts";

const schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["n", "list"],
  additionalProperties: false,
  properties: {
    n: { type: "integer", minimum: 1, maximum: 4 },
    list: { type: "array", items: { type: ["number", "null"] } },
  },
};

describe("violationsAgainst", () => {
  it("accepts what fits and renders each violation with its path, what was expected and received", () => {
    const check = violationsAgainst(schema);
    expect(check({ n: 2, list: [1, null] })).toEqual([]);
    const faults = check({ n: 7, list: ["a", 2, "b"], extra: true }).map(formatViolation);
    expect(faults).toContain("$.n: expected an integer in 1..4; received 7");
    expect(faults.some((f) => f.startsWith('$.list[0]: expected a number or null; received "a"'))).toBe(true);
    expect(faults.some((f) => f.startsWith('$.list[2]: expected a number or null; received "b"'))).toBe(true);
    expect(faults.some((f) => f.startsWith('$.extra: expected no field "extra"'))).toBe(true);
  });

  it("with firstOnly, stops at the first violation (a file broken everywhere is refused quickly)", () => {
    const list = Array.from({ length: 100_000 }, () => "x");
    expect(violationsAgainst(schema)({ n: 1, list })).toHaveLength(100_000);
    expect(violationsAgainst(schema, { firstOnly: true })({ n: 1, list })).toHaveLength(1);
  });

  it("shows a number JSON cannot hold as it is, not as null", () => {
    const [fault] = violationsAgainst(schema)({ n: Infinity, list: [] });
    expect(formatViolation(fault)).toMatch(/^\$\.n: expected an integer.*received Infinity/);
  });
});
