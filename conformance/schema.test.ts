/**
 * The data contracts as JSON Schema (schemas/): the three schemas compile under ajv's strict mode;
 * every request the kit sends fits the request schema, except bad inputs that are ill-typed on
 * purpose, which src/validate.ts rejects too; answers are checked against the answer schema before
 * any number is compared, and an answer that breaks it fails its case naming the JSON path, what was
 * expected and what was received, while the run goes on.
 */
import { describe, expect, it } from "vitest";
import { SCHEMAS, strictAjv } from "../schemas/validate.ts";
import { allCases, DEFAULT_SEED } from "./cases.ts";
import { expectedFor } from "./compare.ts";
import { answerSchemaViolations, encodeRequest, requestSchemaViolations } from "./protocol.ts";
import { type KitOptions, type KitReport, runKit } from "./run.ts";
import { livePortCount } from "./port.ts";

const NUMBER_ENCODING = 'a JSON number, or one of the strings "NaN", "Infinity", "-Infinity", "-0"';
const ANSWER_SCHEMA = "schemas/conformance_answer.schema.json";

describe("the schemas", () => {
  it("compile under ajv's strict mode and are valid draft 2020-12 schemas", () => {
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const ajv = strictAjv();
      expect(ajv.validateSchema(schema), `${name}: ${ajv.errorsText()}`).toBe(true);
      expect(() => ajv.compile(schema), name).not.toThrow();
      expect(schema.$schema, name).toBe("https://json-schema.org/draft/2020-12/schema");
    }
    // Strict mode is on: a keyword for arrays on a schema of unstated type does not compile.
    expect(() => strictAjv().compile({ properties: { a: { minItems: 1 } } })).toThrow(/strict mode/);
  });

  it("state the same number encoding in all three files", () => {
    const numberDefs = Object.values(SCHEMAS).map((schema) => (schema.$defs as Record<string, unknown>).number);
    expect(numberDefs).toHaveLength(3);
    expect(numberDefs[0]).toMatchObject({
      anyOf: [{ type: "number" }, { enum: ["NaN", "Infinity", "-Infinity", "-0"] }],
    });
    for (const def of numberDefs) expect(def).toEqual(numberDefs[0]);
  });
});

describe("requests", () => {
  it("every request the kit sends fits, but for bad inputs that src/validate.ts rejects too", async () => {
    const cases = [...await allCases("float32", DEFAULT_SEED, 10), ...await allCases("float64", DEFAULT_SEED, 2)];
    const broken = new Map<string, string[]>();
    for (const c of cases) {
      const wire = JSON.parse(encodeRequest(c.request));
      const violations = requestSchemaViolations(wire);
      if (violations.length === 0) continue;
      broken.set(c.name, violations.map((v) => v.path));
      // The schema never refuses a request the spec accepts: whatever breaks it is a bad input.
      expect(c.category, `${c.name}: ${JSON.stringify(violations)}`).toBe("bad-input");
      expect(expectedFor(c.request, "float32").kind, c.name).toBe("error");
    }
    // Valid requests of every kind fit, golden, generated, general windows and empty inputs included.
    const fitting = cases.filter((c) => !broken.has(c.name));
    for (const category of ["golden", "distinct", "overlap", "per-channel", "empty-input"]) {
      expect(fitting.some((c) => c.category === category), category).toBe(true);
    }
    // Well-formed bad inputs (a length, k past the window) fit; ill-typed ones break it where they are wrong.
    expect(broken.has("bad-input/x-short#0/forward")).toBe(false);
    expect(broken.has("bad-input/k=10-on-3x3#2/forward")).toBe(false);
    expect(broken.get("bad-input/logits-string#0/forward")).toEqual(["$.logits[0]"]);
    expect(broken.get("bad-input/logits-null#1/gradient")).toEqual(["$.logits[0]"]);
    expect(broken.get("bad-input/shape-rank-3#0/forward")).toEqual(["$.shape"]);
    expect(broken.get("bad-input/shape-fractional#0/forward")).toEqual(["$.shape[1]"]);
    expect(broken.get("bad-input/padding=full#0/forward")).toEqual(["$.padding"]);
    expect(broken.get("bad-input/poolSize-string#2/forward")).toEqual(["$.poolSize"]);
    expect(broken.get("bad-input/k=1.5#1/gradient")).toEqual(["$.k"]);
  });

  it("a forward request carries no dy, a gradient request must; poolSize and strides come together", () => {
    const forward = {
      id: "a",
      op: "forward",
      x: [1, 4, 3, 2],
      shape: [1, 2, 2, 1],
      logits: [0],
      k: 1,
      padding: "valid",
    };
    expect(requestSchemaViolations(forward)).toEqual([]);
    expect(requestSchemaViolations({ ...forward, dy: [1] })).toEqual([
      { path: "$.dy", expected: "no such field here (a forward request carries no dy)", received: "[1]" },
    ]);
    expect(requestSchemaViolations({ ...forward, op: "gradient" })).toEqual([
      {
        path: "$.dy",
        expected: 'a field "dy" (a gradient request carries dy)',
        received: "nothing: the field is missing",
      },
    ]);
    expect(requestSchemaViolations({ ...forward, strides: [1, 1] })).toEqual([
      {
        path: "$.poolSize",
        expected: 'a field "poolSize" too, since "strides" is present',
        received: "nothing: the field is missing",
      },
    ]);
  });
});

