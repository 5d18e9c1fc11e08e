/**
 * Reading the golden vectors: the file checked against its JSON Schema and the rules the schema
 * cannot state, decoded into cases, and a case turned into an implementation's input.
 *
 * @module
 */
import { formatViolation, goldenVectorsViolations, schemaPath, type SchemaViolation } from "../schemas/validate.ts";
import type { EncodedNumber } from "../testkit/number_encoding.ts";
import { outputShape, sizeOf } from "../src/spec.ts";
import type { FloatArray, SortPoolCase } from "../src/types.ts";
import { decodeNumber, GOLDEN_URL, type GoldenCase, type GoldenCaseFile } from "./format.ts";

/** A vectors file that cannot be read: not JSON, or not the format; `problems` says where and why. */
export class GoldenFileError extends Error {
  /** Each problem: the JSON path, what was expected there and what was received. */
  readonly problems: readonly SchemaViolation[];

  constructor(message: string, problems: readonly SchemaViolation[] = []) {
    super(message);
    this.name = "GoldenFileError";
    this.problems = problems;
  }
}

/** Problems listed in full in a GoldenFileError's message; the rest are counted. */
const LISTED_PROBLEMS = 10;

/** The file as the schema describes it. */
interface GoldenFile {
  schema: Record<string, unknown>;
  generator: string;
  cases: GoldenCaseFile[];
}

/**
 * What the schema cannot state, for a file that fits it: unique case names, and every array of
 * the length its case implies (x: B·H·W·C; logits: k or C·k; outputShape: SPEC.md §3's for the
 * shape, padding and window; y and dy: outputShape's size; dx: x's; dLogits: the logits').
 */
function crossFieldProblems(file: GoldenFile): SchemaViolation[] {
  const problems: SchemaViolation[] = [];
  const firstWithName = new Map<string, number>();
  file.cases.forEach((c, i) => {
    const at = `$.cases[${i}]`;
    const earlier = firstWithName.get(c.name);
    if (earlier === undefined) firstWithName.set(c.name, i);
    else {
      problems.push({
        path: `${at}.name`,
        expected: "a name no other case has",
        received: `${JSON.stringify(c.name)}, the name of $.cases[${earlier}] too`,
      });
    }
    const length = (field: string, values: readonly unknown[], want: number, how: string) => {
      if (values.length !== want) {
        problems.push({ path: `${at}.${field}`, expected: `${want} values (${how})`, received: `${values.length}` });
      }
    };
    const [, , , channels] = c.shape;
    length("x", c.x, sizeOf(c.shape), `B·H·W·C of shape [${c.shape.join(", ")}]`);
    if (c.logits.length !== c.k && c.logits.length !== channels * c.k) {
      problems.push({
        path: `${at}.logits`,
        expected: `k = ${c.k} or C·k = ${channels * c.k} values`,
        received: `${c.logits.length}`,
      });
    }
    const window = { ...(c.poolSize ? { poolSize: c.poolSize } : {}), ...(c.strides ? { strides: c.strides } : {}) };
    const expectedShape = outputShape(c.shape, c.padding, window);
    if (expectedShape.some((d, j) => d !== c.outputShape[j])) {
      problems.push({
        path: `${at}.outputShape`,
        expected: `[${expectedShape.join(", ")}] (SPEC.md §3, for this shape, padding and window)`,
        received: JSON.stringify(c.outputShape),
      });
    }
    const outputs = `the size of outputShape [${c.outputShape.join(", ")}]`;
    length("y", c.y, sizeOf(c.outputShape), outputs);
    length("dy", c.dy, sizeOf(c.outputShape), outputs);
    length("dx", c.dx, c.x.length, "x's length");
    length("dLogits", c.dLogits, c.logits.length, "the logits' length");
  });
  return problems;
}

/** A problem as a message line; a path inside `$.cases[i]` is followed by that case's name, when it has one. */
function describeProblem(file: unknown, p: SchemaViolation): string {
  const index = /^\$\.cases\[(\d+)\]/.exec(p.path)?.[1];
  const cases = (file as { cases?: unknown } | null)?.cases;
  const name = index !== undefined && Array.isArray(cases) ? cases[Number(index)]?.name : undefined;
  const path = typeof name === "string" ? `${p.path} (case ${JSON.stringify(name)})` : p.path;
  return formatViolation({ ...p, path });
}

/**
 * Parses the vectors file text into decoded cases. The file must fit
 * schemas/golden_vectors.schema.json, and what the schema cannot state must hold too (unique case
 * names; every array of the length its case implies; outputShape as SPEC.md §3 gives it);
 * otherwise this throws a {@link GoldenFileError} listing each problem as its JSON path (with the
 * case's name), what was expected there and what was received.
 */
export function parseGoldenFile(text: string): GoldenCase[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new GoldenFileError(`golden vectors: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const schemaProblems = goldenVectorsViolations(parsed);
  const problems = schemaProblems.length > 0 ? schemaProblems : crossFieldProblems(parsed as GoldenFile);
  if (problems.length > 0) {
    const listed = problems.slice(0, LISTED_PROBLEMS).map((p) => `  ${describeProblem(parsed, p)}`);
    const more = problems.length > LISTED_PROBLEMS ? [`  ... and ${problems.length - LISTED_PROBLEMS} more`] : [];
    throw new GoldenFileError(
      `golden vectors: ${problems.length} problem${problems.length === 1 ? "" : "s"} ` +
        `(the format: vectors/README.md, ${schemaPath("golden_vectors")}):\n${[...listed, ...more].join("\n")}`,
      problems,
    );
  }
  const file = parsed as GoldenFile;
  const decode = (a: EncodedNumber[]) => Float64Array.from(a, decodeNumber);
  return file.cases.map((c) => ({
    name: c.name,
    description: c.description,
    shape: c.shape,
    k: c.k,
    padding: c.padding,
    ...(c.poolSize === undefined ? {} : { poolSize: c.poolSize }),
    ...(c.strides === undefined ? {} : { strides: c.strides }),
    logits: c.logits.map(decodeNumber),
    x: decode(c.x),
    outputShape: c.outputShape,
    y: decode(c.y),
    dy: decode(c.dy),
    dx: decode(c.dx),
    dLogits: decode(c.dLogits),
  }));
}

/**
 * A golden case as an implementation's input: x (as given, default the case's float64 values; pass
 * `Float32Array.from(g.x)` for a float32 entry: every x is exact in float32), shape, logits, k,
 * padding, and the window fields when the case has them.
 */
export function goldenInput(g: GoldenCase, x: FloatArray = g.x): SortPoolCase {
  return {
    x,
    shape: g.shape,
    logits: g.logits,
    k: g.k,
    padding: g.padding,
    ...(g.poolSize === undefined ? {} : { poolSize: g.poolSize }),
    ...(g.strides === undefined ? {} : { strides: g.strides }),
  };
}

/** Reads and decodes the committed vectors. */
export async function loadGoldenCases(): Promise<GoldenCase[]> {
  return parseGoldenFile(await Deno.readTextFile(GOLDEN_URL));
}
