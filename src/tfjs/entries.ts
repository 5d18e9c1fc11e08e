/**
 * The registry entries of the tfjs implementations: every family on every tfjs backend, each call
 * serialised with every other tfjs call of the process (src/tfjs/runtime.ts `withBackend`) and, on
 * webgpu, sized against the device's binding limit before any work and run inside GPU error scopes.
 *
 * @module
 */
import { outputShape, sizeOf } from "../spec.ts";
import type { BenchHandle, Implementation, SortPoolCase } from "../types.ts";
import { SortPoolArgumentError, validateCase } from "../validate.ts";
import { type TfjsFamily, tfjsImplementation } from "./family.ts";
import { networkFamily } from "./network.ts";
import { finishWork, tf, type TfjsBackendName, withBackend, withGpuErrorScopes } from "./runtime.ts";
import { topkFamily } from "./topk.ts";

/**
 * Families, the backends each runs on, and whether the family gathers from its windows tensor by
 * flat index (tfjs-topk: `tf.gather` on the flattened `[B·Ho·Wo·C, 4]` windows), which bounds its
 * size on webgpu ({@link TFJS_WEBGPU_EXACT_INDEX_ELEMENTS}).
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

/** Elements of the `[B·Ho·Wo·C, 4]` windows tensor both tfjs families build (src/tfjs/windows.ts `windowRows`). */
export function tfjsWindowElements(c: Pick<SortPoolCase, "shape" | "padding">): number {
  return 4 * sizeOf(outputShape(c.shape, c.padding));
}

/**
 * Bytes of the largest tensor a family builds for a case: both lay the windows out as a
 * `[B·Ho·Wo·C, 4]` tensor (src/tfjs/windows.ts `windowRows`, after padding or slicing x to
 * `[B, 2·Ho, 2·Wo, C]`), with index, mask and gradient tensors of the same element count, and x
 * and dx themselves. float32 and int32 are both 4 bytes.
 */
export function largestTfjsTensorBytes(c: Pick<SortPoolCase, "shape" | "padding">): number {
  return 4 * Math.max(sizeOf(c.shape), tfjsWindowElements(c));
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
 *   kernel silently leaves its output unwritten (issue 10, class 7).
 * - A family that gathers by flat index (`gathersByIndex`, tfjs-topk): a windows tensor of more than
 *   {@link TFJS_WEBGPU_EXACT_INDEX_ELEMENTS} elements (its index tensors are no larger).
 */
export function checkTfjsWebGpuSize(
  name: string,
  c: Pick<SortPoolCase, "shape" | "padding">,
  maxStorageBufferBindingSize: number,
  gathersByIndex: boolean,
): void {
  const limit = maxStorageBufferBindingSize;
  const bytes = largestTfjsTensorBytes(c);
  const received = `shape [${c.shape.join(", ")}] with padding "${c.padding}"`;
  if (bytes > limit) {
    throw new SortPoolArgumentError(
      "x",
      `a shape whose largest tfjs-webgpu tensor fits the device's maxStorageBufferBindingSize (${limit} bytes): ` +
        `${name} builds a [B·Ho·Wo·C, 4] windows tensor and tfjs binds each tensor whole (use wgsl or wgsl@tfjs, ` +
        "which split the work)",
      `${received}: ${bytes} bytes`,
    );
  }
  const elements = tfjsWindowElements(c);
  if (gathersByIndex && elements > TFJS_WEBGPU_EXACT_INDEX_ELEMENTS) {
    throw new SortPoolArgumentError(
      "x",
      `a shape whose [B·Ho·Wo·C, 4] windows tensor has at most 2^24 = ${TFJS_WEBGPU_EXACT_INDEX_ELEMENTS} ` +
        `elements: ${name} gathers from it by flat index, and tfjs-webgpu's index arithmetic is float32, exact ` +
        "only up to 2^24 (past it the results are silently wrong; use wgsl, wgsl@tfjs or tfjs-network@webgpu)",
      `${received}: ${elements} elements`,
    );
  }
}

/**
 * Wraps a tfjs entry: each call (and each bench-handle call) holds the tfjs queue on its own
 * backend for its whole body; on webgpu, a case too large for tfjs's bindings (or, with
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
    // Argument errors come first (as a rejection, like every other failure) and need no backend.
    let c: SortPoolCase;
    try {
      c = validateCase(input);
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
  return {
    ...entry,
    forward: (c) => turn("forward", c, () => entry.forward(c)),
    gradient: (c, dy) => turn("gradient", c, () => entry.gradient(c, dy)),
    prepareBench: entry.prepareBench && ((c) =>
      turn("prepareBench", c, async () => {
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
 * `tfjs-topk@cpu`, `tfjs-topk@webgpu`, `tfjs-network@cpu`, `tfjs-network@webgpu`. Not gated: their
 * speed is tfjs's ops' (a tfjs upgrade moves it, no edit here can), and they take seconds a call on
 * the gate's workload.
 */
export const tfjsImplementations: readonly Implementation[] = TABLE.flatMap(({ family, backends, gathersByIndex }) =>
  backends.map((backend) => ({
    ...serialisedTfjsEntry(tfjsImplementation(family, backend), backend, gathersByIndex),
    gated: false,
  }))
);
