/**
 * The sort_pool2d kernels on one GPUDevice: pipelines compiled once and cached, the uniform
 * buffers that pass each call's shape (so a new shape never recompiles), the dispatch geometry
 * (2-D past maxComputeWorkgroupsPerDimension) and the size checks against the device's
 * storage-binding limit. Callers own the data buffers; this class only records passes.
 *
 * @module
 */
import { outputShape, sizeOf } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import type { BufferTracker } from "./buffers.ts";
import type { KernelSources } from "./shaders.ts";

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
   * Tests lower it to exercise the refusal of oversized inputs.
   */
  readonly maxBindingBytes?: number;
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
  /** Invocations doing work: output vec4s (or floats) / groupsPerInvocation. */
  readonly workItems: number;
  /** Workgroups per dispatch, `[gx, gy]`. */
  readonly groups: readonly [number, number];
  /** Stage-1 partial sums written (one per work item). */
  readonly partialCount: number;
  /** Bytes of x (and of dx). */
  readonly xBytes: number;
  /** Bytes of y (and of dy). */
  readonly yBytes: number;
  /** Bytes of the stage-1 partial sums. */
  readonly partialBytes: number;
  /** The forward/backward `Params` uniform, 8 u32. */
  readonly params: Uint32Array<ArrayBuffer>;
  /** The dLogits `Params` uniform, `[partial_count, k, 0, 0]`. */
  readonly dLogitsParams: Uint32Array<ArrayBuffer>;
}

/** GPU buffers of a forward call (x, logits read; y written). */
export interface ForwardBuffers {
  readonly x: GPUBuffer;
  readonly logits: GPUBuffer;
  readonly y: GPUBuffer;
}

/** GPU buffers of a backward call (x, logits, dy read; dx, partials, dLogits written). */
export interface BackwardBuffers {
  readonly x: GPUBuffer;
  readonly logits: GPUBuffer;
  readonly dy: GPUBuffer;
  readonly dx: GPUBuffer;
  /** Scratch of at least `plan.partialBytes` bytes. */
  readonly partials: GPUBuffer;
  /** At least 16 bytes; receives k floats. */
  readonly dLogits: GPUBuffer;
}

type SourceName = keyof KernelSources;
type LayoutName = "forward" | "backward" | "dLogits" | "weights";

const RO: GPUBufferBindingType = "read-only-storage";
const RW: GPUBufferBindingType = "storage";
const UNIFORM: GPUBufferBindingType = "uniform";

