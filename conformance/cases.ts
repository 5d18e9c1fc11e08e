/**
 * The conformance kit's cases: every golden vector, then seeded cases from the project's property
 * generators (props/generators.ts) by class, then seeded cases of general windows and per-channel
 * logits (SPEC.md §2-5, drawn here: {@link GENERAL_CLASSES}), then bad inputs a port must reject. A
 * case is only a request: what the port must answer is computed at run time by the float64
 * reference (src/reference.ts) and the shared validation (src/validate.ts), never stored here.
 *
 * Generated cases are drawn with fast-check from a fixed seed (`--seed`), so the same seed and
 * `--cases` give the same cases, names and requests on every machine.
 *
 * Each case says what it needs of a port beyond the article's layer ({@link Needs}: a window other
 * than 2x2 with stride 2, per-channel logits), so that a port declaring less (`--windows 2x2`,
 * `--logits shared`) has those cases skipped, and counted, rather than failed.
 *
 * The cases come from conformance/golden_cases.ts, conformance/generated_cases.ts,
 * conformance/general_windows.ts, conformance/bad_inputs.ts and conformance/empty_inputs.ts; a case
 * and its request are conformance/case_requests.ts's. This module is their index.
 *
 * @module
 */
import type { Precision } from "../testkit/mod.ts";
import { badInputCases } from "./bad_inputs.ts";
import type { Category, ConformanceCase } from "./case_requests.ts";
import { emptyInputCases } from "./empty_inputs.ts";
import { GENERAL_CLASSES } from "./general_windows.ts";
import { GENERATED_CLASSES, generatedCases } from "./generated_cases.ts";
import { goldenCases } from "./golden_cases.ts";

export { type Category, type ConformanceCase, type Needs, needsOf } from "./case_requests.ts";
export { buildGeneralCase, type GeneralParams, type GeneralValueKind } from "./general_windows.ts";
export { DEFAULT_CASES_PER_CLASS, DEFAULT_SEED, LOGITS_RANGE_HINT } from "./generated_cases.ts";
export { badInputCases, emptyInputCases, GENERAL_CLASSES, generatedCases, goldenCases };

/** Every category, in run order, with what it covers. */
export const CATEGORIES: readonly Category[] = [
  { name: "golden", title: "every case of vectors/sort_pool2d.json: forward, and gradient where it has dy" },
  ...[...GENERATED_CLASSES, ...GENERAL_CLASSES].map(({ name, title, hint, hintFits }) => ({
    name,
    title,
    ...(hint ? { hint } : {}),
    ...(hintFits ? { hintFits } : {}),
  })),
  {
    name: "bad-input",
    title: "inputs the spec rejects (SPEC §6): k out of range (1..kh·kw), wrong logits / x / dy length (logits: k " +
      'or C·k), a logit that is not a number, unknown padding, empty "valid" output (an input smaller than the ' +
      "window), bad shape (rank 3, a fractional or negative dimension, a zero one past tf.maxPool's range), bad " +
      "poolSize or strides",
  },
  {
    name: "empty-input",
    title: "a zero batch, height, width or channel count: empty y of the output shape, empty dx, dLogits exactly +0 " +
      "(SPEC §1)",
  },
];

/** Every case of a run, in run order. */
export async function allCases(precision: Precision, seed: number, perClass: number): Promise<ConformanceCase[]> {
  return [
    ...await goldenCases(),
    ...generatedCases(precision, seed, perClass),
    ...badInputCases(precision),
    ...emptyInputCases(),
  ];
}
