/**
 * fast-check generators for sort_pool2d property checks.
 *
 * A case is drawn in two layers. fast-check draws the small, shrinkable parameters (shape, window,
 * strides, k, padding, logits, value kind, scale exponent, value spread, slot order and a 32-bit
 * data seed); the bulk arrays (x, dy, directions, window permutations, logits past the first four)
 * are expanded from the data seed by a small deterministic PRNG. Drawing thousands of elements
 * through fast-check would cost more than the checks themselves, and shrinking them element by
 * element would take longer still; this way a failure shrinks towards a 1x1x1x1 (or kh x kw for
 * "valid") shape, the default 2x2/2 window with shared logits, k = 1, the first value kind, small
 * spreads and seed 0, and the expansion is the same on every replay of a seed and path.
 *
 * Windows (SPEC.md §2–3): with `windows: "any"` a case draws poolSize [kh, kw] and strides [sh, sw]
 * (each 1..4) from four families: the default 2x2/2 with the fields left out (the common path, 40%),
 * tiling windows with strides = poolSize (15%), overlapping windows with a stride below the window
 * on at least one axis (30%: 3x3/2, 3x3/1, 2x2/1, ...), and any pair (15%, gaps included: stride >
 * window). "valid" raises H and W to at least kh and kw (so H = kh is common), and a case's work
 * (output windows x cells per image and channel) is capped at `WORK_CAP` by shrinking H and W, so big
 * windows with stride 1 come with small inputs (H < kh with "same" included) and cost about what a
 * 2x2/2 case costs.
 *
 * Every value a case holds is exactly representable in the precision it was built for, and every
 * finite-difference step this module derives keeps x ± eps exact (checked, not assumed): see
 * `fdStepX` and the notes in testkit/tolerance.ts. Values are distinct inside every window
 * (for the distinct kinds) whatever the windows: tiling windows each get their own permutation of
 * residues, and overlapping ones a Latin layout (the residue of a cell depends on its row modulo kh
 * and column modulo kw, so any kh x kw block holds every residue once).
 *
 * The modules under props/generators/, by what they generate:
 * - types.ts: the value, dy and logit kinds, the bounds, the drawn parameters, the constraints and
 *   the expanded case;
 * - arbitraries.ts: the parameters narrowed by a property's constraints, and the cases;
 * - windows.ts: the window families, and shapes fitted to their window;
 * - shapes.ts: empty inputs, and shapes with all-padding windows (for padded non-finite dy);
 * - values.ts: the expansion of parameters into x, dy, directions, permutations and logits;
 * - logits.ts: logits near and past float32's range, and non-finite logits;
 * - keys.ts: keys that are not case keys;
 * - classify.ts: what a case passes about its window, and what it exercises;
 * - finite_differences.ts: cell slots, the step in x, and x moved by it (checked exact);
 * - random.ts: the seeded PRNG the bulk arrays come from.
 *
 * @module
 */
export type {
  CaseConstraints,
  CaseParams,
  DyKind,
  LogitKind,
  PropCase,
  ValueKind,
  WindowDraw,
  WindowParams,
} from "./generators/types.ts";
export {
  DEFAULT_WINDOW,
  DY_DENOMINATOR,
  LOGIT_DENOMINATOR,
  LOGIT_MAX,
  MAX_BATCH,
  MAX_CELLS,
  MAX_CHANNELS,
  MAX_SIDE,
  MAX_WINDOW,
  TIE_FREE_KINDS,
  VALUE_KINDS,
  WORK_CAP,
} from "./generators/types.ts";
export { caseArbitrary, paramsArbitrary } from "./generators/arbitraries.ts";
export { windowArbitrary } from "./generators/windows.ts";
export { emptied, EMPTY_DIMENSIONS } from "./generators/shapes.ts";
export { buildCase, NAN_VARIANTS, unitExponent } from "./generators/values.ts";
export { CLOSE_LOGIT_BASES, RANGE_LOGITS, SUBNORMAL_GAP_MAX, SUBNORMAL_GAP_MIN } from "./generators/logits.ts";
export { NEAR_KEYS, unknownKeyArbitrary } from "./generators/keys.ts";
export { type CaseClass, classify, windowFields } from "./generators/classify.ts";
export {
  fdStepX,
  perturb,
  powerOfTwoBelow,
  slotCells,
  slotsOf,
  smallestGap,
  unitDirection,
} from "./generators/finite_differences.ts";
export { prng } from "./generators/random.ts";
