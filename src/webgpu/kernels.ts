/**
 * The sort_pool2d kernels on one GPUDevice: pipelines compiled once and cached, the uniform
 * buffers that pass each call's shape (so a new shape never recompiles), the dispatch geometry
 * (2-D past maxComputeWorkgroupsPerDimension) and the split of a call whose buffers exceed the
 * device's storage-binding limit (src/webgpu/chunks.ts). Every buffer a kernel binds is sized and
 * checked against the limits when the call is planned, before any work is queued. Callers own the
 * data buffers; scratch (partial sums, staging) comes from a pool the caller passes; this class
 * only records passes.
 *
 * @module
 */
import { outputShape, sizeOf } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import type { BufferTracker } from "./buffers.ts";
import { type BindingLimits, type ByteRange, checkLimits, type ChunkGeometry, planChunks } from "./chunks.ts";
import type { KernelSources } from "./shaders.ts";

export type { BindingLimits, ByteRange };

/** Tuning and test knobs of a kernel set. */
export interface KernelOptions {
  /** Invocations per workgroup of the forward and backward kernels (a power of two). Default 64. */
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
   * Rewrites every plan before it is used. Negative controls only (props/limits.ts plants a
   * partial-sum buffer one element short this way); never set in production code.
   */
  readonly mutatePlan?: (plan: SortPoolPlan) => SortPoolPlan;
}

