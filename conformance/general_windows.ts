/**
 * The conformance kit's general-window cases (SPEC.md §2-5), drawn here rather than by the property
 * generators: overlapping windows, gaps, asymmetric windows, "same" padding split before and after,
 * and per-channel logits ({@link GENERAL_CLASSES}).
 *
 * @module
 */
import fc from "fast-check";
import { mulberry32 } from "../src/random.ts";
import { outputShape, poolGeometry, sizeOf } from "../src/spec.ts";
import type { Padding, Pair, Shape4 } from "../src/types.ts";
import { type Category, describeCase } from "./case_requests.ts";
import { fitsHint } from "./causes.ts";

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
export interface GeneralCase {
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
export interface GeneralClass extends Category {
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
