/**
 * The `bind-limits` property (input class: auxiliary buffers past the binding limit): shapes
 * near the device's buffer limits. WebGPU cannot lower a device's limits below their defaults,
 * and real-size cases (128 MiB bindings) are far too slow here, so the property lowers the limits
 * instead: entries that can be planned against stricter limits (`withBindingLimits`: wgsl,
 * wgsl@tfjs) run each case at a maxStorageBufferBindingSize drawn between 1/8 and 4 times the
 * case's largest buffer (x, or the dLogits partial sums: 16 bytes per 4 kept ranks per output
 * window and channel, larger than x for small channel counts) and at an offset alignment of the
 * device's, 256 or 1024 bytes. So a case falls into every regime: everything in one binding; x
 * fitting while the partial sums do not (a [3000000, 3, 3, 1] gradient, in miniature); a batch
 * split; a split of single images along rows; chunks whose offsets are unaligned (staged); a
 * window row past the limit.
 *
 * It checks, per case:
 * - forward and gradient equal the float64 reference (tolerances as `vjp-ref`), or the entry
 *   refuses with a SortPoolArgumentError naming x, which is allowed only when (2x2/2, shared logits) a
 *   single window row (its kh input rows, its outputs or its partial sums) or the per-chunk sums, or
 *   (any other window, or per-channel logits) a single image's bindings could not fit ({@link mustFit}); any other
 *   error (a raw WebGPU message included) fails;
 * - every buffer the project's kernels bind (bind groups whose layout is labelled "sortpool ...",
 *   seen at `GPUDevice.createBindGroup`, the API boundary) fits the lowered limit, sits at an
 *   offset that is a multiple of the alignment, and lies inside its buffer.
 *
 * Entries without such limits (the reference, the tfjs families, the planted mutants) run the same
 * shapes against the reference at their own limits.
 *
 * The planted bug {@link partialsOneShort} plans the partial-sum scratch one element short.
 *
 * @module
 */
import fc from "fast-check";
import { outputShape, sizeOf } from "../../src/spec.ts";
import type { Implementation, Pair } from "../../src/types.ts";
import { SortPoolArgumentError } from "../../src/validate.ts";
import type { BindingLimits } from "../../src/webgpu/chunks.ts";
import type { WgslImplementation } from "../../src/webgpu/implementation.ts";
import { generalImageBytes, type SortPoolPlan } from "../../src/webgpu/sort_pool_kernels.ts";
import { createWgslImplementation } from "../../src/webgpu/wgsl.ts";
import { buildCase, type CaseParams, paramsArbitrary, type PropCase } from "../generators.ts";
import { checkForwardAgainstReference, checkGradientAgainstReference, entryCase } from "../agreement.ts";
import type { CheckContext, PropertyDefinition } from "./definition.ts";
import { type Verdict, VerdictBuilder } from "../verdict.ts";

/** Largest batch the property draws (more images than the shared generators, for batch splits). */
export const LIMITS_MAX_BATCH = 12;

/** The limits part of a case: fractions, resolved against the case's sizes. */
export interface LimitDraw {
  /** The binding limit as a fraction of the case's largest buffer (1/8 .. 4). */
  readonly fraction: number;
  /** Offset alignment override in bytes; undefined keeps the device's. */
  readonly alignment: number | undefined;
}

/** A property case with its lowered limits. */
export interface LimitsCase extends PropCase {
  readonly limitDraw: LimitDraw;
}

const FRACTIONS = [1 / 8, 1 / 4, 1 / 3, 1 / 2, 3 / 4, 1, 2, 4] as const;

/** What the buffer sizes of a case depend on. */
type Sized = Pick<PropCase, "shape" | "padding" | "k" | "logits"> & {
  readonly poolSize?: Pair;
  readonly strides?: Pair;
};

/**
 * Bytes of one output's dLogits partial sums, at most: a vec4 of rank sums per 4 ranks kept
 * (16 bytes for k ≤ 4, the default window's case; 64 for k = 16).
 */
export function partialBytesPerOutput(k: number): number {
  return 16 * Math.ceil(k / 4);
}

/** Bytes of the case's largest buffer: x, or the partial sums (see {@link partialBytesPerOutput}). */
export function largestBuffer(c: Sized): number {
  return Math.max(sizeOf(c.shape) * 4, sizeOf(outputShape(c.shape, c.padding, c)) * partialBytesPerOutput(c.k));
}

/** The lowered binding limit of a case: the drawn fraction of its largest buffer, a multiple of 4, at least 64. */
export function loweredLimit(c: LimitsCase): number {
  return Math.max(64, 4 * Math.floor((c.limitDraw.fraction * largestBuffer(c)) / 4));
}

