/**
 * Measures the WGSL kernels against their speed targets in one process on one adapter:
 * forward vs tf.maxPool, forward + backward vs tf.maxPool's, forward vs the roofline kernel's
 * bandwidth, and forward vs tf.topk pooling. Prints medians of interleaved rounds, in wall time
 * per awaited call (what the gate times) and, on Linux, in CPU time per call summed over the
 * process's threads (the CPU adapters' work; steadier than wall time when other processes load
 * the machine). Not a test: timings on a shared CPU adapter move with the machine's load.
 *
 *     XDG_RUNTIME_DIR=/tmp DENO_WEBGPU_BACKEND=vulkan deno run -A src/webgpu/measure.ts \
 *       [--rounds 7] [--reps 3] [--shape 32,64,64,32] [--k 4] [--only wgsl,wgsl@tfjs,tfjs-topk@webgpu]
 *
 * @module
 */
import { implementations } from "../registry.ts";
import { sizeOf } from "../spec.ts";
import { preparePoolBaseline } from "../tfjs/baselines.ts";
import type { BenchHandle, Shape4, SortPoolCase } from "../types.ts";
import { requestDeviceOrThrow } from "./device.ts";
import { prepareRooflineBench } from "./roofline.ts";
import { benchDy } from "./wgsl.ts";

interface Participant {
  readonly name: string;
  readonly run: () => Promise<void>;
}

function argument(flag: string, fallback: string): string {
  const i = Deno.args.indexOf(flag);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

/** CPU nanoseconds used so far by all threads of this process (Linux), or NaN elsewhere. */
function cpuNanoseconds(): number {
  try {
    let total = 0;
    for (const task of Deno.readDirSync("/proc/self/task")) {
      try {
        total += Number(Deno.readTextFileSync(`/proc/self/task/${task.name}/schedstat`).split(" ")[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return total;
  } catch {
    return NaN;
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds of one empty submit + onSubmittedWorkDone: the wait floor every call pays here. */
async function waitFloor(): Promise<number> {
  const { device } = await requestDeviceOrThrow("sortpool measure floor");
  try {
    for (let i = 0; i < 3; i++) {
      device.queue.submit([device.createCommandEncoder().finish()]);
      await device.queue.onSubmittedWorkDone();
    }
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      device.queue.submit([device.createCommandEncoder().finish()]);
      await device.queue.onSubmittedWorkDone();
      samples.push(performance.now() - t);
    }
    return median(samples);
  } finally {
    device.destroy();
  }
}

async function main(): Promise<void> {
  const rounds = Number(argument("--rounds", "7"));
  const repetitions = Number(argument("--reps", "3"));
  const shape = argument("--shape", "32,64,64,32").split(",").map(Number) as unknown as Shape4;
  const k = Number(argument("--k", "4"));
  const only = argument("--only", "");
  const c: SortPoolCase = {
    x: benchDy(sizeOf(shape)),
    shape,
    logits: Array.from({ length: k }, (_, i) => 0.1 * i),
    k,
    padding: "same",
  };
  const handles = new Map<string, BenchHandle>();
  const roofline = await prepareRooflineBench(shape);
  handles.set("roofline", roofline);
  handles.set("maxPool@webgpu", await preparePoolBaseline("maxPool", "webgpu", shape, "same"));
  for (const name of ["wgsl", "wgsl@tfjs", "tfjs-topk@webgpu"]) {
    if (only && !only.split(",").includes(name)) continue;
    const impl = implementations.find((i) => i.name === name);
    if (!impl?.prepareBench) {
      console.log(`(${name}: not in the registry, skipped)`);
      continue;
    }
    handles.set(name, await impl.prepareBench(c));
  }
  const participants: Participant[] = [];
  for (const [name, h] of handles) {
    participants.push({ name: `${name} forward`, run: () => h.forward() });
    // tf.topk pooling has no cheap backward here; its forward alone is the comparison.
    if (name !== "tfjs-topk@webgpu") participants.push({ name: `${name} fwd+bwd`, run: () => h.forwardBackward() });
  }
  for (const p of participants) for (let i = 0; i < 2; i++) await p.run();
  const samples = new Map(participants.map((p) => [p.name, [] as number[]]));
  const cpu = new Map(participants.map((p) => [p.name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const order = [
      ...participants.slice(round % participants.length),
      ...participants.slice(0, round % participants.length),
    ];
    for (const p of order) {
      const reps = p.name.startsWith("tfjs-topk") ? 1 : repetitions;
      const c = cpuNanoseconds();
      const t = performance.now();
      for (let i = 0; i < reps; i++) await p.run();
      samples.get(p.name)!.push((performance.now() - t) / reps);
      cpu.get(p.name)!.push((cpuNanoseconds() - c) / 1e6 / reps);
    }
  }
  const ms = (name: string) => median(samples.get(name) ?? [NaN]);
  const cpuMs = (name: string) => median(cpu.get(name) ?? [NaN]);
  console.log(`adapter: ${roofline.adapter}; shape [${shape.join(", ")}], k = ${k}, "same"; ${rounds} rounds`);
  console.log(`empty submit + onSubmittedWorkDone (floor of every call): ${(await waitFloor()).toFixed(2)} ms`);
  console.log(`${"".padEnd(28)} ${"wall ms".padStart(9)} ${"CPU ms".padStart(9)}  (medians per call)`);
  for (const p of participants) {
    console.log(`${p.name.padEnd(28)} ${ms(p.name).toFixed(2).padStart(9)} ${cpuMs(p.name).toFixed(2).padStart(9)}`);
  }
  const gbps = (bytes: number, t: number) => (bytes / t / 1e6).toFixed(2);
  console.log(`roofline forward bandwidth: ${gbps(roofline.forwardBytes, ms("roofline forward"))} GB/s`);
  const ratio = (a: number, b: number) => (a / b).toFixed(3);
  for (const entry of ["wgsl", "wgsl@tfjs"]) {
    if (!handles.has(entry)) continue;
    const f = `${entry} forward`;
    const fb = `${entry} fwd+bwd`;
    console.log(`${entry}:                                 wall     CPU`);
    console.log(
      `  forward / maxPool forward          ${ratio(ms(f), ms("maxPool@webgpu forward"))}   ` +
        `${ratio(cpuMs(f), cpuMs("maxPool@webgpu forward"))}  (target <= 0.5)`,
    );
    console.log(
      `  fwd+bwd / maxPool fwd+bwd          ${ratio(ms(fb), ms("maxPool@webgpu fwd+bwd"))}   ` +
        `${ratio(cpuMs(fb), cpuMs("maxPool@webgpu fwd+bwd"))}  (target <= 1.0)`,
    );
    console.log(
      `  forward bandwidth / roofline's     ${ratio(ms("roofline forward"), ms(f))}   ` +
        `${ratio(cpuMs("roofline forward"), cpuMs(f))}  (target >= 0.8; ${
          gbps(roofline.forwardBytes, ms(f))
        } GB/s wall)`,
    );
    if (handles.has("tfjs-topk@webgpu")) {
      console.log(
        `  tf.topk forward / forward          ${(ms("tfjs-topk@webgpu forward") / ms(f)).toFixed(1)}   ` +
          `${(cpuMs("tfjs-topk@webgpu forward") / cpuMs(f)).toFixed(1)}  (target >= 100)`,
      );
    }
  }
  for (const h of handles.values()) await h.dispose();
  for (const i of implementations) await i.dispose?.();
}

if (import.meta.main) await main();
