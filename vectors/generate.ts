/**
 * Generation of the golden vectors: every recipe run through the float64 reference, each with a
 * random stream seeded by its position, and the file's text exactly as committed.
 *
 * @module
 */
import { encodeNumber } from "../testkit/number_encoding.ts";
import { mulberry32 } from "../src/random.ts";
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { outputShape, sizeOf } from "../src/spec.ts";
import type { SortPoolCase } from "../src/types.ts";
import { defaultWindowRecipes } from "./default_window_recipes.ts";
import { GOLDEN_SCHEMA, type GoldenCaseFile } from "./format.ts";
import { generalWindowRecipes } from "./general_window_recipes.ts";
import { inputClassRecipes } from "./input_class_recipes.ts";
import { type CaseRecipe, gradientValues } from "./recipe.ts";

/** Every recipe, in file order. */
function recipes(): CaseRecipe[] {
  return [
    ...defaultWindowRecipes(),
    ...inputClassRecipes(),
    // Appended last: each case's random stream is seeded by its position, so the cases above stay
    // byte-identical.
    ...generalWindowRecipes(),
  ];
}

/** Builds every golden case from the reference. */
export function generateGoldenCases(): GoldenCaseFile[] {
  return recipes().map((recipe, i) => {
    const random = mulberry32(0x5eed + i);
    const n = sizeOf(recipe.shape);
    const x = recipe.x(n, random);
    if (x.length !== n) throw new Error(`golden recipe ${recipe.name}: made ${x.length} values for ${n} cells`);
    const window = recipe.poolSize === undefined ? {} : {
      poolSize: [recipe.poolSize[0], recipe.poolSize[1]] as [number, number],
      strides: [...(recipe.strides ?? recipe.poolSize)] as [number, number],
    };
    const c: SortPoolCase = {
      x: Float64Array.from(x),
      shape: recipe.shape,
      logits: recipe.logits,
      k: recipe.k,
      padding: recipe.padding,
      ...window,
    };
    const { y, shape: outShape } = referenceForward(c);
    const outN = sizeOf(outputShape(recipe.shape, recipe.padding, window));
    const dy = (recipe.dy ?? gradientValues)(outN, random);
    if (dy.length !== outN) throw new Error(`golden recipe ${recipe.name}: made ${dy.length} dy values for ${outN}`);
    const { dx, dLogits } = referenceGradient(c, dy);
    return {
      name: recipe.name,
      description: recipe.description,
      shape: [...recipe.shape],
      k: recipe.k,
      padding: recipe.padding,
      // Only on non-default windows, so the default cases keep their exact text (key order included).
      ...window,
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
