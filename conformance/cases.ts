/**
 * The conformance kit's cases: every golden vector, then seeded cases from the project's property
 * generators (props/generators.ts) by class, then seeded cases of general windows and per-channel
 * logits (SPEC.md §2-5, drawn here: {@link GENERAL_CLASSES}), then bad inputs a port must reject. A
 * case is only a request: what the port must answer is computed at run time by the float64
 * reference (src/reference.ts) and the shared validation (src/validate.ts), never stored here.
 *
 * Generated cases are drawn with fast-check from a fixed seed (`--seed`), so the same seed and
 * `--cases` give the same cases, names and requests on every machine.
 *
 * Each case says what it needs of a port beyond the article's layer ({@link Needs}: a window other
 * than 2x2 with stride 2, per-channel logits), so that a port declaring less (`--windows 2x2`,
 * `--logits shared`) has those cases skipped, and counted, rather than failed.
 *
 * @module
 */
import fc from "fast-check";
import { goldenInput, loadGoldenCases } from "../vectors/golden.ts";
import { mulberry32 } from "../src/random.ts";
import { outputShape, poolGeometry, sizeOf } from "../src/spec.ts";
import type { Padding, Pair, Shape4 } from "../src/types.ts";
import {
  buildCase,
  type CaseConstraints,
  type CaseParams,
  DEFAULT_WINDOW,
  paramsArbitrary,
  type PropCase,
  VALUE_KINDS,
} from "../props/generators.ts";
import type { Precision } from "../testkit/mod.ts";
import { fitsHint } from "./causes.ts";
import { answersWithFloat32Logits, type FailedAnswer } from "./compare.ts";
import type { Op, Request } from "./protocol.ts";

/** What a case needs of a port beyond the article's layer (2x2 windows, stride 2, logits shared by all channels). */
export interface Needs {
  /** The request carries `poolSize` or `strides` (a window other than 2x2/2, or a bad one to reject). */
  readonly windows: boolean;
  /** The request's logits are per channel (length C·k with C > 1). */
  readonly perChannelLogits: boolean;
}

/** What `r` needs: `windows` when it carries poolSize or strides, `perChannelLogits` when its logits have length C·k. */
export function needsOf(r: Request): Needs {
  const channels = Array.isArray(r.shape) ? r.shape[3] : 1;
  const logits = Array.isArray(r.logits) ? r.logits.length : 0;
  return {
    windows: r.poolSize !== undefined || r.strides !== undefined,
    perChannelLogits: typeof channels === "number" && channels > 1 && logits !== r.k && logits === channels * r.k,
  };
}

/** One conformance case: a request (in this project's weight order) and where it comes from. */
export interface ConformanceCase {
  /** Unique name; also the request's id. */
  readonly name: string;
  /** Category for the summary table ("golden", a generated class, or "bad-input"). */
  readonly category: string;
  /** What the inputs are, in a few words (shape, window, k, padding, value kind). */
  readonly description: string;
  /** The request, logits in this project's order (w[0] weights the largest). */
  readonly request: Request;
  /** What the case needs of the port ({@link needsOf} of the request). */
  readonly needs: Needs;
}

/** A category of cases and what it covers. */
export interface Category {
  readonly name: string;
  readonly title: string;
  /**
   * The likely cause when cases of this category fail, printed with the report (none: no single
   * cause) only when at least one failed answer of the category fits it ({@link Category.hintFits}).
   */
  readonly hint?: string;
  /**
   * Whether a failed answer of the category fits the hint's cause: a failure for another reason (a
   * tie broken the wrong way, the sign of a zero, an error answered) gets no hint that would mislead.
   */
  readonly hintFits?: (f: FailedAnswer) => boolean;
}

/**
 * Why a port fails `logits-range` (SPEC §5 "Weights": softmax of the logits in float64 once per call,
 * then rounded to the port's precision): its logits were float32 before the softmax.
 */
export const LOGITS_RANGE_HINT = "the weights must be the softmax of the logits computed in float64 once per call, " +
  'then rounded to your precision (SPEC §5 "Weights"). Logits past float32\'s range become ±Infinity in float32, ' +
  "and large logits that differ by a few float64 ulps become equal there. A port whose logits are a float32 " +
  "parameter (PyTorch, JAX, TF) or whose softmax runs on the device must compute the weights in float64 in its " +
  "driver (e.g. numpy.float64 or Python floats from the logits as sent), and pass those, rounded, to the layer.";

/** Default seed of the generated cases. */
export const DEFAULT_SEED = 20_251_130;
/** Default number of cases drawn per generated class. */
export const DEFAULT_CASES_PER_CLASS = 50;

/** A drawn case plus the overrides a class applies on top of the generators' case. */
interface Drawn {
  readonly c: PropCase;
  readonly logits?: readonly number[];
  readonly dy?: Float64Array;
}

