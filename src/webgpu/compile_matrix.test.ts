/**
 * The compile matrix: every pipeline the host can create (every kernel file with every override
 * constant set its planners can produce, from SortPoolKernels.pipelineVariants and the copy
 * programs' variants, src/webgpu/programs/copy.ts) is created on the engine under test (SORTPOOL_ENGINE: wgpu
 * with naga, or Dawn with Tint), failing on any compiler or validation error and printing every
 * message getCompilationInfo reports. A second test drives the real planners and encoders over
 * the spec's window, stride, k, padding and channel classes on a recording device, and checks
 * that the pipelines they create are exactly the matrix: a variant added to a planner but not to
 * the enumeration, or enumerated but unreachable, fails here.
 *
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_STRIDE, MAX_WINDOW_SIDE, PADDINGS } from "../spec.ts";
import type { Shape4 } from "../types.ts";
import { BufferTracker } from "./buffers.ts";
import { describeAdapter, requestDeviceOrThrow, withGpuErrorScopes } from "./device.ts";
import { shaderOf } from "./program.ts";
import { COPY_PROGRAM_FILES, COPY_PROGRAMS, copyProgramSources, copyRunner } from "./programs/copy.ts";
import { SortPoolKernels } from "./sort_pool_kernels.ts";
import { KERNEL_FILES, kernelSources, kernelUrl } from "./shaders.ts";

/** One pipeline of the matrix: its kernel file, source and how to describe it on a module of that source. */
interface MatrixEntry {
  readonly file: string;
  readonly code: string;
  readonly descriptor: (module: GPUShaderModule) => GPUComputePipelineDescriptor;
}

