/**
 * Which shapes, k values and sample budgets the shape suites use at each plan level (the default,
 * `--quick`, `--full`, `--cross`), per device group. Pure data plus the selection logic of
 * `--shapes` and `--k`.
 *
 * @module
 */
import type { Shape4 } from "../src/types.ts";
import type { WindowOptions } from "../src/spec.ts";
import { UsageError } from "../harness/cli.ts";

/** How much a run measures: `deno task bench` (default), `--quick`, `--full`, `--cross`. */
export const PLAN_LEVELS = ["default", "quick", "full", "cross"] as const;

/** One of {@link PLAN_LEVELS}. */
export type PlanLevel = typeof PLAN_LEVELS[number];

/** Device groups: subjects of one group are interleaved together and compared with each other. */
export type Group = "webgpu" | "cpu";

/** Sample budget of one suite (see harness/measure/rounds.ts `RoundOptions` for the meaning of each knob). */
export interface SuitePolicy {
  readonly samples: number;
  readonly minSamples: number;
  /** Per task, milliseconds of measured calls after which it stops at `minSamples`. */
  readonly budgetMs: number;
  readonly warmupCalls: number;
  readonly warmupMs: number;
  /** Tasks whose first call is slower are skipped with the reason printed. */
  readonly skipFirstCallOverMs: number;
  /** Tasks whose first call is slower get no second warm-up call. */
  readonly warmupOnceOverMs: number;
}

/** One shape of the plan and what runs on it. */
export interface PlannedShape {
  /** Short label used by `--shapes` and in reports. */
  readonly label: string;
  /** NHWC input shape (even H and W: no padded cells, so every k moves the same bytes). */
  readonly shape: Shape4;
  /** Why the shape is in the plan. */
  readonly note: string;
  /** k values benchmarked for registry entries (baselines have no k). */
  readonly ks: readonly number[];
  /** Policy per group, or the reason the group does not run on this shape. */
  readonly groups: Readonly<Record<Group, SuitePolicy | { readonly skip: string }>>;
  /** Window and strides of every case (src/spec.ts `WindowOptions`); absent: 2x2 with stride 2. */
  readonly window?: WindowOptions;
}

/** Logits of a benchmark case: distinct, so every rank gets a different weight (k up to 9). */
export function logitsFor(k: number): number[] {
  return [0.4, 0.1, -0.2, -0.5, 0.3, -0.1, 0.2, -0.3, 0].slice(0, k);
}

/** The float64 reference is slow JS: benchmarked only up to this many input elements. */
export const FLOAT64_MAX_ELEMENTS = 1 << 20;

/** The shape suites' plan at one level. */
export interface BenchPlan {
  readonly name: PlanLevel;
  /** No suite starts after this many ms since the run started (bounds the run time). */
  readonly deadlineMs: number;
  readonly shapes: readonly PlannedShape[];
  /**
   * Only the gated registry entries, tf.maxPool and the copy kernel (no tf.avgPool, no tfjs-op
   * entries): the cross-engine plan, short enough for Dawn on SwiftShader.
   */
  readonly gatedOnly?: boolean;
}

const ALL_K = [1, 2, 3, 4] as const;

function policy(
  samples: number,
  budgetMs: number,
  skipFirstCallOverMs: number,
  warmupMs = 200,
  minSamples = Math.min(3, samples),
): SuitePolicy {
  return {
    samples,
    minSamples,
    budgetMs,
    warmupCalls: 2,
    warmupMs,
    skipFirstCallOverMs,
    warmupOnceOverMs: 1000,
  };
}

/** The full plan: five shapes from 16 K to 25.7 M input elements, all k, both groups. */
export const FULL_PLAN: BenchPlan = {
  name: "full",
  deadlineMs: 12 * 60_000,
  shapes: [
    {
      label: "small",
      shape: [1, 32, 32, 16],
      note: "smallest: launch and latency bound",
      ks: ALL_K,
      groups: { webgpu: policy(15, 1500, 5_000), cpu: policy(15, 1500, 3_000) },
    },
    {
      label: "medium",
      shape: [4, 64, 64, 32],
      note: "0.5 M elements",
      ks: ALL_K,
      groups: { webgpu: policy(12, 1500, 8_000), cpu: policy(10, 2000, 8_000) },
    },
    {
      label: "target",
      shape: [32, 64, 64, 32],
      note: "4.2 M elements; the shape of the kernel targets (vs tfjs-topk@webgpu at k = 4); k = 4 only, " +
        "as the tfjs entries take seconds a call here",
      ks: [4],
      groups: { webgpu: policy(10, 2000, 8_000), cpu: policy(5, 3000, 4_000, 0) },
    },
    {
      label: "resnet",
      shape: [8, 112, 112, 64],
      note: "ResNet-like layer: 112x112x64 feature maps (ResNet stem after conv1), batch 8",
      ks: ALL_K,
      groups: { webgpu: policy(8, 2500, 2_500), cpu: policy(3, 3000, 4_000, 0) },
    },
    {
      label: "large",
      shape: [32, 112, 112, 64],
      note: "largest: 25.7 M elements, 103 MB of input (under the 128 MiB storage binding limit)",
      ks: ALL_K,
      groups: {
        webgpu: policy(5, 3000, 4_000, 0),
        cpu: { skip: "cpu group skipped on the large shape: tf.maxPool@cpu forward+backward alone takes ~8 s a call" },
      },
    },
  ],
};

