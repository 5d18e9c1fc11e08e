/**
 * The WebGPU engine the process uses: the runtime's own `navigator.gpu` (Deno's wgpu, where naga
 * compiles WGSL; in a browser, the browser's) or Dawn from the npm package `webgpu` (the engine of
 * Chrome and of Node, where Tint compiles WGSL). The two compile and run the same kernels through
 * different compilers and drivers, so a kernel checked on one is not checked on the other.
 *
 * The choice comes from {@link useEngine} in code or from the environment variable
 * `SORTPOOL_ENGINE` (`deno`, the default, or `dawn`), read when this module is first imported:
 * with `dawn` the module installs Dawn as `navigator.gpu` before any other module of the project
 * can request an adapter, so every script, task and test that imports the library gets it.
 *
 * Dawn's Vulkan backend needs a Vulkan driver it accepts. It rejects Mesa's lavapipe, so on a
 * machine without a GPU the module points the Vulkan loader at the SwiftShader driver that
 * Chromium ships (Debian's `chromium` package) when no other driver gives an adapter.
 *
 * @module
 */

/** Names of the engines {@link useEngine} accepts. */
export const ENGINE_NAMES = ["deno", "dawn"] as const;

/** `"deno"`: the runtime's own `navigator.gpu`; `"dawn"`: Dawn from the npm package `webgpu`. */
export type EngineName = typeof ENGINE_NAMES[number];

/** The engine in use, as reports name it. */
export interface EngineInfo {
  /** The engine the process chose. */
  readonly name: EngineName;
  /** What implements it, e.g. "wgpu (Deno 2.9.6)", "Dawn (npm webgpu 0.6.2)", or the browser's user agent. */
  readonly implementation: string;
}

/** The Dawn package version pinned in deno.json; reports name it. */
const DAWN_PACKAGE = "webgpu 0.6.2";

/** Where Debian's and other distributions' Chromium packages put SwiftShader's Vulkan driver manifest. */
const SWIFTSHADER_ICD_CANDIDATES = [
  "/usr/lib/chromium/vk_swiftshader_icd.json",
  "/usr/lib64/chromium/vk_swiftshader_icd.json",
  "/usr/lib/chromium-browser/vk_swiftshader_icd.json",
  "/opt/google/chrome/vk_swiftshader_icd.json",
];