/** One class of generated cases. */
interface GeneratedClass extends Category {
  /** Requests made per case. */
  readonly ops: readonly Op[];
  readonly arbitrary: (precision: Precision) => fc.Arbitrary<Drawn>;
}

/** A class drawn straight from the generators: `constraints`, optionally filtered and adjusted. */
const plain = (
  constraints: CaseConstraints,
  filter?: (p: CaseParams) => boolean,
  adjust?: (p: CaseParams) => CaseParams,
) =>
(precision: Precision) =>
  paramsArbitrary(constraints).filter((p) => filter?.(p) ?? true).map((p): Drawn => ({
    c: buildCase(adjust ? adjust(p) : p, precision),
  }));

/**
 * Logits whose weights underflow in float32 but not in float64 (e^-100 is a float32 subnormal, e^-177
 * is 0 there), or that overflow a softmax computed without subtracting the maximum.
 */
const UNDERFLOW_LOGITS = [0, 1, -1, 88.5, -88.5, 100, -100, 200, -200, 1e4, -1e4];

/**
 * Logits for the `infinities` cases of `logits-underflow`: gaps of 88.5, 95 and 100 give weights that
 * are float32 subnormals, which a float32 port flushes to +0 (SPEC §5), so ±Infinity meets them as NaN.
 */
const FLUSHED_LOGITS = [0, -88.5, -95, -100];

const logitsOf = (alphabet: readonly number[]) =>
  fc.array(fc.constantFrom(...alphabet), { minLength: 4, maxLength: 4 });

/** The generated classes, in run order. */
const CLASSES: readonly GeneratedClass[] = [
  {
    name: "distinct",
    title: "distinct values, random shapes (1..3 x 1..13 x 1..13 x 1..8), k 1..4, both paddings",
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: ["distinct"] }),
  },
  {
    name: "padded-borders",
    title: 'padding "same" with an odd height or width: padded zero cells rank for k > 1, are ignored for k = 1',
    ops: ["forward", "gradient"],
    arbitrary: plain(
      { kinds: ["distinct", "ties"] },
      (p) => p.padding === "same" && (p.height % 2 === 1 || p.width % 2 === 1),
    ),
  },
  {
    name: "ties",
    title: "exact ties (values from {0, ±1, ±2}·unit, zeros of both signs, ties with padded zeros): lower cell first",
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: ["ties"] }),
  },
  {
    name: "near-ties",
    title: "distinct values only 2^-6..2^-16 units apart inside a window",
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: ["near-ties"] }),
  },
  {
    name: "magnitudes",
    title: "huge, tiny and mixed magnitudes (2^±60..2^±100 in float32, 2^±900..2^±990 in float64)",
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: ["huge", "tiny", "mixed"] }),
  },
  {
    name: "signed-zeros",
    title: "mostly -0, some +0 and negatives: the sign of a zero y and dx (k = 1 returns the maximum itself)",
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: ["signed-zeros"] }),
  },
  {
    name: "nonfinite-x",
    title: "NaN (several bit patterns), +Infinity and -Infinity in x: ranking, forward and gradient",
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: ["nonfinite", "infinities"] }),
  },
  {
    name: "nonfinite-dy",
    title: "NaN, +Infinity and -Infinity in dy, also only at windows whose kept cells are all padding: dx outside " +
      "the top k stays exactly 0, padded cells add nothing to dLogits",
    ops: ["gradient"],
    // Half the "padded-nonfinite" draws are steered to shapes that have such windows ("same", odd width, k = 2).
    arbitrary: plain(
      { kinds: ["distinct", "ties", "nonfinite", "signed-zeros"], dyKinds: ["nonfinite", "padded-nonfinite"] },
      undefined,
      (p) =>
        p.dyKind === "padded-nonfinite" && p.dataSeed % 2 === 0
          ? { ...p, padding: "same", width: p.width | 1, k: 2 }
          : p,
    ),
  },
  {
    name: "logits-range",
    title: "logits near and past float32's range (±3.4e38, 5e38, ±1e39, -2e39; B·(1 + j·2^-30) that float32 " +
      "would merge): weights from the float64 softmax",
    hint: LOGITS_RANGE_HINT,
    hintFits: answersWithFloat32Logits,
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: ["distinct", "ties", "huge", "tiny"], logitKinds: ["range"] }),
  },
  {
    name: "logits-underflow",
    title: "logits ±88.5, ±100, ±200, ±1e4: weights that underflow in float32 (flushed to +0 below 2^-126, so " +
      "they meet ±Infinity in x as NaN), or overflow a softmax without its maximum subtracted",
    ops: ["forward", "gradient"],
    arbitrary: (precision) =>
      fc.tuple(
        paramsArbitrary({ kinds: ["distinct", "ties", "huge", "tiny", "infinities"] }),
        logitsOf(UNDERFLOW_LOGITS),
        logitsOf(FLUSHED_LOGITS),
      ).map((
        [p, codes, flushed],
      ): Drawn => ({ c: buildCase(p, precision), logits: (p.kind === "infinities" ? flushed : codes).slice(0, p.k) })),
  },
  {
    name: "logits-nonfinite",
    title: "logits with +Infinity, -Infinity or NaN, with finite and non-finite x",
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: ["distinct", "ties", "nonfinite"], logitKinds: ["nonfinite"] }),
  },
  // Last of these classes: each class's seed depends on its position, so the ones above keep their cases.
  {
    name: "general-mixed",
    title: "any window family (default, tiling, overlapping, gaps) and per-channel logits as the property " +
      "generators draw them, with every value kind (near ties, huge, tiny and mixed magnitudes, NaN bit patterns)",
    ops: ["forward", "gradient"],
    arbitrary: plain({ kinds: VALUE_KINDS, windows: "any", perChannelLogits: true, dyKinds: ["finite", "nonfinite"] }),
  },
];

