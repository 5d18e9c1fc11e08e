/**
 * The property table: each property is a generator (which cases it draws) and a check
 * `(context, entry, case) => verdict`. They work on any registry entry through its declared
 * capabilities (precision, device, ties, supports) and the `Implementation` interface alone.
 *
 * Every property draws general windows (poolSize and strides 1..4, overlapping ones included) and
 * per-channel logits besides the default 2x2/2 with shared logits (props/generators.ts), except
 * where a property says otherwise (`permute`: windows that do not overlap). Cases an entry does not
 * support (its `supports` declaration) are skipped with the reason shown (props/runner.ts).
 *
 * The properties live under props/properties/, grouped by what they check:
 * - forward.ts: `fwd-ref`, `fwd-nonfinite` (forward against the float64 reference);
 * - gradients.ts: `dx-fd`, `dlogits-fd` (finite differences), `vjp-ref`, `vjp-nonfinite` (reference);
 * - ties.ts: `ties`;
 * - maxpool.ts: `k1-maxpool` (against tf.maxPool);
 * - symmetries.ts: `shift-scale`, `permute`;
 * - bounds.ts: `bounds`;
 * - concurrency.ts: `concurrency`; limits.ts: `bind-limits`;
 * - input_classes.ts: `k1-dlogits`, `logits-range`, `logits-nonfinite`, `signed-zero`, `nonfinite-dy`;
 * - arguments.ts: `empty-input`, `unknown-keys`.
 * What they share: definition.ts (the `PropertyDefinition` type), calls.ts (calling the entry),
 * oracle.ts (the reference's answer at the entry's weights), comparisons.ts (comparing with it).
 * Tolerances and why they are what they are: testkit/tolerance.ts.
 *
 * @module
 */
import { emptyInput, unknownKeys } from "./properties/arguments.ts";
import { windowBounds } from "./properties/bounds.ts";
import { concurrencyProperty } from "./properties/concurrency.ts";
import type { PropertyDefinition } from "./properties/definition.ts";
import { forwardNonFinite, forwardVsReference } from "./properties/forward.ts";
import { dLogitsFiniteDifferences, dxFiniteDifferences, vjpNonFinite, vjpVsReference } from "./properties/gradients.ts";
import { k1DLogits, logitsNonFinite, logitsRange, nonFiniteDy, signedZero } from "./properties/input_classes.ts";
import { limitsProperty } from "./properties/limits.ts";
import { k1MaxPool } from "./properties/maxpool.ts";
import { permutation, shiftScale } from "./properties/symmetries.ts";
import { ties } from "./properties/ties.ts";

export { arbitraryFor, type CheckContext, general, type PropertyDefinition } from "./properties/definition.ts";
export { CASE_TIMEOUT_MS, toEntryCase } from "./properties/calls.ts";
export { oracleWeights } from "./properties/oracle.ts";
export { TFJS_WEBGPU_MAXPOOL_FLOOR } from "./properties/maxpool.ts";
export { traceKernels } from "./properties/concurrency.ts";

/** Every property, in report order. */
export const properties: readonly PropertyDefinition[] = [
  forwardVsReference,
  forwardNonFinite,
  dxFiniteDifferences,
  dLogitsFiniteDifferences,
  vjpVsReference,
  vjpNonFinite,
  ties,
  k1MaxPool,
  shiftScale,
  permutation,
  windowBounds,
  concurrencyProperty,
  limitsProperty,
  k1DLogits,
  logitsRange,
  logitsNonFinite,
  signedZero,
  nonFiniteDy,
  emptyInput,
  unknownKeys,
];

/** Properties whose name is in the comma-separated `filter` (all when empty); throws naming the known ones. */
export function selectProperties(filter: string | undefined): PropertyDefinition[] {
  const names = (filter ?? "").split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  if (names.length === 0) return [...properties];
  const unknown = names.filter((n) => !properties.some((p) => p.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `--property: expected names from ${properties.map((p) => p.name).join(", ")}, received ${unknown.join(", ")}`,
    );
  }
  return properties.filter((p) => names.includes(p.name));
}
