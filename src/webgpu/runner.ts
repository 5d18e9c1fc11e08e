/**
 * The one runner of kernel programs (src/webgpu/program.ts) on a GPUDevice: shader modules and
 * pipelines compiled once and cached (by shader and constants), bind-group layouts from each
 * program's bindings, one `Params` uniform buffer per program (its blocks written by field
 * name, one per chunk at a fixed slot), bind groups bound by binding name (and, where a caller
 * asks, reused while they bind the same buffers), and the dispatch itself. GPU error scopes come
 * from src/webgpu/device.ts. Callers (the 2x2 and general families) own the data buffers.
 *
 * @module
 */
import type { BufferTracker } from "./buffers.ts";
import { openGpuErrorScopes, withGpuErrorScopes } from "./device.ts";
import {
  type AnyProgram,
  type BindingOf,
  type BoundBuffer,
  type Grid,
  gridOf,
  layoutEntries,
  paramsBytes,
  pipelineConstants,
  pipelineKey,
  type ShaderKey,
  shaderOf,
  shadersOf,
  type VariantOf,
  type WorkgroupSizes,
} from "./program.ts";

/** The uniform blocks of one program written for a call: block i is bound at `at(i)`. */
export interface ParamsBlocks {
  /** The binding of block `i` (the program's Params size, at `i` slots). */
  at(i: number): BoundBuffer;
}

/** A bind group a caller keeps for reuse, with what it binds. */
interface HeldGroup {
  readonly bound: readonly BoundBuffer[];
  readonly group: GPUBindGroup;
}

/** Whether two binding lists bind the same buffers at the same ranges. */
function sameBindings(a: readonly BoundBuffer[], b: readonly BoundBuffer[]): boolean {
  return a.length === b.length &&
    a.every((r, i) => r.buffer === b[i].buffer && r.size === b[i].size && (r.offset ?? 0) === (b[i].offset ?? 0));
}

/**
 * Runs kernel programs on one device from one set of kernel sources, keyed by `S` (the
 * sort_pool2d kernels' {@link ShaderKey}s unless a caller brings sources of its own, such as the
 * benchmarks' copy kernels).
 */
export class ProgramRunner<S extends string = ShaderKey> {
  readonly #device: GPUDevice;
  readonly #sources: Readonly<Record<S, string>>;
  readonly #tracker: BufferTracker;
  readonly #sizes: WorkgroupSizes;
  readonly #maxPerDim: number;
  readonly #modules = new Map<S, GPUShaderModule>();
  readonly #layouts = new Map<AnyProgram<S>, GPUBindGroupLayout>();
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #uniforms = new Map<AnyProgram<S>, GPUBuffer>();
  /** Per uniform buffer, the words last written with `reuse` (a repeated write is skipped). */
  readonly #written = new WeakMap<GPUBuffer, Uint32Array>();
  /** Per program, per owner object (a plan's chunk, a logits buffer), its last bind group. */
  readonly #held = new Map<AnyProgram<S>, WeakMap<object, HeldGroup>>();

  /** A runner on `device`; uniform buffers are created through `tracker`. */
  constructor(
    device: GPUDevice,
    sources: Readonly<Record<S, string>>,
    tracker: BufferTracker,
    sizes: WorkgroupSizes,
    maxWorkgroupsPerDimension: number,
  ) {
    this.#device = device;
    this.#sources = sources;
    this.#tracker = tracker;
    this.#sizes = sizes;
    this.#maxPerDim = maxWorkgroupsPerDimension;
  }

  /** The device the programs run on. */
  get device(): GPUDevice {
    return this.#device;
  }

  /** The workgroup sizes of this kernel set. */
  get sizes(): WorkgroupSizes {
    return this.#sizes;
  }

