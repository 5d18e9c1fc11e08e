/**
 * What a port must answer to a request, and whether its answer does.
 *
 * The expected answer comes from the float64 reference (src/reference.ts) at run time: values for
 * a valid request, or the error that the shared validation (src/validate.ts) raises for a bad one.
 * Values are compared within the project's tolerance model (props/tolerance.ts) for the chosen
 * precision, plus an underflow term (see {@link UNDERFLOW}); NaN must meet NaN, ±Infinity must be
 * matched exactly. Where SPEC §5 fixes the sign of a zero, a zero answer must carry it (Object.is):
 * every zero y (-0 exactly when every kept product is -0) and every zero dx (+0 where nothing is
 * kept, the IEEE sign of w[r]·dy where a cell is kept); the sign of a zero dLogits is fixed only for
 * k = 1, where dLogits is exactly +0. k = 1's y (the window's maximum itself) is compared bitwise.
 *
 * @module
 */
import { type Precision, type WindowInfo, windowInfos } from "../props/generators.ts";
import { dLogitsTolerance, referenceTolerance } from "../props/tolerance.ts";
import { describeWindow } from "../props/verdict.ts";
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { coordinatesOf, float32Weights, outputShape, softmax } from "../src/spec.ts";
import type { Padding, Shape4, SortPoolCase } from "../src/types.ts";
import { SortPoolArgumentError } from "../src/validate.ts";
import { decodeWireArray, type Request } from "./protocol.ts";

/**
 * Smallest normal number per precision. props/tolerance.ts bounds roundings of normal numbers
 * only; a product or sum that falls below this in the port's precision (or a device that flushes
 * subnormals to zero) may lose everything under it, so each bound gets `4·UNDERFLOW·scale` on top
 * of the model's relative term. (Weights themselves are not an issue: the expected values are
 * computed with the weights rounded to the port's precision, as SPEC §5 prescribes.)
 */
export const UNDERFLOW: Readonly<Record<Precision, number>> = { float32: 2 ** -126, float64: 2 ** -1022 };

/** Weight order of the port's logits and dLogits. */
export type WeightsOrder = "largest-first" | "smallest-first";

/** What the port must answer. */
export type Expected =
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "forward"; readonly shape: readonly number[]; readonly y: Float64Array }
  | { readonly kind: "gradient"; readonly dx: Float64Array; readonly dLogits: Float64Array };

/** One thing wrong with an answer. */
export interface Problem {
  /** "forward", "dx", "dLogits", "error expected", "unexpected error", "answer" (malformed or wrong length). */
  readonly what: string;
  /** The first differing element as the port numbers it, e.g. "dx[17]", when the problem is about values. */
  readonly element?: string;
  /** Index of that element in its array. */
  readonly index?: number;
  /** Where that element is: batch, row, column, channel, window cell and spec rank (the rank, for dLogits). */
  readonly location?: string;
  readonly expected: string;
  readonly received: string;
  /** The bound used for the first differing element, in words. */
  readonly tolerance?: string;
  /** How many elements differ, e.g. "3 of 24". */
  readonly differing?: string;
}

/** The reference's case for a request (x as float64; the reference validates everything else). */
function referenceCase(r: Request): SortPoolCase {
  return {
    x: Float64Array.from(r.x),
    shape: r.shape as unknown as Shape4,
    logits: [...r.logits],
    k: r.k,
    padding: r.padding as Padding,
  };
}

/**
 * The answer the spec requires for `r` (logits in this project's order) from a port computing in
 * `precision`: the float64 reference run with the weights that precision uses (SPEC §5: softmax in
 * float64 once per call, rounded to float32 for a float32 port).
 */
