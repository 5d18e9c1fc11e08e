/**
 * The sort_pool2d kernels on one GPUDevice: `plan` sizes a call (every buffer a kernel binds is
 * checked against the limits before any work is queued; a call past the storage-binding limit is
 * split, src/webgpu/chunks.ts), `encodeForward` / `encodeBackward` record it. Two kernel families
 * (SPEC.md §2) plan and encode their own calls: the article's 2x2 windows with stride 2 and
 * shared logits (src/webgpu/pool2x2.ts), everything else (src/webgpu/general_windows.ts). Both
 * run their kernel programs (src/webgpu/programs/) through one runner (src/webgpu/runner.ts):
 * pipelines compiled once and cached, the uniform buffers that pass each call's shape (so a new
 * shape never recompiles), the dispatch geometry (2-D past maxComputeWorkgroupsPerDimension).
 * Callers own the data buffers; scratch (partial sums, staging, kept-cell records) comes from a
 * pool the caller passes; this class only records passes.
 *
 * @module
 */
import { isDefaultWindow, isPerChannel, poolGeometry } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import type { BufferTracker } from "./buffers.ts";
import { type BindingLimits, checkLimits, checkLoopBudget } from "./chunks.ts";
import { GENERAL_SEGMENT, generalImageBytes, GeneralWindowKernels } from "./general_windows.ts";
import type { BackwardBuffers, ForwardBuffers, PlanWindow, ScratchBuffers, SortPoolPlan } from "./plan.ts";
import { Pool2x2Kernels } from "./pool2x2.ts";
import { type AnyProgram, type ShaderKey, shaderOf } from "./program.ts";
import { PROGRAMS } from "./programs/mod.ts";
import { ProgramRunner } from "./runner.ts";
import type { KernelSources } from "./shaders.ts";

// Callers take the plan, limit and buffer types from here, with the kernels they describe.
export { GENERAL_SEGMENT, generalImageBytes };
export type { BindingLimits, ByteRange } from "./chunks.ts";
export type {
  BackwardBuffers,
  ForwardBuffers,
  GeneralWindowChunk,
  GeneralWindowPlan,
  PlanWindow,
  Pool2x2Chunk,
  Pool2x2Plan,
  ScratchBuffers,
  SortPoolChunk,
  SortPoolPlan,
  WeightsSource,
} from "./plan.ts";

/** Default invocations per workgroup of the backward and general window kernels. */
export const DEFAULT_WORKGROUP_SIZE = 64;

/**
 * Default invocations per workgroup of the 2x2 forward kernels (capped at the device's limit):
 * CPU adapters (llvmpipe, lavapipe) pay a fixed cost per workgroup, which at 64 cost the forward
 * several points of copy bandwidth (bench/bandwidth.ts) against 256.
 */
export const DEFAULT_FORWARD_WORKGROUP_SIZE = 256;

/** Plans a kernel set keeps for repeated calls (then it starts over). */
const RECENT_PLANS = 32;