/** A source of scratch buffers (src/webgpu/buffers.ts BufferPool): at least `bytes` bytes with exactly `usage`. */
export interface ScratchBuffers {
  get(name: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer;
}

/** One chunk of a planned call: its geometry plus its kernel uniforms and workgroup grid. */
export interface SortPoolChunk extends ChunkGeometry {
  /** The forward/backward `Params` uniform of the chunk, 8 u32. */
  readonly params: Uint32Array<ArrayBuffer>;
  /** Workgroups of the chunk's dispatch, `[gx, gy]`. */
  readonly groups: readonly [number, number];
}

/** Default invocations per workgroup of the forward and backward kernels. */
export const DEFAULT_WORKGROUP_SIZE = 64;
/** Invocations of the single dLogits stage-2 workgroup. */
export const DLOGITS_WORKGROUP_SIZE = 256;

/** Everything a call of one shape needs: geometry, byte sizes and the packed uniforms. */
export interface SortPoolPlan {
  /** Input shape `[B, H, W, C]`. */
  readonly shape: Shape4;
  /** Output shape `[B, Ho, Wo, C]`. */
  readonly outShape: Shape4;
  /** Kept ranks, 1..4. */
  readonly k: number;
  /** Padding mode. */
  readonly padding: Padding;
  /** Whether the vec4 kernels run (C % 4 == 0). */
  readonly vec4: boolean;
  /** Channel groups (vec4s or floats) per invocation: 2 when their count per pixel is even, else 1. */
  readonly groupsPerInvocation: 1 | 2;
  /** Invocations doing work, over all chunks: output vec4s (or floats) / groupsPerInvocation. */
  readonly workItems: number;
  /** Workgroups of the first chunk's dispatch, `[gx, gy]` (the whole call's when it is one chunk). */
  readonly groups: readonly [number, number];
  /** Stage-1 partial sums written over all chunks (one per work item). */
  readonly partialCount: number;
  /** Bytes of x (and of dx). */
  readonly xBytes: number;
  /** Bytes of y (and of dy). */
  readonly yBytes: number;
  /** Bytes of the partial-sum scratch: the largest chunk's stage-1 partials (16 per work item). */
  readonly partialBytes: number;
  /** The first chunk's forward/backward `Params` uniform, 8 u32. */
  readonly params: Uint32Array<ArrayBuffer>;
  /**
   * The dLogits `Params` uniform, `[partial_count, k, 0, 0]`: the stage-1 work items for one
   * chunk, the number of chunk sums for a split call.
   */
  readonly dLogitsParams: Uint32Array<ArrayBuffer>;
  /** The limits every binding of this plan was checked against. */
  readonly limits: BindingLimits;
  /** The call's chunks in dispatch order (one when everything fits). */
  readonly chunks: readonly SortPoolChunk[];
  /** Byte ranges of dx no chunk writes, cleared to 0 by the backward pass. */
  readonly clears: readonly ByteRange[];
  /** Scratch bytes for staged x / dx ranges (0: nothing staged). */
  readonly stageXBytes: number;
  /** Scratch bytes for staged y / dy ranges (0: nothing staged). */
  readonly stageYBytes: number;
  /** Bytes of the per-chunk dLogits sums (0 for one chunk). */
  readonly chunkSumBytes: number;
}

/**
 * Where a call's rank weights come from (SPEC.md §5 "Weights"), one of:
 * - `logits`: a GPU buffer of k float32 logits; the weights kernel (sort_pool2d_weights.wgsl)
 *   evaluates softmax as its limit on the GPU (the `sortPool2d` op: its logits are a tensor);
 * - `weights`: k float32 weights computed on the host (src/spec.ts `float32Weights`: float64
 *   softmax rounded to float32), written with queue.writeBuffer (the registry entries, which
 *   receive logits as JS numbers).
 */
export type WeightsSource =
  | { readonly logits: GPUBuffer; readonly weights?: undefined }
  | { readonly weights: Float32Array; readonly logits?: undefined };

/** GPU buffers of a forward call (x and the weights source read; y written). */
export type ForwardBuffers = WeightsSource & {
  readonly x: GPUBuffer;
  readonly y: GPUBuffer;
};

/**
 * GPU buffers of a backward call (x, the weights source, dy read; dx, dLogits written; the
 * partial-sum scratch comes from the `ScratchBuffers` passed to `encodeBackward`).
 */
export type BackwardBuffers = WeightsSource & {
  readonly x: GPUBuffer;
  readonly dy: GPUBuffer;
  readonly dx: GPUBuffer;
  /** At least 16 bytes; receives k floats. */
  readonly dLogits: GPUBuffer;
};

type SourceName = keyof KernelSources;
type UniformName = "forward" | "backward" | "dLogits" | "partialSums";

/** Usage of staging scratch (read and written by kernels, copied to and from the data buffers). */
const STAGE = (): GPUBufferUsageFlags => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/**
 * Checks that `buffer` has `flags` (staged chunks copy inputs out and outputs in; cleared dx rows
 * need COPY_DST), so a caller's buffer missing one fails here, naming it, not as a validation error.
 */
function requireUsage(buffer: GPUBuffer, flags: GPUBufferUsageFlags, what: string): void {
  if ((buffer.usage & flags) !== flags) {
    throw new Error(
      `SortPoolKernels: ${what}: this plan copies it, so it needs usage ${flags}, received ${buffer.usage}`,
    );
  }
}

function scratchOf(scratch: ScratchBuffers | undefined): ScratchBuffers {
  if (!scratch) throw new Error("SortPoolKernels: this plan stages unaligned chunks and needs scratch buffers");
  return scratch;
}
type LayoutName = "forward" | "backward" | "dLogits" | "weights" | "partialSums";

const RO: GPUBufferBindingType = "read-only-storage";
const RW: GPUBufferBindingType = "storage";
const UNIFORM: GPUBufferBindingType = "uniform";

/** Binding types of each kernel, in binding order (they mirror the WGSL headers). */
const LAYOUTS: Record<LayoutName, GPUBufferBindingType[]> = {
  forward: [RO, UNIFORM, RW, UNIFORM],
  backward: [RO, UNIFORM, RO, RW, RW, UNIFORM],
  dLogits: [RO, UNIFORM, RW, UNIFORM],
  weights: [RO, RW, UNIFORM],
  partialSums: [RO, RW, UNIFORM],
};

function layoutOf(name: SourceName): LayoutName {
  return name.startsWith("forward") ? "forward" : name.startsWith("backward") ? "backward" : name as LayoutName;
}

/** Bytes rendered with a binary unit, e.g. "128 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

/**
 * Workgroup grid `[gx, gy]` for `count` workgroups when one dimension holds at most `maxPerDim`:
 * 1-D while it fits, else 2-D (the kernels linearise it). Throws when even 2-D cannot hold it.
 */
export function dispatchGrid(count: number, maxPerDim: number): [number, number] {
  if (count <= maxPerDim) return [Math.max(1, count), 1];
  const gy = Math.ceil(count / maxPerDim);
  if (gy > maxPerDim) {
    throw new RangeError(`dispatch of ${count} workgroups exceeds ${maxPerDim}² (maxComputeWorkgroupsPerDimension²)`);
  }
  return [maxPerDim, gy];
}

/**
 * The sort_pool2d kernels compiled for one device. Each `encode*` call writes its kernel's
 * uniform buffer with `queue.writeBuffer` and records a compute pass: submit the encoder before
 * encoding the same kernel again with another plan (every host in this project submits once per
 * operation). Forward, backward and dLogits have separate uniforms, so one encoder may hold one
 * of each.
 */
export class SortPoolKernels {
  readonly #device: GPUDevice;
  readonly #sources: KernelSources;
  readonly #tracker: BufferTracker;
  readonly #workgroupSize: number;
  readonly #maxPerDim: number;
  readonly #limits: BindingLimits;
  readonly #uniformStride: number;
  readonly #mutatePlan: ((plan: SortPoolPlan) => SortPoolPlan) | undefined;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #layouts = new Map<LayoutName, GPUBindGroupLayout>();
  readonly #uniforms = new Map<UniformName, GPUBuffer>();
  #weights: GPUBuffer | undefined;