/** Thrown when an engine cannot be chosen or installed; the message says what to do. */
export class EngineError extends Error {
  /** `message` says what went wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}

interface Installed {
  readonly name: EngineName;
  readonly gpu: GPU | undefined;
  readonly implementation: string;
}

let installed: Installed | undefined;
let installing: Promise<Installed> | undefined;
let installingName: EngineName | undefined;

type DenoLike = {
  env: { get(k: string): string | undefined; set(k: string, v: string): void };
  readDirSync?(p: string): Iterable<{ name: string }>;
  statSync?(p: string): unknown;
  version?: { deno: string };
};
type ProcessLike = { env: Record<string, string | undefined>; versions?: { node?: string } };

function deno(): DenoLike | undefined {
  return (globalThis as { Deno?: DenoLike }).Deno;
}
function nodeProcess(): ProcessLike | undefined {
  const p = (globalThis as { process?: ProcessLike }).process;
  return p && typeof p.env === "object" ? p : undefined;
}

/** An environment variable, or undefined where the runtime has none or forbids reading it. */
function getEnv(name: string): string | undefined {
  try {
    const d = deno();
    if (d) return d.env.get(name);
    return nodeProcess()?.env[name];
  } catch {
    return undefined;
  }
}

function setEnv(name: string, value: string): void {
  const d = deno();
  if (d) d.env.set(name, value);
  else {
    const p = nodeProcess();
    if (p) p.env[name] = value;
  }
}

/** True where a file exists (false where the runtime cannot tell). */
async function fileExists(path: string): Promise<boolean> {
  try {
    const d = deno();
    if (d?.statSync) {
      d.statSync(path);
      return true;
    }
    const fs = await import("node:fs");
    return fs.existsSync(path);
  } catch {
    return false;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    const d = deno();
    if (d?.readDirSync) return [...d.readDirSync(path)].map((e) => e.name);
    const fs = await import("node:fs");
    return fs.readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * Parses an engine name; `where` names the source for the error (e.g. "SORTPOOL_ENGINE").
 * @throws EngineError naming `where`, the accepted names and the value received.
 */
export function parseEngineName(value: string, where: string): EngineName {
  const v = value.trim().toLowerCase();
  if ((ENGINE_NAMES as readonly string[]).includes(v)) return v as EngineName;
  throw new EngineError(`${where}: expected one of ${ENGINE_NAMES.join(", ")}, received ${JSON.stringify(value)}`);
}

/** The engine `SORTPOOL_ENGINE` asks for: "deno" when it is unset or empty. @throws EngineError for another value. */
export function requestedEngine(): EngineName {
  const raw = getEnv("SORTPOOL_ENGINE");
  return raw === undefined || raw.trim() === "" ? "deno" : parseEngineName(raw, "SORTPOOL_ENGINE");
}

function builtinImplementation(): string {
  const d = deno();
  if (d?.version) return `wgpu (Deno ${d.version.deno})`;
  const ua = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent;
  if (ua && (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu) return `browser (${ua})`;
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu
    ? "the runtime's navigator.gpu"
    : "none: this runtime has no navigator.gpu (choose dawn)";
}

/**
 * True when the machine shows a GPU device node (Linux DRM render nodes, NVIDIA's nodes). Without
 * one, only CPU Vulkan drivers can answer, and Dawn accepts none of Mesa's (lavapipe), so asking
 * the default drivers first would only print Dawn's refusal. Where it cannot tell, it says true.
 */
async function gpuDeviceNodes(): Promise<boolean> {
  const os = (globalThis as { Deno?: { build?: { os?: string } } }).Deno?.build?.os ??
    (globalThis as { process?: { platform?: string } }).process?.platform;
  if (os !== "linux") return true;
  const dri = await listDir("/dev/dri");
  return dri.some((n) => n.startsWith("renderD")) || (await fileExists("/dev/nvidia0"));
}

async function swiftShaderIcd(): Promise<string | undefined> {
  const own = getEnv("SORTPOOL_SWIFTSHADER_ICD");
  const candidates = own ? [own] : SWIFTSHADER_ICD_CANDIDATES;
  for (const path of candidates) if (await fileExists(path)) return path;
  return undefined;
}

async function installDawn(): Promise<Installed> {
  let dawn: { create(flags: string[]): GPU; globals: Record<string, unknown> } | undefined;
  // Variable specifiers keep bundlers from pulling the native addon into browser bundles. The bare
  // name resolves through the importer's import map or node_modules; under Deno without either
  // (the library imported from a registry), the pinned npm specifier is the fallback.
  const specifiers = deno() ? ["webgpu", `npm:${DAWN_PACKAGE.replace(" ", "@")}`] : ["webgpu"];
  let failure: unknown;
  for (const specifier of specifiers) {
    try {
      dawn = await import(specifier);
      break;
    } catch (e) {
      failure ??= e;
    }
  }
  if (!dawn) {
    const e = failure;
    throw new EngineError(
      `engine "dawn": the npm package "webgpu" could not be loaded (${e instanceof Error ? e.message : e}); ` +
        `install it (Node: npm install webgpu@0.6.2; Deno: deno add npm:webgpu@0.6.2) or choose the runtime's own ` +
        `WebGPU (SORTPOOL_ENGINE=deno)`,
    );
  }
  const driverChosen = getEnv("VK_ICD_FILENAMES") || getEnv("VK_DRIVER_FILES");
  let gpu: GPU | undefined;
  let adapter: GPUAdapter | null = null;
  if (driverChosen || (await gpuDeviceNodes())) {
    gpu = dawn.create([]);
    adapter = await gpu.requestAdapter();
  }
  let icdNote = "";
  if (!adapter && !driverChosen) {
    const icd = await swiftShaderIcd();
    if (icd) {
      setEnv("VK_ICD_FILENAMES", icd);
      gpu = dawn.create([]);
      adapter = await gpu.requestAdapter();
      icdNote = `; Vulkan driver SwiftShader (${icd})`;
    }
  }
  if (!gpu || !adapter) {
    throw new EngineError(
      `engine "dawn": Dawn found no adapter` +
        (driverChosen
          ? ` with the Vulkan driver that VK_ICD_FILENAMES/VK_DRIVER_FILES names (${driverChosen})`
          : getEnv("SORTPOOL_SWIFTSHADER_ICD")
          ? `: no Vulkan driver it accepts (it rejects Mesa's lavapipe), and SORTPOOL_SWIFTSHADER_ICD names ` +
            `${getEnv("SORTPOOL_SWIFTSHADER_ICD")}, which does not exist (point it at Chromium's ` +
            `vk_swiftshader_icd.json)`
          : `: no Vulkan driver it accepts (it rejects Mesa's lavapipe) and no SwiftShader driver at ` +
            `${SWIFTSHADER_ICD_CANDIDATES.join(", ")} (Debian: apt-get install chromium; or set ` +
            `SORTPOOL_SWIFTSHADER_ICD to a vk_swiftshader_icd.json)`),
    );
  }
  // Dawn's classes replace the runtime's WebGPU globals (Node has none), so that `instanceof
  // GPUBuffer` in the project and in tfjs-backend-webgpu recognises Dawn's objects.
  for (const [name, value] of Object.entries(dawn.globals)) {
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true, enumerable: false });
  }
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, "gpu", { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
  return { name: "dawn", gpu, implementation: `Dawn (npm ${DAWN_PACKAGE}${icdNote})` };
}

function installBuiltin(): Installed {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  return { name: "deno", gpu, implementation: builtinImplementation() };
}

/**
 * Chooses the WebGPU engine for this process and installs it as `navigator.gpu`; idempotent.
 * Without an argument it keeps the engine already chosen, else uses `SORTPOOL_ENGINE` ("deno"
 * when unset). Call it before the first
 * adapter request: the tfjs webgpu backend and the project's devices keep the engine they started
 * with, so asking for another engine afterwards throws.
 *
 * @example
 * ```ts
 * import { useEngine } from "@sortpool/sortpool";
 * await useEngine("dawn"); // Dawn as navigator.gpu, before any adapter request
 * ```
 *
 * @param name "deno" (the runtime's own navigator.gpu) or "dawn" (npm `webgpu`).
 * @returns what is in use.
 * @throws EngineError when `name` is unknown, another engine is already in use, or Dawn finds no adapter.
 */
export async function useEngine(name?: EngineName): Promise<EngineInfo> {
  // Without a name, the engine already chosen (in code or from SORTPOOL_ENGINE) stays.
  const wanted = name === undefined
    ? (installed?.name ?? installingName ?? requestedEngine())
    : parseEngineName(name, "useEngine(name)");
  const current = installed?.name ?? installingName;
  if (current !== undefined && current !== wanted) {
    throw new EngineError(
      `useEngine("${wanted}"): engine "${current}" is already in use in this process; choose the engine once, ` +
        `before the first adapter request (SORTPOOL_ENGINE or useEngine at start-up)`,
    );
  }
  if (!installed && wanted === "dawn" && builtinAdapterRequested) {
    throw new EngineError(
      `useEngine("dawn"): an adapter was already requested from the runtime's own navigator.gpu (tfjs's webgpu ` +
        `backend or other code started on it); choose the engine before the first adapter request`,
    );
  }
  if (!installed) {
    if (!installing) {
      installingName = wanted;
      installing = wanted === "dawn" ? installDawn() : Promise.resolve(installBuiltin());
      installing.then((i) => (installed = i), () => {
        installing = undefined;
        installingName = undefined;
      });
    }
    await installing;
  }
  return engineInfo();
}

/**
 * The engine in use (after {@link useEngine}, or at import with SORTPOOL_ENGINE=dawn); before
 * any choice, the runtime's own.
 */
export function engineInfo(): EngineInfo {
  const i = installed ?? installBuiltin();
  return { name: i.name, implementation: i.implementation };
}

/**
 * One line naming the engine and the adapter, from adapter.info (never from the environment),
 * e.g. "llvmpipe (LLVM 15.0.6, 256 bits) [mesa, llvmpipe] on wgpu (Deno 2.9.6)".
 */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const name = info.description || info.device || info.architecture || info.vendor || "unknown adapter";
  const detail = [info.vendor, info.architecture].filter((s) => s && s !== name).join(", ");
  return `${name}${detail ? ` [${detail}]` : ""} on ${engineInfo().implementation}`;
}

/**
 * Set when code requests an adapter from the runtime's own navigator.gpu (through the library or
 * directly, e.g. `tf.setBackend("webgpu")`): Dawn can no longer be chosen, since objects of the two
 * engines do not mix.
 */
let builtinAdapterRequested = false;

function watchBuiltinAdapterRequests(): void {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return;
  const request = gpu.requestAdapter.bind(gpu);
  try {
    Object.defineProperty(gpu, "requestAdapter", {
      configurable: true,
      writable: true,
      value: (options?: GPURequestAdapterOptions) => {
        if (!installed || installed.name === "deno") builtinAdapterRequested = true;
        return request(options);
      },
    });
  } catch {
    // A runtime whose GPU object cannot be extended: the late choice of Dawn is then not detected.
  }
}

// SORTPOOL_ENGINE=dawn: install Dawn now, before any importer can request an adapter. A value that
// names no engine is reported where an engine is first needed (useEngine, the first adapter
// request, a task's start), as an EngineError naming SORTPOOL_ENGINE, not as a failed import.
let fromEnvironment: EngineName | undefined;
try {
  fromEnvironment = requestedEngine();
} catch {
  fromEnvironment = undefined;
}
if (fromEnvironment === "dawn") await useEngine("dawn");
else watchBuiltinAdapterRequests();
