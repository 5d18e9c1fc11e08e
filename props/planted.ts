/**
 * Planted-bug entries: mutants of the float64 reference, each carrying one bug a real kernel could
 * have, and the properties that must catch it. They are never in the registry; props/planted.test.ts
 * (and `deno task check-grads --planted`) assert that every one is caught.
 *
 * The mutants share one configurable re-implementation of the reference (window → rank → weights
 * → scatter, props/planted/scaffold.ts), built from src/spec.ts helpers; each bug swaps one step
 * (props/planted/bugs.ts). An unmodified instance (`planted-control`) must pass every property, so
 * a catch is due to the bug, not the scaffold.
 *
 * @module
 */
import type { Implementation } from "../src/types.ts";
import { plantedBugs } from "./planted/bugs.ts";
import { mutant } from "./planted/scaffold.ts";

export { type PlantedBug, plantedBugs } from "./planted/bugs.ts";

/** The properties to run on `entry`: a planted bug's `only` list when it has one, else `all`. */
export function propertiesFor<P extends { readonly name: string }>(entry: Implementation, all: readonly P[]): P[] {
  const only = plantedBugs.find((b) => b.impl === entry)?.only;
  return only ? all.filter((p) => only.includes(p.name)) : [...all];
}

/** The scaffold without any bug: must pass everything. */
export const plantedControl: Implementation = mutant(
  "planted-control",
  "the mutant scaffold with no bug (must pass every property)",
  {},
);

/**
 * The scaffold with every operation rounded to float32 and no bug: must pass every property at the
 * float32 tolerances, which shows they are not tighter than honest float32 arithmetic allows.
 */
export const plantedControlFloat32: Implementation = mutant(
  "planted-control-f32",
  "the mutant scaffold in float32 arithmetic (Math.fround after every operation), no bug",
  {},
  { precision: "float32", float32Arithmetic: true },
);

/** Every planted entry (the controls first). */
export const plantedEntries: readonly Implementation[] = [
  plantedControl,
  plantedControlFloat32,
  ...plantedBugs.map((p) => p.impl),
];

/** Planted entries whose name contains any comma-separated term (all when empty). */
export function selectPlanted(filter: string | undefined): Implementation[] {
  const terms = (filter ?? "").split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  if (terms.length === 0) return [...plantedEntries];
  const picked = plantedEntries.filter((i) => terms.some((t) => i.name.includes(t)));
  if (picked.length === 0) {
    throw new Error(
      `--impl: expected a planted entry name (part), received "${filter}"; known: ${
        plantedEntries.map((i) => i.name).join(", ")
      }`,
    );
  }
  return picked;
}
