/**
 * What the benchmarks ran on: WebGPU adapter, Deno, tfjs and wgpu versions, and a probe of the
 * adapter's timing behaviour (does timestamp-query return usable values). How long an empty queue
 * submission takes to be reported done is measured inside each GPU suite, interleaved with the
 * subjects (bench/suite.ts), not here.
 *
 * @module
 */
import { tf } from "../src/tfjs/runtime.ts";
import { describeAdapter as adapterLineOf, type EngineInfo, engineInfo } from "../src/webgpu/engine.ts";

/** Adapter description, or why there is none. */
export type AdapterReport =
  | {
    readonly available: true;
    readonly info: Record<string, string | number | boolean>;
    readonly features: string[];
    readonly limits: Record<string, number>;
  }
  | { readonly available: false; readonly reason: string };

/** Result of probing timestamp-query on the adapter. */
export interface TimestampProbe {
  /** Whether the adapter lists the "timestamp-query" feature. */
  readonly listed: boolean;
  /** Whether a timed compute pass produced a positive, plausible duration. */
  readonly usable: boolean;
  /** What was observed. */
  readonly detail: string;
}

/** Everything recorded about the machine and software for one run. */
export interface EnvironmentReport {
  /** ISO date of the run. */
  readonly date: string;
  /** The WebGPU engine of the process (src/webgpu/engine.ts): "deno" (wgpu) or "dawn", and what implements it. */
  readonly engine: EngineInfo;
  /**
   * The adapter the run used, in one line from adapter.info plus the engine (src/webgpu/engine.ts
   * `describeAdapter`), or "no adapter (reason) on <engine>": the label of every report.
   */
  readonly adapterLine: string;
  /**
   * DENO_WEBGPU_BACKEND as set for the process ("" when unset: wgpu picks, Vulkan first). Only a
   * record of what was requested, never a label: Deno's adapter.info is the same on GL and Vulkan
   * (llvmpipe), so reports add it as "requested" next to the adapter line to tell the two apart.
   */
  readonly denoWebgpuBackend: string;
  /** XDG_RUNTIME_DIR used (harness/runtime_dir.ts sets a private one when unset, as lavapipe needs one). */
  readonly xdgRuntimeDir: string;
  /** Deno, V8 and TypeScript versions. */
  readonly deno: Record<string, string>;
  /** tfjs package versions as tfjs reports them, plus tfjs-backend-webgpu from deno.json. */
  readonly tfjs: Record<string, string>;
  /** wgpu crate versions compiled into the deno binary, and the Mesa driver version. */
  readonly wgpu: Record<string, string>;
  /** Operating system and CPU count. */
  readonly host: Record<string, string | number>;
  /** The WebGPU adapter. */
  readonly adapter: AdapterReport;
  /** The timestamp-query probe. */
  readonly timestampQuery: TimestampProbe;
}

const LIMITS_OF_INTEREST = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupsPerDimension",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupStorageSize",
] as const;

/** Requests the default adapter; null with the reason when WebGPU is missing here. */
export async function requestAdapter(): Promise<{ adapter: GPUAdapter | null; reason: string }> {
  if (typeof navigator === "undefined" || !navigator.gpu) {
    return { adapter: null, reason: "navigator.gpu is missing: this runtime has no WebGPU" };
  }
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { adapter: null, reason: "navigator.gpu.requestAdapter() returned null: no WebGPU adapter" };
    return { adapter, reason: "" };
  } catch (e) {
    return { adapter: null, reason: `navigator.gpu.requestAdapter() threw: ${e instanceof Error ? e.message : e}` };
  }
}

function adapterReport(adapter: GPUAdapter): AdapterReport {
  const info: Record<string, string | number | boolean> = {};
  const raw = adapter.info as unknown as Record<string, unknown>;
  for (const key in raw) {
    const v = raw[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") info[key] = v;
  }
  const limits: Record<string, number> = {};
  for (const name of LIMITS_OF_INTEREST) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[name];
    if (typeof v === "number") limits[name] = v;
  }
  return { available: true, info, features: [...adapter.features].sort(), limits };
}