/**
 * How the values of a general-window case are chosen (all exact in float32): `distinct`: odd
 * multiples of 1/8, distinct across the whole input (so in every overlapping window too) and never
 * zero; `ties`: {0, ±1, ±2}·0.5 from an alphabet of 1..5, zeros of random sign (ties with padded
 * zeros included); `signed-zeros`: about half -0, some +0, the rest -0.5..-1.5; `nonfinite`: `ties`
 * with about a fifth NaN, +Infinity or -Infinity.
 */
export type GeneralValueKind = "distinct" | "ties" | "signed-zeros" | "nonfinite";

/** The shrinkable parameters of a general-window case. */
export interface GeneralParams {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  /** k = 1 + kCode mod kh·kw, so that shrinking goes to k = 1. */
  readonly kCode: number;
  readonly padding: Padding;
  readonly kind: GeneralValueKind;
  /** `nonfinite`: about one dy in seven is NaN, +Infinity or -Infinity. */
  readonly dyKind: "finite" | "nonfinite";
  /** Logits of length C·k (per channel) instead of k. */
  readonly perChannel: boolean;
  /** Seed of x, dy and the logits. */
  readonly dataSeed: number;
}

/** A general-window case, expanded. */
interface GeneralCase {
  readonly shape: Shape4;
  readonly k: number;
  readonly padding: Padding;
  readonly poolSize: Pair;
  readonly strides: Pair;
  readonly logits: number[];
  readonly x: number[];
  readonly dy: number[];
  readonly description: string;
}

const GENERAL_KINDS: readonly GeneralValueKind[] = ["distinct", "ties", "signed-zeros", "nonfinite"];

/** The general parameters before a class narrows them: batch 1..2, sides 1..9, channels 1..4, windows and strides 1..4. */
const generalParams: fc.Arbitrary<GeneralParams> = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  height: fc.integer({ min: 1, max: 9 }),
  width: fc.integer({ min: 1, max: 9 }),
  channels: fc.integer({ min: 1, max: 4 }),
  kh: fc.integer({ min: 1, max: 4 }),
  kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 4 }),
  sw: fc.integer({ min: 1, max: 4 }),
  kCode: fc.nat({ max: 15 }),
  padding: fc.constantFrom<Padding>("same", "valid"),
  kind: fc.constantFrom(...GENERAL_KINDS),
  dyKind: fc.constantFrom<"finite" | "nonfinite">("finite", "finite", "nonfinite"),
  perChannel: fc.constant(false),
  dataSeed: fc.nat(),
});

/** "valid" needs height ≥ kh and width ≥ kw (SPEC §3): grow the input rather than reject the draw. */
const fitValid = (p: GeneralParams): GeneralParams =>
  p.padding === "valid" ? { ...p, height: Math.max(p.height, p.kh), width: Math.max(p.width, p.kw) } : p;

