/**
 * The adapter and engine the gate's workers time on: the clock `auto` resolves to, one-line labels
 * for the report, and a warning when the workers disagree.
 *
 * @module
 */
import { isCpuAdapter } from "../harness/measure/clocks.ts";
import type { GateClock } from "./ab.ts";
import type { GateOptions } from "./options.ts";
import type { AdapterInfo } from "./protocol.ts";
import type { WorkerHello } from "./workers.ts";

/** Whether an adapter is a CPU emulation of a GPU (harness/measure/clocks.ts, shared with the benchmarks). */
export { isCpuAdapter };

/** The clock `auto` resolves to: CPU time on a CPU-emulated adapter, wall time on a real GPU. */
export function chooseClock(clock: GateOptions["clock"], adapter: AdapterInfo): GateClock {
  if (clock !== "auto") return clock;
  return isCpuAdapter(adapter) ? "cpu" : "wall";
}

/**
 * The engine and adapter a worker timed on, from its adapter.info (src/webgpu/engine.ts
 * `describeAdapter`), plus "(DENO_WEBGPU_BACKEND=gl requested)" on Deno's engine, whose
 * adapter.info is the same on GL and Vulkan.
 */
export function adapterLabel(h: WorkerHello): string {
  const a = h.adapter;
  const line = h.adapterLine ??
    `${a?.description || a?.vendor || "unknown adapter"} on an engine the worker did not name`;
  const requested = h.denoWebgpuBackend && (h.engine?.name ?? "deno") === "deno"
    ? ` (DENO_WEBGPU_BACKEND=${h.denoWebgpuBackend} requested)`
    : "";
  return `${line}${requested}`;
}

/** The engine's name a worker reported ("deno", "dawn"), or "unknown". */
export function engineLabel(h: WorkerHello): string {
  return h.engine?.name ?? "unknown";
}

/** A warning when the workers did not all time on the same engine and adapter (else none). */
export function adapterMismatch(workers: readonly { label: string; hello: WorkerHello }[]): string[] {
  const labels = new Set(workers.map((w) => adapterLabel(w.hello)));
  if (labels.size <= 1) return [];
  return [
    `the workers timed on different engines or adapters: ${
      workers.map((w) => `${w.label}: ${adapterLabel(w.hello)}`).join("; ")
    }`,
  ];
}
