/**
 * What a property case is: the value, dy and logit kinds it draws from, the bounds on its shape,
 * the shrinkable parameters fast-check draws, the constraints a property narrows them by, and the
 * expanded case every check receives (props/generators.ts describes how a case is drawn).
 *
 * @module
 */
import type { Padding, Pair, Shape4 } from "../../src/types.ts";
import type { Precision } from "../../testkit/mod.ts";

/**
 * How the values of x are chosen.
 * - `distinct`: odd multiples of a power-of-two unit, distinct inside every window (gap ≥ 2 units,
 *   and ≥ 1 unit from a padded zero).
 * - `near-ties`: each window holds one odd base times the unit plus distinct odd offsets of
 *   δ = unit·2^-p (p in 6..16): distinct, but only 2δ apart (overlapping windows: one base per
 *   image and channel).
 * - `ties`: a small alphabet {0, 1, -1, 2, -2}·unit (size 1..5), zeros with a random sign, so exact
 *   ties (including +0 vs -0 and ties with padded zeros) are common.
 * - `huge` / `tiny`: like `distinct` with a unit of 2^60..2^100 / 2^-100..2^-60 (float32) or
 *   2^900..2^990 / 2^-990..2^-900 (float64): still normal numbers in every product the layer forms.
 * - `mixed`: like `distinct`, each element with its own unit from {tiny, 1, huge}.
 * - `nonfinite`: `ties` values with about a quarter replaced by NaN (canonical, sign bit set, or with a
 *   payload: `NAN_VARIANTS` in ./values.ts), +Infinity or -Infinity.
 * - `infinities`: `ties` values with about a quarter replaced by ±Infinity (no NaN).
 * - `signed-zeros`: about half -0, some +0, the rest negative multiples of the unit (-1, -2, -3), so
 *   windows whose maximum is -0 (k = 1 gives -0) and windows whose kept values are all -0 (y = -0)
 *   are common (SPEC.md §5 "Sign of a zero").
 * - `subnormals`: `ties` values with about a third replaced by float32 subnormals of either sign
 *   (odd·2^-149·2^j below 2^-126), so windows mix subnormals with ±0 and ordinary values (SPEC.md §4
 *   "Subnormal values": a flushing device may rank a subnormal as a zero of its sign; compare with
 *   props/agreement.ts, which applies that rule). Not in {@link VALUE_KINDS}: properties opt in.
 */
export type ValueKind =
  | "distinct"
  | "near-ties"
  | "ties"
  | "huge"
  | "tiny"
  | "mixed"
  | "nonfinite"
  | "infinities"
  | "signed-zeros"
  | "subnormals";

/** Every value kind, in the order used when a property does not narrow them. */
export const VALUE_KINDS: readonly ValueKind[] = [
  "distinct",
  "near-ties",
  "ties",
  "huge",
  "tiny",
  "mixed",
  "nonfinite",
  "infinities",
  "signed-zeros",
];

/** Value kinds whose values are distinct inside every window (no exact ties, no NaN or ±Infinity). */
export const TIE_FREE_KINDS: readonly ValueKind[] = ["distinct", "near-ties", "huge", "tiny", "mixed"];

/**
 * How dy is chosen (SPEC.md §5 "Gradient"): `finite` (multiples of 1/16 in [-4, 4], about a tenth
 * 0); `nonfinite`: the same with about a fifth replaced by +Infinity, -Infinity or NaN;
 * `padded-nonfinite`: +Infinity, -Infinity or NaN at every window whose kept cells are all padding
 * (negative real values beside the padded rows / columns), where the spec keeps dLogits finite
 * because padded cells are skipped (never 0·dy); finite elsewhere. It brings its own shape and
 * values (see `paddedDyShape`), where such windows are common.
 */
export type DyKind = "finite" | "nonfinite" | "padded-nonfinite";

