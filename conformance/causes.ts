/**
 * Which cause explains a failed answer: the checks behind the categories' hints.
 *
 * A hint names one mistake (a dx overwritten instead of summed, a wrong "same" split, row and
 * column swapped, channel c's weights read from the wrong place, ...). The kit prints it only when
 * a failed answer is what that mistake gives: the answer passes, within the usual tolerances,
 * against a reference computed under the mistake ({@link mistakenAnswer}), or the failure has the
 * mistake's own kind (an output shape of the wrong size, a nonzero dx at a cell in no window). A
 * failure that another, more general cause explains as well ({@link otherCause}: the signs of
 * zeros alone, or ties ranked the higher cell first) fits no hint, so a sign-of-zero or tie-order
 * bug never gets a hint that points at windows, padding or per-channel logits.
 *
 * The mistaken references are small and slow (one window at a time, the spec's arithmetic from
 * src/spec.ts with one thing changed); they run only for failed answers, until a hint fits.
 *
 * @module
 */
import {
  type AxisGeometry,
  cellIndex,
  float32Weights,
  logitsGradient,
  outputIndex,
  type PoolGeometry,
  poolGeometry,
  ranksBefore,
  rankSumTerm,
  sizeOf,
  softmax,
  weightedRankSum,
  weightOffset,
  type WindowCell,
} from "../src/spec.ts";
import type { Padding, Pair, Shape4 } from "../src/types.ts";
import { validateCase, type ValidCase } from "../src/validate.ts";
import { caseWindows, decodeNumberArray, membershipsOf, type Precision } from "../testkit/mod.ts";
import { checkAnswer, type Expected, expectedFor, type FailedAnswer, reverseGroups } from "./compare.ts";

/** One mistake a port can make; every field left out is done as the spec says. */
export interface Mistake {
  /** The window arithmetic the port uses instead of the spec's `g` for case `c`. */
  readonly geometry?: (g: PoolGeometry, c: ValidCase) => PoolGeometry;
  /** Which of two equal values ranks first: the lower key (spec: the row-major cell number itself). */
  readonly tieKey?: (cell: number, g: PoolGeometry) => number;
  /** Padded cells: "spec" (zeros for k > 1, left out for k = 1), "never" (left out), "always" (zeros). */
  readonly padded?: "spec" | "never" | "always";
  /** A cell kept by several windows: "sum" (spec), "last" (each term overwrites), "first" (only the first). */
  readonly dx?: "sum" | "last" | "first";
  /** The weights per channel, channel-major (length C·k), from the spec's weights and the logits. */
  readonly weights?: (w: ArrayLike<number>, c: ValidCase, precision: Precision) => ArrayLike<number>;
  /**
   * dLogits: "spec"; "pooled" (every channel's group gets the rank sums of all channels); "any"
   * (not judged: the mistake does not say what the port's dLogits are).
   */
  readonly dLogits?: "spec" | "pooled" | "any";
}

/** The case of a valid request, or null (a bad request has no mistaken answer). */
function validCase(f: FailedAnswer): ValidCase | null {
  const r = f.request;
  try {
    return validateCase({
      x: Float64Array.from(r.x),
      shape: r.shape as unknown as Shape4,
      logits: [...r.logits],
      k: r.k,
      padding: r.padding as Padding,
      ...(r.poolSize === undefined ? {} : { poolSize: r.poolSize as unknown as Pair }),
      ...(r.strides === undefined ? {} : { strides: r.strides as unknown as Pair }),
    });
  } catch {
    return null;
  }
}

/** The port's dLogits in this project's order, or null when the answer has none of the right length. */
function receivedDLogits(f: FailedAnswer, length: number): Float64Array | null {
  const d = decodeNumberArray(f.body.dLogits);
  if (!d.ok || d.values.length !== length) return null;
  return f.order === "smallest-first" ? Float64Array.from(reverseGroups(Array.from(d.values), f.request.k)) : d.values;
}

/**
 * What a port making `m` answers to the request of `f` (logits in this project's order), or null
 * when the mistake gives no answer of the request's shape (a gradient whose dy does not fit the
 * mistaken geometry, a window with fewer than k participants).
 */