/** Expands general parameters into a case (pure: the same parameters give the same case). */
export function buildGeneralCase(p: GeneralParams): GeneralCase {
  const shape: Shape4 = [p.batch, p.height, p.width, p.channels];
  const poolSize: Pair = [p.kh, p.kw];
  const strides: Pair = [p.sh, p.sw];
  const k = 1 + (p.kCode % (p.kh * p.kw));
  const rand = mulberry32(p.dataSeed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const n = sizeOf(shape);
  const tie = (alphabet: number) => {
    const a = [0, 1, -1, 2, -2][int(0, alphabet - 1)];
    return a === 0 ? (rand() < 0.5 ? -0 : 0) : a / 2;
  };
  let x: number[];
  if (p.kind === "distinct") {
    // A random permutation of n odd integers: distinct everywhere, never zero.
    const odd = Array.from({ length: n }, (_, i) => 2 * i + 1 - 2 * Math.floor(n / 2));
    for (let i = n - 1; i > 0; i--) {
      const j = int(0, i);
      [odd[i], odd[j]] = [odd[j], odd[i]];
    }
    x = odd.map((v) => v / 8);
  } else if (p.kind === "signed-zeros") {
    x = Array.from({ length: n }, () => {
      const u = rand();
      return u < 0.5 ? -0 : u < 0.65 ? 0 : -int(1, 3) / 2;
    });
  } else {
    const alphabet = int(1, 5);
    x = Array.from({ length: n }, () => tie(alphabet));
    if (p.kind === "nonfinite") {
      x = x.map((v) => (rand() < 0.2 ? [NaN, Infinity, -Infinity][int(0, 2)] : v));
    }
  }
  const outN = sizeOf(outputShape(shape, p.padding, { poolSize, strides }));
  const dy = Array.from({ length: outN }, () => {
    if (p.dyKind === "nonfinite" && rand() < 0.15) return [NaN, Infinity, -Infinity][int(0, 2)];
    // Zeros of either sign: w[r]·(-0) is a -0 term that a sum started from +0 would lose.
    return rand() < 0.1 ? (rand() < 0.5 ? -0 : 0) : int(-64, 64) / 16;
  });
  const logits = Array.from({ length: p.perChannel ? p.channels * k : k }, () => int(-256, 256) / 64);
  const extras = [
    `values "${p.kind}"`,
    ...(p.perChannel ? [`per-channel logits (C·k = ${p.channels}·${k})`] : []),
    ...(p.dyKind === "nonfinite" ? ["non-finite dy"] : []),
  ];
  return {
    shape,
    k,
    padding: p.padding,
    poolSize,
    strides,
    logits,
    x,
    dy,
    description: describeCase({ shape, k, padding: p.padding, poolSize, strides }, extras.join(", ")),
  };
}

/** One class of general-window cases. */
interface GeneralClass extends Category {
  readonly arbitrary: fc.Arbitrary<GeneralParams>;
}

/**
 * The general-window classes, in run order: each narrows {@link generalParams} to what it covers,
 * by mapping (not filtering) where it can, so that shrinking stays inside the class.
 */
export const GENERAL_CLASSES: readonly GeneralClass[] = [
  {
    name: "overlap",
    title: "overlapping windows (a stride shorter than the window on at least one axis, e.g. 3x3/1, 3x3/2, 2x2/1): " +
      "a cell's dx is the sum over the windows that keep it",
    hint: "under overlapping windows a cell's dx is the SUM of w[r]·dy over every window that keeps it (rank < k), " +
      "taken in output order and started from the first term (so -0 + -0 stays -0), not the last window's term " +
      '(SPEC §5 "Gradient"). The report lists every window containing the failing cell, with its rank and term there.',
    hintFits: (f) => fitsHint(f, "overlap"),
    arbitrary: generalParams.map((p) => {
      const kh = Math.max(p.kh, 2);
      const kw = Math.max(p.kw, 2);
      let sh = Math.min(p.sh, kh);
      const sw = Math.min(p.sw, kw);
      if (sh === kh && sw === kw) sh = kh - 1;
      return fitValid({ ...p, kh, kw, sh, sw });
    }),
  },
  {
    name: "gaps",
    title: "strides longer than the window on at least one axis (e.g. 2x2/3, 1x1/2): cells in no window get dx +0",
    hint: 'output size: "valid" floor((H − kh) / sh) + 1, "same" ceil(H / sh) (SPEC §3); a cell that no window ' +
      "contains gets dx exactly +0 (assigned, never 0·dy)",
    hintFits: (f) => fitsHint(f, "gaps"),
    arbitrary: generalParams.map((p) => {
      const kh = Math.min(p.kh, 3);
      const kw = Math.min(p.kw, 3);
      let sh = Math.max(p.sh, kh);
      const sw = Math.max(p.sw, kw);
      if (sh === kh && sw === kw) sh = kh + 1;
      return fitValid({ ...p, kh, kw, sh, sw });
    }),
  },
  {
    name: "asymmetric",
    title: "windows with kh ≠ kw (e.g. 3x2, 1x4, 4x2) and any strides: cells row-major over the kh x kw window",
    hint: "cells are numbered row-major over the kh x kw window (cell = row offset·kw + column offset; ties rank " +
      "the lower cell first), and each axis has its own output size and padding (SPEC §2-3)",
    hintFits: (f) => fitsHint(f, "asymmetric"),
    arbitrary: generalParams.map((p) => fitValid(p.kh === p.kw ? { ...p, kw: (p.kw % 4) + 1 } : p)),
  },
  {
    name: "same-split",
    title: '"same" padding split before and after (pad_total = max((out − 1)·s + k − size, 0), floor(total / 2) ' +
      "before: padded rows at the top and bottom, or columns left and right)",
    hint: '"same": out = ceil(H / sh), pad_total = max((out − 1)·sh + kh − H, 0), pad_top = floor(pad_total / 2), ' +
      "the rest at the bottom (TensorFlow's convention), likewise left and right (SPEC §3); padded cells are zeros " +
      "that rank for k > 1 and are ignored for k = 1",
    hintFits: (f) => fitsHint(f, "same-split"),
    arbitrary: generalParams.map((p) => ({ ...p, padding: "same" as const, kh: Math.max(p.kh, 3) })).filter((p) => {
      const g = poolGeometry([p.batch, p.height, p.width, p.channels], "same", {
        poolSize: [p.kh, p.kw],
        strides: [p.sh, p.sw],
      });
      return g.rows.padBefore > 0 || g.cols.padBefore > 0;
    }),
  },
  {
    name: "per-channel",
    title: "per-channel logits (C = 2..4, length C·k, channel-major: channel c's at [c·k, c·k + k)), each channel " +
      "its own softmax and dLogits; half on the default 2x2/2 window",
    hint: "per-channel logits: channel c's weights are softmax(logits[c·k .. c·k + k)) (a NaN poisons only its own " +
      "channel), and dLogits[c·k + r] sums over channel c's windows only (SPEC §1, §5)",
    hintFits: (f) => fitsHint(f, "per-channel"),
    arbitrary: fc.tuple(generalParams, fc.boolean()).map(([p, defaultWindow]) =>
      fitValid({
        ...p,
        channels: Math.max(p.channels, 2),
        perChannel: true,
        ...(defaultWindow ? { kh: 2, kw: 2, sh: 2, sw: 2 } : {}),
      })
    ),
  },
];

/** Every category, in run order, with what it covers. */
export const CATEGORIES: readonly Category[] = [
  { name: "golden", title: "every case of vectors/sort_pool2d.json: forward, and gradient where it has dy" },
  ...[...CLASSES, ...GENERAL_CLASSES].map(({ name, title, hint, hintFits }) => ({
    name,
    title,
    ...(hint ? { hint } : {}),
    ...(hintFits ? { hintFits } : {}),
  })),
  {
    name: "bad-input",
    title: "inputs the spec rejects (SPEC §6): k out of range (1..kh·kw), wrong logits / x / dy length (logits: k " +
      'or C·k), a logit that is not a number, unknown padding, empty "valid" output (an input smaller than the ' +
      "window), bad shape (rank 3, a fractional or negative dimension, a zero one past tf.maxPool's range), bad " +
      "poolSize or strides",
  },
  {
    name: "empty-input",
    title: "a zero batch, height, width or channel count: empty y of the output shape, empty dx, dLogits exactly +0 " +
      "(SPEC §1)",
  },
];

/**
 * Empty inputs (SPEC §1 "Empty inputs"): a zero batch, height, width or channel count, where tf.maxPool
 * has an output (SPEC §3). The answer is an empty y of the output shape, an empty dx, and dLogits
 * exactly +0 per logit whatever the logits (a NaN logit included).
 */
const EMPTY_INPUTS: readonly {
  readonly shape: Shape4;
  readonly padding: Padding;
  readonly k: number;
  readonly logits: readonly number[];
  readonly poolSize?: Pair;
  readonly strides?: Pair;
}[] = [
  { shape: [0, 4, 4, 3], padding: "same", k: 2, logits: [0.5, -0.25] },
  { shape: [0, 5, 4, 3], padding: "valid", k: 1, logits: [0] },
  { shape: [0, 1, 4, 2], padding: "valid", k: 3, logits: [0, 1, 2] },
  { shape: [2, 0, 4, 3], padding: "same", k: 3, logits: [NaN, 0, 1], poolSize: [3, 3], strides: [2, 2] },
  { shape: [2, 4, 0, 3], padding: "valid", k: 2, logits: [1, 2] },
  { shape: [2, 4, 4, 0], padding: "same", k: 4, logits: [1, 2, 3, 4], poolSize: [3, 3], strides: [1, 1] },
  { shape: [0, 4, 4, 2], padding: "valid", k: 2, logits: [1, 2, 3, 4], poolSize: [2, 2], strides: [1, 1] },
];

/** The empty-input cases, forward and gradient each. */
export function emptyInputCases(): ConformanceCase[] {
  return EMPTY_INPUTS.flatMap((c, i) =>
    (["forward", "gradient"] as const).map((op) => {
      const name = `empty-input#${i}/${op}`;
      return caseOf(name, "empty-input", describeCase(c, ""), requestOf(name, op, c, [], c.logits, []));
    })
  );
}

/** A case's window options, as a request carries them: present only when not the default 2x2/2. */
interface WindowFields {
  readonly poolSize?: Pair;
  readonly strides?: Pair;
}

/** The window fields of a case, or none when it is 2x2 with stride 2 (the request then omits them). */
function windowFields(w: WindowFields): WindowFields {
  const poolSize = w.poolSize ?? [2, 2];
  const strides = w.strides ?? poolSize;
  if (poolSize[0] === 2 && poolSize[1] === 2 && strides[0] === 2 && strides[1] === 2) return {};
  return { poolSize: [poolSize[0], poolSize[1]], strides: [strides[0], strides[1]] };
}

function describeCase(c: Pick<PropCase, "shape" | "k" | "padding"> & WindowFields, extra: string): string {
  const w = windowFields(c);
  const window = w.poolSize ? `, poolSize [${w.poolSize.join(", ")}], strides [${w.strides!.join(", ")}]` : "";
  return `shape [${c.shape.join(", ")}]${window}, k ${c.k}, "${c.padding}"${extra ? `, ${extra}` : ""}`;
}

/**
 * A request for a case. The window fields are read from `c` when it has them (general cases, and
 * the generators' cases should they carry a window) and sent only when not the default.
 */
function requestOf(
  id: string,
  op: Op,
  c: Pick<PropCase, "shape" | "k" | "padding"> & WindowFields,
  x: ArrayLike<number>,
  logits: readonly number[],
  dy: ArrayLike<number> | undefined,
): Request {
  return {
    id,
    op,
    x: Array.from(x),
    shape: [...c.shape],
    logits: [...logits],
    k: c.k,
    padding: c.padding,
    ...windowFields(c),
    ...(op === "gradient" ? { dy: Array.from(dy ?? []) } : {}),
  };
}

/** A case from its request (its needs derived from the request). */
function caseOf(name: string, category: string, description: string, request: Request): ConformanceCase {
  return { name, category, description, request, needs: needsOf(request) };
}

/** The golden cases as requests: one forward request each, plus a gradient request where the case has dy. */
export async function goldenCases(): Promise<ConformanceCase[]> {
  const out: ConformanceCase[] = [];
  for (const g of await loadGoldenCases()) {
    const ops: Op[] = g.dy ? ["forward", "gradient"] : ["forward"];
    const c = goldenInput(g);
    for (const op of ops) {
      const name = `golden/${g.name}/${op}`;
      out.push(
        caseOf(name, "golden", `${describeCase(c, "")}: ${g.description}`, requestOf(name, op, c, g.x, g.logits, g.dy)),
      );
    }
  }
  return out;
}

/** Seed of one class: the run's seed mixed with the class's position, so classes draw independently. */
function classSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) | 0;
}