/** Tuning and test knobs of a kernel set. */
export interface KernelOptions {
  /**
   * Invocations per workgroup of the forward and backward kernels (a power of two). Default
   * {@link DEFAULT_WORKGROUP_SIZE} for the backward and general kernels and
   * {@link DEFAULT_FORWARD_WORKGROUP_SIZE} (at most the device's limit) for the 2x2 forward
   * kernels; when set, every kernel uses it.
   */
  readonly workgroupSize?: number;
  /**
   * Largest workgroup count per dispatch dimension; defaults to the device's
   * maxComputeWorkgroupsPerDimension. Tests lower it to exercise the 2-D dispatch.
   */
  readonly maxWorkgroupsPerDimension?: number;
  /**
   * Largest storage binding in bytes; defaults to the device's maxStorageBufferBindingSize.
   * Tests lower it (WebGPU cannot lower a device's limit below the default) to exercise the split
   * of oversized calls cheaply. Same as `limits.maxStorageBufferBindingSize`.
   */
  readonly maxBindingBytes?: number;
  /**
   * Stricter limits than the device's, for tests and the property checks: a lower
   * maxStorageBufferBindingSize or maxBufferSize, a larger (power-of-two multiple)
   * minStorageBufferOffsetAlignment. `plan` also takes them per call.
   */
  readonly limits?: Partial<BindingLimits>;
  /**
   * Loop iterations one kernel invocation may run in total (src/webgpu/chunks.ts
   * LOOP_ITERATION_BUDGET, the default and the most; at least MIN_LOOP_BUDGET). Tests lower it to
   * exercise cheaply the split of dLogits sums into blocks that large calls need.
   */
  readonly loopBudget?: number;
  /**
   * Rewrites every plan before it is used. Negative controls only (props/properties/limits.ts plants a
   * partial-sum buffer one element short this way); never set in production code.
   */
  readonly mutatePlan?: (plan: SortPoolPlan) => SortPoolPlan;
}

/**
 * One pipeline a {@link SortPoolKernels} can create: a program, one of its variants and the
 * shader that variant runs. {@link SortPoolKernels.pipelineDescriptor} turns it into the
 * descriptor the pipeline cache would use.
 */
export interface PipelineVariant {
  readonly program: AnyProgram;
  readonly variant: unknown;
  /** The kernel source (its file in `kernels/`: src/webgpu/shaders.ts KERNEL_FILES). */
  readonly source: ShaderKey;
}

/** `base` with `override`'s limits applied; each may only be stricter (lower sizes, a larger power-of-two alignment). */
function stricter(base: BindingLimits, override: Partial<BindingLimits> | undefined): BindingLimits {
  const out = { ...base };
  for (const key of ["maxStorageBufferBindingSize", "maxBufferSize"] as const) {
    const v = override?.[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 16 || v > base[key]) {
      throw new RangeError(`limits.${key}: expected an integer in 16..${base[key]} (the device's), received ${v}`);
    }
    out[key] = v;
  }
  const a = override?.minStorageBufferOffsetAlignment;
  if (a !== undefined) {
    if (!Number.isSafeInteger(a) || (a & (a - 1)) !== 0 || a < base.minStorageBufferOffsetAlignment) {
      throw new RangeError(
        `limits.minStorageBufferOffsetAlignment: expected a power of two >= ${base.minStorageBufferOffsetAlignment} ` +
          `(the device's), received ${a}`,
      );
    }
    out.minStorageBufferOffsetAlignment = a;
  }
  return checkLimits(out);
}

/**
 * The sort_pool2d kernels compiled for one device. Each `encode*` call writes its kernels'
 * uniform buffers with `queue.writeBuffer` and records compute passes: submit the encoder before
 * encoding the same pass again with another plan (every host in this project submits once per
 * operation). Forward, backward and dLogits have separate uniforms, so one encoder may hold one
 * of each.
 */
export class SortPoolKernels {
  readonly #runner: ProgramRunner;
  readonly #pool2x2: Pool2x2Kernels;
  readonly #general: GeneralWindowKernels;
  readonly #limits: BindingLimits;
  readonly #mutatePlan: ((plan: SortPoolPlan) => SortPoolPlan) | undefined;
  readonly #loopBudget: number;
  /**
   * Recent plans by their arguments: a repeated call (the tfjs op plans every call) gets the same
   * plan, so its chunks' forward bind groups are reused. Plans are never modified after creation.
   */
  readonly #recentPlans = new Map<string, SortPoolPlan>();