export function expectedFor(r: Request, precision: Precision): Expected {
  try {
    const c = referenceCase(r);
    // Only a valid logits array can have weights; a bad one is left for the reference to reject.
    const weights = precision === "float32" && Array.isArray(r.logits) && r.logits.length === r.k
      ? float32Weights(r.logits)
      : undefined;
    if (r.op === "forward") {
      const { y, shape } = referenceForward(c, weights);
      return { kind: "forward", shape, y: Float64Array.from(y) };
    }
    const { dx, dLogits } = referenceGradient(c, r.dy ?? [], weights);
    return { kind: "gradient", dx: Float64Array.from(dx), dLogits: Float64Array.from(dLogits) };
  } catch (e) {
    if (e instanceof SortPoolArgumentError) return { kind: "error", message: e.message };
    throw e;
  }
}

/** How one element is compared. */
interface Bound {
  /** Largest |received − expected| allowed (finite values); 0 for exact. */
  readonly tol: number;
  /** Must equal the expected value exactly, sign of zero included (Object.is; NaN still matches any NaN). */
  readonly exact?: boolean;
  /** The sign of a zero is fixed by the spec: when both values are zeros, their signs must agree. */
  readonly zeroSign: boolean;
}

/** Does `received` match `expected` under `b`? NaN matches NaN (any payload); ±Infinity exactly. */
function matches(expected: number, received: number, b: Bound): boolean {
  if (Number.isNaN(expected) || Number.isNaN(received)) return Number.isNaN(expected) && Number.isNaN(received);
  if (b.exact) return Object.is(expected, received);
  if (!Number.isFinite(expected) || !Number.isFinite(received)) return expected === received;
  if (b.zeroSign && expected === 0 && received === 0) return Object.is(expected, received);
  return Math.abs(received - expected) <= b.tol;
}

function describeBound(b: Bound): string {
  const sign = b.zeroSign ? ", sign of zero included" : "";
  if (b.exact) return "exact (bitwise), sign of zero included";
  return `${b.tol === 0 ? "exact" : Number(b.tol.toPrecision(3)).toExponential()}${sign}`;
}

/** A number in full (shortest round-trip) precision, with -0 visible. */
export function num(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

/** Compares arrays element by element; a problem naming the first differing element, or null. */
function compareArrays(
  what: string,
  expected: Float64Array,
  received: Float64Array,
  bound: (i: number) => Bound,
  locate: (i: number) => string,
  label: (i: number) => string = (i) => `${what}[${i}]`,
): Problem | null {
  let first = -1;
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    if (!matches(expected[i], received[i], bound(i))) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first < 0) return null;
  return {
    what,
    element: label(first),
    index: first,
    location: locate(first),
    expected: num(expected[first]),
    received: num(received[first]),
    tolerance: describeBound(bound(first)),
    differing: `${count} of ${expected.length}`,
  };
}

/** Where output element `info.out` is, in words (batch, row, column, channel; the window's cells and ranks). */
export function whereOutput(info: WindowInfo): string {
  const r0 = 2 * info.oh;
  const c0 = 2 * info.ow;
  return `batch ${info.b}, row ${info.oh}, column ${info.ow}, channel ${info.ch} of y; its window: input rows ` +
    `${r0}..${r0 + 1}, columns ${c0}..${c0 + 1}, cells (row-column: value, spec rank) ${describeWindow(info)}`;
}

/** Where input element `i` is, in words: coordinates, window cell and spec rank (`info`: its window, if any). */
export function whereInput(shape: Shape4, i: number, info: WindowInfo | undefined, k: number): string {
  const { b, row, col, ch } = coordinatesOf(shape, i);
  const head = `batch ${b}, row ${row}, column ${col}, channel ${ch} of x`;
  if (!info) return `${head}: in no window ("valid" drops the last row or column of an odd size)`;
  const cell = info.cells.find((p) => p.index === i);
  const rank = cell ? info.ranked.indexOf(cell) : -1;
  const kept = rank >= 0 && rank < k ? `kept (rank < k = ${k})` : `not kept (rank >= k = ${k})`;
  return `${head}: cell ${
    cell?.cell ?? "?"
  } of the window at y row ${info.oh}, column ${info.ow}, spec rank ${rank}, ` +
    `${kept}; window cells (row-column: value, spec rank) ${describeWindow(info)}`;
}