/**
 * How the logits are chosen (SPEC.md §5 "Weights"), per group of k (each channel's group when the
 * logits are per channel):
 * - `ordinary`: multiples of 1/64 in [-4, 4] (exact in float32);
 * - `range`: near and past float32's range, each logit one of: ±(3.4e38 .. 3.5e38) around float32's
 *   largest finite value, ±1e39 .. ±2e39 (finite in float64 only), or `B·(1 + j·2^-30)` for
 *   B ∈ {1e8, -1e8, 1e30, 3e38} and |j| ≤ 3 (logits that float32 rounds to equal values while
 *   float64 keeps them apart, so only a float64 softmax gives the right weights), mixed with
 *   ordinary ones; or (a quarter of the groups) maximal logits beside logits 80..110 below them
 *   (`SUBNORMAL_GAP_MIN` in ./logits.ts: float32 weights around 2^-126, flushed to +0 below it, SPEC.md §5);
 * - `nonfinite`: ordinary logits with at least one, about a third, replaced by +Infinity,
 *   -Infinity or NaN.
 */
export type LogitKind = "ordinary" | "range" | "nonfinite";

/** Largest batch, height/width and channel count the generators draw. 13 covers odd and even sizes ≥ 12. */
export const MAX_BATCH = 3;
/** See {@link MAX_BATCH}. */
export const MAX_SIDE = 13;
/** See {@link MAX_BATCH}. */
export const MAX_CHANNELS = 8;
/** Largest window side and stride drawn (SPEC.md §2: 1..4). */
export const MAX_WINDOW = 4;
/** Most cells a window has (4x4), hence the largest k. */
export const MAX_CELLS = MAX_WINDOW * MAX_WINDOW;
/**
 * Most work per image and channel a drawn general-window case has: output windows x cells per
 * window. A 13x13 input with 2x2/2 windows has 7·7·4 = 196; general windows may use a little more
 * (a 4x4/1 "same" case is then at most 4x4), so they cost about what default cases cost.
 */
export const WORK_CAP = 256;
/** Logits are multiples of 1/LOGIT_DENOMINATOR in [-4, 4]: exact in float32. */
export const LOGIT_DENOMINATOR = 64;
/** Largest |logit|. */
export const LOGIT_MAX = 4;
/** dy values are multiples of 1/16 in [-4, 4]: exact in float32. */
export const DY_DENOMINATOR = 16;

/** A case's window (SPEC.md §2). */
export interface WindowParams {
  /** `[kh, kw]`, each 1..4. */
  readonly poolSize: Pair;
  /** `[sh, sw]`, each 1..4. */
  readonly strides: Pair;
  /** false: the case leaves `poolSize` and `strides` out (the defaults, 2x2/2); true: it passes them. */
  readonly explicit: boolean;
}

/** The default window, left out of the case (SPEC.md §2: 2x2, stride 2). */
export const DEFAULT_WINDOW: WindowParams = { poolSize: [2, 2], strides: [2, 2], explicit: false };

/** The fast-check-drawn, shrinkable parameters of a case. */
export interface CaseParams {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** 1..kh·kw. */
  readonly k: number;
  readonly padding: Padding;
  readonly kind: ValueKind;
  /** Selects the unit exponent within the kind's range (0 = unit 1 for ordinary kinds). */
  readonly scaleParam: number;
  /** Range of the random integer part of distinct values, 0..7 (0 gives the values 1, 3, 5, 7). */
  readonly spread: number;
  /** Alphabet size of `ties`-like kinds, 1..5 (1: every value is ±0). */
  readonly alphabet: number;
  /** Selects p in δ = unit·2^-p for `near-ties`. */
  readonly nearTieParam: number;
  /**
   * The first (up to) 4 logit numerators of channel 0's group (over {@link LOGIT_DENOMINATOR}); the
   * rest of the k (and the other channels' groups) come from the data seed.
   */
  readonly logitCodes: readonly number[];
  /** Sort each group of logits descending (monotone weights), which makes the tie bracket check apply. */
  readonly descendingLogits: boolean;
  /**
   * Order in which coordinate checks perturb cell slots (a permutation of a subset of
   * 0..{@link MAX_CELLS} − 1; slots ≥ kh·kw are passed over): slot `(row mod kh)·kw + (col mod kw)`.
   */
  readonly slotOrder: readonly number[];
  /** Seed of the arrays expanded by the PRNG. */
  readonly dataSeed: number;
  /** How dy is drawn. */
  readonly dyKind: DyKind;
  /** How the logits are drawn. */
  readonly logitKind: LogitKind;
  /** Window and strides. */
  readonly window: WindowParams;
  /** Logits per channel (length C·k, channel-major; SPEC.md §1) rather than k shared ones. */
  readonly perChannel: boolean;
}

