/**
 * Golden vectors for porters: named sort_pool2d cases with inputs and the reference's outputs,
 * written to vectors/sort_pool2d.json by `deno task golden` and checked by vectors/golden.test.ts. The
 * format and the case list: vectors/README.md; as JSON Schema: schemas/golden_vectors.schema.json,
 * which {@link parseGoldenFile} validates against. Cases are appended, never reordered: each case's
 * random values are seeded by its position, and the 2x2/2 cases must stay byte-identical.
 *
 * This module is the index and the CLI entry (`deno task golden`); the parts: vectors/format.ts
 * (types, schema statement), vectors/recipe.ts and the three *_recipes.ts (the cases),
 * vectors/generate.ts, vectors/parse.ts and vectors/cli.ts.
 *
 * @module
 */
import { runCli } from "../harness/cli.ts";
import { GOLDEN_CLI, goldenMain } from "./cli.ts";

export {
  decodeNumber,
  type EncodedNumber,
  GOLDEN_SCHEMA,
  GOLDEN_URL,
  type GoldenCase,
  type GoldenCaseFile,
} from "./format.ts";
export { generateGoldenCases, goldenFileText } from "./generate.ts";
export { GoldenFileError, goldenInput, loadGoldenCases, parseGoldenFile } from "./parse.ts";
export { GOLDEN_CLI, goldenMain };

if (import.meta.main) await runCli(GOLDEN_CLI, Deno.args, goldenMain);