/** Weights for tolerances only (their size matters, not their last bits); non-finite weights count as 1. */
function toleranceWeights(logits: readonly number[]): number[] {
  let w: number[];
  try {
    w = Array.from(softmax(logits));
  } catch {
    w = logits.map(() => 1);
  }
  return w.map((v) => (Number.isFinite(v) ? v : 1));
}

/** Output-element bounds: k = 1 bitwise; else the model's bound (0 for a window whose top k are all zeros). */
function forwardBound(p: Precision, k: number, info: WindowInfo): Bound {
  if (k === 1) return { tol: 0, exact: true, zeroSign: true };
  return { tol: referenceTolerance(p, info.topAbs) + 4 * UNDERFLOW[p] * info.topAbs, zeroSign: true };
}

/** Checks a port's answer (already parsed as a JSON object) against the expected answer. */
export function checkAnswer(
  r: Request,
  expected: Expected,
  body: Record<string, unknown>,
  precision: Precision,
  order: WeightsOrder,
): Problem[] {
  const hasError = Object.hasOwn(body, "error");
  if (expected.kind === "error") {
    if (hasError) {
      return typeof body.error === "string" && body.error.length > 0 ? [] : [{
        what: "answer",
        expected: 'an error answer {"id", "error": "message"} with a non-empty message',
        received: `"error": ${JSON.stringify(body.error)}`,
      }];
    }
    return [{ what: "error expected", expected: `an error like: ${expected.message}`, received: summarise(body) }];
  }
  if (hasError) {
    return [{
      what: "unexpected error",
      expected: `a ${expected.kind} answer (the input is valid)`,
      received: `error ${JSON.stringify(body.error)}`,
    }];
  }
  const c = referenceCase(r);
  const infos = windowInfos({ shape: c.shape, k: c.k, padding: c.padding }, c.x);
  if (expected.kind === "forward") return checkForward(c, infos, expected, body, precision);
  return checkGradient(c, infos, r.dy ?? [], expected, body, precision, order);
}

/** A one-line description of an answer's fields (for "an error should have come"). */
function summarise(body: Record<string, unknown>): string {
  const fields = Object.entries(body).filter(([k]) => k !== "id").map(([k, v]) =>
    Array.isArray(v) ? `${k}: ${v.length} values` : `${k}: ${JSON.stringify(v)}`
  );
  return `an answer with ${fields.length > 0 ? fields.join(", ") : "no fields but id"}`;
}

function arrayField(body: Record<string, unknown>, field: string, length: number): Float64Array | Problem {
  if (!Object.hasOwn(body, field)) {
    return { what: "answer", expected: `a field "${field}" with ${length} numbers`, received: summarise(body) };
  }
  const d = decodeWireArray(body[field]);
  if (!d.ok) return { what: "answer", expected: `"${field}": ${length} numbers`, received: `"${field}": ${d.problem}` };
  if (d.values.length !== length) {
    return { what: "answer", expected: `"${field}" of length ${length}`, received: `length ${d.values.length}` };
  }
  return d.values;
}

function checkForward(
  c: SortPoolCase,
  infos: readonly WindowInfo[],
  expected: Extract<Expected, { kind: "forward" }>,
  body: Record<string, unknown>,
  p: Precision,
): Problem[] {
  const problems: Problem[] = [];
  const shape = body.shape;
  const want = outputShape(c.shape, c.padding);
  if (!Array.isArray(shape) || shape.length !== 4 || shape.some((d, i) => d !== want[i])) {
    problems.push({
      what: "answer",
      expected: `"shape": [${want.join(", ")}]`,
      received: Object.hasOwn(body, "shape") ? `"shape": ${JSON.stringify(shape)}` : 'no "shape" field',
    });
  }
  const y = arrayField(body, "y", expected.y.length);
  if (!(y instanceof Float64Array)) return [...problems, y];
  const diff = compareArrays(
    "forward",
    expected.y,
    y,
    (o) => forwardBound(p, c.k, infos[o]),
    (o) => whereOutput(infos[o]),
    (o) => `y[${o}]`,
  );
  return diff ? [...problems, diff] : problems;
}