describe("answers: the schema", () => {
  const forward = { id: "a", shape: [1, 1, 1, 1], y: [3.5] };
  const gradient = { id: "a", dx: [0, "-0", "NaN", -0.5], dLogits: ["Infinity", "-Infinity"] };

  it("well-formed answers of each kind fit", () => {
    expect(answerSchemaViolations("forward", forward)).toEqual([]);
    expect(answerSchemaViolations("gradient", gradient)).toEqual([]);
    expect(answerSchemaViolations("forward", { id: "a", error: "k: expected 1..4" })).toEqual([]);
    // The other op's fields may come along (not read); with "error" the rest is not read either.
    expect(answerSchemaViolations("forward", { ...forward, dx: [], dLogits: [] })).toEqual([]);
    expect(answerSchemaViolations("gradient", { id: "a", error: "no", y: [1] })).toEqual([]);
  });

  it("a missing field, a wrong type, an unknown field, a number not in the encoding: each named by its path", () => {
    const missingY = { path: "$.y", expected: 'a field "y"', received: "nothing: the field is missing" };
    expect(answerSchemaViolations("forward", { id: "a", shape: [1, 1, 1, 1] })).toEqual([missingY]);
    expect(answerSchemaViolations("gradient", forward).map((v) => v.path)).toEqual(["$.dx", "$.dLogits"]);
    expect(answerSchemaViolations("forward", { ...forward, shape: "1x1x1x1" })).toEqual([
      { path: "$.shape", expected: "an array", received: '"1x1x1x1" (a string)' },
    ]);
    expect(answerSchemaViolations("forward", { ...forward, shape: [1, 1, 1, 1.5] })).toEqual([
      { path: "$.shape[3]", expected: "an integer", received: "1.5 (a number)" },
    ]);
    expect(answerSchemaViolations("gradient", { id: "a", error: 42 })).toEqual([
      { path: "$.error", expected: "a string", received: "42 (an integer)" },
    ]);
    expect(answerSchemaViolations("forward", { id: "a", error: "" })).toEqual([
      { path: "$.error", expected: "a non-empty string", received: '""' },
    ]);
    const extra = answerSchemaViolations("forward", { ...forward, ms: 3 });
    expect(extra).toEqual([{
      path: "$.ms",
      expected: 'no field "ms" (the fields are "id", "error", "shape", "y", "dx", "dLogits")',
      received: "3",
    }]);
    for (const bad of ["nan", "1.5", null, true, [1]]) {
      expect(answerSchemaViolations("forward", { ...forward, y: [bad] }), JSON.stringify(bad)).toEqual([
        { path: "$.y[0]", expected: NUMBER_ENCODING, received: JSON.stringify(bad) },
      ]);
    }
  });
});

interface Run {
  report: KitReport;
  text: string;
}

async function kit(command: string[], options: Partial<KitOptions> = {}): Promise<Run> {
  const out: string[] = [];
  const report = await runKit({
    command,
    precision: "float32",
    weightsOrder: "largest-first",
    timeoutMs: 10_000,
    seed: DEFAULT_SEED,
    casesPerClass: 0,
    filter: ["golden/hand-1x2x2x1-k2/"],
    show: 20,
    out: (line) => out.push(line),
    err: () => {},
    ...options,
  });
  expect(livePortCount()).toBe(0);
  return { report, text: out.join("\n") };
}

