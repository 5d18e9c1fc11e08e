/**
 * What the gate times: one fixed problem per pass, and how long it measures.
 *
 * @module
 */
import { uniformFloat32 } from "../src/random.ts";
import { sizeOf } from "../src/spec.ts";
import type { Padding, Shape4, SortPoolCase } from "../src/types.ts";
import type { BenchPass } from "../harness/measure/passes.ts";

/** One timed problem per pass plus how long to time it. */
export interface GateWorkload {
  /** Short name used in messages and by --workload ("gate", "small"). */
  readonly name: string;
  /** NHWC input shape per pass. */
  readonly shapes: Readonly<Record<BenchPass, Shape4>>;
  /** How many sorted values are kept. */
  readonly k: number;
  /** Padding mode. */
  readonly padding: Padding;
  /** Interleaved rounds per pass; each round gives one ratio per check. */
  readonly rounds: number;
  /** Calls per sample; the sample is the fastest on each clock (harness/measure/clocks.ts). */
  readonly repetitions: number;
  /** Untimed calls per participant before the rounds (compilation, first allocations). */
  readonly warmup: number;
}

/**
 * The gate's workload. k = 4 ranks all four values (the heaviest case); odd height and width
 * exercise the zero-padded border windows of "same"; C = 32 takes the kernels' vec4 path. The
 * sizes keep a call's kernel work (10-30 ms of CPU here) well above its fixed cost (~0.5 ms of
 * CPU, ~11 ms of wall time to notice completion), so a slower kernel shows in the ratio instead
 * of drowning in overhead. forward+backward does more work per element: half the input.
 */
export const GATE_WORKLOAD: GateWorkload = {
  name: "gate",
  shapes: { forward: [8, 255, 255, 32], forwardBackward: [4, 255, 255, 32] },
  k: 4,
  padding: "same",
  rounds: 15,
  repetitions: 3,
  warmup: 2,
};

/**
 * A reduced workload for the vitest self-test: a quarter of the gate's data, as many rounds. On
 * the CPU clock a doubled kernel still shows as nearly twice the time at this size.
 */
export const SMALL_WORKLOAD: GateWorkload = {
  name: "small",
  shapes: { forward: [2, 255, 255, 32], forwardBackward: [1, 255, 255, 32] },
  k: 4,
  padding: "same",
  rounds: 15,
  repetitions: 2,
  warmup: 1,
};

/** Known workloads by name (the --workload flag). */
export const WORKLOADS: Readonly<Record<string, GateWorkload>> = { gate: GATE_WORKLOAD, small: SMALL_WORKLOAD };

/** One line naming what the ratios depend on: shapes, k and padding. */
export function describeWorkload(w: Pick<GateWorkload, "shapes" | "k" | "padding">): string {
  return `forward ${w.shapes.forward.join("x")}, forward+backward ${w.shapes.forwardBackward.join("x")}, ` +
    `k=${w.k} ${w.padding}`;
}

/** Fixed logits of the timed case (unequal, so no weight is trivially zero or one). */
export function gateLogits(k: number): number[] {
  return [0.6, 0.2, -0.1, -0.5].slice(0, k);
}

/** The part of a case that travels to a worker process: it rebuilds the same data from it. */
export interface CaseSpec {
  readonly shape: Shape4;
  readonly k: number;
  readonly padding: Padding;
  /** Seed of the input values (src/random.ts uniformFloat32). */
  readonly seed: number;
}

/** The case spec of `pass` of workload `w`. */
export function gateCaseSpec(w: GateWorkload, pass: BenchPass): CaseSpec {
  return { shape: w.shapes[pass], k: w.k, padding: w.padding, seed: 1 };
}

/**
 * The window the gate times: 2x2 with stride 2 and shared logits, the article's layer and the
 * default of every entry. Entries that also take other windows (SPEC.md §2) run their 2x2/2 kernels
 * for it; the general-window kernels are benchmarked by `deno task bench` (bench/windows.ts).
 */
export const GATE_WINDOW = { poolSize: [2, 2], strides: [2, 2] } as const;

/**
 * The SortPoolCase an entry's prepareBench receives: the same values in every process for a spec,
 * with {@link GATE_WINDOW} spelled out (a base that predates general windows ignores the fields).
 */
export function caseFromSpec(spec: CaseSpec): SortPoolCase {
  return {
    x: uniformFloat32(sizeOf(spec.shape), spec.seed),
    shape: spec.shape,
    logits: gateLogits(spec.k),
    k: spec.k,
    padding: spec.padding,
    ...GATE_WINDOW,
  };
}
