/**
 * fast-check generators for sort_pool2d property checks.
 *
 * A case is drawn in two layers. fast-check draws the small, shrinkable parameters (shape, window,
 * strides, k, padding, logits, value kind, scale exponent, value spread, slot order and a 32-bit
 * data seed); the bulk arrays (x, dy, directions, window permutations, logits past the first four)
 * are expanded from the data seed by a small deterministic PRNG. Drawing thousands of elements
 * through fast-check would cost more than the checks themselves, and shrinking them element by
 * element would take longer still; this way a failure shrinks towards a 1x1x1x1 (or kh x kw for
 * "valid") shape, the default 2x2/2 window with shared logits, k = 1, the first value kind, small
 * spreads and seed 0, and the expansion is the same on every replay of a seed and path.
 *
 * Windows (SPEC.md §2–3): with `windows: "any"` a case draws poolSize [kh, kw] and strides [sh, sw]
 * (each 1..4) from four families: the default 2x2/2 with the fields left out (the common path, 40%),
 * tiling windows with strides = poolSize (15%), overlapping windows with a stride below the window
 * on at least one axis (30%: 3x3/2, 3x3/1, 2x2/1, ...), and any pair (15%, gaps included: stride >
 * window). "valid" raises H and W to at least kh and kw (so H = kh is common), and a case's work
 * (output windows x cells per image and channel) is capped at {@link WORK_CAP} by shrinking H and W, so big
 * windows with stride 1 come with small inputs (H < kh with "same" included) and cost about what a
 * 2x2/2 case costs.
 *
 * Every value a case holds is exactly representable in the precision it was built for, and every
 * finite-difference step this module derives keeps x ± eps exact (checked, not assumed): see
 * {@link fdStepX} and the notes in props/tolerance.ts. Values are distinct inside every window
 * (for the distinct kinds) whatever the windows: tiling windows each get their own permutation of
 * residues, and overlapping ones a Latin layout (the residue of a cell depends on its row modulo kh
 * and column modulo kw, so any kh x kw block holds every residue once).
 *
 * @module
 */
import fc from "fast-check";
import { mulberry32 } from "../src/random.ts";
import {
  type AxisGeometry,
  axisGeometry,
  cellIndex,
  isPerChannel,
  type PoolGeometry,
  poolGeometry,
  rankCells,
  rankSumTerm,
  sizeOf,
  weightOffset,
  windowCells,
  windowsContaining,
} from "../src/spec.ts";
import type { Padding, Pair, Shape4 } from "../src/types.ts";
import { CASE_KEYS } from "../src/validate.ts";

/** Arithmetic precision a case is built for (the entry's declared precision). */
export type Precision = "float32" | "float64";

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
 *   payload: {@link NAN_VARIANTS}), +Infinity or -Infinity.
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
 *   ({@link SUBNORMAL_GAP_MIN}: float32 weights around 2^-126, flushed to +0 below it, SPEC.md §5);
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
   * Attach to every case a key that is not a case key ({@link unknownKeyArbitrary}: misspellings of
   * the case keys, snake_case, and near names such as `stride`), as `PropCase.unknownKey` (SPEC.md §6
   * "Unknown keys"). Default false.
   */
  readonly unknownKeys?: boolean;
}

/**
 * Keys close to a case key that are not one (SPEC.md §6 "Unknown keys"): what a misspelling, a
 * snake_case habit or another framework's name gives.
 */
export const NEAR_KEYS: readonly string[] = ["stride", "pool_size", "pool", "window", "kernel_size", "ksize", "pad"];