  /** Kernels on `device` from `sources`; uniform buffers are created through `tracker`. */
  constructor(device: GPUDevice, sources: KernelSources, tracker: BufferTracker, options: KernelOptions = {}) {
    this.#device = device;
    this.#sources = sources;
    this.#tracker = tracker;
    const wg = options.workgroupSize ?? DEFAULT_WORKGROUP_SIZE;
    const maxWg = Math.min(device.limits.maxComputeInvocationsPerWorkgroup, device.limits.maxComputeWorkgroupSizeX);
    if (!Number.isSafeInteger(wg) || wg < 1 || (wg & (wg - 1)) !== 0 || wg > maxWg) {
      throw new RangeError(`workgroupSize: expected a power of two in 1..${maxWg}, received ${wg}`);
    }
    this.#workgroupSize = wg;
    this.#maxPerDim = options.maxWorkgroupsPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension;
    if (!Number.isSafeInteger(this.#maxPerDim) || this.#maxPerDim < 1) {
      throw new RangeError(`maxWorkgroupsPerDimension: expected a positive integer, received ${this.#maxPerDim}`);
    }
    this.#limits = this.#stricter(
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
    // Per-chunk uniforms live side by side in one buffer, at offsets the device accepts.
    this.#uniformStride = Math.max(32, device.limits.minUniformBufferOffsetAlignment);
    this.#mutatePlan = options.mutatePlan;
  }

  /** `base` with `override`'s limits applied; each may only be stricter (lower sizes, a larger power-of-two alignment). */
  #stricter(base: BindingLimits, override: Partial<BindingLimits> | undefined): BindingLimits {
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

  /** The limits plans are checked against (the device's, or stricter ones from the options). */
  get limits(): BindingLimits {
    return this.#limits;
  }

  /** The device the kernels run on. */
  get device(): GPUDevice {
    return this.#device;
  }

  /** Invocations per workgroup of the forward and backward kernels. */
  get workgroupSize(): number {
    return this.#workgroupSize;
  }

  /**
   * Geometry, uniforms and chunks for one shape: every buffer the kernels will bind (x, y, dy, dx
   * ranges, the partial sums, staging and chunk-sum scratch, uniforms) is sized here and fits
   * `limits` (these kernels' limits, made stricter by the per-call `limits`), so nothing is queued
   * for a call that could not run. Splits a call past the storage-binding limit along the batch,
   * then along rows (src/webgpu/chunks.ts); refuses, with a SortPoolArgumentError naming x, only
   * what cannot fit even then (a window row past the binding limit, x past maxBufferSize, a
   * dispatch past maxComputeWorkgroupsPerDimension²).
   */
  plan(shape: Shape4, k: number, padding: Padding, limits?: Partial<BindingLimits>): SortPoolPlan {
    const outShape = outputShape(shape, padding);
    const [, , w, c] = shape;
    const vec4 = c % 4 === 0;
    const lanes = vec4 ? 4 : 1;
    const xBytes = sizeOf(shape) * 4;
    const yBytes = sizeOf(outShape) * 4;
    const effective = limits ? this.#stricter(this.#limits, limits) : this.#limits;
    const groupsPerInvocation = (c / lanes) % 2 === 0 ? 2 : 1;
    const layout = planChunks({ shape, padding, lanes, groupsPerInvocation }, effective);
    const chunks: SortPoolChunk[] = layout.chunks.map((chunk) => {
      const groupsNeeded = Math.ceil(chunk.workItems / this.#workgroupSize);
      let groups: [number, number];
      try {
        groups = dispatchGrid(groupsNeeded, this.#maxPerDim);
      } catch (e) {
        throw new SortPoolArgumentError(
          "x",
          `a shape whose ${chunk.workItems} work items fit one dispatch`,
          (e as Error).message,
        );
      }
      const params = new Uint32Array([
        chunk.inRows,
        w,
        c / lanes,
        chunk.outRows,
        outShape[2],
        k,
        chunk.workItems,
        0,
      ]);
      return { ...chunk, params, groups };
    });
    const single = chunks.length === 1;
    const workItems = sizeOf(outShape) / lanes / groupsPerInvocation;
    const plan: SortPoolPlan = {
      shape,
      outShape,
      k,
      padding,
      vec4,
      groupsPerInvocation,
      workItems,
      groups: chunks[0].groups,
      partialCount: workItems,
      xBytes,
      yBytes,
      partialBytes: layout.partialBytes,
      params: chunks[0].params,
      dLogitsParams: new Uint32Array([single ? chunks[0].workItems : chunks.length, k, 0, 0]),
      limits: effective,
      chunks,
      clears: layout.clears,
      stageXBytes: layout.stageXBytes,
      stageYBytes: layout.stageYBytes,
      chunkSumBytes: layout.chunkSumBytes,
    };
    if (chunks.length * this.#uniformStride > effective.maxBufferSize) {
      throw new SortPoolArgumentError(
        "x",
        `a shape split into at most ${Math.floor(effective.maxBufferSize / this.#uniformStride)} chunks`,
        `${chunks.length} chunks`,
      );
    }
    return this.#mutatePlan ? this.#mutatePlan(plan) : plan;
  }

  /**
   * Compiles every pipeline asynchronously, so a shader error rejects with the compiler's
   * messages instead of surfacing later as a validation error.
   */
  async ready(): Promise<void> {
    const wanted: [SourceName, 1 | 2][] = [
      ["forward", 1],
      ["forward", 2],
      ["forwardVec4", 1],
      ["forwardVec4", 2],
      ["backward", 1],
      ["backward", 2],
      ["backwardVec4", 1],
      ["backwardVec4", 2],
      ["dLogits", 1],
      ["weights", 1],
      ["partialSums", 1],
    ];
    for (const [name, groups] of wanted) {
      const key = `${name}/${groups}`;
      if (this.#pipelines.has(key)) continue;
      // An error scope keeps a bad shader's validation error out of the device's uncaptured errors.
      this.#device.pushErrorScope("validation");
      const module = this.#device.createShaderModule({ label: `sortpool ${name}`, code: this.#sources[name] });
      const info = await module.getCompilationInfo();
      const scoped = await this.#device.popErrorScope();
      const errors = info.messages.filter((m) => m.type === "error");
      if (errors.length > 0 || scoped) {
        const messages = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
        throw new Error(`WGSL ${name}: compilation failed: ${messages.join("; ") || scoped?.message}`);
      }
      this.#device.pushErrorScope("validation");
      const pipeline = await this.#device.createComputePipelineAsync(this.#descriptor(name, groups, module))
        .finally(() => this.#device.popErrorScope());
      this.#pipelines.set(key, pipeline);
    }
  }

  #layout(kind: LayoutName): GPUBindGroupLayout {
    let layout = this.#layouts.get(kind);
    if (!layout) {
      layout = this.#device.createBindGroupLayout({
        label: `sortpool ${kind}`,
        entries: LAYOUTS[kind].map((type, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type },
        })),
      });
      this.#layouts.set(kind, layout);
    }
    return layout;
  }