export function mistakenAnswer(f: FailedAnswer, m: Mistake): Expected | null {
  const c = validCase(f);
  if (c === null || c.x.length === 0) return null;
  const g0 = poolGeometry(c.shape, c.padding, c);
  const g = m.geometry ? m.geometry(g0, c) : g0;
  const same = (a: AxisGeometry, b: AxisGeometry) =>
    a.window === b.window && a.stride === b.stride && a.out === b.out && a.padBefore === b.padBefore;
  // A "mistake" that changes nothing would make any small error fit it.
  if (m.geometry && same(g.rows, g0.rows) && same(g.cols, g0.cols)) return null;
  const [nb, , , nc] = c.shape;
  const outShape: Shape4 = [nb, g.rows.out, g.cols.out, nc];
  const n = sizeOf(outShape);
  const dy = f.request.dy ?? [];
  if (f.request.op === "gradient" && dy.length !== n) return null;
  const k = c.k;
  // Mistakes about per-channel logits say nothing about shared ones.
  if ((m.weights || m.dLogits === "pooled") && c.logits.length === k) return null;
  const spec = f.precision === "float32" ? float32Weights(c.logits, k) : softmax(c.logits, k);
  const w = m.weights ? m.weights(spec, c, f.precision) : spec;
  const key = m.tieKey ?? ((cell: number) => cell);
  const padded = m.padded ?? "spec";
  const y = new Float64Array(n);
  const dx = new Float64Array(c.x.length);
  const assigned = new Uint8Array(c.x.length);
  const sums = new Float64Array(w.length);
  for (let b = 0; b < nb; b++) {
    for (let oh = 0; oh < g.rows.out; oh++) {
      for (let ow = 0; ow < g.cols.out; ow++) {
        for (let ch = 0; ch < nc; ch++) {
          const cells: WindowCell[] = [];
          for (let cell = 0; cell < g.cells; cell++) {
            const index = cellIndex(c.shape, b, oh, ow, ch, cell, g);
            if (index >= 0) cells.push({ cell, value: c.x[index], index });
            else if (padded === "always" || (padded === "spec" && k > 1)) cells.push({ cell, value: 0, index: -1 });
          }
          if (cells.length < k) return null;
          const ranked = cells.sort((p, q) =>
            ranksBefore(p.value, key(p.cell, g), q.value, key(q.cell, g))
              ? -1
              : ranksBefore(q.value, key(q.cell, g), p.value, key(p.cell, g))
              ? 1
              : 0
          );
          const o = outputIndex(outShape, b, oh, ow, ch);
          const base = weightOffset(w.length, k, ch);
          const wq = Array.prototype.slice.call(w, base, base + k) as number[];
          y[o] = weightedRankSum(wq, ranked.map((p) => p.value), k);
          if (f.request.op === "forward") continue;
          for (let r = 0; r < k; r++) {
            const i = ranked[r].index;
            if (i >= 0) {
              const term = wq[r] * dy[o];
              if (!assigned[i] || m.dx === "last") dx[i] = term;
              else if ((m.dx ?? "sum") === "sum") dx[i] += term;
              assigned[i] = 1;
            }
            sums[base + r] += rankSumTerm(ranked[r], dy[o]);
          }
        }
      }
    }
  }
  if (f.request.op === "forward") return { kind: "forward", shape: outShape, y };
  let dLogits: Float64Array | null;
  if (m.dLogits === "any") {
    dLogits = receivedDLogits(f, c.logits.length);
  } else if (m.dLogits === "pooled") {
    const pooled = new Float64Array(w.length);
    for (let j = 0; j < w.length; j++) {
      for (let q = j % k; q < w.length; q += k) pooled[j] += sums[q];
    }
    dLogits = logitsGradient(w, pooled, k);
  } else {
    dLogits = logitsGradient(w, sums, k);
  }
  return dLogits === null ? null : { kind: "gradient", dx, dLogits };
}

/**
 * Loose agreement of two arrays, for answers of another geometry than the request's (where the
 * kit's per-element bounds, which follow the request's windows, do not apply): NaN meets NaN,
 * ±Infinity exactly, finite values within 2^-16 of the array's largest finite magnitude.
 */
