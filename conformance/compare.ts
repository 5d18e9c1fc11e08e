/**
 * What a port must answer to a request, and whether its answer does.
 *
 * The expected answer comes from the float64 reference (src/reference.ts) at run time: values for
 * a valid request, or the error that the shared validation (src/validate.ts) raises for a bad one.
 * Values are compared within the project's tolerance model (testkit/tolerance.ts) for the chosen
 * precision, plus an underflow term (testkit's `UNDERFLOW`); NaN must meet NaN, ±Infinity must be
 * matched exactly. Where SPEC §5 fixes the sign of a zero, a zero answer must carry it (Object.is):
 * every zero y (-0 exactly when every kept product is -0) and every zero dx (+0 where nothing is
 * kept, else the IEEE sign of the sum of w[r]·dy over the windows keeping the cell, started from
 * the first term); the sign of a zero dLogits is fixed only for k = 1, where dLogits is exactly +0.
 * k = 1's y (the window's maximum itself) is compared bitwise.
 *
 * Window facts (geometry, cells, ranking, the windows containing a cell) come from
 * testkit/windows.ts, on src/spec.ts's arithmetic, and the failure text from testkit/render.ts, so
 * a failure report locates an element in any window and stride: for dx under overlapping windows
 * there is no single window, and the report lists every window containing the cell.
 *
 * @module
 */
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { float32Weights, softmax, weightOffset } from "../src/spec.ts";
import type { Padding, Pair, Shape4, SortPoolCase } from "../src/types.ts";
import { SortPoolArgumentError, validateCase, type ValidCase } from "../src/validate.ts";
import {
  type CaseWindows,
  caseWindows,
  decodeNumberArray,
  dLogitsTolerance,
  formatNumberExact,
  membershipsOf,
  type Precision,
  referenceTolerance,
  UNDERFLOW,
  whereInput,
  whereOutput,
  type WindowFacts,
} from "../testkit/mod.ts";
import type { Request } from "./protocol.ts";

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
  /**
   * Where that element is: for y, its output position and window; for dx, the input element and
   * every window containing it (its cell, spec rank and whether it is kept there); for dLogits,
   * the rank (and channel, for per-channel logits).
   */
  readonly location?: string;
  readonly expected: string;
  readonly received: string;
  /** The bound used for the first differing element, in words. */
  readonly tolerance?: string;
  /** How many elements differ, e.g. "3 of 24". */
  readonly differing?: string;
}

/**
 * Reverses each consecutive group of `k` (the logits of one channel, or all of them when shared):
 * the conversion between this spec's order (w[0] weights the largest) and the original code's
 * (its last logit weights the largest), per channel for per-channel logits.
 */
export function reverseGroups<T>(values: readonly T[], k: number): T[] {
  if (!Number.isInteger(k) || k < 1 || values.length % k !== 0) return [...values].reverse();
  const out: T[] = [];
  for (let g = 0; g < values.length; g += k) out.push(...values.slice(g, g + k).reverse());
  return out;
}

/** The reference's case for a request (x as float64; the reference validates everything else). */
function referenceCase(r: Request): SortPoolCase {
  return {
    x: Float64Array.from(r.x),
    shape: r.shape as unknown as Shape4,
    logits: [...r.logits],
    k: r.k,
    padding: r.padding as Padding,
    ...(r.poolSize === undefined ? {} : { poolSize: r.poolSize as unknown as Pair }),
    ...(r.strides === undefined ? {} : { strides: r.strides as unknown as Pair }),
  };
}

/**
 * The answer the spec requires for `r` (logits in this project's order) from a port computing in
 * `precision`: the float64 reference run with the weights that precision uses (SPEC §5: softmax in
 * float64 once per call, per channel for per-channel logits, rounded to float32 for a float32
 * port), or the error src/validate.ts raises for a bad request.
 */