  /** The grid of a dispatch of `program` over `work` (throws a RangeError past the device's 2-D limit). */
  grid(program: AnyProgram<S>, work: number): Grid {
    return gridOf(program, work, this.#sizes, this.#maxPerDim);
  }

  /**
   * Bytes between the per-chunk uniform blocks of a family of programs: its largest `Params`
   * block, at an offset the device accepts.
   */
  slotBytes(programs: readonly AnyProgram<S>[]): number {
    const largest = Math.max(...programs.map(paramsBytes));
    return Math.max(largest, this.#device.limits.minUniformBufferOffsetAlignment);
  }

  /** The shader module of `source`, created once (unchecked: `ready` checks them ahead). */
  #module(source: S): GPUShaderModule {
    let module = this.#modules.get(source);
    if (!module) {
      module = this.#device.createShaderModule({ label: `sortpool ${source}`, code: this.#sources[source] });
      this.#modules.set(source, module);
    }
    return module;
  }

  /** The shader module of `source`, compiled once; rejects with the compiler's messages. */
  async #checkedModule(source: S): Promise<GPUShaderModule> {
    const held = this.#modules.get(source);
    if (held) return held;
    // The scope keeps a bad shader's validation error out of the device's uncaptured errors.
    const scopes = openGpuErrorScopes(this.#device, `WGSL ${source}`, ["validation"]);
    const module = this.#device.createShaderModule({ label: `sortpool ${source}`, code: this.#sources[source] });
    const info = await module.getCompilationInfo();
    const scoped = await scopes.close();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || scoped) {
      const messages = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
      throw new Error(`WGSL ${source}: compilation failed: ${messages.join("; ") || scoped?.gpuMessage}`);
    }
    this.#modules.set(source, module);
    return module;
  }