/**
 * Generated cases: `perClass` cases from each class, drawn with fast-check from `seed` (the
 * generators' classes, then {@link GENERAL_CLASSES}; each class draws from a seed of its own).
 */
export function generatedCases(precision: Precision, seed: number, perClass: number): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  if (perClass === 0) return out;
  CLASSES.forEach((cls, index) => {
    const drawn = fc.sample(cls.arbitrary(precision), { seed: classSeed(seed, index), numRuns: perClass });
    drawn.forEach((d, i) => {
      const logits = d.logits ?? d.c.logits;
      const dy = d.dy ?? d.c.dy;
      const description = describeCase(d.c, `values "${d.c.params.kind}"`) +
        (d.logits ? `, logits [${logits.join(", ")}]` : "");
      for (const op of cls.ops) {
        const name = `${cls.name}#${i}/${op}`;
        out.push(caseOf(name, cls.name, description, requestOf(name, op, d.c, d.c.x, logits, dy)));
      }
    });
  });
  GENERAL_CLASSES.forEach((cls, j) => {
    const seedOf = classSeed(seed, CLASSES.length + j);
    fc.sample(cls.arbitrary, { seed: seedOf, numRuns: perClass }).forEach((p, i) => {
      const c = buildGeneralCase(p);
      for (const op of ["forward", "gradient"] as const) {
        const name = `${cls.name}#${i}/${op}`;
        out.push(caseOf(name, cls.name, c.description, requestOf(name, op, c, c.x, c.logits, c.dy)));
      }
    });
  });
  return out;
}

