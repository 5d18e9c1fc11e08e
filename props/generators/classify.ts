/**
 * What a drawn case passes to an entry about its window, and what it exercises beyond the
 * article's layer (the report's case counts).
 *
 * @module
 */
import { isPerChannel } from "../../src/spec.ts";
import type { Pair } from "../../src/types.ts";
import { caseGeometry, hasOverlap } from "../../testkit/mod.ts";
import type { PropCase } from "./types.ts";

/** The window fields a case passes to an implementation: none for the default, else both. */
export function windowFields(c: Pick<PropCase, "params" | "poolSize" | "strides">): {
  poolSize?: Pair;
  strides?: Pair;
} {
  return c.params.window.explicit ? { poolSize: c.poolSize, strides: c.strides } : {};
}

/** What a case exercises beyond the article's layer, for the report's case counts. */
export interface CaseClass {
  /** A window other than 2x2 with stride 2 (passed explicitly or not). */
  readonly general: boolean;
  /** Some input cell lies in two or more windows. */
  readonly overlapping: boolean;
  /** Logits of length C·k with C > 1. */
  readonly perChannel: boolean;
}

/** The {@link CaseClass} of a case. */
export function classify(c: Pick<PropCase, "shape" | "padding" | "poolSize" | "strides" | "logits" | "k">): CaseClass {
  const g = caseGeometry(c);
  return {
    general: !(g.poolSize[0] === 2 && g.poolSize[1] === 2 && g.strides[0] === 2 && g.strides[1] === 2),
    overlapping: hasOverlap(g),
    perChannel: isPerChannel(c.logits.length, c.k, c.shape[3]),
  };
}