/**
 * Times one compute pass of about 16 MB of traffic with timestampWrites and reads the two
 * timestamps back. On Mesa llvmpipe both come back as 0, so the feature is listed but useless.
 */
async function probeTimestampQuery(): Promise<TimestampProbe> {
  // A fresh adapter: an adapter that already gave out a device may refuse another (WebGPU spec).
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { listed: false, usable: false, detail: "no adapter on the second request" };
  const listed = adapter.features.has("timestamp-query");
  if (!listed) return { listed, usable: false, detail: "the adapter does not list the timestamp-query feature" };
  const device = await adapter.requestDevice({ requiredFeatures: ["timestamp-query"] });
  try {
    const module = device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&data)) { data[id.x] = data[id.x] * 2.0 + 1.0; }
}`,
    });
    const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
    const elements = 1 << 21;
    const data = device.createBuffer({ size: elements * 4, usage: GPUBufferUsage.STORAGE });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: data } }],
    });
    const querySet = device.createQuerySet({ type: "timestamp", count: 2 });
    const resolved = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass({
      timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(elements / 64);
    pass.end();
    encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    for (const b of [data, resolved, readback]) b.destroy();
    querySet.destroy();
    const ns = end - begin;
    const observed = `a pass over ${(elements * 8) / 1e6} MB wrote timestamps ${begin} and ${end} (ns)`;
    if (begin === 0n && end === 0n) return { listed, usable: false, detail: `${observed}: the driver writes zeros` };
    if (ns <= 0n) return { listed, usable: false, detail: `${observed}: not a positive duration` };
    return { listed, usable: true, detail: `${observed}: ${Number(ns) / 1e6} ms` };
  } catch (e) {
    return { listed, usable: false, detail: `probe failed: ${e instanceof Error ? e.message : e}` };
  } finally {
    device.destroy();
  }
}

/** Versions of the wgpu crates, read from source paths that panic messages embed in the binary. */
async function wgpuCrateVersions(): Promise<Record<string, string>> {
  const wanted = ["wgpu-core", "wgpu-hal"];
  const found: Record<string, string> = {};
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(Deno.execPath(), { read: true });
    const decoder = new TextDecoder("latin1");
    const pattern = /(wgpu-core|wgpu-hal)-(\d+\.\d+\.\d+)/g;
    let carry = "";
    const chunk = new Uint8Array(1 << 22);
    while (Object.keys(found).length < wanted.length) {
      const n = await file.read(chunk);
      if (n === null) break;
      const text = carry + decoder.decode(chunk.subarray(0, n));
      for (const m of text.matchAll(pattern)) found[m[1]] ??= m[2];
      carry = text.slice(-64);
    }
  } catch (e) {
    return { note: `could not read the deno binary: ${e instanceof Error ? e.message : e}` };
  } finally {
    file?.close();
  }
  for (const name of wanted) found[name] ??= "not found in the deno binary";
  found.source = "crate paths embedded in the deno binary (Deno does not report wgpu's version at runtime)";
  return found;
}

/** Mesa's package version via dpkg-query, when available (the llvmpipe/lavapipe driver). */
async function mesaVersion(): Promise<string> {
  try {
    const out = await new Deno.Command("dpkg-query", {
      args: ["-W", "-f", "${Version}", "mesa-vulkan-drivers"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.success && text
      ? `${text} (dpkg mesa-vulkan-drivers)`
      : "unknown (dpkg-query found no mesa-vulkan-drivers)";
  } catch (e) {
    return `unknown (${e instanceof Error ? e.message : e})`;
  }
}

/** tfjs-backend-webgpu's version as pinned in deno.json (tfjs does not export it at runtime). */
async function tfjsWebgpuVersion(): Promise<string> {
  try {
    const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
    const spec: unknown = config?.imports?.["@tensorflow/tfjs-backend-webgpu"];
    const m = typeof spec === "string" ? /@(\d[^@]*)$/.exec(spec) : null;
    return m ? `${m[1]} (pinned in deno.json)` : "unknown (not in deno.json imports)";
  } catch (e) {
    return `unknown (${e instanceof Error ? e.message : e})`;
  }
}

/** Collects the environment report; `adapter` (only read, never used for a device) describes the GPU. */
export async function describeEnvironment(adapter: GPUAdapter | null, noAdapterReason: string): Promise<
  EnvironmentReport
> {
  const tfjs: Record<string, string> = {};
  for (const [name, version] of Object.entries(tf.version)) tfjs[name] = String(version);
  tfjs["tfjs-backend-webgpu"] = await tfjsWebgpuVersion();
  const wgpu = await wgpuCrateVersions();
  wgpu.mesa = await mesaVersion();
  const engine = engineInfo();
  return {
    date: new Date().toISOString(),
    engine,
    adapterLine: adapter ? adapterLineOf(adapter) : `no adapter (${noAdapterReason}) on ${engine.implementation}`,
    denoWebgpuBackend: Deno.env.get("DENO_WEBGPU_BACKEND") ?? "",
    xdgRuntimeDir: Deno.env.get("XDG_RUNTIME_DIR") ?? "",
    deno: { ...Deno.version },
    tfjs,
    wgpu,
    host: {
      os: `${Deno.build.os} ${Deno.osRelease()}`,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
      loadavg: Deno.loadavg().map((l) => l.toFixed(2)).join(" "),
    },
    adapter: adapter ? adapterReport(adapter) : { available: false, reason: noAdapterReason },
    timestampQuery: adapter ? await probeTimestampQuery() : { listed: false, usable: false, detail: noAdapterReason },
  };
}

/** The parts of an environment report that name a run (older JSON files lack `engine` and `adapterLine`). */
export type RunIdentity = Pick<EnvironmentReport, "denoWebgpuBackend" | "adapter"> & {
  readonly engine?: EngineInfo;
  readonly adapterLine?: string;
};

/**
 * The engine and adapter of a run, from adapter.info: the `adapterLine` recorded with it, plus
 * "(DENO_WEBGPU_BACKEND=gl requested)" when that variable was set on Deno's engine (wgpu reports
 * the same adapter.info on GL and Vulkan). A JSON written before engines were named gets its
 * adapter description and "engine not recorded (deno)".
 */
export function runLabel(env: RunIdentity): string {
  const requested = env.denoWebgpuBackend && (env.engine?.name ?? "deno") === "deno"
    ? ` (DENO_WEBGPU_BACKEND=${env.denoWebgpuBackend} requested)`
    : "";
  if (env.adapterLine) return `${env.adapterLine}${requested}`;
  const adapter = env.adapter.available ? String(env.adapter.info.description ?? "unknown adapter") : "no adapter";
  return `${adapter} on an engine not recorded (deno: this JSON predates engine names)${requested}`;
}

/** The engine's short name of a run ("deno" for JSON files written before engines were named). */
export function engineName(env: RunIdentity): string {
  return env.engine?.name ?? "deno";
}

/**
 * The part of default file names that names the run: engine, the adapter's first word from
 * adapter.info (e.g. "deno-llvmpipe", "dawn-swiftshader"), and the requested DENO_WEBGPU_BACKEND
 * on Deno's engine ("deno-llvmpipe-gl"), since GL and Vulkan report the same adapter.
 */
export function runSlug(env: RunIdentity): string {
  const description = env.adapter.available
    ? String(env.adapter.info.description || env.adapter.info.device || env.adapter.info.vendor || "")
    : "";
  const word = (description.toLowerCase().match(/[a-z0-9]+/) ?? ["no-adapter"])[0];
  const backend = engineName(env) === "deno" && env.denoWebgpuBackend
    ? `-${env.denoWebgpuBackend.toLowerCase().replace(/[^a-z0-9]+/g, "")}`
    : "";
  return `${engineName(env)}-${word}${backend}`;
}