  #descriptor(name: SourceName, groups: 1 | 2, module: GPUShaderModule): GPUComputePipelineDescriptor {
    const kind = layoutOf(name);
    const constants: Record<string, number> = {};
    if (kind === "forward" || kind === "backward") {
      constants.WORKGROUP_SIZE = this.#workgroupSize;
      constants.GROUPS_PER_INVOCATION = groups;
    } else if (kind === "dLogits" || kind === "partialSums") {
      constants.WORKGROUP_SIZE = DLOGITS_WORKGROUP_SIZE;
    }
    return {
      label: `sortpool ${name}`,
      layout: this.#device.createPipelineLayout({ bindGroupLayouts: [this.#layout(kind)] }),
      compute: { module, entryPoint: "main", constants },
    };
  }

  #pipeline(name: SourceName, groups: 1 | 2 = 1): GPUComputePipeline {
    const key = `${name}/${groups}`;
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      const module = this.#device.createShaderModule({ label: `sortpool ${name}`, code: this.#sources[name] });
      pipeline = this.#device.createComputePipeline(this.#descriptor(name, groups, module));
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** The uniform buffer of `which`, at least `bytes` long (grown to the next power of two when too small). */
  #uniform(which: UniformName, bytes = 32): GPUBuffer {
    const held = this.#uniforms.get(which);
    if (held && held.size >= bytes) return held;
    // Work already submitted keeps the old buffer alive until it completes (WebGPU destroy semantics).
    if (held) this.#tracker.destroy(held);
    const buffer = this.#tracker.create(this.#device, {
      label: `sortpool ${which} params`,
      size: Math.max(32, 2 ** Math.ceil(Math.log2(bytes))),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#uniforms.set(which, buffer);
    return buffer;
  }

  /** Writes one uniform block per chunk, `#uniformStride` bytes apart, into `uniform`. */
  #writeChunkUniforms(uniform: GPUBuffer, blocks: readonly Uint32Array[]): void {
    const stride = this.#uniformStride / 4;
    const packed = new Uint32Array(blocks.length * stride);
    blocks.forEach((block, i) => packed.set(block, i * stride));
    this.#device.queue.writeBuffer(uniform, 0, packed);
  }

  /** The rank weights: written by the weights kernel or the host, read as a uniform by the others. */
  #weightsBuffer(): GPUBuffer {
    return this.#weights ??= this.#tracker.create(this.#device, {
      label: "sortpool weights",
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /** A bind group of `kind`: binding i is `size` bytes of buffer i from `offset` (default 0). */
  #bind(kind: LayoutName, entries: (readonly [GPUBuffer, number, number?])[]): GPUBindGroup {
    return this.#device.createBindGroup({
      layout: this.#layout(kind),
      entries: entries.map(([buffer, size, offset], binding) => ({
        binding,
        resource: { buffer, offset: offset ?? 0, size },
      })),
    });
  }

  /**
   * Fills the weights uniform for `plan`: host weights are written now (queue order puts the
   * write before the submit of the encoder being recorded); logits record the weights kernel
   * into `pass`.
   */
  #encodeWeights(pass: GPUComputePassEncoder, plan: SortPoolPlan, source: WeightsSource, params: GPUBuffer): void {
    if (source.weights) {
      if (source.weights.length !== plan.k) {
        throw new RangeError(`weights: expected k = ${plan.k} floats, received ${source.weights.length}`);
      }
      const padded = new Float32Array(4);
      padded.set(source.weights);
      this.#device.queue.writeBuffer(this.#weightsBuffer(), 0, padded);
      return;
    }
    pass.setPipeline(this.#pipeline("weights"));
    pass.setBindGroup(
      0,
      this.#bind("weights", [[source.logits, plan.k * 4], [this.#weightsBuffer(), 16], [params, 32]]),
    );
    pass.dispatchWorkgroups(1);
  }

  /**
   * Records the forward pass of `plan` into `encoder`: weights, then the window kernel once per
   * chunk, each bound to its ranges of x and y (staged chunks through aligned scratch from
   * `scratch`, which only split calls with unaligned chunks need). With host weights
   * (`buffers.weights`) the weights uniform is written at once: submit this encoder before
   * encoding another call.
   */
  encodeForward(
    encoder: GPUCommandEncoder,
    plan: SortPoolPlan,
    buffers: ForwardBuffers,
    scratch?: ScratchBuffers,
  ): void {
    if (plan.stageXBytes > 0 || plan.stageYBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.y, GPUBufferUsage.COPY_DST, "y");
    }
    const stride = this.#uniformStride;
    const uniform = this.#uniform("forward", plan.chunks.length * stride);
    this.#writeChunkUniforms(uniform, plan.chunks.map((chunk) => chunk.params));
    const stageX = plan.stageXBytes > 0 ? scratchOf(scratch).get("stage x", plan.stageXBytes, STAGE()) : undefined;
    const stageY = plan.stageYBytes > 0 ? scratchOf(scratch).get("stage y", plan.stageYBytes, STAGE()) : undefined;
    const weights = this.#weightsBuffer();
    const pipeline = this.#pipeline(plan.vec4 ? "forwardVec4" : "forward", plan.groupsPerInvocation);
    let pass = encoder.beginComputePass({ label: "sortpool forward" });
    this.#encodeWeights(pass, plan, buffers, uniform);
    for (const chunk of plan.chunks) {
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(buffers.x, chunk.x.offset, stageX!, 0, chunk.x.size);
        pass = encoder.beginComputePass({ label: "sortpool forward (staged chunk)" });
      }
      const group = this.#bind("forward", [
        chunk.staged ? [stageX!, chunk.x.size] : [buffers.x, chunk.x.size, chunk.x.offset],
        [weights, 16],
        chunk.staged ? [stageY!, chunk.y.size] : [buffers.y, chunk.y.size, chunk.y.offset],
        [uniform, 32, chunk.index * stride],
      ]);
      // Dispatches in one pass are ordered: each sees what the previous one wrote.
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(chunk.groups[0], chunk.groups[1]);
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(stageY!, 0, buffers.y, chunk.y.offset, chunk.y.size);
        pass = encoder.beginComputePass({ label: "sortpool forward" });
      }
    }
    pass.end();
  }

  /**
   * Records the backward pass of `plan`: weights; per chunk, dx with dLogits stage 1 into the
   * partial-sum scratch and, for a split call, that chunk's partials summed into its slot of the
   * chunk sums (kernels/sort_pool2d_partial_sums.wgsl); the dx rows no chunk covers cleared; then
   * dLogits stage 2 over the partials (one chunk) or the chunk sums. Scratch comes from `scratch`.
   */
  encodeBackward(
    encoder: GPUCommandEncoder,
    plan: SortPoolPlan,
    buffers: BackwardBuffers,
    scratch: ScratchBuffers,
  ): void {
    if (plan.stageXBytes > 0 || plan.stageYBytes > 0) {
      requireUsage(buffers.x, GPUBufferUsage.COPY_SRC, "x");
      requireUsage(buffers.dy, GPUBufferUsage.COPY_SRC, "dy");
    }
    if (plan.stageXBytes > 0 || plan.clears.length > 0) requireUsage(buffers.dx, GPUBufferUsage.COPY_DST, "dx");
    const stride = this.#uniformStride;
    const split = plan.chunks.length > 1;
    const uniform = this.#uniform("backward", plan.chunks.length * stride);
    this.#writeChunkUniforms(uniform, plan.chunks.map((chunk) => chunk.params));
    const dLogitsUniform = this.#uniform("dLogits");
    this.#device.queue.writeBuffer(dLogitsUniform, 0, plan.dLogitsParams);
    const partials = scratch.get("partials", plan.partialBytes, GPUBufferUsage.STORAGE);
    let chunkSums: GPUBuffer | undefined;
    let sumsUniform: GPUBuffer | undefined;
    if (split) {
      chunkSums = scratch.get("chunk sums", plan.chunkSumBytes, GPUBufferUsage.STORAGE);
      sumsUniform = this.#uniform("partialSums", plan.chunks.length * stride);
      this.#writeChunkUniforms(
        sumsUniform,
        plan.chunks.map((chunk) => new Uint32Array([chunk.partialBytes / 16, chunk.index, 0, 0])),
      );
    }
    const stageX = plan.stageXBytes > 0 ? scratch.get("stage x", plan.stageXBytes, STAGE()) : undefined;
    const stageDx = plan.stageXBytes > 0 ? scratch.get("stage dx", plan.stageXBytes, STAGE()) : undefined;
    const stageDy = plan.stageYBytes > 0 ? scratch.get("stage y", plan.stageYBytes, STAGE()) : undefined;
    const weights = this.#weightsBuffer();
    const pipeline = this.#pipeline(plan.vec4 ? "backwardVec4" : "backward", plan.groupsPerInvocation);
    let pass = encoder.beginComputePass({ label: "sortpool backward" });
    this.#encodeWeights(pass, plan, buffers, uniform);
    for (const chunk of plan.chunks) {
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(buffers.x, chunk.x.offset, stageX!, 0, chunk.x.size);
        encoder.copyBufferToBuffer(buffers.dy, chunk.y.offset, stageDy!, 0, chunk.y.size);
        pass = encoder.beginComputePass({ label: "sortpool backward (staged chunk)" });
      }
      const group = this.#bind("backward", [
        chunk.staged ? [stageX!, chunk.x.size] : [buffers.x, chunk.x.size, chunk.x.offset],
        [weights, 16],
        chunk.staged ? [stageDy!, chunk.y.size] : [buffers.dy, chunk.y.size, chunk.y.offset],
        chunk.staged ? [stageDx!, chunk.x.size] : [buffers.dx, chunk.x.size, chunk.x.offset],
        [partials, chunk.partialBytes],
        [uniform, 32, chunk.index * stride],
      ]);
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(chunk.groups[0], chunk.groups[1]);
      if (split) {
        // The next chunk overwrites the partials: sum this chunk's first, in a fixed order.
        pass.setPipeline(this.#pipeline("partialSums"));
        pass.setBindGroup(
          0,
          this.#bind("partialSums", [
            [partials, chunk.partialBytes],
            [chunkSums!, plan.chunkSumBytes],
            [sumsUniform!, 16, chunk.index * stride],
          ]),
        );
        pass.dispatchWorkgroups(1);
      }
      if (chunk.staged) {
        pass.end();
        encoder.copyBufferToBuffer(stageDx!, 0, buffers.dx, chunk.x.offset, chunk.x.size);
        pass = encoder.beginComputePass({ label: "sortpool backward" });
      }
    }
    if (plan.clears.length > 0) {
      pass.end();
      for (const clear of plan.clears) encoder.clearBuffer(buffers.dx, clear.offset, clear.size);
      pass = encoder.beginComputePass({ label: "sortpool backward dLogits" });
    }
    const reduce = this.#bind("dLogits", [
      split ? [chunkSums!, plan.chunkSumBytes] : [partials, plan.chunks[0].partialBytes],
      [weights, 16],
      [buffers.dLogits, plan.k * 4],
      [dLogitsUniform, 16],
    ]);
    pass.setPipeline(this.#pipeline("dLogits"));
    pass.setBindGroup(0, reduce);
    pass.dispatchWorkgroups(1);
    pass.end();
  }

  /** Destroys the uniform buffers and forgets the pipelines. */
  destroy(): void {
    for (const b of [...this.#uniforms.values(), this.#weights]) {
      if (b) this.#tracker.destroy(b);
    }
    this.#uniforms.clear();
    this.#weights = undefined;
    this.#pipelines.clear();
    this.#layouts.clear();
  }
}
