/**
 * The implementation table. Tests, property checks, benchmarks and the CI gate iterate this one
 * array (like PyTorch's OpInfo database): adding an implementation is one entry here.
 *
 * @module
 */
import { referenceImplementation } from "./reference.ts";
import { tfjsImplementations } from "./tfjs/entries.ts";
import { isDefaultWindow, isPerChannel, poolGeometry } from "./spec.ts";
import type { Implementation, SortPoolCase } from "./types.ts";
import { wgslImplementations } from "./webgpu/entries.ts";

/** Every sort_pool2d implementation of the project; `reference` is the oracle. */
export const implementations: readonly Implementation[] = [
  referenceImplementation,
  ...tfjsImplementations,
  ...wgslImplementations,
];

/** Looks an entry up by exact name; throws listing the known names when absent. */
export function implementation(name: string): Implementation {
  const found = implementations.find((i) => i.name === name);
  if (!found) {
    throw new Error(`unknown implementation "${name}"; known: ${implementations.map((i) => i.name).join(", ")}`);
  }
  return found;
}

/** Entries whose name contains any of the comma-separated `filter` terms (all when empty). */
export function selectImplementations(filter: string | undefined): Implementation[] {
  const terms = (filter ?? "").split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  if (terms.length === 0) return [...implementations];
  const picked = implementations.filter((i) => terms.some((t) => i.name.includes(t)));
  if (picked.length === 0) {
    throw new Error(
      `filter "${filter}" matches no implementation; known: ${implementations.map((i) => i.name).join(", ")}`,
    );
  }
  return picked;
}

/** Disposes every entry's cached resources. */
export async function disposeAll(): Promise<void> {
  for (const i of implementations) await i.dispose?.();
}

/**
 * Why `impl` does not handle case `c` (its `supports` declaration, OpInfo-style), or undefined
 * when it does. Checks and benchmarks skip such a case and show this reason; they never skip
 * silently. The case is assumed valid (src/validate.ts).
 */
export function unsupportedReason(impl: Implementation, c: SortPoolCase): string | undefined {
  const s = impl.supports;
  if (!s) return undefined;
  const missing: string[] = [];
  if (s.windows === "2x2/2" && !isDefaultWindow(poolGeometry(c.shape, c.padding, c))) {
    missing.push(
      `poolSize ${JSON.stringify(c.poolSize ?? [2, 2])} strides ${JSON.stringify(c.strides ?? c.poolSize ?? [2, 2])}`,
    );
  }
  if (!s.perChannelLogits && isPerChannel(c.logits.length, c.k, c.shape[3])) missing.push("per-channel logits");
  if (missing.length === 0) return undefined;
  return `${impl.name} does not support ${missing.join(" or ")}: ${s.limitation ?? "declared unsupported"}`;
}
