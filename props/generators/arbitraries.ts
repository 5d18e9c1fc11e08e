/**
 * The arbitraries properties draw from: the shrinkable parameters narrowed by a property's
 * constraints, and the expanded cases.
 *
 * @module
 */
import fc from "fast-check";
import { poolGeometry } from "../../src/spec.ts";
import type { Padding } from "../../src/types.ts";
import { CASE_KEYS } from "../../src/validate.ts";
import { hasOverlap, type Precision } from "../../testkit/mod.ts";
import { unknownKeyArbitrary } from "./keys.ts";
import { emptied, EMPTY_DIMENSIONS, paddedDyShape } from "./shapes.ts";
import {
  type CaseConstraints,
  type CaseParams,
  type DyKind,
  LOGIT_DENOMINATOR,
  LOGIT_MAX,
  type LogitKind,
  MAX_BATCH,
  MAX_CELLS,
  MAX_CHANNELS,
  MAX_SIDE,
  type PropCase,
} from "./types.ts";
import { buildCase, TIE_ALPHABET } from "./values.ts";
import { fitToWindow, windowArbitrary } from "./windows.ts";

/** The shrinkable parameters, narrowed by `constraints`. */
export function paramsArbitrary(constraints: CaseConstraints): fc.Arbitrary<CaseParams> {
  const drawn = nonEmptyParams(constraints);
  if (constraints.emptyBatches !== "always") return drawn;
  return fc.tuple(drawn, fc.constantFrom(...EMPTY_DIMENSIONS)).map(([p, dim]) => emptied(p, dim));
}

/** The shrinkable parameters, narrowed by `constraints`, before an "always" empty dimension. */
function nonEmptyParams(constraints: CaseConstraints): fc.Arbitrary<CaseParams> {
  const draw = constraints.windows ?? "default";
  const ks = constraints.ks ?? (draw === "default" ? [1, 2, 3, 4] : Array.from({ length: MAX_CELLS }, (_, i) => i + 1));
  const slots = Array.from({ length: draw === "default" ? 4 : MAX_CELLS }, (_, i) => i);
  return fc.record({
    batch: constraints.emptyBatches === "sometimes"
      ? fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: MAX_BATCH }) }, {
        weight: 1,
        arbitrary: fc.constant(0),
      })
      : fc.integer({ min: 1, max: MAX_BATCH }),
    height: fc.integer({ min: 1, max: MAX_SIDE }),
    width: fc.integer({ min: 1, max: MAX_SIDE }),
    channels: fc.integer({ min: 1, max: MAX_CHANNELS }),
    k: fc.constantFrom(...ks),
    padding: fc.constantFrom<Padding>("same", "valid"),
    kind: fc.constantFrom(...constraints.kinds),
    scaleParam: fc.nat({ max: 1000 }),
    spread: fc.integer({ min: 0, max: 7 }),
    alphabet: fc.integer({ min: 1, max: TIE_ALPHABET.length }),
    nearTieParam: fc.nat({ max: 100 }),
    logitCodes: fc.array(fc.integer({ min: -LOGIT_MAX * LOGIT_DENOMINATOR, max: LOGIT_MAX * LOGIT_DENOMINATOR }), {
      minLength: 4,
      maxLength: 4,
    }),
    descendingLogits: fc.boolean(),
    slotOrder: fc.shuffledSubarray(slots, { minLength: slots.length, maxLength: slots.length }),
    dataSeed: fc.nat(),
    dyKind: fc.constantFrom<DyKind>(...(constraints.dyKinds ?? ["finite"])),
    logitKind: fc.constantFrom<LogitKind>(...(constraints.logitKinds ?? ["ordinary"])),
    window: windowArbitrary(draw),
    perChannel: constraints.perChannelLogits
      ? fc.oneof({ weight: 7, arbitrary: fc.constant(false) }, { weight: 3, arbitrary: fc.constant(true) })
      : fc.constant(false),
  }).map((p) => {
    const fitted = fitToWindow(p, ks);
    return fitted && paddedDyShape(fitted);
  }).filter((p): p is CaseParams =>
    p !== undefined &&
    (!constraints.shiftInvariant || p.padding === "valid" || p.k === 1) &&
    (p.dyKind !== "padded-nonfinite" || p.k >= 2) &&
    (draw !== "non-overlapping" ||
      !hasOverlap(poolGeometry([p.batch, p.height, p.width, p.channels], p.padding, p.window)))
  );
}

/** A case arbitrary for `precision` under `constraints`. */
export function caseArbitrary(precision: Precision, constraints: CaseConstraints): fc.Arbitrary<PropCase> {
  const cases = paramsArbitrary(constraints).map((p) => buildCase(p, precision));
  if (!constraints.unknownKeys) return cases;
  return fc.tuple(cases, unknownKeyArbitrary(CASE_KEYS)).map(([c, unknownKey]) => ({ ...c, unknownKey }));
}