function checkGradient(
  c: SortPoolCase,
  infos: readonly WindowInfo[],
  dy: readonly number[],
  expected: Extract<Expected, { kind: "gradient" }>,
  body: Record<string, unknown>,
  p: Precision,
  order: WeightsOrder,
): Problem[] {
  const problems: Problem[] = [];
  const dx = arrayField(body, "dx", expected.dx.length);
  const dLogitsRaw = arrayField(body, "dLogits", expected.dLogits.length);
  if (!(dx instanceof Float64Array)) problems.push(dx);
  if (!(dLogitsRaw instanceof Float64Array)) problems.push(dLogitsRaw);
  const w = toleranceWeights(c.logits as number[]);
  // The window and spec rank of each input element (-1: in no window).
  const owner = new Int32Array(c.x.length).fill(-1);
  const rankOf = new Int32Array(c.x.length).fill(-1);
  for (const info of infos) {
    info.ranked.forEach((cell, r) => {
      if (cell.index >= 0) {
        owner[cell.index] = info.out;
        rankOf[cell.index] = r;
      }
    });
  }
  if (dx instanceof Float64Array) {
    const diff = compareArrays(
      "dx",
      expected.dx,
      dx,
      (i) => {
        const r = rankOf[i];
        // Cells ranked >= k, cells of no window and padded cells get exactly 0 (SPEC §5).
        if (r < 0 || r >= c.k) return { tol: 0, zeroSign: true };
        const g = Math.abs(dy[owner[i]]);
        return { tol: referenceTolerance(p, g) + 4 * UNDERFLOW[p] * g, zeroSign: true };
      },
      (i) => whereInput(c.shape, i, owner[i] >= 0 ? infos[owner[i]] : undefined, c.k),
    );
    if (diff) problems.push(diff);
  }
  if (dLogitsRaw instanceof Float64Array) {
    // Compared in this project's order: a smallest-first port's dLogits are reversed first.
    const dLogits = order === "smallest-first" ? dLogitsRaw.slice().reverse() : dLogitsRaw;
    const t = new Float64Array(c.k);
    for (const info of infos) {
      for (let r = 0; r < c.k; r++) {
        const term = Math.abs(info.ranked[r].value * dy[info.out]);
        if (info.ranked[r].index >= 0 && Number.isFinite(term)) t[r] += term;
      }
    }
    const maxT = Math.max(0, ...t);
    const sumT = t.reduce((a, b) => a + b, 0);
    const diff = compareArrays(
      "dLogits",
      expected.dLogits,
      dLogits,
      (j) =>
        c.k === 1 ? { tol: 0, exact: true, zeroSign: true } : {
          tol: dLogitsTolerance(p, w[j], infos.length, maxT) + 4 * (c.k + 2) * UNDERFLOW[p] * sumT,
          zeroSign: false,
        },
      (j) =>
        `rank ${j}: the logit of the weight of the ${["largest", "2nd largest", "3rd largest", "4th largest"][j]} ` +
        `value${order === "smallest-first" ? " (the kit reversed the port's smallest-first dLogits)" : ""}`,
      (j) => `dLogits[${order === "smallest-first" ? c.k - 1 - j : j}]`,
    );
    // The element's index as the port numbers it.
    if (diff) problems.push(order === "smallest-first" ? { ...diff, index: c.k - 1 - diff.index! } : diff);
  }
  return problems;
}