/**
 * Whether the wgsl hosts must compute the case at `limit` (a refusal is then a failure), after SPEC.md §6
 * "Device limits":
 * - 2x2/2 windows with shared logits are split along the batch and along window rows: they must be
 *   computed when one window row (its kh input rows, its outputs, its partial sums) and the per-chunk
 *   dLogits sums (at most one chunk per output row, a vec4 per 4 logits) fit. Computed from the spec's
 *   shapes alone, independently of src/webgpu/chunks.ts.
 * - Any other window, or per-channel logits, is split along the batch only: it must be computed when
 *   one image's bindings and the k·C-float weights table fit. The per-image bytes include the kernels'
 *   own partial-sum layout, so they come from the kernels' published `generalImageBytes`; every
 *   binding is still audited against the limit independently.
 */
export function mustFit(c: Sized, limit: number): boolean {
  const general = generalImageBytes(c.shape, c.k, c.padding, { ...c, logitsLength: c.logits.length });
  if (general !== undefined) return general <= limit && c.logits.length * 4 <= limit;
  const [b, , w, ch] = c.shape;
  const [, ho, wo] = outputShape(c.shape, c.padding, c);
  const kh = c.poolSize?.[0] ?? 2;
  const partial = partialBytesPerOutput(c.k);
  const row = Math.max(kh * w * ch * 4, wo * ch * 4, wo * ch * partial);
  return row <= limit && b * ho * 16 * Math.ceil(c.logits.length / 4) <= limit;
}

/** Cases of the property: the shared generators' shapes with up to {@link LIMITS_MAX_BATCH} images, and a limit draw. */
export function limitsArbitrary(precision: "float32" | "float64"): fc.Arbitrary<LimitsCase> {
  return fc.record({
    params: paramsArbitrary({ kinds: ["distinct", "near-ties", "mixed"], windows: "any", perChannelLogits: true }),
    batch: fc.integer({ min: 1, max: LIMITS_MAX_BATCH }),
    fraction: fc.constantFrom(...FRACTIONS),
    alignment: fc.constantFrom<number | undefined>(undefined, 256, 1024),
  }).map(({ params, batch, fraction, alignment }) => {
    const p: CaseParams = { ...params, batch };
    return { ...buildCase(p, precision), limitDraw: { fraction, alignment } };
  });
}

/** Entries whose binding limits can be lowered (the WGSL hosts). */
function lowerable(entry: Implementation): entry is WgslImplementation {
  return typeof (entry as Partial<WgslImplementation>).withBindingLimits === "function";
}

/** One buffer binding of a project kernel, as seen at createBindGroup. */
interface SeenBinding {
  readonly layout: string;
  readonly binding: number;
  readonly buffer: string;
  readonly bufferSize: number;
  readonly storage: boolean;
  readonly offset: number;
  readonly size: number;
}

let audit: SeenBinding[] | undefined;
let patched = false;

/** Wraps GPUDevice.prototype.createBindGroup once; while `audit` is set, records the project kernels' buffer bindings. */
function patchCreateBindGroup(): void {
  if (patched || typeof GPUDevice === "undefined") return;
  patched = true;
  const original = GPUDevice.prototype.createBindGroup;
  GPUDevice.prototype.createBindGroup = function (this: GPUDevice, descriptor: GPUBindGroupDescriptor) {
    const layout = descriptor.layout?.label ?? "";
    if (audit && layout.startsWith("sortpool")) {
      for (const entry of descriptor.entries) {
        const resource = entry.resource as GPUBufferBinding;
        if (!resource || !(resource.buffer instanceof GPUBuffer)) continue;
        const offset = resource.offset ?? 0;
        audit.push({
          layout,
          binding: entry.binding,
          buffer: resource.buffer.label,
          bufferSize: resource.buffer.size,
          storage: (resource.buffer.usage & GPUBufferUsage.STORAGE) !== 0,
          offset,
          size: resource.size ?? resource.buffer.size - offset,
        });
      }
    }
    return original.call(this, descriptor);
  };
}

/** Runs forward and gradient of `entry` on `c` and compares both with the reference. */
async function agreement(v: VerdictBuilder, entry: Implementation, c: PropCase, note: () => string): Promise<void> {
  const fwd = await entry.forward(entryCase(entry, c));
  checkForwardAgainstReference(v, "", entry, c, fwd.y, note);
  const g = await entry.gradient(entryCase(entry, c), Float32Array.from(c.dy));
  checkGradientAgainstReference(v, "", entry, c, g, note);
}

