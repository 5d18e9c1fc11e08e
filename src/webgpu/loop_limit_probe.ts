/**
 * Whether a WebGPU device cuts shader loops short, found by running tiny counting kernels on it.
 *
 * Mesa's gallivm (the shader compiler of llvmpipe and lavapipe, the CPU adapters here) builds
 * every loop with a loop limiter: one counter per shader invocation (per SIMD batch of
 * invocations, in fact), set to LP_MAX_TGSI_LOOP_ITERATIONS = 65535 when the invocation starts and
 * decremented at the end of every pass through the body of ANY of its loops, nested or
 * sequential, the pass that exits a loop included (so a loop of n iterations that runs to its end
 * costs n + 1). When it reaches 0 the loop being run exits, and every later loop exits after one
 * pass. Each workgroup's invocations start with a fresh count. A kernel whose invocation runs
 * more loop iterations than that returns a wrong result with no error. The kernels' host code
 * therefore keeps every invocation's loop iterations within a fixed budget (src/webgpu/chunks.ts
 * LOOP_ITERATION_BUDGET); this probe measures the limiter itself, so that reports and tests can
 * say what the adapter does.
 *
 * Every trip count is read from a storage buffer and every counter is written out, so no compiler
 * can fold a loop away; each experiment is its own shader (the budget is per shader run).
 *
 * @module
 */
import { runOneShotKernel } from "./one_shot_kernel.ts";

/** A trip count far past Mesa's budget (65,535): a loop that stops short of it was cut. */
export const PROBE_TRIPS = 200_000;

/** What the probe found: loop iterations that ran, per experiment (each asked for {@link PROBE_TRIPS} or as stated). */
export interface LoopLimitBehaviour {
  /** One loop of PROBE_TRIPS iterations: how many ran. */
  readonly single: number;
  /** The same loop written as `loop { if (...) { break; } ... }`. */
  readonly breakLoop: number;
  /** One loop of PROBE_TRIPS iterations whose every other iteration ends in `continue`: how many ran. */
  readonly withContinue: number;
  /** Two loops one after the other, 40,000 iterations each: how many of each ran. */
  readonly sequential: readonly [number, number];
  /** 8 outer iterations of an inner loop of 10,000: outer iterations, and inner ones in total. */
  readonly nested: { readonly outer: number; readonly inner: number };
  /** Three workgroups of one invocation, each running a loop of 60,000: the fewest that ran (60,000: no budget spans workgroups). */
  readonly perWorkgroup: number;
  /**
   * The loop iterations one invocation may run in total over all its loops (a single loop cut
   * short ran exactly that many), or undefined when no experiment was cut short.
   */
  readonly budget: number | undefined;
  /**
   * Whether the loops of one invocation draw on one shared budget: the second of two sequential
   * loops, and the nest, stop where the iterations of all loops so far reach it.
   */
  readonly sharedAcrossLoops: boolean;
  /** One line for reports. */
  readonly summary: string;
}

const HEADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> trips: array<u32>;
@group(0) @binding(1) var<storage, read_write> ran: array<u32>;
`;

/** One experiment: its shader body (counts written to ran[0..]), trip counts, workgroups. */
interface Experiment {
  readonly code: string;
  readonly trips: readonly number[];
  readonly invocations?: number;
}

const SINGLE: Experiment = {
  trips: [PROBE_TRIPS],
  code: `${HEADER}
@compute @workgroup_size(1)
fn main() {
  var n = 0u;
  for (var i = 0u; i < trips[0]; i++) {
    n += 1u;
  }
  ran[0] = n;
}`,
};

const BREAK_LOOP: Experiment = {
  trips: [PROBE_TRIPS],
  code: `${HEADER}
@compute @workgroup_size(1)
fn main() {
  var n = 0u;
  loop {
    if (n >= trips[0]) {
      break;
    }
    n += 1u;
  }
  ran[0] = n;
}`,
};

const WITH_CONTINUE: Experiment = {
  trips: [PROBE_TRIPS],
  code: `${HEADER}
