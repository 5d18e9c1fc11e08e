/**
 * The fixed workloads the gate times. Ratios depend on the shapes, so the baseline records the
 * workload id and a changed workload requires a new baseline.
 *
 * @module
 */
import { uniformFloat32 } from "../src/random.ts";
import { sizeOf } from "../src/spec.ts";
import type { Padding, Shape4, SortPoolCase } from "../src/types.ts";
import type { PassName } from "./baseline.ts";
import type { Clock } from "./timing.ts";

/** One timed problem per pass plus how long to time it. */
export interface GateWorkload {
  /** Short name used in messages ("gate", "small"). */
  readonly name: string;
  /** NHWC input shape per pass. */
  readonly shapes: Readonly<Record<PassName, Shape4>>;
  /** How many sorted values are kept. */
  readonly k: number;
  /** Padding mode. */
  readonly padding: Padding;
  /** Interleaved rounds per pass. */
  readonly rounds: number;
  /** Calls per sample; the sample is the fastest (see ci/timing.ts). */
  readonly repetitions: number;
  /** Untimed calls per participant before the rounds. */
  readonly warmup: number;
}

/**
 * The gate's workload. k = 4 ranks all four values (the heaviest case); odd height and width
 * exercise the zero-padded border windows of "same"; C = 32 takes the kernels' vec4 path. The
 * sizes keep the kernels' own time well above the fixed cost of a call (~11 ms of wall time to
 * wait for the emulated GPU, ~0.5 ms of CPU time; ci/README.md), so a slower kernel shows in the
 * ratio instead of drowning in overhead. The forward pass needs the larger input for that; forward+backward
 * does more work per element, and its tf.maxPool gradient is the slowest participant of all,
 * so half the input keeps the gate inside its time budget.
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
 * A reduced workload for the vitest self-test: a quarter of the gate's data and as many rounds
 * (with fewer, a few disturbed rounds could pull the interval's low end under the limit). On the
 * CPU clock a doubled kernel shows as nearly twice the ratio even at this size; on the wall clock
 * the fixed wait per call would dilute it more (use the gate workload there).
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

/**
 * The identity of a measurement for the baseline: what the ratios depend on (shapes, k, padding
 * and the clock), not how long it was measured.
 */
export function workloadId(w: Pick<GateWorkload, "shapes" | "k" | "padding">, clock: Clock): string {
  return `forward ${w.shapes.forward.join("x")}, forward+backward ${w.shapes.forwardBackward.join("x")}, ` +
    `k=${w.k} ${w.padding}, ${clock} clock`;
}

/** Fixed logits of the timed case (unequal, so no weight is trivially zero or one). */
export function gateLogits(k: number): number[] {
  return [0.6, 0.2, -0.1, -0.5].slice(0, k);
}

/** The SortPoolCase an entry's prepareBench receives for `pass` of workload `w`. */
export function gateCase(w: GateWorkload, pass: PassName): SortPoolCase {
  const shape = w.shapes[pass];
  // Seed 1: the same input that preparePoolBaseline gives tf.maxPool.
  return { x: uniformFloat32(sizeOf(shape), 1), shape, logits: gateLogits(w.k), k: w.k, padding: w.padding };
}
