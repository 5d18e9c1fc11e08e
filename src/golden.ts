/**
 * Golden vectors for porters: named sort_pool2d cases with inputs and the reference's outputs,
 * written to vectors/sort_pool2d.json by `deno task golden` and checked by src/golden.test.ts.
 *
 * @module
 */
import { mulberry32 } from "./random.ts";
import { referenceForward, referenceGradient } from "./reference.ts";
import { outputShape, sizeOf } from "./spec.ts";
import type { Padding, Shape4 } from "./types.ts";

/** Path of the committed vectors, relative to this module. */
export const GOLDEN_URL: URL = new URL("../vectors/sort_pool2d.json", import.meta.url);

/** A number as stored in the file: JSON numbers, or a string for values JSON cannot hold. */
export type EncodedNumber = number | "NaN" | "Infinity" | "-Infinity" | "-0";

/** One case as stored in the file. */
export interface GoldenCaseFile {
  name: string;
  description: string;
  shape: [number, number, number, number];
  k: number;
  padding: Padding;
  logits: number[];
  x: EncodedNumber[];
  outputShape: [number, number, number, number];
  y: EncodedNumber[];
  /** Absent on forward-only cases (inputs with NaN or ±Infinity). */
  dy?: number[];
  dx?: EncodedNumber[];
  dLogits?: EncodedNumber[];
}

/** One decoded case, ready to feed to an implementation. */
export interface GoldenCase {
  name: string;
  description: string;
  shape: Shape4;
  k: number;
  padding: Padding;
  logits: number[];
  x: Float64Array;
  outputShape: [number, number, number, number];
  y: Float64Array;
  dy?: Float64Array;
  dx?: Float64Array;
  dLogits?: Float64Array;
}

/** The schema statement written at the top of the file. */
export const GOLDEN_SCHEMA = {
  version: 1,
  layout: "NHWC, row-major (channel fastest); shape is [batch, height, width, channels]",
  weights: "w = softmax(logits); w[0] weights the LARGEST window value (reverse logits for the original TF code)",
  numbers: 'JSON numbers, except the strings "NaN", "Infinity", "-Infinity" and "-0" for values JSON cannot hold',
  inputs: "x values are exactly representable in float32; dy values too",
  outputs: "y, dx, dLogits are the float64 reference's results (src/reference.ts) for these inputs",
  forwardOnly: "cases whose x holds NaN or ±Infinity have no dy, dx or dLogits: the spec fixes only their forward",
  fields: "name, description, shape, k, padding, logits, x, outputShape, y, [dy, dx, dLogits]",
} as const;

/** Encodes a number for the file. */
export function encodeNumber(v: number): EncodedNumber {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

/** Decodes a number from the file; throws on anything else. */
export function decodeNumber(v: unknown): number {
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
  throw new Error(
    `golden vectors: expected a number or "NaN"/"Infinity"/"-Infinity"/"-0", received ${JSON.stringify(v)}`,
  );
}

/** Distinct float32-exact values (multiples of 1/64 in [-8, 8)), shuffled. */
function distinctValues(n: number, random: () => number): number[] {
  const pool = Array.from({ length: 1024 }, (_, i) => (i - 512) / 64);
  const values: number[] = [];
  while (values.length < n) {
    const i = Math.floor(random() * pool.length);
    values.push(pool[i]);
    // Drawing without replacement keeps every window free of ties until the pool runs low.
    pool.splice(i, 1);
    if (pool.length === 0) pool.push(...Array.from({ length: 1024 }, (_, j) => (j - 512) / 64 + 1 / 128));
  }
  return values;
}

/** Float32-exact values drawn from a small set, so windows hold exact ties. */
function tiedValues(n: number, random: () => number, set: readonly number[]): number[] {
  return Array.from({ length: n }, () => set[Math.floor(random() * set.length)]);
}

/** Float32-exact upstream gradient values (multiples of 1/16 in [-2, 2)). */
function gradientValues(n: number, random: () => number): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * 64 - 32) / 16);
}