function near(got: unknown, want: Float64Array): boolean {
  const d = decodeNumberArray(got);
  if (!d.ok || d.values.length !== want.length) return false;
  let scale = 0;
  for (const v of want) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  return want.every((e, i) => {
    const v = d.values[i];
    if (Number.isNaN(e) || Number.isNaN(v)) return Number.isNaN(e) && Number.isNaN(v);
    if (!Number.isFinite(e) || !Number.isFinite(v)) return e === v;
    return Math.abs(v - e) <= 2 ** -16 * scale;
  });
}

/** Whether the failed answer passes against `alternative` (of the request's own geometry unless `ownGeometry` is false). */
function passes(f: FailedAnswer, alternative: Expected | null, ownGeometry = true): boolean {
  if (alternative === null) return false;
  if (ownGeometry) return checkAnswer(f.request, alternative, f.body, f.precision, f.order).length === 0;
  if (alternative.kind === "forward") {
    const shape = f.body.shape;
    const want = alternative.shape;
    return Array.isArray(shape) && shape.length === 4 && shape.every((d, i) => d === want[i]) &&
      near(f.body.y, alternative.y);
  }
  if (alternative.kind !== "gradient") return false;
  const dLogits = receivedDLogits(f, alternative.dLogits.length);
  return near(f.body.dx, alternative.dx) && dLogits !== null && near(Array.from(dLogits), alternative.dLogits);
}

/** Whether a port making any of `mistakes` answers what `f` received. */
export function answersUnder(f: FailedAnswer, mistakes: readonly Mistake[]): boolean {
  return mistakes.some((m) => passes(f, mistakenAnswer(f, m), m.geometry === undefined));
}

/** The spec's answer with every expected zero given the sign of the port's zero there (both zeros). */
function signsFromAnswer(f: FailedAnswer, e: Expected): Expected | null {
  const adopt = (want: Float64Array, got: Float64Array | null) => {
    if (got === null || got.length !== want.length) return want;
    return Float64Array.from(want, (v, i) => (v === 0 && got[i] === 0 ? got[i] : v));
  };
  const field = (name: string) => {
    const d = decodeNumberArray(f.body[name]);
    return d.ok ? d.values : null;
  };
  if (e.kind === "forward") return { ...e, y: adopt(e.y, field("y")) };
  if (e.kind === "gradient") {
    return { ...e, dx: adopt(e.dx, field("dx")), dLogits: adopt(e.dLogits, receivedDLogits(f, e.dLogits.length)) };
  }
  return null;
}

/**
 * Whether a cause no category hint names explains the failure as well: the answer is right but for
 * the signs of zeros, or it is what a port ranking ties the higher cell first answers.
 */
export function otherCause(f: FailedAnswer): boolean {
  const e = expectedFor(f.request, f.precision);
  if (passes(f, signsFromAnswer(f, e))) return true;
  return answersUnder(f, [{ tieKey: (cell) => -cell }]);
}

/** Whether the answer's output shape or an array's length is wrong (an output size computed wrongly). */
export function hasSizeProblem(f: FailedAnswer): boolean {
  return f.problems.some((p) =>
    p.what === "answer" && /^"shape": |^"(y|dx)" of length /.test(p.expected) && !/no "shape" field/.test(p.received)
  );
}

/** Whether a cell that no window contains got a dx other than exactly +0. */
export function hasDxOutsideWindows(f: FailedAnswer): boolean {
  const c = validCase(f);
  if (c === null || f.request.op !== "gradient") return false;
  const d = decodeNumberArray(f.body.dx);
  if (!d.ok || d.values.length !== c.x.length) return false;
  const cw = caseWindows(c);
  return d.values.some((v, i) => !Object.is(v, 0) && membershipsOf(cw, i).length === 0);
}

/** An axis with its padding split `before` / the rest after ("same"; "valid" has none to split). */
function split(a: AxisGeometry, before: (total: number) => number): AxisGeometry {
  const total = a.padBefore + a.padAfter;
  return { ...a, padBefore: before(total), padAfter: total - before(total) };
}

/** Overlapping windows: a cell's dx is one window's term (the last, or the first) instead of the sum. */
export const OVERLAP_MISTAKES: readonly Mistake[] = [{ dx: "last" }, { dx: "first" }];

/**
 * kh ≠ kw: cells numbered column-major (ties then rank by column first), or the two axes swapped
 * (poolSize and strides read as [width, height]).
 */