/**
 * The quick plan: the small shape on both groups, a 0.5 M-element shape and the target shape on
 * WebGPU only; k = 1 and 4 (k = 4 only on the target shape, where tfjs entries predicted to take
 * over 1.5 s a call are skipped).
 */
export const QUICK_PLAN: BenchPlan = {
  name: "quick",
  deadlineMs: 40_000,
  shapes: [
    {
      label: "small",
      shape: [1, 32, 32, 16],
      note: "smallest: launch and latency bound",
      ks: [1, 4],
      groups: { webgpu: policy(7, 300, 1_500, 50), cpu: policy(7, 300, 1_500, 50) },
    },
    {
      label: "medium",
      shape: [4, 64, 64, 32],
      note: "0.5 M elements",
      ks: [1, 4],
      groups: {
        webgpu: policy(5, 400, 1_500, 0),
        cpu: { skip: "--quick runs the cpu group on the small shape only (tfjs-cpu takes seconds a call beyond it)" },
      },
    },
    {
      label: "target",
      shape: [32, 64, 64, 32],
      note: "4.2 M elements; the shape of the kernel targets; k = 4 only; tasks over 1 s a call get 2 samples",
      ks: [4],
      groups: {
        webgpu: policy(5, 500, 1_500, 0, 2),
        cpu: { skip: "--quick runs the cpu group on the small shape only (tfjs-cpu takes seconds a call beyond it)" },
      },
    },
  ],
};

/**
 * The cross-engine plan (`--cross`, and each engine of `--engines`): the gated entries against
 * tf.maxPool and the copy kernel of the same engine, WebGPU only, on two shapes small enough for
 * Dawn on SwiftShader (8-12x slower than lavapipe here): medium 4x64x64x32 at k = 1 and 4, and the
 * kernel targets' shape 32x64x64x32 at k = 4. Every task gets exactly 2 untimed warm-up calls
 * whatever its first call costs (Dawn's first calls compile pipelines and take seconds to tens of
 * seconds), so no first call is ever a sample, and none is skipped for being slow.
 */
export const CROSS_PLAN: BenchPlan = {
  name: "cross",
  deadlineMs: 20 * 60_000,
  gatedOnly: true,
  shapes: [
    {
      label: "medium",
      shape: [4, 64, 64, 32],
      note: "0.5 M elements",
      ks: [1, 4],
      groups: {
        webgpu: { ...policy(9, 4000, 300_000, 0, 5), warmupOnceOverMs: Infinity },
        cpu: { skip: "the cross-engine plan runs on WebGPU only" },
      },
    },
    {
      label: "target",
      shape: [32, 64, 64, 32],
      note: "4.2 M elements; the shape of the kernel targets; k = 4 only",
      ks: [4],
      groups: {
        webgpu: { ...policy(7, 6000, 300_000, 0, 5), warmupOnceOverMs: Infinity },
        cpu: { skip: "the cross-engine plan runs on WebGPU only" },
      },
    },
  ],
};

/**
 * The default plan (`deno task bench`): the kernel targets' question only, in about two minutes
 * with the bandwidth suite. The gated entries, tf.maxPool and the copy kernel on the targets' shape
 * 32x64x64x32 at k = 4, WebGPU only, both passes, 15 interleaved rounds that every task takes
 * (each ratio needs tf.maxPool's call of the same round; its forward+backward takes about a second
 * a call here).
 */
export const DEFAULT_PLAN: BenchPlan = {
  name: "default",
  deadlineMs: 5 * 60_000,
  gatedOnly: true,
  shapes: [
    {
      label: "target",
      shape: [32, 64, 64, 32],
      note: "4.2 M elements; the shape of the kernel targets; k = 4 only",
      ks: [4],
      groups: {
        webgpu: policy(15, Infinity, 60_000, 0, 15),
        cpu: { skip: "the default plan runs on WebGPU only (--full for the cpu group)" },
      },
    },
  ],
};

/** The shape plan of each level. */
export const SHAPE_PLANS: Readonly<Record<PlanLevel, BenchPlan>> = {
  default: DEFAULT_PLAN,
  quick: QUICK_PLAN,
  full: FULL_PLAN,
  cross: CROSS_PLAN,
};

/** Applies `--shapes` and `--k` to a plan; throws UsageError naming the flag when a value matches nothing. */
export function selectPlan(plan: BenchPlan, shapes: readonly string[], ks: readonly number[]): BenchPlan {
  const known = plan.shapes.map((s) => s.label);
  for (const label of shapes) {
    if (!known.includes(label)) {
      throw new UsageError("--shapes", `labels of the ${plan.name} plan (${known.join(", ")})`, label);
    }
  }
  const picked = plan.shapes
    .filter((s) => shapes.length === 0 || shapes.includes(s.label))
    .map((s) => ({ ...s, ks: ks.length === 0 ? s.ks : s.ks.filter((k) => ks.includes(k)) }))
    .filter((s) => s.ks.length > 0);
  if (picked.length === 0) {
    throw new UsageError(
      "--k",
      `k values the ${plan.name} plan runs on the selected shapes (${
        plan.shapes.map((s) => `${s.label}: ${s.ks.join(",")}`).join("; ")
      })`,
      ks.join(","),
    );
  }
  return { ...plan, shapes: picked };
}
