/**
 * The WGSL sources of the sort_pool2d kernels (files in `kernels/`), read at run time so the
 * shaders stay standalone files a porter can reuse verbatim, and so a caller can swap any of
 * them (the CI gate's slowed self-test variants, a reviewer's mutated kernel).
 *
 * @module
 */

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
  /** `sort_pool2d_dlogits.wgsl`: dLogits stage 2 (final sum and softmax VJP). */
  readonly dLogits: string;
  /** `sort_pool2d_weights.wgsl`: softmax(logits), once per call, for the other kernels. */
  readonly weights: string;
}

/** The roofline kernels' WGSL sources. */
export interface RooflineSources {
  /** `roofline_forward.wgsl`: read 4 floats, write 1. */
  readonly forward: string;
  /** `roofline_backward.wgsl`: read 5 floats, write 4. */
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
};

/** File name in `kernels/` of each roofline source. */
export const ROOFLINE_FILES: Readonly<Record<keyof RooflineSources, string>> = {
  forward: "roofline_forward.wgsl",
  backward: "roofline_backward.wgsl",
};

/** URL of a file in the project's `kernels/` folder. */
export function kernelUrl(file: string): URL {
  return new URL(`../../kernels/${file}`, import.meta.url);
}

let defaultKernels: KernelSources | undefined;
let defaultRoofline: RooflineSources | undefined;

function readAll<T extends string>(files: Readonly<Record<T, string>>): Record<T, string> {
  const out = {} as Record<T, string>;
  for (const key of Object.keys(files) as T[]) out[key] = Deno.readTextFileSync(kernelUrl(files[key]));
  return out;
}

/**
 * The kernel sources: the files in `kernels/`, with any entry of `overrides` replacing its file.
 * Reads synchronously (once, then cached) because tfjs kernel functions are synchronous.
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
  defaultKernels ??= readAll(KERNEL_FILES);
  return { ...defaultKernels, ...definedOnly(overrides) };
}

/** The roofline kernel sources from `kernels/`. */
export function rooflineSources(): RooflineSources {
  defaultRoofline ??= readAll(ROOFLINE_FILES);
  return defaultRoofline;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
