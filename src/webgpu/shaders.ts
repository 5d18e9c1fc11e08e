/**
 * The WGSL sources of the sort_pool2d kernels. The files in `kernels/` are the sources a porter
 * reads and reuses verbatim; the library takes their text from the generated module
 * `kernel_sources.ts` (build/kernels.ts, `deno task kernels`), never from the file system, so it
 * runs the same when imported from a registry, an https or `file:` URL, or a bundle. A caller can
 * still swap any kernel (the CI gate's slowed self-test variants, a reviewer's mutated kernel).
 *
 * @module
 */
import { KERNEL_FILE_TEXT } from "./kernel_sources.ts";

/** The sort_pool2d kernels' WGSL sources, one entry per file in `kernels/`. */
export interface KernelSources {
  /** `sort_pool2d_forward.wgsl`: one channel per invocation, used when C % 4 != 0. */
  readonly forward: string;
  /** `sort_pool2d_forward_vec4.wgsl`: 4 channels per invocation, used when C % 4 == 0. */
  readonly forwardVec4: string;
  /** `sort_pool2d_backward.wgsl`: dx and dLogits stage 1, used when C % 4 != 0. */
  readonly backward: string;
  /** `sort_pool2d_backward_vec4.wgsl`: dx and dLogits stage 1, used when C % 4 == 0. */
  readonly backwardVec4: string;
  /** `sort_pool2d_dlogits.wgsl`: dLogits stage 2 (final sum and softmax VJP; exactly 0 for k = 1). */
  readonly dLogits: string;
  /**
   * `sort_pool2d_weights.wgsl`: softmax(logits) evaluated as its limit (SPEC.md §5 "Weights"), once
   * per call, as the vec4 the 2x2 / stride 2 kernels read; only when the logits are on the GPU (the
   * op), since the registry entries write host-computed weights instead.
   */
  readonly weights: string;
  /**
   * `sort_pool2d_general_weights.wgsl`: the same softmax per weight group (shared, or per channel),
   * as the k x C table the general kernels read.
   */
  readonly generalWeights: string;
  /** `sort_pool2d_partial_sums.wgsl`: one chunk's stage-1 dLogits partials summed (calls split past the binding limit). */
  readonly partialSums: string;
  /** `sort_pool2d_general_forward.wgsl`: forward for any window or per-channel weights, used when C % 4 != 0. */
  readonly generalForward: string;
  /** `sort_pool2d_general_forward_vec4.wgsl`: forward for any window or per-channel weights, C % 4 == 0. */
  readonly generalForwardVec4: string;
  /** `sort_pool2d_general_ranks.wgsl`: backward pass 1 (kept cells, dLogits stage 1), C % 4 != 0. */
  readonly generalRanks: string;
  /** `sort_pool2d_general_ranks_vec4.wgsl`: backward pass 1 (kept cells, dLogits stage 1), C % 4 == 0. */
  readonly generalRanksVec4: string;
  /** `sort_pool2d_general_gather.wgsl`: backward pass 2 (dx gathered over overlapping windows), C % 4 != 0. */
  readonly generalGather: string;
  /** `sort_pool2d_general_gather_vec4.wgsl`: backward pass 2 (dx gathered over overlapping windows), C % 4 == 0. */
  readonly generalGatherVec4: string;
  /** `sort_pool2d_general_dlogits.wgsl`: dLogits stage 2 per weight group, chunk sums, softmax VJP. */
  readonly generalDLogits: string;
}

/** The copy kernels' WGSL sources (the benchmarks' "% of copy bandwidth" reference). */
export interface CopySources {
  /** `copy_forward.wgsl`: read 4 floats, write 1. */
  readonly forward: string;
  /** `copy_backward.wgsl`: read 5 floats, write 4. */
  readonly backward: string;
}

/** File name in `kernels/` of each kernel source. */
export const KERNEL_FILES: Readonly<Record<keyof KernelSources, string>> = {
  forward: "sort_pool2d_forward.wgsl",
  forwardVec4: "sort_pool2d_forward_vec4.wgsl",
  backward: "sort_pool2d_backward.wgsl",
  backwardVec4: "sort_pool2d_backward_vec4.wgsl",
  dLogits: "sort_pool2d_dlogits.wgsl",
  weights: "sort_pool2d_weights.wgsl",
  generalWeights: "sort_pool2d_general_weights.wgsl",
  partialSums: "sort_pool2d_partial_sums.wgsl",
  generalForward: "sort_pool2d_general_forward.wgsl",
  generalForwardVec4: "sort_pool2d_general_forward_vec4.wgsl",
  generalRanks: "sort_pool2d_general_ranks.wgsl",
  generalRanksVec4: "sort_pool2d_general_ranks_vec4.wgsl",
  generalGather: "sort_pool2d_general_gather.wgsl",
  generalGatherVec4: "sort_pool2d_general_gather_vec4.wgsl",
  generalDLogits: "sort_pool2d_general_dlogits.wgsl",
};

/** File name in `kernels/` of each copy-kernel source. */
export const COPY_FILES: Readonly<Record<keyof CopySources, string>> = {
  forward: "copy_forward.wgsl",
  backward: "copy_backward.wgsl",
};

/**
 * URL of a file in the project's `kernels/` folder, for the harness and tests that read the
 * `.wgsl` files themselves; the library never reads it.
 */
export function kernelUrl(file: string): URL {
  return new URL(`../../kernels/${file}`, import.meta.url);
}

let defaultKernels: KernelSources | undefined;
let defaultCopy: CopySources | undefined;

function textOf<T extends string>(files: Readonly<Record<T, string>>): Record<T, string> {
  const out = {} as Record<T, string>;
  for (const key of Object.keys(files) as T[]) {
    const text = KERNEL_FILE_TEXT[files[key]];
    if (text === undefined) {
      throw new Error(
        `kernel_sources.ts has no ${files[key]}: regenerate it from kernels/ (deno task kernels)`,
      );
    }
    out[key] = text;
  }
  return out;
}

/**
 * The kernel sources: the files in `kernels/` (as the generated module holds them), with any
 * entry of `overrides` replacing its file. Synchronous, because tfjs kernel functions are.
 */
export function kernelSources(overrides: Partial<KernelSources> = {}): KernelSources {
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in KERNEL_FILES)) {
      throw new RangeError(
        `kernelSources: shaders.${key}: expected one of ${Object.keys(KERNEL_FILES).join(", ")}, received "${key}"`,
      );
    }
    if (value !== undefined && typeof value !== "string") {
      throw new TypeError(`kernelSources: shaders.${key}: expected a WGSL string, received ${typeof value}`);
    }
  }
  defaultKernels ??= textOf(KERNEL_FILES);
  return { ...defaultKernels, ...definedOnly(overrides) };
}

/** The copy kernel sources (`kernels/copy_*.wgsl`, from the generated module). */
export function copySources(): CopySources {
  defaultCopy ??= textOf(COPY_FILES);
  return defaultCopy;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
