/**
 * The data contract shared by every sort_pool2d implementation in this project.
 *
 * @module
 */

/** Padding mode. See SPEC.md §3. */
export type Padding = "same" | "valid";

/** NHWC shape `[batch, height, width, channels]`. */
export type Shape4 = readonly [number, number, number, number];

/** A `[rows, columns]` pair: a window size or a stride. */
export type Pair = readonly [number, number];

/** Element storage accepted and returned by implementations. */
export type FloatArray = Float32Array | Float64Array;

/** One sort_pool2d problem: input, weights and layer options. */
export interface SortPoolCase {
  /** Input values, NHWC, row-major (channel fastest). */
  readonly x: FloatArray;
  /** `[B, H, W, C]` of `x`. */
  readonly shape: Shape4;
  /**
   * Unnormalised weights; `softmax(logits)[0]` weights the largest value. Length `k` (shared by all
   * channels) or `C·k` (per channel, channel-major: channel c's logits at `[c·k, c·k + k)`); any
   * numbers, ±Infinity and NaN included (SPEC.md §5 "Weights": softmax evaluated as its limit, in
   * float64, per group of k).
   */
  readonly logits: ArrayLike<number>;
  /** How many of the `kh·kw` sorted window values are kept, 1..kh·kw. */
  readonly k: number;
  /** "same" or "valid" (SPEC.md §3). */
  readonly padding: Padding;
  /** Window `[kh, kw]`, each 1..4; default `[2, 2]` (SPEC.md §2). */
  readonly poolSize?: Pair;
  /** Stride `[sh, sw]`, each 1..4; default `poolSize` (SPEC.md §2). */
  readonly strides?: Pair;
}

/** Forward result: pooled values and their NHWC shape. */
export interface ForwardResult {
  /** The pooled values, NHWC, row-major. */
  readonly y: FloatArray;
  /** Their shape `[B, Ho, Wo, C]` (SPEC.md §3). */
  readonly shape: [number, number, number, number];
}

/** Vector-Jacobian product of the layer for an upstream gradient `dy`. */
export interface GradientResult {
  /** dL/dx, same length and layout as `x`. */
  readonly dx: FloatArray;
  /** dL/dlogits, the length of `logits` (k, or C·k per channel). */
  readonly dLogits: FloatArray;
}

/**
 * A prepared workload for timing. Its data already lives where the implementation computes
 * (GPU buffers, tfjs tensors), so a timed call measures the kernel, not uploads. Each method
 * resolves only when the device has finished the work it queued.
 */
export interface BenchHandle {
  /** One forward pass. */
  forward(): Promise<void>;
  /** One forward pass plus the full backward pass (dx and dLogits). */
  forwardBackward(): Promise<void>;
  /** Releases every buffer or tensor the handle holds. */
  dispose(): void | Promise<void>;
}

/** How an implementation breaks ties, as declared in the registry. */
export type TieBehaviour =
  | { readonly kind: "spec" }
  | { readonly kind: "deviates"; readonly description: string };

/**
 * What an implementation handles, OpInfo-style (src/registry.ts `unsupportedReason`). Checks and
 * benchmarks skip a case an entry does not support and show `limitation`; the entry itself
 * rejects such a case with a SortPoolArgumentError.
 */
export interface Supports {
  /** "any": every poolSize and stride 1..4 (SPEC.md §2); "2x2/2": only 2x2 windows with stride 2. */
  readonly windows: "any" | "2x2/2";
  /** Whether `logits` may have length C·k (per-channel weights). */
  readonly perChannelLogits: boolean;
  /** Why the entry is limited; shown wherever a case is skipped. Required when anything is limited. */
  readonly limitation?: string;
}

/** Where the arithmetic runs. */
export type Device = "cpu" | "webgpu";

/** One row of the implementation table (see `src/registry.ts`). */
export interface Implementation {
  /** Unique name, `family@backend` where a family runs on several backends. */
  readonly name: string;
  /** One sentence: what this implementation is. */
  readonly description: string;
  /** Arithmetic precision of the computation (not of the returned arrays). */
  readonly precision: "float64" | "float32";
  /** Where the arithmetic runs. */
  readonly device: Device;
  /** Library or API that executes it, e.g. "js", "tfjs-cpu", "tfjs-webgpu", "webgpu". */
  readonly backend: string;
  /** Whether ranking and gradient routing follow SPEC.md's tie rule exactly. */
  readonly ties: TieBehaviour;
  /**
   * Whether the speed gate (`deno task gate`, gate/) times this entry against the base commit, and
   * the benchmarks (bench/) judge the kernel targets on it. Set it on the project's own kernels
   * (whose speed a change here can move); leave it false on entries whose speed belongs to a
   * library (the tfjs-op entries) or that are too slow to time in the gate's budget. Absent means
   * false. Needs `prepareBench`.
   */
  readonly gated?: boolean;
  /** Which windows, strides and logits layouts the entry handles; absent means everything. */
  readonly supports?: Supports;
  /** Forward pass. */
  forward(c: SortPoolCase): Promise<ForwardResult>;
  /** Backward pass (recomputes the forward ranking as needed). */
  gradient(c: SortPoolCase, dy: ArrayLike<number>): Promise<GradientResult>;
  /** Prepares a device-resident workload for benchmarks and the CI gate. */
  prepareBench?(c: SortPoolCase): Promise<BenchHandle>;
  /** Frees cached devices, pipelines and buffers. Safe to call twice. */
  dispose?(): void | Promise<void>;
}