/** Binding types of each kernel, in binding order (they mirror the WGSL headers). */
const LAYOUTS: Record<LayoutName, GPUBufferBindingType[]> = {
  forward: [RO, UNIFORM, RW, UNIFORM],
  backward: [RO, UNIFORM, RO, RW, RW, UNIFORM],
  dLogits: [RO, UNIFORM, RW, UNIFORM],
  weights: [RO, RW, UNIFORM],
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
  readonly #maxBinding: number;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #layouts = new Map<LayoutName, GPUBindGroupLayout>();
  #forwardUniform: GPUBuffer | undefined;
  #backwardUniform: GPUBuffer | undefined;
  #dLogitsUniform: GPUBuffer | undefined;
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
    this.#maxBinding = options.maxBindingBytes ?? device.limits.maxStorageBufferBindingSize;
    if (!Number.isSafeInteger(this.#maxPerDim) || this.#maxPerDim < 1) {
      throw new RangeError(`maxWorkgroupsPerDimension: expected a positive integer, received ${this.#maxPerDim}`);
    }
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
   * Geometry and uniforms for one shape. Refuses, with a SortPoolArgumentError naming x, an input
   * whose buffers exceed the storage-binding limit (no chunking: see the module docs of
   * `wgsl.ts`).
   */
  plan(shape: Shape4, k: number, padding: Padding): SortPoolPlan {
    const outShape = outputShape(shape, padding);
    const [, h, w, c] = shape;
    const vec4 = c % 4 === 0;
    const lanes = vec4 ? 4 : 1;
    const xBytes = sizeOf(shape) * 4;
    const yBytes = sizeOf(outShape) * 4;
    if (xBytes > this.#maxBinding) {
      throw new SortPoolArgumentError(
        "x",
        `at most ${this.#maxBinding} bytes (${formatBytes(this.#maxBinding)}, the WebGPU device's ` +
          `maxStorageBufferBindingSize) of float32 for the wgsl kernels, which bind x whole`,
        `shape [${shape.join(", ")}] = ${xBytes} bytes (${formatBytes(xBytes)})`,
      );
    }
    const groupsPerInvocation = (c / lanes) % 2 === 0 ? 2 : 1;
    const workItems = sizeOf(outShape) / lanes / groupsPerInvocation;
    const groupsNeeded = Math.ceil(workItems / this.#workgroupSize);
    let groups: [number, number];
    try {
      groups = dispatchGrid(groupsNeeded, this.#maxPerDim);
    } catch (e) {
      throw new SortPoolArgumentError(
        "x",
        `a shape whose ${workItems} work items fit one dispatch`,
        (e as Error).message,
      );
    }
    const partialCount = workItems;
    const params = new Uint32Array([h, w, c / lanes, outShape[1], outShape[2], k, workItems, 0]);
    const dLogitsParams = new Uint32Array([partialCount, k, 0, 0]);
    return {
      shape,
      outShape,
      k,
      padding,
      vec4,
      groupsPerInvocation,
      workItems,
      groups,
      partialCount,
      xBytes,
      yBytes,
      partialBytes: partialCount * 16,
      params,
      dLogitsParams,
    };
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
    } else if (kind === "dLogits") {
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

  #uniform(which: "forward" | "backward" | "dLogits"): GPUBuffer {
    const make = () =>
      this.#tracker.create(this.#device, {
        label: `sortpool ${which} params`,
        size: 32,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
    if (which === "forward") return this.#forwardUniform ??= make();
    if (which === "backward") return this.#backwardUniform ??= make();
    return this.#dLogitsUniform ??= make();
  }

  /** softmax(logits): written by the weights kernel, read as a uniform by the others. */
  #weightsBuffer(): GPUBuffer {
    return this.#weights ??= this.#tracker.create(this.#device, {
      label: "sortpool weights",
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM,
    });
  }

  #bind(kind: LayoutName, entries: (readonly [GPUBuffer, number])[]): GPUBindGroup {
    return this.#device.createBindGroup({
      layout: this.#layout(kind),
      entries: entries.map(([buffer, size], binding) => ({ binding, resource: { buffer, offset: 0, size } })),
    });
  }

  /** Records the weights kernel (softmax of `logits` into the weights uniform) into `pass`. */
  #encodeWeights(pass: GPUComputePassEncoder, plan: SortPoolPlan, logits: GPUBuffer, params: GPUBuffer): void {
    pass.setPipeline(this.#pipeline("weights"));
    pass.setBindGroup(0, this.#bind("weights", [[logits, plan.k * 4], [this.#weightsBuffer(), 16], [params, 32]]));
    pass.dispatchWorkgroups(1);
  }

  /** Records the forward pass of `plan` (weights, then the window kernel) into `encoder`. */
  encodeForward(encoder: GPUCommandEncoder, plan: SortPoolPlan, buffers: ForwardBuffers): void {
    const uniform = this.#uniform("forward");
    this.#device.queue.writeBuffer(uniform, 0, plan.params);
    const group = this.#bind("forward", [
      [buffers.x, plan.xBytes],
      [this.#weightsBuffer(), 16],
      [buffers.y, plan.yBytes],
      [uniform, 32],
    ]);
    const pass = encoder.beginComputePass({ label: "sortpool forward" });
    this.#encodeWeights(pass, plan, buffers.logits, uniform);
    // Dispatches in one pass are ordered: each sees what the previous one wrote.
    pass.setPipeline(this.#pipeline(plan.vec4 ? "forwardVec4" : "forward", plan.groupsPerInvocation));
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(plan.groups[0], plan.groups[1]);
    pass.end();
  }

  /** Records the backward pass of `plan`: weights, dx with dLogits stage 1, dLogits stage 2. */
  encodeBackward(encoder: GPUCommandEncoder, plan: SortPoolPlan, buffers: BackwardBuffers): void {
    const uniform = this.#uniform("backward");
    const dLogitsUniform = this.#uniform("dLogits");
    this.#device.queue.writeBuffer(uniform, 0, plan.params);
    this.#device.queue.writeBuffer(dLogitsUniform, 0, plan.dLogitsParams);
    const weights = this.#weightsBuffer();
    const backward = this.#bind("backward", [
      [buffers.x, plan.xBytes],
      [weights, 16],
      [buffers.dy, plan.yBytes],
      [buffers.dx, plan.xBytes],
      [buffers.partials, plan.partialBytes],
      [uniform, 32],
    ]);
    const reduce = this.#bind("dLogits", [
      [buffers.partials, plan.partialBytes],
      [weights, 16],
      [buffers.dLogits, plan.k * 4],
      [dLogitsUniform, 16],
    ]);
    const pass = encoder.beginComputePass({ label: "sortpool backward" });
    this.#encodeWeights(pass, plan, buffers.logits, uniform);
    pass.setPipeline(this.#pipeline(plan.vec4 ? "backwardVec4" : "backward", plan.groupsPerInvocation));
    pass.setBindGroup(0, backward);
    pass.dispatchWorkgroups(plan.groups[0], plan.groups[1]);
    pass.setPipeline(this.#pipeline("dLogits"));
    pass.setBindGroup(0, reduce);
    pass.dispatchWorkgroups(1);
    pass.end();
  }

  /** Destroys the uniform buffers and forgets the pipelines. */
  destroy(): void {
    for (const b of [this.#forwardUniform, this.#backwardUniform, this.#dLogitsUniform, this.#weights]) {
      if (b) this.#tracker.destroy(b);
    }
    this.#forwardUniform =
      this.#backwardUniform =
      this.#dLogitsUniform =
      this.#weights =
        undefined;
    this.#pipelines.clear();
    this.#layouts.clear();
  }
}