/** A bad input: a change to a valid request that the spec must reject. */
interface Mutation {
  readonly name: string;
  readonly ops: readonly Op[];
  readonly apply: (r: Request) => Request;
}

const MUTATIONS: readonly Mutation[] = [
  { name: "k=0", ops: ["forward", "gradient"], apply: (r) => ({ ...r, k: 0, logits: [] }) },
  { name: "k=5", ops: ["forward", "gradient"], apply: (r) => ({ ...r, k: 5, logits: [0, 0, 0, 0, 0] }) },
  { name: "k=-1", ops: ["forward"], apply: (r) => ({ ...r, k: -1, logits: [] }) },
  { name: "k=1.5", ops: ["forward", "gradient"], apply: (r) => ({ ...r, k: 1.5, logits: [0] }) },
  { name: "logits-short", ops: ["forward", "gradient"], apply: (r) => ({ ...r, logits: r.logits.slice(1) }) },
  { name: "logits-long", ops: ["forward", "gradient"], apply: (r) => ({ ...r, logits: [...r.logits, 0.5] }) },
  // Not a number: sent as the JSON string "abc" and as JSON null (only "NaN", "Infinity", "-Infinity", "-0" are).
  { name: "logits-string", ops: ["forward", "gradient"], apply: (r) => withLogit0(r, "abc") },
  { name: "logits-null", ops: ["forward", "gradient"], apply: (r) => withLogit0(r, null) },
  { name: "x-short", ops: ["forward", "gradient"], apply: (r) => ({ ...r, x: r.x.slice(0, -1) }) },
  { name: "x-long", ops: ["forward", "gradient"], apply: (r) => ({ ...r, x: [...r.x, 1] }) },
  { name: "padding=full", ops: ["forward", "gradient"], apply: (r) => ({ ...r, padding: "full" }) },
  { name: "padding=SAME", ops: ["forward", "gradient"], apply: (r) => ({ ...r, padding: r.padding.toUpperCase() }) },
  { name: "padding-empty", ops: ["forward"], apply: (r) => ({ ...r, padding: "" }) },
  { name: "dy-short", ops: ["gradient"], apply: (r) => ({ ...r, dy: (r.dy ?? []).slice(0, -1) }) },
  { name: "dy-long", ops: ["gradient"], apply: (r) => ({ ...r, dy: [...(r.dy ?? []), 1] }) },
  {
    name: "valid-empty-output",
    ops: ["forward", "gradient"],
    apply: (r) => {
      // Height 1 with "valid": no window fits. x keeps a consistent length; dy is empty (the output would be).
      const [b, , w, c] = r.shape;
      return { ...r, shape: [b, 1, w, c], padding: "valid", x: r.x.slice(0, b * w * c), dy: [] };
    },
  },
  {
    // An empty input is valid (SPEC §1) where tf.maxPool has an output: "valid" with a 2x2 window and stride 1 has
    // none for height 0 (floor((0 − 2) / 1) + 1 = −1).
    name: "zero-dimension",
    ops: ["forward"],
    apply: (r) => ({
      ...r,
      shape: [r.shape[0], 0, r.shape[2], r.shape[3]],
      x: [],
      padding: "valid",
      poolSize: [2, 2],
      strides: [1, 1],
    }),
  },
  { name: "shape-rank-3", ops: ["forward"], apply: (r) => ({ ...r, shape: r.shape.slice(0, 3) }) },
  // x keeps its length: the shape itself is what is wrong.
  {
    name: "shape-fractional",
    ops: ["forward"],
    apply: (r) => ({ ...r, shape: [r.shape[0], r.shape[1] - 0.5, r.shape[2], r.shape[3]] }),
  },
  {
    name: "shape-negative",
    ops: ["forward"],
    apply: (r) => ({ ...r, shape: [r.shape[0], r.shape[1], -r.shape[2], r.shape[3]] }),
  },
];

