/**
 * The conformance kit's generated cases: seeded cases from the project's property generators
 * (props/generators.ts) by class ({@link GENERATED_CLASSES}), then the general-window classes
 * (conformance/general_windows.ts), drawn with fast-check from a fixed seed so that the same seed
 * and `--cases` give the same cases, names and requests on every machine.
 *
 * @module
 */
import fc from "fast-check";
import {
  buildCase,
  type CaseConstraints,
  type CaseParams,
  paramsArbitrary,
  type PropCase,
  VALUE_KINDS,
} from "../props/generators.ts";
import type { Precision } from "../testkit/mod.ts";
import { caseOf, type Category, type ConformanceCase, describeCase, requestOf } from "./case_requests.ts";
import { answersWithFloat32Logits } from "./compare.ts";
import { buildGeneralCase, GENERAL_CLASSES } from "./general_windows.ts";
import type { Op } from "./protocol.ts";

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
export interface GeneratedClass extends Category {
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
export const GENERATED_CLASSES: readonly GeneratedClass[] = [
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
  GENERATED_CLASSES.forEach((cls, index) => {
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
    const seedOf = classSeed(seed, GENERATED_CLASSES.length + j);
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
