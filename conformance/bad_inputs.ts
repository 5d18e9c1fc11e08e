/**
 * The conformance kit's bad inputs (SPEC §6): mutations of small valid requests that a port must
 * reject, first on the article's layer, then those only general windows or per-channel logits have.
 *
 * @module
 */
import { buildCase, type CaseParams, DEFAULT_WINDOW, type PropCase } from "../props/generators.ts";
import type { Precision } from "../testkit/mod.ts";
import { caseOf, type ConformanceCase, describeCase, requestOf } from "./case_requests.ts";
import { buildGeneralCase, type GeneralCase, type GeneralParams } from "./general_windows.ts";
import type { Op, Request } from "./protocol.ts";

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
/** `r` without its dy: a forward request carries none. */
function withoutDy(r: Request): Request {
  const { dy: _dy, ...rest } = r;
  return rest;
}
