/**
 * Planted failures: deliberately wrong kernel variants that the page runs instead of the real
 * kernels only when its URL asks for one by name (`?plant=NAME`), so that the browser test can
 * prove the page reports a wrong kernel. The variants go through the library's own kernel override
 * path (the `shaders` option of the WGSL entries, a registered kernel set for the op); nothing else
 * selects them.
 *
 * @module
 */
import { type KernelSources, kernelSources } from "../src/webgpu/shaders.ts";

/** One planted variant. */
export interface Plant {
  readonly name: string;
  /** What is wrong, in words (the page shows it). */
  readonly description: string;
  /** The replaced kernel sources. */
  shaders(): Partial<KernelSources>;
}

/** Replaces `from` by `to` in `source`, exactly once; throws when the pattern is not there (a stale mutation). */
function mutate(source: string, file: string, from: string, to: string): string {
  const parts = source.split(from);
  if (parts.length !== 2) {
    throw new Error(`planted variant: expected "${from}" once in ${file}, found it ${parts.length - 1} times`);
  }
  return parts.join(to);
}

/** The planted variants, by name. */
export const PLANTS: readonly Plant[] = [
  {
    name: "wrong-weights-order",
    description: "the 2x2/stride 2 forward kernels read the rank weights in reverse order (w.wzyx: the largest " +
      "value gets the weight of rank 4), as a port of the original code that forgot its reversed logits would",
    shaders() {
      const k = kernelSources();
      return {
        forward: mutate(k.forward, "sort_pool2d_forward.wgsl", "let w = weights;", "let w = weights.wzyx;"),
        forwardVec4: mutate(
          k.forwardVec4,
          "sort_pool2d_forward_vec4.wgsl",
          "let w = weights;",
          "let w = weights.wzyx;",
        ),
      };
    },
  },
];

/** The variant named `name`; throws, listing the names, for an unknown one. */
export function plantNamed(name: string): Plant {
  const p = PLANTS.find((x) => x.name === name);
  if (!p) throw new Error(`?plant=${name}: no such planted variant (known: ${PLANTS.map((x) => x.name).join(", ")})`);
  return p;
}