/** How {@link unknownKeyArbitrary} changes a case key. */
const MISSPELLINGS: readonly ((key: string) => string)[] = [
  (key) => key.slice(0, -1), // strides → stride
  (key) => `${key}s`, // padding → paddings
  (key) => key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`), // poolSize → pool_size
  (key) => key.toLowerCase(), // poolSize → poolsize
  (key) => key[0].toUpperCase() + key.slice(1), // padding → Padding
  (key) => key.length > 1 ? key[1] + key[0] + key.slice(2) : `_${key}`, // shape → hsape; k → _k
];

/** A key that is not among `accepted`: a changed accepted key, or one of {@link NEAR_KEYS}. */
export function unknownKeyArbitrary(accepted: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...accepted), fc.nat({ max: MISSPELLINGS.length - 1 })).map(([key, how]) =>
      MISSPELLINGS[how](key)
    ),
    fc.constantFrom(...NEAR_KEYS),
  ).filter((key) => key.length > 0 && !accepted.includes(key));
}

/** Unit roundoff of a precision (half an ulp of 1). */
export function unitRoundoff(precision: Precision): number {
  return precision === "float32" ? 2 ** -24 : 2 ** -53;
}

/** Whether `v` is exactly representable in `precision` (NaN counts as representable). */
export function isRepresentable(v: number, precision: Precision): boolean {
  if (precision === "float64" || Number.isNaN(v)) return true;
  return Object.is(Math.fround(v), v);
}

/** The project's seeded PRNG (mulberry32): the same seed gives the same stream on every platform. */
export const prng: (seed: number) => () => number = mulberry32;

/** Uniform integer in [lo, hi] from a PRNG. */
function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** A random permutation of 0..n-1 (Fisher–Yates). */
function randPermutation(rand: () => number, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randInt(rand, 0, i);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Unit exponent for a kind and precision, chosen by `scaleParam` (0 → the kind's most ordinary exponent). */
export function unitExponent(kind: ValueKind, precision: Precision, scaleParam: number): number {
  const hugeLo = precision === "float32" ? 60 : 900;
  const hugeHi = precision === "float32" ? 100 : 990;
  if (kind === "huge") return hugeLo + (scaleParam % (hugeHi - hugeLo + 1));
  if (kind === "tiny") return -(hugeLo + (scaleParam % (hugeHi - hugeLo + 1)));
  return [0, -1, 1, -2, 2, -3, 3][scaleParam % 7];
}

/** The window fields a case passes to an implementation: none for the default, else both. */
export function windowFields(c: Pick<PropCase, "params" | "poolSize" | "strides">): {
  poolSize?: Pair;
  strides?: Pair;
} {
  return c.params.window.explicit ? { poolSize: c.poolSize, strides: c.strides } : {};
}

/** The geometry of a case (src/spec.ts `poolGeometry`). */
export function caseGeometry(c: { shape: Shape4; padding: Padding; poolSize?: Pair; strides?: Pair }): PoolGeometry {
  return poolGeometry(c.shape, c.padding, { poolSize: c.poolSize, strides: c.strides });
}

/** Whether some input position along `axis` lies in two or more windows. */
function axisOverlaps(axis: AxisGeometry): boolean {
  if (axis.stride >= axis.window || axis.out < 2) return false;
  for (let p = 0; p < axis.size; p++) {
    const [first, last] = windowsContaining(axis, p);
    if (last > first) return true;
  }
  return false;
}

/** Whether some input cell lies in two or more windows of `g` (SPEC.md §2: overlapping windows). */
export function hasOverlap(g: PoolGeometry): boolean {
  return axisOverlaps(g.rows) || axisOverlaps(g.cols);
}

/** What a case exercises beyond the article's layer, for the report's case counts. */
export interface CaseClass {
  /** A window other than 2x2 with stride 2 (passed explicitly or not). */
  readonly general: boolean;
  /** Some input cell lies in two or more windows. */
  readonly overlapping: boolean;
  /** Logits of length C·k with C > 1. */
  readonly perChannel: boolean;
}

/** The {@link CaseClass} of a case. */
export function classify(c: Pick<PropCase, "shape" | "padding" | "poolSize" | "strides" | "logits" | "k">): CaseClass {
  const g = caseGeometry(c);
  return {
    general: !(g.poolSize[0] === 2 && g.poolSize[1] === 2 && g.strides[0] === 2 && g.strides[1] === 2),
    overlapping: hasOverlap(g),
    perChannel: isPerChannel(c.logits.length, c.k, c.shape[3]),
  };
}

/**
 * Calls `visit(indices)` for every window of `g` in output order (batch, row, column, channel);
 * `indices[cell]` is the flat index of the cell or -1 where it is padding.
 */
function forEachWindow(shape: Shape4, g: PoolGeometry, visit: (indices: number[]) => void): void {
  const [nb, , , nc] = shape;
  for (let b = 0; b < nb; b++) {
    for (let oh = 0; oh < g.rows.out; oh++) {
      for (let ow = 0; ow < g.cols.out; ow++) {
        for (let ch = 0; ch < nc; ch++) {
          const indices: number[] = [];
          for (let cell = 0; cell < g.cells; cell++) indices.push(cellIndex(shape, b, oh, ow, ch, cell, g));
          visit(indices);
        }
      }
    }
  }
}

/**
 * The disjoint windows values are laid out by when the case's windows do not overlap: for tiling
 * windows (strides ≥ poolSize) the "same" grid when it starts at row and column 0 (it covers every
 * element once and, for "valid", holds the case's windows), else the case's own windows; undefined
 * when windows overlap (then values use the Latin layout).
 */
function layoutGrid(shape: Shape4, g: PoolGeometry, padding: Padding): PoolGeometry | undefined {
  if (hasOverlap(g)) return undefined;
  const tiling = g.strides[0] >= g.poolSize[0] && g.strides[1] >= g.poolSize[1];
  if (!tiling || padding === "same") return g;
  const same = poolGeometry(shape, "same", { poolSize: g.poolSize, strides: g.strides });
  return same.rows.padBefore === 0 && same.cols.padBefore === 0 ? same : g;
}

const TIE_ALPHABET = [0, 1, -1, 2, -2];

/** A float64 NaN with the given high and low 32-bit words (sign, quiet bit and payload). */
function nanWithBits(high: number, low: number): number {
  const f = new Float64Array(1);
  const words = new Uint32Array(f.buffer);
  words[0] = low;
  words[1] = high;
  return f[0];
}

/**
 * NaNs with different bits: the canonical one, one with the sign bit set, and one with a payload
 * that survives conversion to float32 (0x7fc00001 there). A kernel that compares bit patterns must
 * still rank every NaN above +Infinity.
 */
export const NAN_VARIANTS: readonly number[] = [
  NaN,
  nanWithBits(0xfff80000, 0),
  nanWithBits(0x7ff80000, 0x20000000),
];

/** Expands the drawn parameters into a case for `precision`. Pure: the same input gives the same case. */
export function buildCase(params: CaseParams, precision: Precision): PropCase {
  const shape: Shape4 = [params.batch, params.height, params.width, params.channels];
  const { k, padding, kind } = params;
  const { poolSize, strides } = params.window;
  const g = poolGeometry(shape, padding, { poolSize, strides });
  const cells = g.cells;
  const rand = prng(params.dataSeed);
  const n = sizeOf(shape);
  const unitExp = unitExponent(kind, precision, params.scaleParam);
  const unit = 2 ** unitExp;
  const x = new Float64Array(n);
  const hugeExp = unitExponent("huge", precision, params.scaleParam);
  const spread = params.spread;
  const nearTieBits = 6 + (params.nearTieParam % 11);
  // Distinct residues 0..cells-1 inside a window and a random integer part in steps of 2·cells keep
  // the values of a window distinct (odd numbers, so never a padded zero either).
  const step = 2 * cells;

  const valueAt = (i: number, residue: number, base: number) => {
    const odd = step * randInt(rand, -spread, spread) + 2 * residue + 1;
    switch (kind) {
      case "distinct":
      case "huge":
      case "tiny":
        x[i] = odd * unit;
        break;
      case "mixed": {
        // Distinct units never collide: odd·2^a = odd'·2^b only when a = b.
        const e = [-hugeExp, 0, hugeExp][randInt(rand, 0, 2)];
        x[i] = odd * 2 ** e;
        break;
      }
      case "near-ties": {
        const offset = step * randInt(rand, -Math.min(spread, 3), Math.min(spread, 3)) + 2 * residue + 1;
        x[i] = base * unit + offset * unit * 2 ** -nearTieBits;
        break;
      }
      case "signed-zeros": {
        const u = rand();
        x[i] = u < 0.5 ? -0 : u < 0.65 ? 0 : -randInt(rand, 1, 3) * unit;
        break;
      }
      case "ties":
      case "nonfinite":
      case "infinities":
      case "subnormals": {
        const a = TIE_ALPHABET[randInt(rand, 0, params.alphabet - 1)];
        let v = a === 0 ? (rand() < 0.5 ? -0 : 0) : a * unit;
        if (kind === "subnormals" && rand() < 0.35) {
          // A float32 subnormal: odd·2^-149·2^j < 2^-126, either sign.
          v = (rand() < 0.5 ? -1 : 1) * (2 * randInt(rand, 0, 3) + 1) * 2 ** (-149 + randInt(rand, 0, 19));
        }
        if (kind !== "ties" && kind !== "subnormals" && rand() < 0.25) {
          const specials = kind === "nonfinite"
            ? [NAN_VARIANTS[randInt(rand, 0, NAN_VARIANTS.length - 1)], Infinity, -Infinity]
            : [Infinity, -Infinity];
          v = specials[randInt(rand, 0, specials.length - 1)];
        }
        x[i] = v;
        break;
      }
    }
  };

  const grid = layoutGrid(shape, g, padding);
  const filled = new Uint8Array(n);
  if (grid) {
    // Disjoint windows: a per-window permutation of the residues keeps values distinct inside the
    // window without tying the rank order to the cell order; one near-tie base per window.
    forEachWindow(shape, grid, (indices) => {
      const residues = randPermutation(rand, cells);
      const base = 2 * randInt(rand, -7, 7) + 1; // odd, so never 0: near-ties stay away from padded zeros
      for (let cell = 0; cell < cells; cell++) {
        const i = indices[cell];
        if (i < 0) continue;
        valueAt(i, residues[cell], base);
        filled[i] = 1;
      }
    });
  } else {
    // Overlapping windows: the Latin layout, one residue permutation and near-tie base per image
    // and channel; any kh x kw block of rows and columns holds every residue once.
    const [nb, h, w, nc] = shape;
    const [kh, kw] = poolSize;
    for (let b = 0; b < nb; b++) {
      for (let ch = 0; ch < nc; ch++) {
        const residues = randPermutation(rand, cells);
        const base = 2 * randInt(rand, -7, 7) + 1;
        for (let row = 0; row < h; row++) {
          for (let col = 0; col < w; col++) {
            const i = ((b * h + row) * w + col) * nc + ch;
            valueAt(i, residues[(row % kh) * kw + (col % kw)], base);
            filled[i] = 1;
          }
        }
      }
    }
  }
  // Elements no layout window covers (in no window of the case either) still get values of the kind.
  for (let i = 0; i < n; i++) if (!filled[i]) valueAt(i, randInt(rand, 0, cells - 1), 2 * randInt(rand, -7, 7) + 1);

  const outN = sizeOf([shape[0], g.rows.out, g.cols.out, shape[3]]);
  const dy = new Float64Array(outN);
  for (let j = 0; j < outN; j++) {
    dy[j] = rand() < 0.1 ? 0 : randInt(rand, -4 * DY_DENOMINATOR, 4 * DY_DENOMINATOR) / DY_DENOMINATOR;
  }
  const direction = new Int8Array(n);
  for (let i = 0; i < n; i++) direction[i] = randInt(rand, -1, 1);
  const groups = params.perChannel && shape[3] > 1 ? shape[3] : 1;
  const logitCount = groups * k;
  const logitDirection: number[] = Array.from({ length: logitCount }, () => randInt(rand, -1, 1));
  // A zero direction would test nothing.
  if (logitDirection.every((u): boolean => u === 0)) logitDirection[randInt(rand, 0, logitCount - 1)] = 1;

  const xPermuted = x.slice();
  if (grid) {
    forEachWindow(shape, grid, (indices) => {
      const real = indices.filter((i) => i >= 0);
      const order = randPermutation(rand, real.length);
      for (let t = 0; t < real.length; t++) xPermuted[real[t]] = x[real[order[t]]];
    });
  }

  const shift = randInt(rand, -8, 8) * unit;
  const scale = [2, 0.5, 4, 0.25, 3, 0.75][randInt(rand, 0, 5)];

  // The input classes of issue 10 draw from a stream of their own, so the cases above stay the
  // same for a given seed whatever these kinds are; logits past the first four drawn codes (k > 4,
  // or the other channels' groups) from a third one.
  const extra = prng((params.dataSeed ^ 0x5bd1e995) >>> 0);
  const moreCodes = prng((params.dataSeed ^ 0x27d4eb2f) >>> 0);
  const code = () => randInt(moreCodes, -LOGIT_MAX * LOGIT_DENOMINATOR, LOGIT_MAX * LOGIT_DENOMINATOR);
  const logits: number[] = [];
  for (let group = 0; group < groups; group++) {
    let own = Array.from(
      { length: k },
      (_, r) => (group === 0 && r < params.logitCodes.length ? params.logitCodes[r] : code()) / LOGIT_DENOMINATOR,
    );
    if (params.descendingLogits) own = own.sort((p, q) => q - p);
    if (params.logitKind !== "ordinary") own = specialLogits(own, params.logitKind, extra);
    logits.push(...own);
  }
  // Zeros in dy carry a random sign: w[r]·(-0) is a -0 dx that an implementation accumulating
  // from +0 would lose (SPEC.md §5).
  for (let j = 0; j < outN; j++) if (dy[j] === 0 && extra() < 0.5) dy[j] = -0;
  const dySpecials = [Infinity, -Infinity, NaN];
  if (params.dyKind === "nonfinite") {
    for (let j = 0; j < outN; j++) if (extra() < 0.2) dy[j] = dySpecials[randInt(extra, 0, 2)];
  } else if (params.dyKind === "padded-nonfinite") {
    for (const w of windowInfos({ shape, k, padding, poolSize, strides }, x)) {
      if (w.ranked.slice(0, k).every((cell) => cell.index < 0)) {
        dy[w.out] = dySpecials[randInt(extra, 0, 2)];
      }
    }
  }

  const c: PropCase = {
    params,
    precision,
    shape,
    k,
    padding,
    poolSize: [poolSize[0], poolSize[1]],
    strides: [strides[0], strides[1]],
    logits,
    x,
    dy,
    direction,
    logitDirection,
    xPermuted,
    unit,
    shift,
    scale,
  };
  for (const arr of params.logitKind === "ordinary" ? [x, dy, logits] : [x, dy]) {
    for (const v of arr) {
      if (!isRepresentable(v, precision)) {
        throw new Error(`generator invariant broken: ${v} is not exact in ${precision} (kind ${kind})`);
      }
    }
  }
  return c;
}

/** Logits near and past float32's range (see {@link LogitKind}). */
export const RANGE_LOGITS: readonly number[] = [
  3.4e38,
  -3.4e38,
  3.4028234663852886e38, // float32's largest finite value
  3.5e38,
  -3.5e38,
  1e39,
  -1e39,
  5e38,
  -2e39,
];

/** Bases of the `B·(1 + j·2^-30)` logits: float32 rounds |j| ≤ 3 to B itself, float64 does not. */
export const CLOSE_LOGIT_BASES: readonly number[] = [1e8, -1e8, 1e30, 3e38];

/**
 * Band of logit gaps (below the maximal logit) of the `range` kind's subnormal-weight cases: e^-gap
 * crosses float32's smallest normal number 2^-126 at a gap of about 87.3, so the float32 weights in
 * the band are barely normal or flushed to +0 (SPEC.md §5). Gaps are multiples of 1/64, which keeps
 * every weight at least 0.28% away from 2^-126 for 1..4 maximal logits (ln of their count added),
 * so a GPU's float32 exp (a few hundred ulps off at most here) flushes exactly the weights the host does.
 */
export const SUBNORMAL_GAP_MIN = 80;
/** See {@link SUBNORMAL_GAP_MIN}. */
export const SUBNORMAL_GAP_MAX = 110;

/** Replaces `logits` by the `range` or `nonfinite` kind's values (see {@link LogitKind}). */
function specialLogits(ordinary: readonly number[], kind: LogitKind, rand: () => number): number[] {
  const k = ordinary.length;
  if (kind === "nonfinite") {
    const specials = [Infinity, -Infinity, NaN];
    const out = ordinary.map((l) => (rand() < 0.33 ? specials[randInt(rand, 0, 2)] : l));
    // At least one special: otherwise the case would be an ordinary one.
    if (out.every(Number.isFinite)) out[randInt(rand, 0, k - 1)] = specials[randInt(rand, 0, 2)];
    return out;
  }
  const band = rand();
  if (band < 0.25) {
    // The first logit is maximal (so the gaps are relative to it); the others are equal to it or 80..110 below.
    const top = ordinary[0];
    const gap = () => randInt(rand, SUBNORMAL_GAP_MIN * LOGIT_DENOMINATOR, SUBNORMAL_GAP_MAX * LOGIT_DENOMINATOR);
    const out = ordinary.map((_, j) => (j === 0 || rand() < 0.25 ? top : top - gap() / LOGIT_DENOMINATOR));
    return randPermutation(rand, k).map((j) => out[j]);
  }
  if (band < 0.6) {
    const base = CLOSE_LOGIT_BASES[randInt(rand, 0, CLOSE_LOGIT_BASES.length - 1)];
    return ordinary.map(() => base * (1 + randInt(rand, -3, 3) * 2 ** -30));
  }
  return ordinary.map((l) => (rand() < 0.6 ? RANGE_LOGITS[randInt(rand, 0, RANGE_LOGITS.length - 1)] : l));
}

const side = fc.integer({ min: 1, max: MAX_WINDOW });

/** Overlapping rows: kh 2..4 with sh < kh; columns any window with a stride up to its width. Transposed half the time. */
const overlappingWindow: fc.Arbitrary<WindowParams> = fc.record({
  kh: fc.integer({ min: 2, max: MAX_WINDOW }),
  shDown: fc.integer({ min: 1, max: MAX_WINDOW - 1 }),
  kw: side,
  swDown: fc.integer({ min: 0, max: MAX_WINDOW - 1 }),
  transpose: fc.boolean(),
}).map(({ kh, shDown, kw, swDown, transpose }) => {
  const sh = Math.max(1, kh - shDown);
  const sw = Math.max(1, kw - swDown);
  return transpose
    ? { poolSize: [kw, kh], strides: [sw, sh], explicit: true }
    : { poolSize: [kh, kw], strides: [sh, sw], explicit: true };
});

/** Tiling windows: strides = poolSize (2x2/2 passed explicitly among them). */
const tilingWindow: fc.Arbitrary<WindowParams> = fc.tuple(side, side).map(([kh, kw]) => ({
  poolSize: [kh, kw],
  strides: [kh, kw],
  explicit: true,
}));

/** Any window and strides (gaps between windows included: stride > window). */
const anyWindow: fc.Arbitrary<WindowParams> = fc.tuple(side, side, side, side).map(([kh, kw, sh, sw]) => ({
  poolSize: [kh, kw],
  strides: [sh, sw],
  explicit: true,
}));

/**
 * Windows of a `draw` (see {@link CaseConstraints}); the default window comes first, so failures
 * shrink to it when the window does not matter. "non-overlapping" draws may still have
 * stride < window along an axis with a single window (caught per case by the filter).
 */
export function windowArbitrary(draw: WindowDraw): fc.Arbitrary<WindowParams> {
  if (draw === "default") return fc.constant(DEFAULT_WINDOW);
  const families = [
    { weight: 40, arbitrary: fc.constant(DEFAULT_WINDOW) },
    { weight: 15, arbitrary: tilingWindow },
    { weight: 15, arbitrary: anyWindow },
  ];
  if (draw === "any") families.push({ weight: 30, arbitrary: overlappingWindow });
  return fc.oneof(...families);
}

/** Output windows x cells per image and channel (the work a case costs, up to a constant). */
function workOf(height: number, width: number, padding: Padding, w: WindowParams): number {
  const rows = axisGeometry(height, padding, w.poolSize[0], w.strides[0]).out;
  const cols = axisGeometry(width, padding, w.poolSize[1], w.strides[1]).out;
  return rows * cols * w.poolSize[0] * w.poolSize[1];
}

/**
 * Fits drawn parameters to their window: "valid" raises H and W to at least kh and kw; H and W
 * shrink (the larger first) until the work is at most {@link WORK_CAP}; a k above kh·kw folds onto
 * the allowed ks. Returns undefined when no allowed k fits the window.
 */
function fitToWindow(p: CaseParams, ks: readonly number[]): CaseParams | undefined {
  const [kh, kw] = p.window.poolSize;
  const cells = kh * kw;
  const allowed = ks.filter((k) => k <= cells);
  if (allowed.length === 0) return undefined;
  const k = p.k <= cells ? p.k : allowed[(p.k - 1) % allowed.length];
  let height = p.padding === "valid" ? Math.max(p.height, kh) : p.height;
  let width = p.padding === "valid" ? Math.max(p.width, kw) : p.width;
  const minH = p.padding === "valid" ? kh : 1;
  const minW = p.padding === "valid" ? kw : 1;
  while (workOf(height, width, p.padding, p.window) > WORK_CAP && (height > minH || width > minW)) {
    if ((height >= width && height > minH) || width <= minW) height--;
    else width--;
  }
  return { ...p, k, height, width };
}

/** The dimensions an empty input can have at zero (SPEC.md §1 "Empty inputs"). */
export const EMPTY_DIMENSIONS = ["batch", "height", "width", "channels"] as const;

/**
 * `p` with dimension `dim` set to 0: a zero height or width keeps "valid" only where the output
 * size stays defined (SPEC.md §3: H ≥ kh − sh, i.e. sh ≥ kh for H = 0), else takes "same"; a
 * zero channel count takes shared logits (C·k would be empty).
 */
export function emptied(p: CaseParams, dim: (typeof EMPTY_DIMENSIONS)[number]): CaseParams {
  const [kh, kw] = p.window.poolSize;
  const [sh, sw] = p.window.strides;
  switch (dim) {
    case "batch":
      return { ...p, batch: 0 };
    case "channels":
      return { ...p, channels: 0, perChannel: false };
    case "height":
      return { ...p, height: 0, padding: p.padding === "valid" && sh < kh ? "same" : p.padding };
    case "width":
      return { ...p, width: 0, padding: p.padding === "valid" && sw < kw ? "same" : p.padding };
  }
}

/** The shrinkable parameters, narrowed by `constraints`. */
export function paramsArbitrary(constraints: CaseConstraints): fc.Arbitrary<CaseParams> {
  const drawn = nonEmptyParams(constraints);
  if (constraints.emptyBatches !== "always") return drawn;
  return fc.tuple(drawn, fc.constantFrom(...EMPTY_DIMENSIONS)).map(([p, dim]) => emptied(p, dim));
}

/** The shrinkable parameters, narrowed by `constraints`, before an "always" empty dimension. */
function nonEmptyParams(constraints: CaseConstraints): fc.Arbitrary<CaseParams> {
  const draw = constraints.windows ?? "default";
  const ks = constraints.ks ?? (draw === "default" ? [1, 2, 3, 4] : Array.from({ length: MAX_CELLS }, (_, i) => i + 1));
  const slots = Array.from({ length: draw === "default" ? 4 : MAX_CELLS }, (_, i) => i);
  return fc.record({
    batch: constraints.emptyBatches === "sometimes"
      ? fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: MAX_BATCH }) }, {
        weight: 1,
        arbitrary: fc.constant(0),
      })
      : fc.integer({ min: 1, max: MAX_BATCH }),
    height: fc.integer({ min: 1, max: MAX_SIDE }),
    width: fc.integer({ min: 1, max: MAX_SIDE }),
    channels: fc.integer({ min: 1, max: MAX_CHANNELS }),
    k: fc.constantFrom(...ks),
    padding: fc.constantFrom<Padding>("same", "valid"),
    kind: fc.constantFrom(...constraints.kinds),
    scaleParam: fc.nat({ max: 1000 }),
    spread: fc.integer({ min: 0, max: 7 }),
    alphabet: fc.integer({ min: 1, max: TIE_ALPHABET.length }),
    nearTieParam: fc.nat({ max: 100 }),
    logitCodes: fc.array(fc.integer({ min: -LOGIT_MAX * LOGIT_DENOMINATOR, max: LOGIT_MAX * LOGIT_DENOMINATOR }), {
      minLength: 4,
      maxLength: 4,
    }),
    descendingLogits: fc.boolean(),
    slotOrder: fc.shuffledSubarray(slots, { minLength: slots.length, maxLength: slots.length }),
    dataSeed: fc.nat(),
    dyKind: fc.constantFrom<DyKind>(...(constraints.dyKinds ?? ["finite"])),
    logitKind: fc.constantFrom<LogitKind>(...(constraints.logitKinds ?? ["ordinary"])),
    window: windowArbitrary(draw),
    perChannel: constraints.perChannelLogits
      ? fc.oneof({ weight: 7, arbitrary: fc.constant(false) }, { weight: 3, arbitrary: fc.constant(true) })
      : fc.constant(false),
  }).map((p) => {
    const fitted = fitToWindow(p, ks);
    return fitted && paddedDyShape(fitted);
  }).filter((p): p is CaseParams =>
    p !== undefined &&
    (!constraints.shiftInvariant || p.padding === "valid" || p.k === 1) &&
    (p.dyKind !== "padded-nonfinite" || p.k >= 2) &&
    (draw !== "non-overlapping" ||
      !hasOverlap(poolGeometry([p.batch, p.height, p.width, p.channels], p.padding, p.window)))
  );
}

/**
 * For the `padded-nonfinite` dy kind, the parameters under which windows whose kept cells are all
 * padding are common: "same" padding, `distinct` values (random signs, no zero that would tie with a
 * padded zero, no NaN or ±Infinity that would make dLogits non-finite anyway), k ≤ 3; for the
 * default window also an odd width (k = 2: the right column's windows keep their two padded cells
 * when both real values are negative), and an odd height for k = 3 (only the corner window has
 * three padded cells). Other parameters pass unchanged.
 */
function paddedDyShape(p: CaseParams): CaseParams {
  if (p.dyKind !== "padded-nonfinite") return p;
  const k = Math.min(p.k, 3);
  const base = { ...p, padding: "same" as const, kind: "distinct" as const, k };
  if (p.window.explicit) return base;
  return { ...base, width: p.width | 1, height: k === 3 ? p.height | 1 : p.height };
}

/** A case arbitrary for `precision` under `constraints`. */
export function caseArbitrary(precision: Precision, constraints: CaseConstraints): fc.Arbitrary<PropCase> {
  const cases = paramsArbitrary(constraints).map((p) => buildCase(p, precision));
  if (!constraints.unknownKeys) return cases;
  return fc.tuple(cases, unknownKeyArbitrary(CASE_KEYS)).map(([c, unknownKey]) => ({ ...c, unknownKey }));
}

/** One window of a case as the spec sees it (participants, rank order) plus its output index. */
export interface WindowInfo {
  /** Flat output index. */
  readonly out: number;
  readonly b: number;
  readonly oh: number;
  readonly ow: number;
  readonly ch: number;
  /** The case's window geometry (shared by all its windows). */
  readonly geometry: PoolGeometry;
  /** Participating cells in window order (padded zeros for k > 1 included). */
  readonly cells: ReturnType<typeof windowCells>;
  /** Participants in spec rank order. */
  readonly ranked: ReturnType<typeof rankCells>;
  /** max |value| over the top k ranked values, NaN left out (0 when they are all zero). */
  readonly topAbs: number;
  /** max |value| over all participants, NaN left out. */
  readonly allAbs: number;
  /** Smallest and largest participant (NaN-free windows only; NaN otherwise). */
  readonly min: number;
  readonly max: number;
}

/** What {@link windowInfos} needs of a case: its shape, k, padding and (optional) window. */
export interface WindowedCase {
  readonly shape: Shape4;
  readonly k: number;
  readonly padding: Padding;
  readonly poolSize?: Pair;
  readonly strides?: Pair;
}

/** Per-window facts of `x` under the case's shape, k, padding and window, in output order. */
export function windowInfos(c: WindowedCase, x: ArrayLike<number>): WindowInfo[] {
  const g = caseGeometry(c);
  const infos: WindowInfo[] = [];
  const [nb, , , nc] = c.shape;
  let o = 0;
  for (let b = 0; b < nb; b++) {
    for (let oh = 0; oh < g.rows.out; oh++) {
      for (let ow = 0; ow < g.cols.out; ow++) {
        for (let ch = 0; ch < nc; ch++) {
          const cells = windowCells(x, c.shape, c.k, b, oh, ow, ch, g);
          const ranked = rankCells(cells);
          let topAbs = 0;
          // NaN is left out of the magnitudes (an output with NaN in its top k is NaN and is compared
          // exactly), so that tolerances stay numbers.
          for (let r = 0; r < c.k && r < ranked.length; r++) {
            if (!Number.isNaN(ranked[r].value)) topAbs = Math.max(topAbs, Math.abs(ranked[r].value));
          }
          let allAbs = 0;
          let min = Infinity;
          let max = -Infinity;
          for (const cell of cells) {
            if (!Number.isNaN(cell.value)) allAbs = Math.max(allAbs, Math.abs(cell.value));
            min = Math.min(min, cell.value);
            max = Math.max(max, cell.value);
          }
          infos.push({ out: o++, b, oh, ow, ch, geometry: g, cells, ranked, topAbs, allAbs, min, max });
        }
      }
    }
  }
  return infos;
}

/**
 * For every input index, the output indices of the windows holding it as a real cell, in output
 * order (empty: in no window, e.g. dropped by "valid" or in a gap between windows). With the
 * default windows every list has at most one element; with overlapping windows up to
 * ceil(kh/sh)·ceil(kw/sw).
 */
export function containingWindows(c: Pick<PropCase, "shape">, infos: readonly WindowInfo[]): number[][] {
  const lists: number[][] = Array.from({ length: sizeOf(c.shape) }, () => []);
  for (const w of infos) for (const cell of w.cells) if (cell.index >= 0) lists[cell.index].push(w.out);
  return lists;
}

/**
 * The real input cells of slot `slot`: those at row `r`, column `q` with
 * `(r mod kh)·kw + (q mod kw) = slot` that lie in some window. No window holds two of them (two such
 * cells are at least kh rows or kw columns apart), so moving them all at once moves at most one cell
 * of each window; with the default windows the slot is the cell number inside each window.
 */
export function slotCells(
  c: Pick<PropCase, "shape" | "poolSize">,
  windows: readonly number[][],
  slot: number,
): number[] {
  const [nb, h, w, nc] = c.shape;
  const [kh, kw] = c.poolSize;
  const out: number[] = [];
  for (let b = 0; b < nb; b++) {
    for (let row = 0; row < h; row++) {
      if (row % kh !== Math.floor(slot / kw)) continue;
      for (let col = 0; col < w; col++) {
        if (col % kw !== slot % kw) continue;
        for (let ch = 0; ch < nc; ch++) {
          const i = ((b * h + row) * w + col) * nc + ch;
          if (windows[i].length > 0) out.push(i);
        }
      }
    }
  }
  return out;
}

/**
 * Per-rank sums `s[j] = Σ_windows ranked_r·dy` and `t[j] = Σ |ranked_r·dy|` (spec ranking, float64;
 * padded cells add exactly 0), indexed like the logits: `j = r` for shared logits, `j = c·k + r`
 * per channel, each channel's windows only (SPEC.md §5 "Gradient"). `windowsPerGroup` is the number
 * of windows summed into each group.
 */
export function rankSums(
  c: Pick<PropCase, "k" | "logits" | "dy" | "shape">,
  infos: readonly WindowInfo[],
): { s: Float64Array; t: Float64Array; windowsPerGroup: number } {
  const n = c.logits.length;
  const s = new Float64Array(n);
  const t = new Float64Array(n);
  for (const w of infos) {
    const base = weightOffset(n, c.k, w.ch);
    for (let r = 0; r < c.k; r++) {
      const term = rankSumTerm(w.ranked[r], c.dy[w.out]);
      s[base + r] += term;
      t[base + r] += Math.abs(term);
    }
  }
  return { s, t, windowsPerGroup: n === c.k ? infos.length : infos.length / c.shape[3] };
}

/** Smallest nonzero |a - b| between participants of one window, over all windows (Infinity if none). */
export function smallestGap(infos: readonly WindowInfo[]): number {
  let gap = Infinity;
  for (const w of infos) {
    for (let p = 0; p < w.cells.length; p++) {
      for (let q = p + 1; q < w.cells.length; q++) {
        const d = Math.abs(w.cells[p].value - w.cells[q].value);
        if (d > 0 && d < gap) gap = d;
      }
    }
  }
  return gap;
}

/** Largest power of two ≤ v (v > 0, finite). */
export function powerOfTwoBelow(v: number): number {
  let p = 2 ** Math.floor(Math.log2(v));
  while (p > v) p /= 2;
  while (p * 2 <= v) p *= 2;
  return p;
}

/**
 * Finite-difference step in x: the largest power of two ≤ gap/4, where gap is the smallest
 * nonzero distance between two participants of one window (the case's unit when all are equal).
 * Moving every element by at most eps changes each pairwise difference by at most 2·eps ≤ gap/2,
 * so no rank order changes on [x - eps·v, x + eps·v]: the forward is linear there.
 */
export function fdStepX(c: PropCase, infos: readonly WindowInfo[]): number {
  const gap = smallestGap(infos);
  return powerOfTwoBelow((Number.isFinite(gap) ? Math.min(gap, c.unit) : c.unit) / 4);
}

/**
 * x + step·dir, checked to be exact in the case's precision (and in float64: the sum must round
 * to itself, which holds when step divides the values' spacing). Throws when it is not, since an
 * inexact perturbation would make the finite difference test something else.
 */
export function perturb(c: PropCase, x: Float64Array, step: number, dir: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] + step * dir[i];
    if (dir[i] !== 0 && (!isRepresentable(v, c.precision) || v - x[i] !== step * dir[i])) {
      throw new Error(`harness invariant broken: ${x[i]} + ${step}·${dir[i]} is not exact in ${c.precision}`);
    }
    out[i] = dir[i] === 0 ? x[i] : v;
  }
  return out;
}
