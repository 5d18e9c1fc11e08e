/**
 * Golden vectors for porters: named sort_pool2d cases with inputs and the reference's outputs,
 * written to vectors/sort_pool2d.json by `deno task golden` and checked by src/golden.test.ts.
 *
 * @module
 */
import { defineCli, type ParsedCli, runCli } from "./cli.ts";
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
  logits: EncodedNumber[];
  x: EncodedNumber[];
  outputShape: [number, number, number, number];
  y: EncodedNumber[];
  dy: EncodedNumber[];
  dx: EncodedNumber[];
  dLogits: EncodedNumber[];
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
  dy: Float64Array;
  dx: Float64Array;
  dLogits: Float64Array;
}

/** The schema statement written at the top of the file. */
export const GOLDEN_SCHEMA = {
  version: 2,
  layout: "NHWC, row-major (channel fastest); shape is [batch, height, width, channels]",
  weights: "w = softmax(logits) evaluated as its limit (SPEC.md §5 Weights: logits may be ±Infinity or NaN); " +
    "w[0] weights the LARGEST window value (reverse logits for the original TF code)",
  numbers: 'JSON numbers, except the strings "NaN", "Infinity", "-Infinity" and "-0" for values JSON cannot hold',
  inputs: "x and dy values are exactly representable in float32; logits may not be (e.g. 1e39: softmax runs in " +
    "float64 before any rounding)",
  outputs: "y, dx, dLogits are the float64 reference's results (src/reference.ts) for these inputs",
  signs: "the sign of a zero y or dx is fixed by the spec (SPEC.md §5): compare those with Object.is (NaN equals " +
    "NaN); dLogits is exactly +0 for k = 1, and the sign of a zero dLogits is not fixed for k > 1",
  fields: "name, description, shape, k, padding, logits, x, outputShape, y, dy, dx, dLogits",
} as const;

/** Encodes a number for the file. */
export function encodeNumber(v: number): EncodedNumber {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

/** Decodes a number in the file's encoding: a JSON number or one of the four strings; undefined otherwise. */
export function decodeSpecialNumber(v: unknown): number | undefined {
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

/** Decodes a number from the file; throws on anything else. */
export function decodeNumber(v: unknown): number {
  const n = decodeSpecialNumber(v);
  if (n !== undefined) return n;
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
  /** Upstream gradient; default: random multiples of 1/16 in [-2, 2). */
  dy?: (n: number, random: () => number) => number[];
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
    description: "+0 and -0 are equal: they rank by window cell; a zero y is -0 exactly when every kept product " +
      "is -0 (the sum starts from the first product)",
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
    description: "NaN ranks above +Infinity; ±Infinity follow IEEE arithmetic; dx is w[r]·dy at kept cells, and a " +
      "non-finite v·dy in any window makes every dLogits element non-finite",
    shape: [1, 2, 8, 1],
    k: 2,
    padding: "valid",
    logits: [0.3, -0.3],
    x: () => [NaN, 1, Infinity, 2, -Infinity, 1, 1, NaN, 2, 3, 4, Infinity, -Infinity, -Infinity, NaN, NaN],
  });
  out.push({
    name: "nonfinite-same-k4",
    description:
      'NaN, ±Infinity beside padded cells, padding "same", k = 4: padded cells add exactly 0 to the rank sums',
    shape: [1, 3, 3, 1],
    k: 4,
    padding: "same",
    logits: [0, 0, 0, 0],
    x: () => [-Infinity, 1, NaN, 2, Infinity, -Infinity, -1, NaN, 3],
  });
  out.push({
    name: "nonfinite-same-k1",
    description: 'NaN and -Infinity beside ignored padded cells, padding "same", k = 1: dLogits is exactly [0]',
    shape: [1, 3, 3, 1],
    k: 1,
    padding: "same",
    logits: [0],
    x: () => [-Infinity, 1, NaN, 2, Infinity, -Infinity, -Infinity, NaN, -Infinity],
  });
  out.push(...issue10Recipes());
  return out;
}