/**
 * Checks one case: on a lowerable entry at the case's lowered limits, with every project binding
 * audited; on any other entry at its own limits. Never throws.
 */
export async function checkLimitsCase(entry: Implementation, c: LimitsCase): Promise<Verdict> {
  const v = new VerdictBuilder();
  if (!lowerable(entry)) {
    try {
      await agreement(v, entry, c, () => "at the entry's own limits (it has none to lower)");
    } catch (err) {
      v.fail("exception", "no exception", err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
    return v.build();
  }
  const limit = loweredLimit(c);
  const limits: Partial<BindingLimits> = c.limitDraw.alignment === undefined
    ? { maxStorageBufferBindingSize: limit }
    : { maxStorageBufferBindingSize: limit, minStorageBufferOffsetAlignment: c.limitDraw.alignment };
  const fits = mustFit(c, limit);
  const note = () =>
    `lowered limits: binding ${limit} bytes (${c.limitDraw.fraction} × the largest buffer, ${
      largestBuffer(c)
    } bytes), ` +
    `alignment ${c.limitDraw.alignment ?? "the device's"}`;
  patchCreateBindGroup();
  const seen: SeenBinding[] = [];
  audit = seen;
  try {
    await agreement(v, entry.withBindingLimits(limits), c, note);
  } catch (err) {
    const refused = err instanceof SortPoolArgumentError && err.argument === "x";
    if (!refused || fits) {
      v.fail(
        "exception",
        fits
          ? "no exception: a window row fits the lowered limit"
          : "no exception, or a SortPoolArgumentError naming x",
        err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        note(),
      );
    }
  } finally {
    audit = undefined;
  }
  for (const b of seen) {
    const where = `${b.layout} binding ${b.binding} (${b.buffer || "unlabelled"})`;
    if (b.offset + b.size > b.bufferSize) {
      v.fail(
        "binding inside its buffer",
        `offset + size ≤ ${b.bufferSize}`,
        `${where}: ${b.offset} + ${b.size}`,
        note(),
      );
    }
    if (!b.storage) continue;
    if (b.size > limit) {
      v.fail("storage binding ≤ the lowered limit", `≤ ${limit} bytes`, `${where}: ${b.size}`, note());
    }
    const alignment = c.limitDraw.alignment;
    if (alignment !== undefined && b.offset % alignment !== 0) {
      v.fail("storage offset aligned", `a multiple of ${alignment}`, `${where}: offset ${b.offset}`, note());
    }
  }
  return v.build();
}

/** The property (listed in props/properties.ts). */
export const limitsProperty: PropertyDefinition = {
  name: "bind-limits",
  title:
    "at a storage-binding limit lowered to 1/8..4× the case's largest buffer (and offset alignments up to 1 KiB), " +
    "wgsl and wgsl@tfjs split the work and equal the reference (a SortPoolArgumentError naming x only when a window " +
    "row (2x2/2) or one image (other windows, per-channel) cannot fit), every buffer their kernels bind fits and is aligned; other entries run the same shapes",
  constraints: { kinds: ["distinct", "near-ties", "mixed"], windows: "any", perChannelLogits: true },
  hasDeviations: false,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  arbitrary: (entry) => limitsArbitrary(entry.precision),
  check: async (_ctx: CheckContext, entry: Implementation, c: PropCase): Promise<Verdict> => {
    if (!("limitDraw" in c)) {
      const v = new VerdictBuilder();
      v.fail("harness", "a case drawn by limitsArbitrary (with limits)", "a plain case");
      return v.build();
    }
    return await checkLimitsCase(entry, c as LimitsCase);
  },
};

/** Plans the partial-sum scratch one vec4 short: the buffer, every chunk's binding and its count. */
export function partialsOneShortPlan(plan: SortPoolPlan): SortPoolPlan {
  return {
    ...plan,
    partialBytes: plan.partialBytes - 16,
    chunks: plan.chunks.map((chunk) => ({ ...chunk, partialBytes: Math.max(16, chunk.partialBytes - 16) })),
  };
}

/**
 * Planted bug for {@link limitsProperty}: the wgsl host with its partial-sum scratch planned one
 * element short (the size arithmetic of auxiliary buffers past the binding limit): the last work
 * item's partial sum is lost, so dLogits is silently wrong.
 */
export const partialsOneShort: WgslImplementation = createWgslImplementation({
  name: "partials-one-short",
  description: "the wgsl host with its dLogits partial-sum scratch planned one element short (input class: auxiliary " +
    "buffers past the binding limit)",
  mutatePlan: partialsOneShortPlan,
});
