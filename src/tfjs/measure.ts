/**
 * Times the tfjs entries next to tf.maxPool on the same backend: median forward and
 * forward+gradient wall time on a 32x64x64x32 float32 input, k = 4, "same" padding. A rough,
 * one-process measurement for the tfjs issue, not the project's benchmark (that is bench/).
 *
 *   XDG_RUNTIME_DIR=/tmp DENO_WEBGPU_BACKEND=gl deno run -A src/tfjs/measure.ts
 *   XDG_RUNTIME_DIR=/tmp DENO_WEBGPU_BACKEND=vulkan deno run -A src/tfjs/measure.ts --backends webgpu
 *
 * Options: --backends cpu,webgpu (default both), --samples N (timed calls per measurement,
 * default 5), --budget-s S (stop a measurement after S seconds of timed calls, default 20; at
 * least one call always runs), --only TEXT (entries whose name contains TEXT; baselines always run).
 * One untimed warm-up call precedes each measurement (shader compilation, allocation).
 *
 * @module
 */
import { sizeOf } from "../spec.ts";
import type { BenchHandle, Shape4, SortPoolCase } from "../types.ts";
import { preparePoolBaseline } from "./baselines.ts";
import { tfjsImplementations } from "./entries.ts";
import { type TfjsBackendName, useBackend } from "./runtime.ts";
import { uniformFloat32 } from "../random.ts";

const SHAPE: Shape4 = [32, 64, 64, 32];
const K = 4;

interface Options {
  backends: TfjsBackendName[];
  samples: number;
  budgetS: number;
  only: string;
}

function fail(message: string): never {
  console.error(`measure: ${message}`);
  Deno.exit(2);
}

function parseOptions(args: string[]): Options {
  const options: Options = { backends: ["cpu", "webgpu"], samples: 5, budgetS: 20, only: "" };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) fail(`${flag}: expected a value after it`);
    if (flag === "--backends") {
      const names = value.split(",");
      for (const n of names) {
        if (n !== "cpu" && n !== "webgpu") fail(`--backends: expected cpu and/or webgpu, received "${n}"`);
      }
      options.backends = names as TfjsBackendName[];
    } else if (flag === "--samples" || flag === "--budget-s") {
      const n = Number(value);
      if (!(n > 0) || (flag === "--samples" && !Number.isInteger(n))) {
        fail(`${flag}: expected a positive number, received "${value}"`);
      }
      if (flag === "--samples") options.samples = n;
      else options.budgetS = n;
    } else if (flag === "--only") {
      options.only = value;
    } else {
      fail(`unknown option "${flag}"; known: --backends, --samples, --budget-s, --only`);
    }
  }
  return options;
}

/** Deterministic inputs in [-1, 1) on a 1/256 grid (ties occur, as in real activations after ReLU-free layers). */
function input(n: number): Float32Array {
  return uniformFloat32(n, 12345, 256);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median ms of `run` over up to `samples` timed calls after one warm-up, within `budgetS`. */
async function time(run: () => Promise<void>, options: Options): Promise<{ ms: number; n: number }> {
  await run();
  const samples: number[] = [];
  const deadline = performance.now() + options.budgetS * 1000;
  while (samples.length < options.samples && (samples.length === 0 || performance.now() < deadline)) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), n: samples.length };
}

async function row(label: string, handle: BenchHandle, options: Options): Promise<void> {
  try {
    const f = await time(() => handle.forward(), options);
    const fb = await time(() => handle.forwardBackward(), options);
    const cell = (t: { ms: number; n: number }) => `${t.ms.toFixed(1).padStart(10)} ms (n=${t.n})`;
    console.log(`${label.padEnd(24)} ${cell(f)} ${cell(fb)}`);
  } finally {
    await handle.dispose();
  }
}

async function adapterLabel(): Promise<string> {
  const adapter = await navigator.gpu?.requestAdapter();
  const env = Deno.env.get("DENO_WEBGPU_BACKEND") ?? "(default)";
  return `DENO_WEBGPU_BACKEND=${env}, adapter "${adapter?.info.description ?? "none"}"`;
}

if (import.meta.main) {
  const options = parseOptions(Deno.args);
  const c: SortPoolCase = {
    x: input(sizeOf(SHAPE)),
    shape: SHAPE,
    logits: [0.4, 0.3, 0.2, 0.1],
    k: K,
    padding: "same",
  };
  console.log(`input [${SHAPE}] float32, k = ${K}, "same"; median wall time of forward / forward+gradient`);
  console.log("noisy: other processes share this machine's CPU cores, and WebGPU here is a CPU emulation");
  for (const backend of options.backends) {
    await useBackend(backend);
    console.log(`\n== tfjs ${backend}${backend === "webgpu" ? ` (${await adapterLabel()})` : ""}`);
    console.log(`${"".padEnd(24)} ${"forward".padStart(20)} ${"forward+gradient".padStart(22)}`);
    await row(`tf.maxPool@${backend}`, await preparePoolBaseline("maxPool", backend, SHAPE, "same"), options);
    for (const impl of tfjsImplementations) {
      if (impl.device !== backend || !impl.name.includes(options.only)) continue;
      await row(impl.name, await impl.prepareBench!(c), options);
    }
  }
}