interface CaseRecipe {
  name: string;
  description: string;
  shape: Shape4;
  k: number;
  padding: Padding;
  logits: number[];
  x: (n: number, random: () => number) => number[];
}

function recipes(): CaseRecipe[] {
  const out: CaseRecipe[] = [];
  const logitsFor = (k: number) => [0.5, -0.25, 0.125, -1].slice(0, k);
  for (const k of [1, 2, 3, 4]) {
    for (const padding of ["same", "valid"] as const) {
      for (const [label, h, w] of [["even", 4, 6], ["odd", 5, 7]] as const) {
        out.push({
          name: `distinct-k${k}-${padding}-${label}`,
          description: `distinct values, k = ${k}, padding "${padding}", ${label} size ${h}x${w}, batch 2, 3 channels`,
          shape: [2, h, w, 3],
          k,
          padding,
          logits: logitsFor(k),
          x: distinctValues,
        });
      }
    }
  }
  out.push({
    name: "hand-1x2x2x1-k2",
    description: "one window [1, 4, 3, 2], k = 2, equal weights: y = (4 + 3) / 2",
    shape: [1, 2, 2, 1],
    k: 2,
    padding: "valid",
    logits: [0, 0],
    x: () => [1, 4, 3, 2],
  });
  for (const k of [2, 3, 4]) {
    out.push({
      name: `ties-k${k}`,
      description: `exact ties (values from {-1, 0, 0.5, 2}), k = ${k}: rank by window cell, lower first`,
      shape: [2, 4, 4, 2],
      k,
      padding: "valid",
      logits: logitsFor(k),
      x: (n, r) => tiedValues(n, r, [-1, 0, 0.5, 2]),
    });
  }
  out.push({
    name: "all-equal-k4",
    description: "every window holds four equal values: dx routes w[r] to cell r",
    shape: [1, 2, 4, 1],
    k: 4,
    padding: "valid",
    logits: [1, 0.5, 0, -0.5],
    x: () => [3, 3, 3, 3, 3, 3, 3, 3],
  });
  out.push({
    name: "signed-zeros-k2",
    description: "+0 and -0 are equal: they rank by window cell",
    shape: [1, 2, 4, 1],
    k: 2,
    padding: "valid",
    logits: [0.25, -0.25],
    x: () => [-0, 0, -1, -0, 0, -0, -0, -2],
  });
  for (const k of [1, 2, 3, 4]) {
    out.push({
      name: `negative-borders-k${k}`,
      description: `negative values at odd borders with padding "same", k = ${k}: padded zeros ` +
        (k === 1 ? "are ignored (max pooling)" : "outrank negatives"),
      shape: [1, 3, 5, 2],
      k,
      padding: "same",
      logits: logitsFor(k),
      x: (n, r) => distinctValues(n, r).map((v) => -Math.abs(v) - 1 / 64),
    });
  }
  out.push({
    name: "single-cell-same-k1",
    description: '1x1 input, padding "same", k = 1: the single value',
    shape: [1, 1, 1, 2],
    k: 1,
    padding: "same",
    logits: [0],
    x: () => [-3, 5],
  });
  out.push({
    name: "single-cell-same-k4",
    description: '1x1 input, padding "same", k = 4: the value ranks among three padded zeros',
    shape: [1, 1, 1, 2],
    k: 4,
    padding: "same",
    logits: [0.5, -0.25, 0.125, -1],
    x: () => [-3, 5],
  });
  out.push({
    name: "nonfinite-k2",
    description: "NaN ranks above +Infinity; ±Infinity follow IEEE arithmetic (forward only)",
    shape: [1, 2, 8, 1],
    k: 2,
    padding: "valid",
    logits: [0.3, -0.3],
    x: () => [NaN, 1, Infinity, 2, -Infinity, 1, 1, NaN, 2, 3, 4, Infinity, -Infinity, -Infinity, NaN, NaN],
  });
  out.push({
    name: "nonfinite-same-k4",
    description: 'NaN, ±Infinity beside padded cells, padding "same", k = 4 (forward only)',
    shape: [1, 3, 3, 1],
    k: 4,
    padding: "same",
    logits: [0, 0, 0, 0],
    x: () => [-Infinity, 1, NaN, 2, Infinity, -Infinity, -1, NaN, 3],
  });
  out.push({
    name: "nonfinite-same-k1",
    description: 'NaN and -Infinity beside ignored padded cells, padding "same", k = 1 (forward only)',
    shape: [1, 3, 3, 1],
    k: 1,
    padding: "same",
    logits: [0],
    x: () => [-Infinity, 1, NaN, 2, Infinity, -Infinity, -Infinity, NaN, -Infinity],
  });
  return out;
}

