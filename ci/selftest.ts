/**
 * Slowed WGSL kernel variants for `deno task gate --self-test`: proof that the gate can fail.
 *
 * All three variants are built by the same factory as the registry's `wgsl` entry
 * (createWgslImplementation, raw GPUDevice), each on its own device:
 * - a control with the unmodified kernels of `kernels/`;
 * - a slowed forward: both forward shaders (scalar and vec4) with their body run twice;
 * - a slowed backward: both backward shaders (dx and dLogits stage 1) with their body run twice.
 * The slowed shaders still compute the right values (ci/slowdown.ts), only twice.
 *
 * @module
 */
import { createWgslImplementation } from "../src/webgpu/wgsl.ts";
import { kernelSources } from "../src/webgpu/shaders.ts";
import type { Implementation } from "../src/types.ts";
import type { GateEntry } from "./measure.ts";
import { runEntryPointTwice } from "./slowdown.ts";

/** The variants the self-test gates. */
export interface SelfTestEntries {
  /** Registry entry whose committed baseline the variants are judged against. */
  readonly derivedFrom: string;
  /** Unmodified kernels built the same way as the variants. */
  readonly control: GateEntry;
  /** Forward shaders doing their work twice. */
  readonly slowForward: GateEntry;
  /** Backward shaders doing their work twice. */
  readonly slowBackward: GateEntry;
  /** Frees the variants' devices and pipelines. */
  dispose(): Promise<void>;
}

/** Registry entry the self-test variants derive from. */
export const SELF_TEST_BASE = "wgsl";

/** Builds the control and the two slowed variants (no GPU work until they are prepared). */
export function buildSelfTestEntries(): Promise<SelfTestEntries> {
  const original = kernelSources();
  const control = createWgslImplementation({ name: `${SELF_TEST_BASE} (control)` });
  const slowForward = createWgslImplementation({
    name: `${SELF_TEST_BASE} slowed forward (x2)`,
    shaders: { forward: runEntryPointTwice(original.forward), forwardVec4: runEntryPointTwice(original.forwardVec4) },
  });
  const slowBackward = createWgslImplementation({
    name: `${SELF_TEST_BASE} slowed backward (x2)`,
    shaders: {
      backward: runEntryPointTwice(original.backward),
      backwardVec4: runEntryPointTwice(original.backwardVec4),
    },
  });
  const asEntry = (i: Implementation): GateEntry => ({ name: i.name, prepare: (c) => i.prepareBench!(c) });
  return Promise.resolve({
    derivedFrom: SELF_TEST_BASE,
    control: asEntry(control),
    slowForward: asEntry(slowForward),
    slowBackward: asEntry(slowBackward),
    async dispose() {
      for (const i of [control, slowForward, slowBackward]) await i.dispose?.();
    },
  });
}