/** The variant's constants as sorted JSON, e.g. {"K":3,"KH":2,"KW":2,"WORKGROUP_SIZE":64}. */
function constantsOf(descriptor: GPUComputePipelineDescriptor): string {
  const constants = (descriptor.compute.constants ?? {}) as Record<string, number>;
  return JSON.stringify(Object.fromEntries(Object.entries(constants).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** A variant named for messages: file, entry point and constants. */
function variantName(file: string, descriptor: GPUComputePipelineDescriptor): string {
  return `${file} ${descriptor.compute.entryPoint ?? "(default entry point)"} ${constantsOf(descriptor)}`;
}

/** Every pipeline the host can create on `kernels`' device: the sort_pool2d kernels' variants, then the copy kernels'. */
function matrixOf(kernels: SortPoolKernels): MatrixEntry[] {
  const sources = kernelSources();
  const copy = copyProgramSources();
  const entries: MatrixEntry[] = kernels.pipelineVariants().map((variant) => ({
    file: KERNEL_FILES[variant.source],
    code: sources[variant.source],
    descriptor: (module) => kernels.pipelineDescriptor(variant, module),
  }));
  // As prepareCopyBench creates them (bench/copy_kernel.ts): through a runner of the copy programs.
  const runner = copyRunner(kernels.device, new BufferTracker());
  for (const program of COPY_PROGRAMS) {
    for (const variant of program.variants()) {
      const source = shaderOf(program, variant);
      entries.push({
        file: COPY_PROGRAM_FILES[source],
        code: copy[source],
        descriptor: (module) => runner.descriptor(program, variant, module),
      });
    }
  }
  return entries;
}

/** The `.wgsl` files in `kernels/`. */
function kernelFilesOnDisk(): string[] {
  return [...Deno.readDirSync(kernelUrl(""))]
    .filter((e) => e.isFile && e.name.endsWith(".wgsl"))
    .map((e) => e.name)
    .sort();
}

/** Per kernel file: pipelines created and the milliseconds its module and pipelines took. */
interface FileResult {
  readonly file: string;
  readonly pipelines: number;
  readonly moduleMs: number;
  readonly pipelinesMs: number;
}

let device: GPUDevice;
let adapterName = "";

/** The message of a thrown value. */
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Creates the pipeline of every entry of `file` on `module`, one after another inside one pair of
 * error scopes; when the scopes catch an error, creates them again one scope each to name every
 * failing variant. Returns the failures, each naming its variant.
 *
 * Synchronous creation, not createComputePipelineAsync: with Dawn (npm webgpu 0.6.2 on
 * SwiftShader) the async calls compile on worker threads while the main thread polls for their
 * completion, which took about twice the CPU time (and, on a busy machine, the wall time) of the
 * same pipelines created synchronously.
 */
async function createPipelines(file: string, module: GPUShaderModule, entries: readonly MatrixEntry[]) {
  const failures: string[] = [];
  const create = (entry: MatrixEntry) => {
    const descriptor = entry.descriptor(module);
    try {
      device.createComputePipeline(descriptor);
    } catch (e) {
      failures.push(`${variantName(file, descriptor)}: ${messageOf(e)}`);
    }
  };
  try {
    await withGpuErrorScopes(device, `createComputePipeline ${file}`, () => entries.forEach(create));
  } catch (e) {
    const found = failures.length;
    for (const entry of entries) {
      const name = variantName(file, entry.descriptor(module));
      try {
        await withGpuErrorScopes(device, `createComputePipeline ${name}`, () => create(entry));
      } catch (each) {
        failures.push(`${name}: ${messageOf(each)}`);
      }
    }
    if (failures.length === found) failures.push(`${file} (one of ${entries.length} variants): ${messageOf(e)}`);
  }
  return failures;
}

beforeAll(async () => {
  const acquired = await requestDeviceOrThrow("sortpool compile matrix");
  device = acquired.device;
  adapterName = describeAdapter(acquired.adapter);
});

afterAll(() => device?.destroy());

describe("compile matrix", () => {
  test("every pipeline the host can create compiles on this engine without an error", async () => {
    const kernels = new SortPoolKernels(device, kernelSources(), new BufferTracker());
    const matrix = matrixOf(kernels);
    const byFile = new Map<string, MatrixEntry[]>();
    for (const entry of matrix) byFile.set(entry.file, [...(byFile.get(entry.file) ?? []), entry]);

    // Not trivially small: every kernel file appears, and no variant twice.
    expect([...byFile.keys()].sort()).toEqual(kernelFilesOnDisk());
    const names = matrix.map((entry) => variantName(entry.file, entry.descriptor({} as GPUShaderModule)));
    expect(new Set(names).size).toBe(names.length);

    const messages: string[] = [];
    const failures: string[] = [];
    const results: FileResult[] = [];
    const started = performance.now();
    for (const [file, entries] of byFile) {
      const moduleStart = performance.now();
      // One module per file: override constants apply when a pipeline is created, not when the module is.
      let module: GPUShaderModule;
      try {
        module = await withGpuErrorScopes(device, `createShaderModule ${file}`, async () => {
          const created = device.createShaderModule({ label: file, code: entries[0].code });
          const info = await created.getCompilationInfo();
          for (const m of info.messages) {
            const line = `${m.type} ${file}:${m.lineNum}:${m.linePos}: ${m.message}`;
            messages.push(line);
            if (m.type === "error") failures.push(line);
          }
          return created;
        });
      } catch (e) {
        failures.push(`${file}: ${messageOf(e)}`);
        continue;
      }
      const moduleMs = performance.now() - moduleStart;
      const pipelinesStart = performance.now();
      failures.push(...(await createPipelines(file, module, entries)));
      results.push({ file, pipelines: entries.length, moduleMs, pipelinesMs: performance.now() - pipelinesStart });
    }
    const totalMs = performance.now() - started;

    const summary = [
      `compile matrix on ${adapterName}: ${matrix.length} pipelines from ${byFile.size} kernel files ` +
      `in ${(totalMs / 1000).toFixed(1)} s`,
      ...results.map((r) =>
        `  ${r.file.padEnd(40)} ${String(r.pipelines).padStart(4)} pipelines  module ${
          r.moduleMs.toFixed(0).padStart(6)
        } ms  pipelines ${r.pipelinesMs.toFixed(0).padStart(7)} ms`
      ),
      `compilation messages (${messages.length}):${messages.length === 0 ? " none" : ""}`,
      ...messages.map((m) => `  ${m}`),
    ];
    console.log(summary.join("\n"));
    expect(failures, failures.join("\n")).toEqual([]);
  }, 360_000);

  test("the planners and encoders create exactly the matrix's sort_pool2d pipelines", async () => {
    const real = new SortPoolKernels(device, kernelSources(), new BufferTracker());
    const expected = new Set(
      real.pipelineVariants().map((v) =>
        variantName(KERNEL_FILES[v.source], real.pipelineDescriptor(v, {} as GPUShaderModule))
      ),
    );
    // The device's workgroup and alignment limits (so workgroup sizes match the matrix's), with
    // binding and buffer limits large enough that the 2x2 calls past 2^20 work items run unsplit.
    const recorder = recordingDevice({
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: device.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      minStorageBufferOffsetAlignment: device.limits.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: device.limits.minUniformBufferOffsetAlignment,
      maxStorageBufferBindingSize: 2 ** 31,
      maxBufferSize: 2 ** 32,
    });
    const kernels = new SortPoolKernels(recorder.device, kernelSources(), new BufferTracker());
    await kernels.ready();
    for (const c of planClasses()) {
      const plan = kernels.plan(c.shape, c.k, c.padding, undefined, {
        poolSize: c.poolSize,
        strides: c.strides,
        logitsLength: c.perChannel ? c.k * c.shape[3] : c.k,
      });
      const buffer = (size: number) => recorder.buffer(Math.max(16, size));
      const logitsBytes = plan.family === "general" ? plan.logitsLength * 4 : plan.k * 4;
      const logits = buffer(logitsBytes);
      const scratch = { get: (_name: string, bytes: number) => buffer(bytes) };
      kernels.encodeForward(
        recorder.encoder(),
        plan,
        { x: buffer(plan.xBytes), y: buffer(plan.yBytes), logits },
        scratch,
      );
      kernels.encodeBackward(recorder.encoder(), plan, {
        x: buffer(plan.xBytes),
        dy: buffer(plan.yBytes),
        dx: buffer(plan.xBytes),
        dLogits: buffer(Math.max(16, logitsBytes)),
        logits,
      }, scratch);
    }
    const created = new Set(recorder.pipelines.map((d) => {
      const source = String(d.label).replace(/^sortpool /, "") as keyof typeof KERNEL_FILES;
      return variantName(KERNEL_FILES[source] ?? String(d.label), d);
    }));
    const missing = [...created].filter((name) => !expected.has(name));
    const unreached = [...expected].filter((name) => !created.has(name));
    expect(missing, `pipelines the host created that the matrix lacks:\n${missing.join("\n")}`).toEqual([]);
    expect(unreached, `matrix variants no planned call created:\n${unreached.join("\n")}`).toEqual([]);
  });
});

/** One planned call: a shape with a window, stride, k, padding and logits layout. */
interface PlanClass {
  readonly shape: Shape4;
  readonly k: number;
  readonly padding: (typeof PADDINGS)[number];
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly perChannel: boolean;
}

/**
 * Calls across the spec's classes: every window (1..MAX_WINDOW_SIDE per side) with every k and
 * each stride 1..MAX_STRIDE, both paddings, shared and per-channel logits, channel counts giving
 * scalar or vec4 lanes and one or two channel groups per invocation, even and odd sides, and 2x2
 * calls past 2^20 work items (the forward kernels' FEW_ITEMS off).
 */
function* planClasses(): Generator<PlanClass> {
  const channels = [1, 2, 4, 8];
  const sides: [number, number][] = [[8, 8], [7, 9]];
  for (let kh = 1; kh <= MAX_WINDOW_SIDE; kh++) {
    for (let kw = 1; kw <= MAX_WINDOW_SIDE; kw++) {
      for (let s = 1; s <= MAX_STRIDE; s++) {
        for (let k = 1; k <= kh * kw; k++) {
          for (const padding of PADDINGS) {
            for (const c of channels) {
              for (const [h, w] of sides) {
                for (const perChannel of [false, true]) {
                  yield { shape: [2, h, w, c], k, padding, poolSize: [kh, kw], strides: [s, s], perChannel };
                }
              }
            }
          }
        }
      }
    }
  }
  for (let k = 1; k <= 4; k++) {
    for (const padding of PADDINGS) {
      for (const c of channels) {
        for (const [h, w] of [[2048, 2050], [2049, 2051]]) {
          yield { shape: [1, h, w, c], k, padding, poolSize: [2, 2], strides: [2, 2], perChannel: false };
        }
      }
    }
  }
}

/**
 * A GPUDevice stand-in that records every pipeline descriptor and creates nothing on a GPU, with
 * `limits`, and fake buffers and
 * command encoders for the encoders to record into.
 */
function recordingDevice(limits: Partial<Record<keyof GPUSupportedLimits, number>>) {
  const pipelines: GPUComputePipelineDescriptor[] = [];
  const allUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC |
    GPUBufferUsage.COPY_DST;
  const buffer = (size: number, usage = allUsage) => ({ size, usage, destroy() {} }) as unknown as GPUBuffer;
  const pass = { setPipeline() {}, setBindGroup() {}, dispatchWorkgroups() {}, end() {} };
  const encoder = () =>
    ({
      beginComputePass: () => pass,
      copyBufferToBuffer() {},
      clearBuffer() {},
      finish: () => ({}),
    }) as unknown as GPUCommandEncoder;
  const fake = {
    limits,
    queue: { writeBuffer() {}, submit() {} },
    createBuffer: (d: GPUBufferDescriptor) => buffer(d.size, d.usage),
    createShaderModule: (d: GPUShaderModuleDescriptor) => ({
      label: d.label,
      getCompilationInfo: () => Promise.resolve({ messages: [] }),
    }),
    createBindGroupLayout: () => ({}),
    createPipelineLayout: () => ({}),
    createBindGroup: () => ({}),
    createComputePipeline: (d: GPUComputePipelineDescriptor) => {
      pipelines.push(d);
      return { label: d.label };
    },
    createComputePipelineAsync: (d: GPUComputePipelineDescriptor) => {
      pipelines.push(d);
      return Promise.resolve({ label: d.label });
    },
    pushErrorScope() {},
    popErrorScope: () => Promise.resolve(null),
  };
  return { device: fake as unknown as GPUDevice, pipelines, buffer: (size: number) => buffer(size), encoder };
}