/** Builds every golden case from the reference. */
export function generateGoldenCases(): GoldenCaseFile[] {
  return recipes().map((recipe, i) => {
    const random = mulberry32(0x5eed + i);
    const n = sizeOf(recipe.shape);
    const x = recipe.x(n, random);
    if (x.length !== n) throw new Error(`golden recipe ${recipe.name}: made ${x.length} values for ${n} cells`);
    const c = {
      x: Float64Array.from(x),
      shape: recipe.shape,
      logits: recipe.logits,
      k: recipe.k,
      padding: recipe.padding,
    };
    const forwardOnly = x.some((v) => !Number.isFinite(v));
    const { y, shape: outShape } = referenceForward(c);
    const file: GoldenCaseFile = {
      name: recipe.name,
      description: recipe.description,
      shape: [...recipe.shape],
      k: recipe.k,
      padding: recipe.padding,
      logits: recipe.logits,
      x: x.map(encodeNumber),
      outputShape: outShape,
      y: Array.from(y, encodeNumber),
    };
    if (!forwardOnly) {
      const dy = gradientValues(sizeOf(outputShape(recipe.shape, recipe.padding)), random);
      const { dx, dLogits } = referenceGradient(c, dy);
      file.dy = dy;
      file.dx = Array.from(dx, encodeNumber);
      file.dLogits = Array.from(dLogits, encodeNumber);
    }
    return file;
  });
}

/** The whole file's text, as committed. */
export function goldenFileText(): string {
  const body = { schema: GOLDEN_SCHEMA, generator: "deno task golden", cases: generateGoldenCases() };
  // One case field per line keeps diffs readable without a line per number.
  const lines = body.cases.map((c) =>
    "    {\n" +
    Object.entries(c).map(([key, value]) => `      ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(",\n") +
    "\n    }"
  );
  return `{\n  "schema": ${JSON.stringify(body.schema, null, 2).replaceAll("\n", "\n  ")},\n` +
    `  "generator": ${JSON.stringify(body.generator)},\n  "cases": [\n${lines.join(",\n")}\n  ]\n}\n`;
}

/** Parses the vectors file text into decoded cases. */
export function parseGoldenFile(text: string): GoldenCase[] {
  const parsed = JSON.parse(text) as { cases: GoldenCaseFile[] };
  const decode = (a: EncodedNumber[] | number[] | undefined) => a && Float64Array.from(a, decodeNumber);
  return parsed.cases.map((c) => ({
    name: c.name,
    description: c.description,
    shape: c.shape,
    k: c.k,
    padding: c.padding,
    logits: c.logits,
    x: decode(c.x)!,
    outputShape: c.outputShape,
    y: decode(c.y)!,
    dy: decode(c.dy),
    dx: decode(c.dx),
    dLogits: decode(c.dLogits),
  }));
}

/** Reads and decodes the committed vectors. */
export async function loadGoldenCases(): Promise<GoldenCase[]> {
  return parseGoldenFile(await Deno.readTextFile(GOLDEN_URL));
}

if (import.meta.main) {
  if (!Deno.args.includes("--write")) {
    console.error("usage: deno task golden   (runs src/golden.ts --write: regenerates vectors/sort_pool2d.json)");
    Deno.exit(2);
  }
  const text = goldenFileText();
  await Deno.writeTextFile(GOLDEN_URL, text);
  console.log(`wrote ${GOLDEN_URL.pathname}: ${generateGoldenCases().length} cases, ${text.length} bytes`);
}