@compute @workgroup_size(1)
fn main() {
  var n = 0u;
  var odd = 0u;
  for (var i = 0u; i < trips[0]; i++) {
    n += 1u;
    if ((i & 1u) == 0u) {
      continue;
    }
    odd += 1u;
  }
  ran[0] = n;
  ran[1] = odd;
}`,
};

const SEQUENTIAL: Experiment = {
  trips: [40_000, 40_000],
  code: `${HEADER}
@compute @workgroup_size(1)
fn main() {
  var a = 0u;
  for (var i = 0u; i < trips[0]; i++) {
    a += 1u;
  }
  var b = 0u;
  for (var i = 0u; i < trips[1]; i++) {
    b += 1u;
  }
  ran[0] = a;
  ran[1] = b;
}`,
};

const NESTED: Experiment = {
  trips: [8, 10_000],
  code: `${HEADER}
@compute @workgroup_size(1)
fn main() {
  var outer = 0u;
  var inner = 0u;
  for (var i = 0u; i < trips[0]; i++) {
    outer += 1u;
    for (var j = 0u; j < trips[1]; j++) {
      inner += 1u;
    }
  }
  ran[0] = outer;
  ran[1] = inner;
}`,
};

/** runOneShotKernel dispatches ceil(invocations / 64) workgroups: 3 workgroups of one invocation. */
const PER_WORKGROUP: Experiment = {
  trips: [60_000],
  invocations: 3 * 64,
  code: `${HEADER}
@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3<u32>) {
  var n = 0u;
  for (var i = 0u; i < trips[0]; i++) {
    n += 1u;
  }
  ran[wid.x] = n;
}`,
};

async function run(device: GPUDevice, name: string, e: Experiment): Promise<Uint32Array> {
  const out = await runOneShotKernel(
    device,
    `loop limit probe: ${name}`,
    e.code,
    Uint32Array.from(e.trips),
    16,
    e.invocations ?? 1,
  );
  return new Uint32Array(out);
}

/**
 * Runs the probe on `device` and says whether, and how, it cuts loops short.
 *
 * @example
 * ```ts
 * import { requestDeviceOrThrow } from "./device.ts";
 * const { device } = await requestDeviceOrThrow("probe");
 * console.log((await probeLoopLimit(device)).summary);
 * ```
 */
export async function probeLoopLimit(device: GPUDevice): Promise<LoopLimitBehaviour> {
  const single = (await run(device, "single loop", SINGLE))[0];
  const breakLoop = (await run(device, "loop with break", BREAK_LOOP))[0];
  const withContinue = (await run(device, "loop with continue", WITH_CONTINUE))[0];
  const seq = await run(device, "sequential loops", SEQUENTIAL);
  const nest = await run(device, "nested loops", NESTED);
  const wg = await run(device, "per workgroup", PER_WORKGROUP);
  const sequential = [seq[0], seq[1]] as const;
  const nested = { outer: nest[0], inner: nest[1] };
  const perWorkgroup = Math.min(wg[0], wg[1], wg[2]);
  const budget = single < PROBE_TRIPS ? single : undefined;
  // Shared: two loops of 40,000, each within any per-loop budget, together pass it.
  const sharedAcrossLoops = budget !== undefined && sequential[0] + sequential[1] < 80_000;
  const summary = budget === undefined
    ? `runs loops to the end (${PROBE_TRIPS} iterations of one loop, 2 x 40000 in sequence, 8 x 10000 nested)`
    : `cuts loops short at ${budget} iterations per invocation: one loop ran ${single} of ${PROBE_TRIPS} ` +
      `(loop/break ${breakLoop}, with continue ${withContinue}); two loops of 40000 ran ${sequential[0]} + ` +
      `${sequential[1]}; 8 x 10000 nested ran ${nested.outer} outer, ${nested.inner} inner; ` +
      `${sharedAcrossLoops ? "one budget shared by all loops of an invocation" : "a budget per loop"}, ` +
      `${perWorkgroup === 60_000 ? "fresh for every workgroup" : `a workgroup ran ${perWorkgroup} of 60000`}`;
  return { single, breakLoop, withContinue, sequential, nested, perWorkgroup, budget, sharedAcrossLoops, summary };
}
