/**
 * What an entry does with unusual arguments: empty inputs (a zero batch, height, width or channel
 * count) give empty outputs without computing, and a key that is not a case key is refused.
 *
 * @module
 */
import type { SortPoolCase } from "../../src/types.ts";
import { CASE_KEYS, SortPoolArgumentError } from "../../src/validate.ts";
import { forwardOf, gradientOf, guarded, toEntryCase } from "./calls.ts";
import { general, type PropertyDefinition } from "./definition.ts";

export const emptyInput: PropertyDefinition = {
  name: "empty-input",
  title: "a zero batch, height, width or channel count: y empty with the output shape of SPEC.md §3, dx empty, " +
    "every dLogits element exactly +0 " +
    'whatever the logits (NaN, ±Infinity, past float32), nothing computed (SPEC.md §1 "Empty inputs")',
  constraints: general({ kinds: ["distinct"], emptyBatches: "always", logitKinds: ["ordinary", "nonfinite", "range"] }),
  hasDeviations: false,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v); // checks the shape and that y has its 0 values
      if (!y) return;
      const g = await gradientOf(entry, c, v); // checks that dx has x's 0 values
      if (!g) return;
      for (let j = 0; j < c.logits.length; j++) {
        v.compareSigned(`dLogits[${j}] of an empty input (exactly +0)`, 0, g.dLogits[j], 0, () => undefined);
      }
    }),
};

export const unknownKeys: PropertyDefinition = {
  name: "unknown-keys",
  title: "a case with a key that is not a case key (stride, pool_size, Padding, a dropped or swapped letter) is " +
    "refused by forward and gradient with a SortPoolArgumentError naming the case, the key and the accepted " +
    'keys, never computed with the key ignored (SPEC.md §6 "Unknown keys")',
  constraints: general({ kinds: ["distinct"], emptyBatches: "sometimes", unknownKeys: true }),
  hasDeviations: false,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const key = c.unknownKey!;
      const input = { ...toEntryCase(entry, c), [key]: [1, 1] } as SortPoolCase;
      for (
        const [op, call] of [
          ["forward", () => entry.forward(input)],
          ["gradient", () => entry.gradient(input, Float32Array.from(c.dy))],
        ] as const
      ) {
        const outcome = await (call() as Promise<unknown>).then(() => "no error", (e: unknown) => e);
        const named = outcome instanceof SortPoolArgumentError && outcome.argument === "case" &&
          outcome.received.startsWith(`unknown key ${JSON.stringify(key)}`) &&
          outcome.expected === `only the keys ${CASE_KEYS.join(", ")}`;
        if (!named) {
          v.fail(
            `${op} with the key ${JSON.stringify(key)}`,
            `SortPoolArgumentError: sort_pool2d: case: expected only the keys ${CASE_KEYS.join(", ")}, received ` +
              `unknown key ${JSON.stringify(key)}...`,
            outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : String(outcome),
          );
        }
      }
    }),
};
