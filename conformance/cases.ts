/**
 * The conformance kit's cases: every golden vector, then seeded cases from the project's property
 * generators (props/generators.ts) by class, then bad inputs a port must reject. A case is only a
 * request: what the port must answer is computed at run time by the float64 reference
 * (src/reference.ts) and the shared validation (src/validate.ts), never stored here.
 *
 * Generated cases are drawn with fast-check from a fixed seed (`--seed`), so the same seed and
 * `--cases` give the same cases, names and requests on every machine.
 *
 * @module
 */
import fc from "fast-check";
import { loadGoldenCases } from "../src/golden.ts";
import {
  buildCase,
  type CaseConstraints,
  type CaseParams,
  paramsArbitrary,
  type Precision,
  type PropCase,
} from "../props/generators.ts";
import type { Op, Request } from "./protocol.ts";

/** One conformance case: a request (in this project's weight order) and where it comes from. */
export interface ConformanceCase {
  /** Unique name; also the request's id. */
  readonly name: string;
  /** Category for the summary table ("golden", a generated class, or "bad-input"). */
  readonly category: string;
  /** What the inputs are, in a few words (shape, k, padding, value kind). */
  readonly description: string;
  /** The request, logits in this project's order (w[0] weights the largest). */
  readonly request: Request;
}

/** A category of cases and what it covers. */
export interface Category {
  readonly name: string;
  readonly title: string;
  /** The likely cause when cases of this category fail, printed with the report (none: no single cause). */
  readonly hint?: string;
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
];

/** Every category, in run order, with what it covers. */
export const CATEGORIES: readonly Category[] = [
  { name: "golden", title: "every case of vectors/sort_pool2d.json: forward, and gradient where it has dy" },
  ...CLASSES.map(({ name, title, hint }) => ({ name, title, ...(hint ? { hint } : {}) })),
  {
    name: "bad-input",
    title: "inputs the spec rejects (SPEC §6): k out of range, wrong logits / x / dy length, a logit that is not a " +
      'number, unknown padding, empty "valid" output, bad shape (rank 3, a zero, fractional or negative dimension)',
  },
];

function describeCase(c: Pick<PropCase, "shape" | "k" | "padding">, extra: string): string {
  return `shape [${c.shape.join(", ")}], k ${c.k}, "${c.padding}"${extra ? `, ${extra}` : ""}`;
}

function requestOf(
  id: string,
  op: Op,
  c: Pick<PropCase, "shape" | "k" | "padding">,
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
    ...(op === "gradient" ? { dy: Array.from(dy ?? []) } : {}),
  };
}

/** The golden cases as requests: one forward request each, plus a gradient request where the case has dy. */
export async function goldenCases(): Promise<ConformanceCase[]> {
  const out: ConformanceCase[] = [];
  for (const g of await loadGoldenCases()) {
    const ops: Op[] = g.dy ? ["forward", "gradient"] : ["forward"];
    for (const op of ops) {
      const name = `golden/${g.name}/${op}`;
      out.push({
        name,
        category: "golden",
        description: `${describeCase(g, "")}: ${g.description}`,
        request: requestOf(name, op, g, g.x, g.logits, g.dy),
      });
    }
  }
  return out;
}

/** Seed of one class: the run's seed mixed with the class's position, so classes draw independently. */
function classSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) | 0;
}

/** Generated cases: `perClass` cases from each class, drawn with fast-check from `seed`. */
export function generatedCases(precision: Precision, seed: number, perClass: number): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  CLASSES.forEach((cls, index) => {
    if (perClass === 0) return;
    const drawn = fc.sample(cls.arbitrary(precision), { seed: classSeed(seed, index), numRuns: perClass });
    drawn.forEach((d, i) => {
      const logits = d.logits ?? d.c.logits;
      const dy = d.dy ?? d.c.dy;
      const description = describeCase(d.c, `values "${d.c.params.kind}"`) +
        (d.logits ? `, logits [${logits.join(", ")}]` : "");
      for (const op of cls.ops) {
        const name = `${cls.name}#${i}/${op}`;
        out.push({ name, category: cls.name, description, request: requestOf(name, op, d.c, d.c.x, logits, dy) });
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
    name: "zero-dimension",
    ops: ["forward"],
    apply: (r) => ({ ...r, shape: [r.shape[0], 0, r.shape[2], r.shape[3]], x: [] }),
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
  };
  return [
    buildCase(base, precision),
    buildCase({ ...base, batch: 2, height: 4, width: 5, channels: 1, k: 2, padding: "valid", dataSeed: 11 }, precision),
  ];
}

/** Bad inputs: each mutation applied to each base case, for the ops it concerns. */
export function badInputCases(precision: Precision): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  badInputBases(precision).forEach((c, b) => {
    for (const m of MUTATIONS) {
      for (const op of m.ops) {
        const name = `bad-input/${m.name}#${b}/${op}`;
        const valid = requestOf(name, op, c, c.x, c.logits, c.dy);
        const request = m.apply(valid);
        out.push({
          name,
          category: "bad-input",
          description: `${m.name} applied to ${describeCase(c, "")}`,
          request: op === "forward" ? withoutDy(request) : request,
        });
      }
    }
  });
  return out;
}

function withoutDy(r: Request): Request {
  const { dy: _dy, ...rest } = r;
  return rest;
}

/** Every case of a run, in run order. */
export async function allCases(precision: Precision, seed: number, perClass: number): Promise<ConformanceCase[]> {
  return [...await goldenCases(), ...generatedCases(precision, seed, perClass), ...badInputCases(precision)];
}