/** A port in a few lines of Node: `answer(request)` returns the object to print for each request line. */
function nodePort(answer: string): string[] {
  return [
    "node",
    "-e",
    `require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => {
       const req = JSON.parse(line);
       process.stdout.write(JSON.stringify((${answer})(req)) + "\\n");
     });`,
  ];
}

describe("answers: the kit checks the schema before comparing numbers", () => {
  it("a misspelled field fails the case as the port's fault, naming the JSON path; the run goes on", async () => {
    // The right values under a field named "Y" (and "DX"): the case fails on the form, not the numbers.
    const run = await kit(nodePort(
      `(r) => r.op === "forward" ? { id: r.id, shape: [1, 1, 1, 1], Y: [3.5] } : ` +
        `{ id: r.id, DX: [0, -0.71875, -0.71875, 0], dLogits: [-0.359375, 0.359375] }`,
    ));
    expect(run.report.portFailure).toBeNull();
    expect(run.report.outcomes.map((c) => c.status)).toEqual(["fail", "fail"]);
    const [fwd, grad] = run.report.outcomes;
    expect(fwd.problems.map((p) => [p.what, p.expected, p.received])).toEqual([
      [
        "answer",
        `$.Y: no field "Y" (the fields are "id", "error", "shape", "y", "dx", "dLogits") (${ANSWER_SCHEMA})`,
        "$.Y: [3.5]",
      ],
      ["answer", `$.y: a field "y" (${ANSWER_SCHEMA})`, "$.y: nothing: the field is missing"],
    ]);
    expect(grad.problems.map((p) => p.received)).toEqual([
      "$.DX: [0,-0.71875,-0.71875,0]",
      "$.dx: nothing: the field is missing",
    ]);
    expect(run.text).toContain(`  answer:\n    expected $.Y: no field "Y" (the fields are`);
    expect(run.text.split("\n").at(-1)).toBe("0 passed, 2 failed");
  });

  it("numbers not in the wire encoding: each element named, five in full and the rest counted", async () => {
    const run = await kit(
      nodePort(
        `(r) => r.op === "forward" ? { id: r.id, shape: [1, 1, 1, 1], y: ["3.5"] } : ` +
          `{ id: r.id, dx: ["nan", "nan", "nan", "nan"], dLogits: ["inf", "-inf"] }`,
      ),
    );
    const [fwd, grad] = run.report.outcomes;
    expect(fwd.problems).toEqual([{
      what: "answer",
      expected: `$.y[0]: ${NUMBER_ENCODING} (${ANSWER_SCHEMA})`,
      received: '$.y[0]: "3.5"',
    }]);
    expect(grad.problems.map((p) => p.received)).toEqual([
      '$.dx[0]: "nan"',
      '$.dx[1]: "nan"',
      '$.dx[2]: "nan"',
      '$.dx[3]: "nan"',
      '$.dLogits[0]: "inf"',
      "1 more violation of it",
    ]);
    expect(grad.problems.at(-1)!.expected).toBe(`an answer that fits ${ANSWER_SCHEMA}`);
  });

  it("a malformed answer of the wrong kind: 'error expected' or 'unexpected error' first", async () => {
    const lenient = await kit(nodePort(`(r) => ({ id: r.id, shape: [1, 1, 1], y: [0] })`), {
      filter: ["bad-input/k=5#0/forward"],
    });
    expect(lenient.report.outcomes[0].problems.map((p) => p.what)).toEqual(["error expected", "answer"]);
    expect(lenient.report.outcomes[0].problems[1].received).toBe("$.shape: 3 items: [1,1,1]");
    const strict = await kit(nodePort(`(r) => ({ id: r.id, error: { message: "no" } })`), {
      filter: ["golden/hand-1x2x2x1-k2/forward"],
    });
    expect(strict.report.outcomes[0].problems.map((p) => [p.what, p.received])).toEqual([
      ["unexpected error", 'error {"message":"no"}'],
      ["answer", '$.error: {"message":"no"} (an object)'],
    ]);
  });
});