  /** The bind-group layout of `program`, from its bindings. */
  #layout(program: AnyProgram<S>): GPUBindGroupLayout {
    let layout = this.#layouts.get(program);
    if (!layout) {
      layout = this.#device.createBindGroupLayout({
        label: `sortpool ${program.name}`,
        entries: layoutEntries(program),
      });
      this.#layouts.set(program, layout);
    }
    return layout;
  }

  /**
   * The descriptor `variant` of `program` is created with (label, layout, entry point `main`,
   * override constants), on `module` (default: this runner's module of its shader).
   */
  descriptor<P extends AnyProgram<S>>(
    program: P,
    variant: VariantOf<P>,
    module?: GPUShaderModule,
  ): GPUComputePipelineDescriptor {
    const source = shaderOf(program, variant);
    return {
      label: `sortpool ${source}`,
      layout: this.#device.createPipelineLayout({ bindGroupLayouts: [this.#layout(program)] }),
      compute: {
        module: module ?? this.#module(source),
        entryPoint: "main",
        constants: pipelineConstants(program, variant, this.#sizes),
      },
    };
  }

  /** The pipeline of `variant` of `program`, created (synchronously) on first use. */
  pipeline<P extends AnyProgram<S>>(program: P, variant: VariantOf<P>): GPUComputePipeline {
    const key = pipelineKey(shaderOf(program, variant), pipelineConstants(program, variant, this.#sizes));
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      pipeline = this.#device.createComputePipeline(this.descriptor(program, variant));
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * Compiles `programs` ahead, so a shader error rejects with the compiler's messages instead of
   * surfacing later as a validation error: every pipeline of the "pipelines" programs
   * (asynchronously), then the shaders of the "modules" ones (specialised on first use).
   */
  async ready(programs: readonly AnyProgram<S>[]): Promise<void> {
    for (const program of programs) {
      if (program.precompile !== "pipelines") continue;
      for (const variant of program.variants()) {
        const source = shaderOf(program, variant);
        const key = pipelineKey(source, pipelineConstants(program, variant, this.#sizes));
        if (this.#pipelines.has(key)) continue;
        const module = await this.#checkedModule(source);
        const pipeline = await withGpuErrorScopes(
          this.#device,
          `sortpool ${source} pipeline`,
          () => this.#device.createComputePipelineAsync(this.descriptor(program, variant, module)),
        );
        this.#pipelines.set(key, pipeline);
      }
    }
    for (const program of programs) {
      if (program.precompile !== "modules") continue;
      for (const source of shadersOf(program)) await this.#checkedModule(source);
    }
  }

  /** The uniform buffer of `program`, at least `bytes` long (grown to the next power of two when too small). */
  #uniform(program: AnyProgram<S>, bytes: number): GPUBuffer {
    const held = this.#uniforms.get(program);
    if (held && held.size >= bytes) return held;
    // Work already submitted keeps the old buffer alive until it completes (WebGPU destroy semantics).
    if (held) this.#tracker.destroy(held);
    const buffer = this.#tracker.create(this.#device, {
      label: `sortpool ${program.name} params`,
      size: Math.max(32, 2 ** Math.ceil(Math.log2(bytes))),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#uniforms.set(program, buffer);
    return buffer;
  }

  /**
   * Writes `words` at the start of `buffer` (queue order puts the write before the submit of the
   * encoder being recorded). With `reuse`, a write of exactly the words this runner last wrote
   * there with `reuse` is skipped: the buffer still holds them, since only this runner writes it
   * and every earlier write precedes this call's submit.
   */
  #write(buffer: GPUBuffer, words: Uint32Array<ArrayBuffer>, reuse: boolean): void {
    if (reuse) {
      const last = this.#written.get(buffer);
      if (last && last.length === words.length && last.every((v, i) => v === words[i])) return;
      this.#written.set(buffer, words);
    }
    this.#device.queue.writeBuffer(buffer, 0, words);
  }

  /** Writes one `Params` block of `program` (a program dispatched once per call); returns its binding. */
  writeParams(program: AnyProgram<S>, block: Uint32Array<ArrayBuffer>, reuse = false): BoundBuffer {
    const bytes = paramsBytes(program);
    const buffer = this.#uniform(program, bytes);
    this.#write(buffer, block, reuse);
    return { buffer, size: bytes };
  }

  /** Writes one `Params` block of `program` per chunk, `slotBytes` apart, into its uniform buffer. */
  writeChunkParams(
    program: AnyProgram<S>,
    blocks: readonly Uint32Array[],
    slotBytes: number,
    reuse = false,
  ): ParamsBlocks {
    const buffer = this.#uniform(program, blocks.length * slotBytes);
    const slot = slotBytes / 4;
    const packed = new Uint32Array(blocks.length * slot);
    blocks.forEach((block, i) => packed.set(block, i * slot));
    this.#write(buffer, packed, reuse);
    const size = paramsBytes(program);
    return { at: (i) => ({ buffer, size, offset: i * slotBytes }) };
  }

  /** A bind group of `program`: each binding from `resources` by name. */
  bind<P extends AnyProgram<S>>(program: P, resources: Readonly<Record<BindingOf<P>, BoundBuffer>>): GPUBindGroup {
    return this.#create(program, this.#ordered(program, resources));
  }

  /**
   * The bind group of `program` that `owner` (an object whose bindings rarely change: a plan's
   * chunk, a logits buffer) last used, when it binds the same buffer ranges; else a new one,
   * kept for the next call. A training loop or a benchmark repeating a call creates none.
   */
  heldBind<P extends AnyProgram<S>>(
    owner: object,
    program: P,
    resources: Readonly<Record<BindingOf<P>, BoundBuffer>>,
  ): GPUBindGroup {
    let byOwner = this.#held.get(program);
    if (!byOwner) this.#held.set(program, byOwner = new WeakMap());
    const bound = this.#ordered(program, resources);
    const held = byOwner.get(owner);
    if (held && sameBindings(held.bound, bound)) return held.group;
    const group = this.#create(program, bound);
    byOwner.set(owner, { bound, group });
    return group;
  }

  /** `resources` in binding order. */
  #ordered(program: AnyProgram<S>, resources: Readonly<Record<string, BoundBuffer>>): BoundBuffer[] {
    return program.bindings.map((binding) => resources[binding.name]);
  }

  #create(program: AnyProgram<S>, bound: readonly BoundBuffer[]): GPUBindGroup {
    return this.#device.createBindGroup({
      layout: this.#layout(program),
      entries: bound.map(({ buffer, size, offset }, binding) => ({
        binding,
        resource: { buffer, offset: offset ?? 0, size },
      })),
    });
  }

  /** Records one dispatch of `pipeline` with `group` over `grid` into `pass`. */
  dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, grid: Grid): void {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    if (grid.length === 1) pass.dispatchWorkgroups(grid[0]);
    else pass.dispatchWorkgroups(grid[0], grid[1]);
  }

  /** Destroys the uniform buffers and forgets modules, layouts, pipelines and bind groups. */
  destroy(): void {
    for (const buffer of this.#uniforms.values()) this.#tracker.destroy(buffer);
    this.#uniforms.clear();
    this.#pipelines.clear();
    this.#modules.clear();
    this.#layouts.clear();
    this.#held.clear();
  }
}