/** `r` with its first logit replaced by a value that is not a number (a deliberately ill-typed request). */
function withLogit0(r: Request, value: unknown): Request {
  return { ...r, logits: [value as number, ...r.logits.slice(1)] };
}

/** The two valid cases that the bad inputs are derived from (small, so replay lines stay short). */
function badInputBases(precision: Precision): PropCase[] {
  const base: CaseParams = {
    batch: 1,
    height: 3,
    width: 4,
    channels: 2,
    k: 3,
    padding: "same",
    kind: "distinct",
    scaleParam: 0,
    spread: 1,
    alphabet: 3,
    nearTieParam: 0,
    logitCodes: [32, -16, 8, -64],
    descendingLogits: false,
    slotOrder: [0, 1, 2, 3],
    dataSeed: 7,
    dyKind: "finite",
    logitKind: "ordinary",
    window: DEFAULT_WINDOW,
    perChannel: false,
  };
  return [
    buildCase(base, precision),
    buildCase({ ...base, batch: 2, height: 4, width: 5, channels: 1, k: 2, padding: "valid", dataSeed: 11 }, precision),
  ];
}

/**
 * Bad window arguments and lengths that only general windows or per-channel logits have (SPEC §6),
 * applied to {@link generalBadInputBases}; `base` names the one each applies to.
 */
