/**
 * The registry entries of the tfjs implementations: every family on every tfjs backend, each call
 * serialised with every other tfjs call of the process (src/tfjs/runtime.ts `withBackend`) and, on
 * webgpu, sized against the device's binding limit before any work and run inside GPU error scopes.
 *
 * @module
 */
import { isDefaultWindow, outputShape, poolGeometry, sizeOf } from "../spec.ts";
import type { BenchHandle, Implementation, SortPoolCase } from "../types.ts";
import { EMPTY_BENCH_HANDLE, emptyCaseResult } from "../reference.ts";
import { SortPoolArgumentError, validateCase, type ValidCase } from "../validate.ts";
import { rejectUnsupported, type TfjsFamily, tfjsImplementation } from "./family.ts";
import { networkFamily } from "./network.ts";
import { finishWork, tf, type TfjsBackendName, withBackend, withGpuErrorScopes } from "./runtime.ts";
import { topkFamily } from "./topk.ts";

/**
 * Families, the backends each runs on, and whether the family gathers by flat index (tfjs-topk:
 * `tf.gather` on the flattened `[B·Ho·Wo·C, kh·kw]` windows tensor, and on x and the gradient
 * terms for windows other than 2x2/2), which bounds its tensors' sizes on webgpu
 * ({@link TFJS_WEBGPU_EXACT_INDEX_ELEMENTS}). What each family supports is its `supports`.
 */
const TABLE: readonly { family: TfjsFamily; backends: readonly TfjsBackendName[]; gathersByIndex: boolean }[] = [
  { family: topkFamily, backends: ["cpu", "webgpu"], gathersByIndex: true },
  { family: networkFamily, backends: ["cpu", "webgpu"], gathersByIndex: false },
];

/**
 * Largest element count of a tensor that tfjs-webgpu 4.22 indexes correctly in its int32 and gather
 * kernels: their index arithmetic goes through float32, exact only up to 2^24. Past it tfjs-topk@webgpu
 * silently returned wrong values (e.g. [512, 64, 64, 16] "valid" k 4 from element 16777216 on).
 */
export const TFJS_WEBGPU_EXACT_INDEX_ELEMENTS = 2 ** 24;

/** The shape and window fields of a case that size the tfjs tensors. */
export type TfjsSizedCase = Pick<SortPoolCase, "shape" | "padding" | "poolSize" | "strides">;

/**
 * Elements of the `[B·Ho·Wo·C, kh·kw]` windows tensor both tfjs families build (src/tfjs/windows.ts
 * `windowSet`); `[B·Ho·Wo·C, 4]` for the default 2x2/2 windows.
 */
export function tfjsWindowElements(c: TfjsSizedCase): number {
  const g = poolGeometry(c.shape, c.padding, c);
  return g.cells * sizeOf(outputShape(c.shape, c.padding, c));
}

/**
 * Elements of the largest tensor a family gathers from or into for a case. Default 2x2/2 windows:
 * the windows tensor (x is only padded or sliced). Other windows (src/tfjs/windows.ts, gather
 * layout) also gather from x viewed as `[B, H·W (+1), C]` and, in the gradient, from the terms as
 * `[B, Ho·Wo·kh·kw + 1, C]` into x-sized tensors: the largest of those, one padding slot (B·C
 * elements) included.
 */
export function tfjsGatheredElements(c: TfjsSizedCase): number {
  const windows = tfjsWindowElements(c);
  if (isDefaultWindow(poolGeometry(c.shape, c.padding, c))) return windows;
  const slot = c.shape[0] * c.shape[3];
  return Math.max(windows, sizeOf(c.shape)) + slot;
}

/**
 * Bytes of the largest tensor a family builds for a case: both lay the windows out as a
 * `[B·Ho·Wo·C, kh·kw]` tensor (src/tfjs/windows.ts `windowSet`: after padding or slicing x to
 * `[B, 2·Ho, 2·Wo, C]` for 2x2/2, by gathers otherwise, {@link tfjsGatheredElements}), with index,
 * mask and gradient tensors of the same element count, and x and dx themselves. float32 and int32
 * are both 4 bytes.
 */
export function largestTfjsTensorBytes(c: TfjsSizedCase): number {
  return 4 * Math.max(sizeOf(c.shape), tfjsGatheredElements(c));
}

interface DeviceOf {
  readonly device: GPUDevice;
}

/**
 * Refuses (SortPoolArgumentError naming x, SPEC.md §6 "Device limits") a case that a tfjs family
 * could not compute correctly on tfjs-webgpu, before any work: planning only, from the shape.
 *
 * - Every family: a tensor tfjs could not bind. tfjs binds every tensor whole as one storage buffer,
 *   and a binding past `maxStorageBufferBindingSize` (bytes) fails validation, after which the
 *   kernel silently leaves its output unwritten.
 * - A family that gathers by flat index (`gathersByIndex`, tfjs-topk): a windows tensor of more than
 *   {@link TFJS_WEBGPU_EXACT_INDEX_ELEMENTS} elements (its index tensors are no larger).
 */