export const ASYMMETRIC_MISTAKES: readonly Mistake[] = [
  { tieKey: (cell, g) => (cell % g.poolSize[1]) * g.poolSize[0] + Math.floor(cell / g.poolSize[1]) },
  {
    geometry: (g, c) =>
      poolGeometry(c.shape, c.padding, {
        poolSize: [g.poolSize[1], g.poolSize[0]],
        strides: [g.strides[1], g.strides[0]],
      }),
  },
];

/** Ways to split `total` padded cells: the count before the input (TensorFlow's: floor(total / 2)). */
const SPLITS: readonly ((total: number) => number)[] = [
  () => 0,
  (t) => t,
  (t) => Math.ceil(t / 2),
  (t) => Math.floor(t / 2),
];

/** "same": the padding split another way (all after, all before, the larger half before), or padded cells ranked wrongly. */
export const SAME_SPLIT_MISTAKES: readonly Mistake[] = [
  ...SPLITS.flatMap((rows) =>
    SPLITS.map((cols): Mistake => ({
      geometry: (g) => ({ ...g, rows: split(g.rows, rows), cols: split(g.cols, cols) }),
    }))
  ),
  { padded: "never" },
  { padded: "always" },
];

/** Per-channel logits: weights read from the wrong place or poisoned across channels, or dLogits pooled. */
export const PER_CHANNEL_MISTAKES: readonly Mistake[] = [
  // channel c's weights: the first group for every channel, or read from offset c instead of c·k
  ...[(_c: number, _k: number) => 0, (c: number, _k: number) => c].map((offset): Mistake => ({
    weights: (w, c) => {
      const out = new Float64Array(w.length);
      for (let q = 0; q < c.shape[3]; q++) {
        for (let r = 0; r < c.k; r++) out[q * c.k + r] = w[offset(q, c.k) + r] ?? NaN;
      }
      return out;
    },
    dLogits: "any",
  })),
  // the logits read rank-major (logits[r·C + c]) instead of channel-major
  {
    weights: (_w, c, precision) => {
      const nc = c.shape[3];
      const t = Array.from({ length: c.logits.length }, (_, j) => c.logits[(j % c.k) * nc + Math.floor(j / c.k)]);
      return precision === "float32" ? float32Weights(t, c.k) : softmax(t, c.k);
    },
    dLogits: "any",
  },
  // one NaN logit poisons every channel's weights
  {
    weights: (w, c) => (Array.from(c.logits).some((l) => Number.isNaN(l)) ? new Float64Array(w.length).fill(NaN) : w),
    dLogits: "any",
  },
  // dLogits of each channel summed over every channel's windows
  { dLogits: "pooled" },
];

/** What each hinted general-window category's hint names: its mistakes, and failures of its own kind. */
export const HINT_CAUSES: Readonly<
  Record<string, { readonly mistakes: readonly Mistake[]; readonly kind?: (f: FailedAnswer) => boolean }>
> = {
  overlap: { mistakes: OVERLAP_MISTAKES },
  gaps: { mistakes: [], kind: (f) => hasSizeProblem(f) || hasDxOutsideWindows(f) },
  asymmetric: { mistakes: ASYMMETRIC_MISTAKES },
  "same-split": { mistakes: SAME_SPLIT_MISTAKES, kind: hasSizeProblem },
  "per-channel": { mistakes: PER_CHANNEL_MISTAKES },
};

/**
 * Whether a failed answer fits the hint of `category` ({@link HINT_CAUSES}): its own kind or one
 * of its mistakes explains the failure, and neither a cause no hint names ({@link otherCause}) nor
 * another category's mistake explains it as well (an answer two causes explain is ambiguous: no
 * hint is better than a wrong one). An error answered fits no hint.
 */
export function fitsHint(f: FailedAnswer, category: string): boolean {
  const own = HINT_CAUSES[category];
  if (own === undefined) return false;
  if (f.problems.every((p) => p.what === "unexpected error" || p.what === "error expected")) return false;
  if (!(own.kind?.(f) ?? false) && !answersUnder(f, own.mistakes)) return false;
  if (otherCause(f)) return false;
  return !Object.entries(HINT_CAUSES).some(([name, other]) => name !== category && answersUnder(f, other.mistakes));
}
