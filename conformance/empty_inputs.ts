/**
 * The conformance kit's empty inputs (SPEC §1): valid requests with a zero dimension.
 *
 * @module
 */
import type { Padding, Pair, Shape4 } from "../src/types.ts";
import { caseOf, type ConformanceCase, describeCase, requestOf } from "./case_requests.ts";

/**
 * Empty inputs (SPEC §1 "Empty inputs"): a zero batch, height, width or channel count, where tf.maxPool
 * has an output (SPEC §3). The answer is an empty y of the output shape, an empty dx, and dLogits
 * exactly +0 per logit whatever the logits (a NaN logit included).
 */
const EMPTY_INPUTS: readonly {
  readonly shape: Shape4;
  readonly padding: Padding;
  readonly k: number;
  readonly logits: readonly number[];
  readonly poolSize?: Pair;
  readonly strides?: Pair;
}[] = [
  { shape: [0, 4, 4, 3], padding: "same", k: 2, logits: [0.5, -0.25] },
  { shape: [0, 5, 4, 3], padding: "valid", k: 1, logits: [0] },
  { shape: [0, 1, 4, 2], padding: "valid", k: 3, logits: [0, 1, 2] },
  { shape: [2, 0, 4, 3], padding: "same", k: 3, logits: [NaN, 0, 1], poolSize: [3, 3], strides: [2, 2] },
  { shape: [2, 4, 0, 3], padding: "valid", k: 2, logits: [1, 2] },
  { shape: [2, 4, 4, 0], padding: "same", k: 4, logits: [1, 2, 3, 4], poolSize: [3, 3], strides: [1, 1] },
  { shape: [0, 4, 4, 2], padding: "valid", k: 2, logits: [1, 2, 3, 4], poolSize: [2, 2], strides: [1, 1] },
];

/** The empty-input cases, forward and gradient each. */
export function emptyInputCases(): ConformanceCase[] {
  return EMPTY_INPUTS.flatMap((c, i) =>
    (["forward", "gradient"] as const).map((op) => {
      const name = `empty-input#${i}/${op}`;
      return caseOf(name, "empty-input", describeCase(c, ""), requestOf(name, op, c, [], c.logits, []));
    })
  );
}