export function checkTfjsWebGpuSize(
  name: string,
  c: TfjsSizedCase,
  maxStorageBufferBindingSize: number,
  gathersByIndex: boolean,
): void {
  const limit = maxStorageBufferBindingSize;
  const bytes = largestTfjsTensorBytes(c);
  const g = poolGeometry(c.shape, c.padding, c);
  const window = isDefaultWindow(g) ? "" : ` poolSize [${g.poolSize.join(", ")}] strides [${g.strides.join(", ")}]`;
  const received = `shape [${c.shape.join(", ")}] with padding "${c.padding}"${window}`;
  const windows = `[B·Ho·Wo·C, ${g.cells}] windows tensor`;
  if (bytes > limit) {
    throw new SortPoolArgumentError(
      "x",
      `a shape whose largest tfjs-webgpu tensor fits the device's maxStorageBufferBindingSize (${limit} bytes): ` +
        `${name} builds a ${windows} and tfjs binds each tensor whole (use wgsl or wgsl@tfjs, ` +
        "which split the work)",
      `${received}: ${bytes} bytes`,
    );
  }
  const elements = tfjsGatheredElements(c);
  if (gathersByIndex && elements > TFJS_WEBGPU_EXACT_INDEX_ELEMENTS) {
    const what = isDefaultWindow(g) ? `${windows} has` : `${windows} (and every tensor it gathers from or into) have`;
    const instead = isDefaultWindow(g) ? "wgsl, wgsl@tfjs or tfjs-network@webgpu" : "wgsl or wgsl@tfjs";
    throw new SortPoolArgumentError(
      "x",
      `a shape whose ${what} at most 2^24 = ${TFJS_WEBGPU_EXACT_INDEX_ELEMENTS} ` +
        `elements: ${name} gathers by flat index, and tfjs-webgpu's index arithmetic is float32, exact ` +
        `only up to 2^24 (past it the results are silently wrong; use ${instead})`,
      `${received}: ${elements} elements`,
    );
  }
}

/**
 * Wraps a tfjs entry: a case it does not support (its `supports`) is refused at once
 * (family.ts `rejectUnsupported`); each call (and each bench-handle call) holds the tfjs queue on
 * its own backend for its whole body; on webgpu, a case too large for tfjs's bindings (or, with
 * `gathersByIndex`, for its float32 index arithmetic: {@link checkTfjsWebGpuSize}) is refused before
 * any work, and anything the GPU still reports (validation, out of memory) is thrown as a
 * WebGpuError (src/tfjs/runtime.ts) instead of leaving garbage in the result.
 */
export function serialisedTfjsEntry(
  entry: Implementation,
  backend: TfjsBackendName,
  gathersByIndex = false,
): Implementation {
  const turn = <T>(what: string, input: SortPoolCase, body: () => Promise<T>): Promise<T> => {
    // Argument errors and unsupported cases come first (as a rejection, like every other failure) and need
    // no backend.
    let c: ValidCase;
    try {
      c = validateCase(input);
      rejectUnsupported(entry.name, entry.supports, c);
    } catch (e) {
      return Promise.reject(e);
    }
    return withBackend(backend, () => {
      if (backend !== "webgpu") return body();
      const device = (tf.backend() as unknown as DeviceOf).device;
      checkTfjsWebGpuSize(entry.name, c, device.limits.maxStorageBufferBindingSize, gathersByIndex);
      return withGpuErrorScopes(device, `${entry.name} ${what}`, body, finishWork);
    });
  };
  const handleTurn = (body: () => Promise<void>) => () => withBackend(backend, body);
  // An empty case (SPEC.md §1 "Empty inputs") is answered without a backend: no zero-size tensor or dispatch.
  const empty = (input: SortPoolCase, dy?: ArrayLike<number>) =>
    emptyCaseResult(input, dy, (c) => rejectUnsupported(entry.name, entry.supports, c));
  return {
    ...entry,
    forward: (c) => {
      const e = empty(c);
      return e ? Promise.resolve(e.forward) : turn("forward", c, () => entry.forward(c));
    },
    gradient: (c, dy) => {
      const e = empty(c, dy);
      return e ? Promise.resolve(e.gradient) : turn("gradient", c, () => entry.gradient(c, dy));
    },
    prepareBench: entry.prepareBench &&
      ((c) =>
        emptyCaseResult(c) ? Promise.resolve(EMPTY_BENCH_HANDLE) : turn("prepareBench", c, async () => {
          const handle: BenchHandle = await entry.prepareBench!(c);
          return {
            forward: handleTurn(() => handle.forward()),
            forwardBackward: handleTurn(() => handle.forwardBackward()),
            dispose: () => handle.dispose(),
          };
        })),
  };
}

/**
 * `tfjs-topk@cpu`, `tfjs-topk@webgpu` (every window, stride and logits layout),
 * `tfjs-network@cpu`, `tfjs-network@webgpu` (2x2 windows with stride 2 only, shared or per-channel
 * logits: the original's network; they refuse other windows naming poolSize or strides). Not gated: their
 * speed is tfjs's ops' (a tfjs upgrade moves it, no edit here can), and they take seconds a call on
 * the gate's workload.
 */
export const tfjsImplementations: readonly Implementation[] = TABLE.flatMap(({ family, backends, gathersByIndex }) =>
  backends.map((backend) => ({
    ...serialisedTfjsEntry(tfjsImplementation(family, backend), backend, gathersByIndex),
    gated: false,
  }))
);