/** A fully expanded case. All arrays hold float64 numbers exactly representable in `precision`. */
export interface PropCase {
  readonly params: CaseParams;
  readonly precision: Precision;
  readonly shape: Shape4;
  readonly k: number;
  readonly padding: Padding;
  /** `[kh, kw]` (filled in: `[2, 2]` when the case leaves it out, see `params.window.explicit`). */
  readonly poolSize: Pair;
  /** `[sh, sw]` (filled in). */
  readonly strides: Pair;
  /** k shared logits, or C·k per channel (channel-major). */
  readonly logits: readonly number[];
  /** Input values, NHWC. */
  readonly x: Float64Array;
  /** Upstream gradient, one per output (zeros with either sign; ±Infinity and NaN for the non-finite dy kinds). */
  readonly dy: Float64Array;
  /** Random direction in x, entries in {-1, 0, 1}. */
  readonly direction: Int8Array;
  /** Random direction in logits (their length), entries in {-1, 0, 1}, not all zero. */
  readonly logitDirection: readonly number[];
  /**
   * x with the values of every window's real cells permuted (a random permutation per window) when
   * windows do not overlap; x itself when they do (no such symmetry exists there).
   */
  readonly xPermuted: Float64Array;
  /**
   * A key that is not a case key, for properties that pass the case with it and expect it refused
   * (SPEC.md §6 "Unknown keys"); absent unless the constraints ask for one (`unknownKeys`).
   */
  readonly unknownKey?: string;
  /** Power-of-two scale of the values. */
  readonly unit: number;
  /** Shift c for the shift-invariance property (an integer multiple of the unit). */
  readonly shift: number;
  /** Positive scale a for the homogeneity property. */
  readonly scale: number;
}

/** Which windows a property draws. */
export type WindowDraw = "default" | "any" | "non-overlapping";

/** Options narrowing what a property's generator draws. */
export interface CaseConstraints {
  /** Value kinds to draw from (first one is where shrinking goes). */
  readonly kinds: readonly ValueKind[];
  /** Only these k (those above kh·kw are left out per case). */
  readonly ks?: readonly number[];
  /** Only cases where shifting x shifts the output: "valid", or k = 1 (padding is then ignored). */
  readonly shiftInvariant?: boolean;
  /** dy kinds to draw from (default: finite only). */
  readonly dyKinds?: readonly DyKind[];
  /** Logit kinds to draw from (default: ordinary only). */
  readonly logitKinds?: readonly LogitKind[];
  /**
   * "default" (the default): only the 2x2/2 window, left out of the case; "any": every family of
   * the module notes; "non-overlapping": those whose windows never share a cell.
   */
  readonly windows?: WindowDraw;
  /** Also draw per-channel logits (C·k; about 30% of cases). Default false: k shared logits. */
  readonly perChannelLogits?: boolean;
  /**
   * Empty inputs (SPEC.md §1 "Empty inputs"): "sometimes" also draws a batch of 0 (about one case in
   * six, the last batch of a data pipeline); "always" only empty inputs, each with one zero
   * dimension drawn among the batch, height, width and channels (a zero height or width with
   * "valid" only where SPEC.md §3 allows it, H ≥ kh − sh, else with "same"; a zero channel count
   * with shared logits); absent: never.
   */
  readonly emptyBatches?: "sometimes" | "always";
  /**
   * Attach to every case a key that is not a case key (`unknownKeyArbitrary` in ./keys.ts: misspellings of
   * the case keys, snake_case, and near names such as `stride`), as `PropCase.unknownKey` (SPEC.md §6
   * "Unknown keys"). Default false.
   */
  readonly unknownKeys?: boolean;
}