/**
 * Cases of the input classes of issue 10, each pinned by SPEC.md §5: k = 1 dLogits, logits outside
 * float32's range or non-finite, signed zeros, non-finite dy and padded cells.
 */
function issue10Recipes(): CaseRecipe[] {
  const window = (x: number[]) => () => x;
  const one: Shape4 = [1, 2, 2, 1];
  const out: CaseRecipe[] = [];
  out.push({
    name: "k1-nonfinite-windows-dlogits",
    description: "k = 1 with a window of NaN and a window of -Infinity: dLogits is exactly [0] whatever x and dy " +
      "hold (one logit is no free weight)",
    shape: [2, 2, 2, 1],
    k: 1,
    padding: "valid",
    logits: [0],
    x: window([NaN, NaN, NaN, NaN, -Infinity, -Infinity, -Infinity, -Infinity]),
    dy: () => [1, Infinity],
  });
  for (const [label, logits] of [["1e39", [1e39, 0]], ["5e38", [0, 5e38]], ["-2e39", [-2e39, 1]]] as const) {
    out.push({
      name: `logits-past-float32-${label}`,
      description: `logits [${logits}] are finite in float64 but not in float32: softmax runs in float64 first, so ` +
        "the weights are one-hot",
      shape: one,
      k: 2,
      padding: "valid",
      logits: [...logits],
      x: window([1, 4, 3, 2]),
      dy: () => [1],
    });
  }
  const limits: [string, number[]][] = [
    ["plus-infinity", [Infinity, 0]],
    ["two-plus-infinities", [Infinity, 0, Infinity]],
    ["minus-infinity", [-Infinity, 0.5, 0]],
    ["all-minus-infinity", [-Infinity, -Infinity]],
    ["nan", [NaN, 0]],
    ["nan-k1", [NaN]],
  ];
  for (const [label, logits] of limits) {
    out.push({
      name: `logits-${label}`,
      description: `logits [${logits}]: softmax evaluated as its limit (+Infinity logits share the weight, ` +
        "-Infinity ones get 0, all -Infinity is uniform, a NaN logit makes the weights NaN; dLogits is [0] for k = 1)",
      shape: [1, 2, 4, 1],
      k: logits.length,
      padding: "valid",
      logits,
      x: window([1, 4, 3, 2, -1, -0.5, 0.25, 8]),
      dy: () => [1, -0.5],
    });
  }
  out.push({
    name: "signed-zero-k1",
    description: "k = 1 returns the window's maximum itself: [-1, -0, -2, -3] gives -0; [+0, -0, ...] ties " +
      "rank cell 0 first and give +0; [-0, +0, ...] gives -0",
    shape: [3, 2, 2, 1],
    k: 1,
    padding: "valid",
    logits: [0],
    x: window([-1, -0, -2, -3, 0, -0, -1, -2, -0, 0, -1, -2]),
    dy: () => [1, -1, 0.5],
  });
  out.push({
    name: "signed-zero-k2-same",
    description: 'k = 2: all kept products -0 give -0; one padded +0 among them gives +0 ("same", odd width)',
    shape: [1, 2, 3, 1],
    k: 2,
    padding: "same",
    logits: [0.25, -0.25],
    x: window([-0, -0, -0, -0, -0, -1]),
    dy: () => [1, -1],
  });
  out.push({
    name: "signed-zero-dx",
    description:
      "dx of a kept cell is w[r]·dy with IEEE's sign (a -Infinity logit gives w = +0, so dy < 0 gives -0); " +
      "every other cell is +0",
    shape: one,
    k: 2,
    padding: "valid",
    logits: [0, -Infinity],
    x: window([1, 4, 3, 2]),
    dy: () => [-2],
  });
  for (const [label, g] of [["plus-infinity", Infinity], ["minus-infinity", -Infinity], ["nan", NaN]] as const) {
    out.push({
      name: `nonfinite-dy-${label}`,
      description: `dy ${g}: kept cells get w[r]·dy, the others exactly 0 (never 0·dy); dLogits goes non-finite`,
      shape: one,
      k: 2,
      padding: "valid",
      logits: [0, 0],
      x: window([1, 4, 3, 2]),
      dy: () => [g],
    });
  }
  out.push({
    name: "nonfinite-dy-padded",
    description: 'dy [Infinity, 1] on "same" padding: padded cells are skipped in the rank sums (never 0·dy); here ' +
      "every kept cell is padding, so dLogits is finite",
    shape: [1, 1, 3, 1],
    k: 2,
    padding: "same",
    logits: [0.5, -0.5],
    x: window([-1, -2, -3]),
    dy: () => [Infinity, 1],
  });
  out.push({
    name: "nonfinite-dy-one-window",
    description: "a non-finite dy in one window poisons every dLogits element (k > 1) but no other window's dx",
    shape: [1, 2, 4, 1],
    k: 3,
    padding: "valid",
    logits: [0.5, 0, -0.5],
    x: window([1, 4, 3, 2, 5, 6, 7, 8]),
    dy: () => [NaN, 1],
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
    const { y, shape: outShape } = referenceForward(c);
    const outN = sizeOf(outputShape(recipe.shape, recipe.padding));
    const dy = (recipe.dy ?? gradientValues)(outN, random);
    if (dy.length !== outN) throw new Error(`golden recipe ${recipe.name}: made ${dy.length} dy values for ${outN}`);
    const { dx, dLogits } = referenceGradient(c, dy);
    return {
      name: recipe.name,
      description: recipe.description,
      shape: [...recipe.shape],
      k: recipe.k,
      padding: recipe.padding,
      logits: recipe.logits.map(encodeNumber),
      x: x.map(encodeNumber),
      outputShape: outShape,
      y: Array.from(y, encodeNumber),
      dy: dy.map(encodeNumber),
      dx: Array.from(dx, encodeNumber),
      dLogits: Array.from(dLogits, encodeNumber),
    };
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
  const decode = (a: EncodedNumber[]) => Float64Array.from(a, decodeNumber);
  return parsed.cases.map((c) => ({
    name: c.name,
    description: c.description,
    shape: c.shape,
    k: c.k,
    padding: c.padding,
    logits: c.logits.map(decodeNumber),
    x: decode(c.x),
    outputShape: c.outputShape,
    y: decode(c.y),
    dy: decode(c.dy),
    dx: decode(c.dx),
    dLogits: decode(c.dLogits),
  }));
}

/** Reads and decodes the committed vectors. */
export async function loadGoldenCases(): Promise<GoldenCase[]> {
  return parseGoldenFile(await Deno.readTextFile(GOLDEN_URL));
}

/** The command line of `deno task golden` (src/cli.ts convention). */
export const GOLDEN_CLI = defineCli({
  command: "deno task golden",
  summary: "Regenerates the golden vectors (vectors/sort_pool2d.json) from the float64 reference, or with --check " +
    "only compares them with what the reference gives now.",
  options: {
    check: { type: "boolean", description: "write nothing; exit 1 when the file differs from a fresh generation" },
    out: { type: "string", value: "FILE", description: "write here instead (default: vectors/sort_pool2d.json)" },
  },
  epilog: "exit status: 0 written (or --check: up to date), 1 --check found a difference, 2 usage error",
});

/** Writes (or with --check compares) the vectors; returns the exit status. */
export async function goldenMain({ values }: ParsedCli): Promise<number> {
  const text = goldenFileText();
  const target = typeof values.out === "string" ? values.out : GOLDEN_URL.pathname;
  if (values.check === true) {
    const current = await Deno.readTextFile(target).catch(() => null);
    const same = current === text;
    console.log(
      same ? `${target} is up to date` : `${target} differs from the reference's output: run deno task golden`,
    );
    return same ? 0 : 1;
  }
  await Deno.writeTextFile(target, text);
  console.log(`wrote ${target}: ${generateGoldenCases().length} cases, ${text.length} bytes`);
  return 0;
}

if (import.meta.main) await runCli(GOLDEN_CLI, Deno.args, goldenMain);