const GENERAL_MUTATIONS: readonly (Mutation & { readonly base: number })[] = [
  { name: "poolSize=0x3", base: 2, ops: ["forward"], apply: (r) => ({ ...r, poolSize: [0, 3] }) },
  { name: "poolSize=5x3", base: 2, ops: ["forward", "gradient"], apply: (r) => ({ ...r, poolSize: [5, 3] }) },
  { name: "poolSize=3x2.5", base: 2, ops: ["forward"], apply: (r) => ({ ...r, poolSize: [3, 2.5] }) },
  { name: "poolSize-one-number", base: 2, ops: ["forward"], apply: (r) => ({ ...r, poolSize: [3] }) },
  // Not a pair: the JSON string "3x3" (a deliberately ill-typed request).
  { name: "poolSize-string", base: 2, ops: ["forward"], apply: (r) => ({ ...r, poolSize: "3x3" as unknown as [] }) },
  { name: "strides=0x2", base: 2, ops: ["forward", "gradient"], apply: (r) => ({ ...r, strides: [0, 2] }) },
  { name: "strides=2x5", base: 2, ops: ["forward"], apply: (r) => ({ ...r, strides: [2, 5] }) },
  { name: "strides-one-number", base: 2, ops: ["forward"], apply: (r) => ({ ...r, strides: [2] }) },
  // k past the window's kh·kw cells: 10 on 3x3, 3 on 1x2.
  {
    name: "k=10-on-3x3",
    base: 2,
    ops: ["forward", "gradient"],
    apply: (r) => ({ ...r, k: 10, logits: Array(10).fill(0) }),
  },
  { name: "k=3-on-1x2", base: 2, ops: ["forward"], apply: (r) => ({ ...r, k: 3, poolSize: [1, 2], strides: [1, 2] }) },
  {
    name: "valid-smaller-than-window",
    base: 2,
    ops: ["forward", "gradient"],
    apply: (r) => {
      // Height 2 under a 3x3 "valid" window: no window fits. x keeps a consistent length; dy is empty.
      const [b, , w, c] = r.shape;
      return { ...r, shape: [b, 2, w, c], padding: "valid", x: r.x.slice(0, b * 2 * w * c), dy: [] };
    },
  },
  // strides 1 with the dy of strides 2 (18 values where the output has 60): a port that ignores strides accepts it.
  {
    name: "dy-for-other-strides",
    base: 2,
    ops: ["gradient"],
    apply: (r) => ({ ...r, strides: [1, 1] }),
  },
  // Per-channel logits (C = 3, k = 2) of the wrong length: (C − 1)·k and C·k + 1.
  {
    name: "logits-per-channel-short",
    base: 3,
    ops: ["forward", "gradient"],
    apply: (r) => ({ ...r, logits: r.logits.slice(2) }),
  },
  { name: "logits-per-channel-long", base: 3, ops: ["forward"], apply: (r) => ({ ...r, logits: [...r.logits, 0] }) },
];

/**
 * The valid cases the general mutations are derived from, numbered on from {@link badInputBases}:
 * #2 a 3x3 stride-2 "same" case (C = 2, k = 4), #3 a per-channel 2x2 stride-1 "valid" case (C = 3, k = 2).
 */
function generalBadInputBases(): GeneralCase[] {
  const base: GeneralParams = {
    batch: 1,
    height: 5,
    width: 6,
    channels: 2,
    kh: 3,
    kw: 3,
    sh: 2,
    sw: 2,
    kCode: 3,
    padding: "same",
    kind: "distinct",
    dyKind: "finite",
    perChannel: false,
    dataSeed: 13,
  };
  return [
    buildGeneralCase(base),
    buildGeneralCase({
      ...base,
      height: 4,
      width: 4,
      channels: 3,
      kh: 2,
      kw: 2,
      sh: 1,
      sw: 1,
      kCode: 1,
      padding: "valid",
      perChannel: true,
      dataSeed: 17,
    }),
  ];
}

/** Bad inputs: each mutation applied to each base case, for the ops it concerns; then the general ones. */
export function badInputCases(precision: Precision): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const add = (
    m: Mutation,
    b: number,
    c: Parameters<typeof requestOf>[2],
    valid: (name: string, op: Op) => Request,
  ) => {
    for (const op of m.ops) {
      const name = `bad-input/${m.name}#${b}/${op}`;
      const request = m.apply(valid(name, op));
      out.push(
        caseOf(
          name,
          "bad-input",
          `${m.name} applied to ${describeCase(c, "")}`,
          op === "forward" ? withoutDy(request) : request,
        ),
      );
    }
  };
  badInputBases(precision).forEach((c, b) => {
    for (const m of MUTATIONS) add(m, b, c, (name, op) => requestOf(name, op, c, c.x, c.logits, c.dy));
  });
  const general = generalBadInputBases();
  for (const m of GENERAL_MUTATIONS) {
    const c = general[m.base - 2];
    add(m, m.base, c, (name, op) => requestOf(name, op, c, c.x, c.logits, c.dy));
  }
  return out;
}

function withoutDy(r: Request): Request {
  const { dy: _dy, ...rest } = r;
  return rest;
}

/** Every case of a run, in run order. */
export async function allCases(precision: Precision, seed: number, perClass: number): Promise<ConformanceCase[]> {
  return [
    ...await goldenCases(),
    ...generatedCases(precision, seed, perClass),
    ...badInputCases(precision),
    ...emptyInputCases(),
  ];
}