  /** Kernels on `device` from `sources`; uniform buffers are created through `tracker`. */
  constructor(device: GPUDevice, sources: KernelSources, tracker: BufferTracker, options: KernelOptions = {}) {
    const wg = options.workgroupSize ?? DEFAULT_WORKGROUP_SIZE;
    const maxWg = Math.min(device.limits.maxComputeInvocationsPerWorkgroup, device.limits.maxComputeWorkgroupSizeX);
    if (!Number.isSafeInteger(wg) || wg < 1 || (wg & (wg - 1)) !== 0 || wg > maxWg) {
      throw new RangeError(`workgroupSize: expected a power of two in 1..${maxWg}, received ${wg}`);
    }
    const maxPerDim = options.maxWorkgroupsPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension;
    if (!Number.isSafeInteger(maxPerDim) || maxPerDim < 1) {
      throw new RangeError(`maxWorkgroupsPerDimension: expected a positive integer, received ${maxPerDim}`);
    }
    this.#limits = stricter(
      {
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        minStorageBufferOffsetAlignment: device.limits.minStorageBufferOffsetAlignment,
        maxBufferSize: device.limits.maxBufferSize,
      },
      {
        ...options.limits,
        ...(options.maxBindingBytes === undefined ? {} : { maxStorageBufferBindingSize: options.maxBindingBytes }),
      },
    );
    const sizes = {
      workgroupSize: wg,
      forwardWorkgroupSize: options.workgroupSize ?? Math.min(DEFAULT_FORWARD_WORKGROUP_SIZE, maxWg),
    };
    this.#runner = new ProgramRunner(device, sources, tracker, sizes, maxPerDim);
    this.#pool2x2 = new Pool2x2Kernels(this.#runner, tracker);
    this.#general = new GeneralWindowKernels(this.#runner, tracker);
    this.#mutatePlan = options.mutatePlan;
    this.#loopBudget = checkLoopBudget(options.loopBudget);
  }

  /** The limits plans are checked against (the device's, or stricter ones from the options). */
  get limits(): BindingLimits {
    return this.#limits;
  }

  /** The device the kernels run on. */
  get device(): GPUDevice {
    return this.#runner.device;
  }

  /** Invocations per workgroup of the backward and general window kernels. */
  get workgroupSize(): number {
    return this.#runner.sizes.workgroupSize;
  }

  /**
   * Geometry, uniforms and chunks for one shape: every buffer the kernels will bind (x, y, dy, dx
   * ranges, the partial sums, staging and chunk-sum scratch, uniforms) is sized here and fits
   * `limits` (these kernels' limits, made stricter by the per-call `limits`), so nothing is queued
   * for a call that could not run.
   *
   * 2x2 windows with stride 2 and shared logits (the article's layer) plan a {@link Pool2x2Plan}:
   * a call past the storage-binding limit is split along the batch, then along rows. Any other
   * window or stride, or per-channel logits (`window`), plans a {@link GeneralWindowPlan}, split
   * along the batch only. Refuses, with a SortPoolArgumentError naming x, only what cannot fit
   * even then (a window row, or for the general kernels one image, past the binding limit; x past
   * maxBufferSize; a dispatch past maxComputeWorkgroupsPerDimension²).
   *
   * @param window poolSize, strides and the logits' length (k or C·k) of a validated case
   *   (src/validate.ts); absent fields are 2x2, stride 2, shared.
   */
  plan(
    shape: Shape4,
    k: number,
    padding: Padding,
    limits?: Partial<BindingLimits>,
    window: PlanWindow = {},
  ): SortPoolPlan {
    const cacheKey = this.#mutatePlan ? undefined : JSON.stringify([shape, k, padding, limits ?? null, window]);
    const recent = cacheKey === undefined ? undefined : this.#recentPlans.get(cacheKey);
    if (recent) return recent;
    const effective = limits ? stricter(this.#limits, limits) : this.#limits;
    const geometry = poolGeometry(shape, padding, window);
    const logitsLength = window.logitsLength ?? k;
    if (logitsLength !== k && logitsLength !== k * shape[3]) {
      throw new RangeError(`logitsLength: expected k = ${k} or C·k = ${k * shape[3]}, received ${logitsLength}`);
    }
    const plan = isDefaultWindow(geometry) && !isPerChannel(logitsLength, k, shape[3])
      ? this.#pool2x2.plan(shape, k, padding, effective, this.#loopBudget)
      : this.#general.plan(shape, k, padding, effective, geometry, logitsLength, this.#loopBudget);
    // Every chunk's (and sum block's) uniform blocks share one buffer per kernel (the general dLogits one more).
    const slot = plan.family === "2x2" ? this.#pool2x2.slotBytes : this.#general.slotBytes;
    const blocks = Math.max(plan.chunks.length, plan.sumBlockCount) + (plan.family === "general" ? 1 : 0);
    if (blocks * slot > effective.maxBufferSize) {
      throw new SortPoolArgumentError(
        "x",
        `a shape split into at most ${Math.floor(effective.maxBufferSize / slot)} chunks`,
        `${plan.chunks.length} chunks`,
      );
    }
    if (cacheKey === undefined) return this.#mutatePlan ? this.#mutatePlan(plan) : plan;
    if (this.#recentPlans.size >= RECENT_PLANS) this.#recentPlans.clear();
    this.#recentPlans.set(cacheKey, plan);
    return plan;
  }

  /**
   * Compiles every pipeline with few variants and every shader of the specialised ones
   * asynchronously, so a shader error rejects with the compiler's messages instead of surfacing
   * later as a validation error.
   */
  async ready(): Promise<void> {
    await this.#runner.ready(PROGRAMS);
  }

  /**
   * Every pipeline this kernel set can create for any valid call: per program, every variant its
   * planner can choose (2x2 forward: lanes, channel groups per invocation, k, window and
   * item-count flags; 2x2 backward: lanes and channel groups; general window kernels: lanes,
   * every window and k; the others: their one pipeline). Nothing is created; the compile matrix
   * (src/webgpu/compile_matrix.test.ts) creates each.
   */
  pipelineVariants(): PipelineVariant[] {
    return PROGRAMS.flatMap((program) =>
      program.variants().map((variant) => ({ program, variant, source: shaderOf(program, variant) }))
    );
  }

  /**
   * The descriptor the pipeline cache creates `variant` with (label, layout, entry point, override
   * constants), on `module` (default: this set's module of the variant's source).
   */
  pipelineDescriptor(variant: PipelineVariant, module?: GPUShaderModule): GPUComputePipelineDescriptor {
    return this.#runner.descriptor(variant.program, variant.variant, module);
  }

  /**
   * Records the forward pass of `plan` into `encoder`: weights, then the window kernel once per
   * chunk, each bound to its ranges of x and y (staged chunks through aligned scratch from
   * `scratch`, which only split calls with unaligned chunks need). With host weights
   * (`buffers.weights`) the weights are written at once: submit this encoder before encoding
   * another call.
   */
  encodeForward(
    encoder: GPUCommandEncoder,
    plan: SortPoolPlan,
    buffers: ForwardBuffers,
    scratch?: ScratchBuffers,
  ): void {
    if (plan.family === "2x2") this.#pool2x2.encodeForward(encoder, plan, buffers, scratch);
    else this.#general.encodeForward(encoder, plan, buffers, scratch);
  }

  /**
   * Records the backward pass of `plan`: dx and dLogits (see Pool2x2Kernels and
   * GeneralWindowKernels `encodeBackward`). Scratch comes from `scratch`.
   */
  encodeBackward(
    encoder: GPUCommandEncoder,
    plan: SortPoolPlan,
    buffers: BackwardBuffers,
    scratch: ScratchBuffers,
  ): void {
    if (plan.family === "2x2") this.#pool2x2.encodeBackward(encoder, plan, buffers, scratch);
    else this.#general.encodeBackward(encoder, plan, buffers, scratch);
  }

  /** Destroys the uniform and weights buffers and forgets the pipelines. */
  destroy(): void {
    this.#runner.destroy();
    this.#pool2x2.destroy();
    this.#general.destroy();
  }
}