export function expectedFor(r: Request, precision: Precision): Expected {
  try {
    const c = validateCase(referenceCase(r));
    const weights = precision === "float32" ? float32Weights(c.logits, c.k) : undefined;
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

/** What the kit knows of one failed answer: enough to tell whether a category's hint fits it. */
export interface FailedAnswer {
  /** The request, logits in this project's order. */
  readonly request: Request;
  /** The port's answer, parsed. */
  readonly body: Record<string, unknown>;
  /** What {@link checkAnswer} found wrong with it. */
  readonly problems: readonly Problem[];
  readonly precision: Precision;
  readonly order: WeightsOrder;
}

/** Problems about values or the answer's fields, as opposed to an error answered or missing. */
export function hasValueProblem(f: FailedAnswer, kinds = ["forward", "dx", "dLogits", "answer"]): boolean {
  return f.problems.some((p) => kinds.includes(p.what));
}

/**
 * Weights as a port gets them whose logits are float32 before its softmax: the logits rounded to
 * float32 (past its range: ±Infinity; large ones a few float64 ulps apart: equal), then softmax's
 * limit per group of k rounded and flushed as SPEC §5 says (`limit`), or a plain float32 softmax,
 * `exp(l − max) / Σ` in float32 arithmetic, as a device computes it (`plain`: NaN for +Infinity).
 */
export function float32LogitWeights(logits: readonly number[], k: number, form: "limit" | "plain"): Float32Array {
  const rounded = logits.map((l) => Math.fround(l));
  if (form === "limit") return float32Weights(rounded, k);
  const w = new Float32Array(rounded.length);
  for (let g = 0; g < rounded.length; g += k) {
    const group = rounded.slice(g, g + k);
    const m = Math.max(...group);
    const e = group.map((l) => Math.fround(Math.exp(Math.fround(l - m))));
    const sum = e.reduce((a, b) => Math.fround(a + b), 0);
    for (let r = 0; r < k; r++) w[g + r] = Math.fround(e[r] / sum);
  }
  return w;
}

/**
 * Whether a failed answer is what a port with float32 logits answers (the cause the `logits-range`
 * hint names): it passes against the reference computed with {@link float32LogitWeights}, in
 * either form. A failure for another cause (ties, the sign of a zero) fails there too.
 */
export function answersWithFloat32Logits(f: FailedAnswer): boolean {
  if (!hasValueProblem(f)) return false;
  let c: ValidCase;
  try {
    c = validateCase(referenceCase(f.request));
  } catch {
    return false;
  }
  for (const form of ["limit", "plain"] as const) {
    const weights = float32LogitWeights(f.request.logits, c.k, form);
    let alternative: Expected;
    if (f.request.op === "forward") {
      const { y, shape } = referenceForward(c, weights);
      alternative = { kind: "forward", shape, y: Float64Array.from(y) };
    } else {
      const { dx, dLogits } = referenceGradient(c, f.request.dy ?? [], weights);
      alternative = { kind: "gradient", dx: Float64Array.from(dx), dLogits: Float64Array.from(dLogits) };
    }
    if (checkAnswer(f.request, alternative, f.body, f.precision, f.order).length === 0) return true;
  }
  return false;
}

/** "largest", "2nd largest", ... "16th largest". */
function ordinalLargest(r: number): string {
  if (r === 0) return "largest";
  const n = r + 1;
  const suffix = n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th";
  return `${n}${suffix} largest`;
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
    expected: formatNumberExact(expected[first]),
    received: formatNumberExact(received[first]),
    tolerance: describeBound(bound(first)),
    differing: `${count} of ${expected.length}`,
  };
}

/** Weights for tolerances only (their size matters, not their last bits); non-finite weights count as 1. */
function toleranceWeights(logits: ArrayLike<number>, k: number): number[] {
  return Array.from(softmax(logits, k), (v) => (Number.isFinite(v) ? v : 1));
}

/** Output-element bounds: k = 1 bitwise; else the model's bound (0 for a window whose top k are all zeros). */
function forwardBound(p: Precision, k: number, w: WindowFacts): Bound {
  if (k === 1) return { tol: 0, exact: true, zeroSign: true };
  return { tol: referenceTolerance(p, w.topAbs) + 4 * UNDERFLOW[p] * w.topAbs, zeroSign: true };
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
  // The request is valid (expectedFor found no error), so validation passes here too.
  const cw = caseWindows(validateCase(referenceCase(r)));
  if (expected.kind === "forward") return checkForward(cw, expected, body, precision);
  return checkGradient(cw, r.dy ?? [], expected, body, precision, order);
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
  const d = decodeNumberArray(body[field]);
  if (!d.ok) return { what: "answer", expected: `"${field}": ${length} numbers`, received: `"${field}": ${d.problem}` };
  if (d.values.length !== length) {
    return { what: "answer", expected: `"${field}" of length ${length}`, received: `length ${d.values.length}` };
  }
  return d.values;
}

function checkForward(
  cw: CaseWindows,
  expected: Extract<Expected, { kind: "forward" }>,
  body: Record<string, unknown>,
  p: Precision,
): Problem[] {
  const problems: Problem[] = [];
  const shape = body.shape;
  const want = cw.outShape;
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
    (o) => forwardBound(p, cw.c.k, cw.windows[o]),
    (o) => whereOutput(cw, cw.windows[o]),
    (o) => `y[${o}]`,
  );
  return diff ? [...problems, diff] : problems;
}

function checkGradient(
  cw: CaseWindows,
  dy: readonly number[],
  expected: Extract<Expected, { kind: "gradient" }>,
  body: Record<string, unknown>,
  p: Precision,
  order: WeightsOrder,
): Problem[] {
  const { c } = cw;
  const k = c.k;
  const problems: Problem[] = [];
  const dx = arrayField(body, "dx", expected.dx.length);
  const dLogitsRaw = arrayField(body, "dLogits", expected.dLogits.length);
  if (!(dx instanceof Float64Array)) problems.push(dx);
  if (!(dLogitsRaw instanceof Float64Array)) problems.push(dLogitsRaw);
  const w = toleranceWeights(c.logits, k);
  const perChannel = c.logits.length !== k;
  if (dx instanceof Float64Array) {
    // The windows keeping each input element, in output order.
    const keptBy = (i: number) => membershipsOf(cw, i).filter((m) => m.rank >= 0 && m.rank < k);
    const weights = p === "float32" ? float32Weights(c.logits, k) : softmax(c.logits, k);
    const diff = compareArrays(
      "dx",
      expected.dx,
      dx,
      (i) => {
        const kept = keptBy(i);
        // Cells kept by no window (ranked >= k everywhere, padded, in no window) get exactly +0 (SPEC §5).
        if (kept.length === 0) return { tol: 0, zeroSign: true };
        // A kept cell's dx sums w[r]·dy over the windows keeping it (at most 16 terms, each rounding once, the
        // sum once per term): the model's bound on Σ|dy| over those windows covers it.
        let g = 0;
        for (const m of kept) g += Math.abs(dy[m.window.out]);
        return { tol: referenceTolerance(p, g) + 4 * UNDERFLOW[p] * g, zeroSign: true };
      },
      (i) => whereInput(cw, i, { w: weights, dy }),
    );
    if (diff) problems.push(diff);
  }
  if (dLogitsRaw instanceof Float64Array) {
    // Compared in this project's order: a smallest-first port's dLogits are reversed (per channel) first.
    const dLogits = order === "smallest-first"
      ? Float64Array.from(reverseGroups(Array.from(dLogitsRaw), k))
      : dLogitsRaw;
    // T[j]: Σ over the windows of logit j's channels of |v_r·dy| (real kept cells, finite terms), and the window counts.
    const t = new Float64Array(c.logits.length);
    const windowsPer = new Float64Array(c.logits.length / k);
    for (const win of cw.windows) {
      const base = weightOffset(c.logits.length, k, win.ch);
      windowsPer[base / k]++;
      for (let r = 0; r < k; r++) {
        const term = Math.abs(win.ranked[r].value * dy[win.out]);
        if (win.ranked[r].index >= 0 && Number.isFinite(term)) t[base + r] += term;
      }
    }
    const group = (j: number) => Math.floor(j / k);
    const diff = compareArrays(
      "dLogits",
      expected.dLogits,
      dLogits,
      (j) => {
        if (k === 1) return { tol: 0, exact: true, zeroSign: true };
        const groupT = t.slice(group(j) * k, group(j) * k + k);
        const maxT = Math.max(0, ...groupT);
        const sumT = groupT.reduce((a, b) => a + b, 0);
        return {
          tol: dLogitsTolerance(p, w[j], windowsPer[group(j)], maxT) + 4 * (k + 2) * UNDERFLOW[p] * sumT,
          zeroSign: false,
        };
      },
      (j) => {
        const r = j % k;
        const reversed = order === "smallest-first" ? " (the kit reversed the port's smallest-first dLogits)" : "";
        return perChannel
          ? `channel ${group(j)}, rank ${r}: the logit of the weight of channel ${group(j)}'s ${
            ordinalLargest(r)
          } value (per-channel logits: channel c's at [c·k, c·k + k))${reversed}`
          : `rank ${r}: the logit of the weight of the ${ordinalLargest(r)} value${reversed}`;
      },
      (j) => `dLogits[${portIndex(j, k, order)}]`,
    );
    // The element's index as the port numbers it.
    if (diff) problems.push({ ...diff, index: portIndex(diff.index!, k, order) });
  }
  return problems;
}

/** Index `j` (this project's order) as a port in `order` numbers it: reversed within its group of k. */
function portIndex(j: number, k: number, order: WeightsOrder): number {
  if (order === "largest-first") return j;
  const base = j - (j % k);
  return base + (k - 1 - (j % k));
}
