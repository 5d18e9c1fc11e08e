/**
 * Planted-bug entries: mutants of the float64 reference, each carrying one bug a real kernel could
 * have, and the properties that must catch it. They are never in the registry; props/planted.test.ts
 * (and `deno task check-grads --planted`) assert that every one is caught.
 *
 * The mutants share one configurable re-implementation of the reference (window → rank → weights
 * → scatter), built from src/spec.ts helpers; each bug swaps one step. An unmodified instance
 * (`planted-control`) must pass every property, so a catch is due to the bug, not the scaffold.
 *
 * @module
 */
import {
  FLOAT32_MIN_NORMAL,
  inputCol,
  inputRow,
  logitsGradient,
  outputIndex,
  type PoolGeometry,
  poolGeometry,
  rankCells,
  ranksBefore,
  rankSumTerm,
  sizeOf,
  softmax,
  softmaxVjp,
  SORTING_NETWORK,
  weightOffset,
  type WindowCell,
  windowCells,
} from "../src/spec.ts";
import type {
  ForwardResult,
  GradientResult,
  Implementation,
  Shape4,
  SortPoolCase,
  TieBehaviour,
} from "../src/types.ts";
import {
  CASE_KEYS,
  isEmptyShape,
  SortPoolArgumentError,
  validateCase,
  validateDy,
  type ValidCase,
} from "../src/validate.ts";
import { unserialisedBackendEntry } from "./concurrency.ts";
import { partialsOneShort } from "./limits.ts";

/** One dx term of a window: `value` goes to x index `index` (-1: a padded cell, dropped). */
interface DxTerm {
  readonly index: number;
  readonly value: number;
}

/** The steps a bug may replace. Each default is the spec's behaviour. */
interface Steps {
  /** The case's validation (default: src/validate.ts validateCase, which refuses unknown keys and accepts empty inputs). */
  validate(input: SortPoolCase): ValidCase;
  /** Argument checks beyond validateCase (default: none; SPEC.md §6 accepts any number as a logit). */
  checkLogits(logits: ArrayLike<number>): void;
  /**
   * The rank weights from the logits (default: spec softmax, its limit, per group of k), laid out
   * like the logits: channel c's weights at [c·k, c·k + k) when there are C·k of them.
   */
  weights(logits: ArrayLike<number>, k: number, channels: number): Float64Array;
  /** y of a window from the k products w[r]·v[r] (default: summed from the first product). */
  accumulate(products: readonly number[], round: (v: number) => number): number;
  /** Participating cells of a window (default: spec windowCells). */
  cells(c: ValidCase, g: PoolGeometry, b: number, oh: number, ow: number, ch: number): WindowCell[];
  /** Rank order (default: spec rankCells). */
  rank(cells: WindowCell[]): WindowCell[];
  /** Weights used by the forward and by the backward (the whole table, every group of k). */
  forwardWeights(w: Float64Array, k: number): Float64Array;
  backwardWeights(w: Float64Array, k: number): Float64Array;
  /** Where the gradient of the cell at rank r (window order `cells`, rank order `ranked`) goes, and with which weight index. */
  scatter(ranked: WindowCell[], cells: WindowCell[], k: number): { index: number; weightIndex: number }[];
  /**
   * A window's dx terms (default: `scatter`'s cells, each w[weightIndex]·dy with the window's
   * channel's weights `w`, rounded; ranks ≥ k and padded cells get no term, so they stay exactly +0).
   */
  dxTerms(
    ranked: WindowCell[],
    cells: WindowCell[],
    k: number,
    w: ArrayLike<number>,
    g: number,
    round: (v: number) => number,
    scatter: Steps["scatter"],
  ): DxTerm[];
  /**
   * Stores a dx term; windows come in output order (default: assigns the first term of an element,
   * adds any later one: SPEC.md §5's sum over overlapping windows).
   */
  dxWrite(dx: Float64Array, written: Uint8Array, index: number, value: number): void;
  /** Index of x that receives a gradient meant for `index`. */
  dxIndex(index: number, shape: Shape4): number;
  /** Output index whose dy the window (b, oh, ow, ch) reads in the backward. */
  dyIndex(out: Shape4, b: number, oh: number, ow: number, ch: number): number;
  /** The cell whose value enters s_r for rank r (default: the cell at rank r). */
  rankSumCell(ranked: WindowCell[], cells: WindowCell[], r: number): WindowCell;
  /** Its term of s_r (default: value·dy for a real cell, exactly 0 for a padded one). */
  rankSumTerm(cell: WindowCell, g: number): number;
  /** dLogits from weights and rank sums, laid out like the logits (default: exactly 0 for k = 1, else the softmax VJP per group). */
  dLogits(w: Float64Array, s: Float64Array, k: number, channels: number): Float64Array;
  /** Post-processing of each forward output. */
  output(y: number): number;
}

/** `f` applied to each group of k of `w` and `s` (per-channel tables), concatenated. */
function perGroup(
  w: Float64Array,
  s: Float64Array,
  k: number,
  f: (w: Float64Array, s: Float64Array) => Float64Array,
): Float64Array {
  const out = new Float64Array(w.length);
  for (let start = 0; start < w.length; start += k) {
    out.set(f(w.subarray(start, start + k), s.subarray(start, start + k)), start);
  }
  return out;
}

/** Each group of k reversed. */
function reverseGroups(w: Float64Array, k: number): Float64Array {
  const out = new Float64Array(w.length);
  for (let start = 0; start < w.length; start += k) {
    for (let r = 0; r < k; r++) out[start + r] = w[start + k - 1 - r];
  }
  return out;
}

const specSteps: Steps = {
  validate: (input) => validateCase(input),
  checkLogits: () => {},
  weights: (logits, k) => softmax(logits, k),
  accumulate: (products, round) => {
    let acc = products[0];
    for (let r = 1; r < products.length; r++) acc = round(acc + products[r]);
    return acc;
  },
  cells: (c, g, b, oh, ow, ch) => windowCells(c.x, c.shape, c.k, b, oh, ow, ch, g),
  rank: (cells) => rankCells(cells),
  forwardWeights: (w) => w,
  backwardWeights: (w) => w,
  scatter: (ranked, _cells, k) => ranked.slice(0, k).map((cell, r) => ({ index: cell.index, weightIndex: r })),
  dxTerms: (ranked, cells, k, w, g, round, scatter) =>
    scatter(ranked, cells, k).filter(({ weightIndex }) => weightIndex < k).map(({ index, weightIndex }) => ({
      index,
      value: round(w[weightIndex] * g),
    })),
  dxWrite: (dx, written, index, value) => {
    dx[index] = written[index] ? dx[index] + value : value;
    written[index] = 1;
  },
  dxIndex: (index) => index,
  dyIndex: (out, b, oh, ow, ch) => outputIndex(out, b, oh, ow, ch),
  rankSumCell: (ranked, _cells, r) => ranked[r],
  rankSumTerm: (cell, g) => rankSumTerm(cell, g),
  dLogits: (w, s, k) => logitsGradient(w, s, k),
  output: (y) => y,
};

/**
 * Softmax, its limit (SPEC.md §5), evaluated with every operation rounded by `round` (Math.fround:
 * float32 arithmetic).
 */
function roundedSoftmax(logits: ArrayLike<number>, round: (v: number) => number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  if (Number.isNaN(max)) return new Float64Array(logits.length).fill(NaN);
  const e = Array.from(logits, (l) => (l === max ? 1 : round(Math.exp(round(l - max)))));
  let sum = 0;
  for (const v of e) sum = round(sum + v);
  // SPEC.md §5 "Weights": float32 implementations flush a weight below float32's smallest normal to +0.
  return Float64Array.from(e, (v) => {
    const w = round(v / sum);
    return round === Math.fround && w < FLOAT32_MIN_NORMAL ? 0 : w;
  });
}

/** softmaxVjp with every operation rounded by `round`. */
function roundedSoftmaxVjp(w: Float64Array, s: Float64Array, round: (v: number) => number): Float64Array {
  let dot = 0;
  for (let r = 0; r < w.length; r++) dot = round(dot + round(w[r] * s[r]));
  return Float64Array.from(w, (wj, j) => round(wj * round(s[j] - dot)));
}

/**
 * Builds a reference-like entry whose steps are the spec's except `bug`. With `float32Arithmetic`
 * every operation rounds to float32 (Math.fround), as a float32 kernel would.
 */
function mutant(
  name: string,
  description: string,
  bug: Partial<Steps>,
  options: { ties?: TieBehaviour; precision?: "float32" | "float64"; float32Arithmetic?: boolean } = {},
): Implementation {
  const round = options.float32Arithmetic ? Math.fround : (v: number) => v;
  const base: Steps = options.float32Arithmetic
    ? {
      ...specSteps,
      weights: (logits, k) => {
        const out = new Float64Array(logits.length);
        for (let start = 0; start < logits.length; start += k) {
          out.set(roundedSoftmax(Array.prototype.slice.call(logits, start, start + k), round), start);
        }
        return out;
      },
      rankSumTerm: (cell, g) => round(rankSumTerm(cell, g)),
      dLogits: (w, s, k) => (k === 1 ? new Float64Array(w.length) : perGroup(w, s, k, (a, b) =>
        roundedSoftmaxVjp(a, b, round))),
    }
    : specSteps;
  const steps: Steps = { ...base, ...bug };
  const weightsOf = (c: ValidCase) => {
    steps.checkLogits(c.logits);
    return steps.weights(c.logits, c.k, c.shape[3]);
  };
  /** Channel `ch`'s k weights in a weight table. */
  const channelWeights = (w: Float64Array, k: number, ch: number) => {
    const start = weightOffset(w.length, k, ch);
    return w.subarray(start, start + k);
  };
  const visit = (
    c: ValidCase,
    g: PoolGeometry,
    f: (b: number, oh: number, ow: number, ch: number, o: number, out: Shape4) => void,
  ) => {
    const out: Shape4 = [c.shape[0], g.rows.out, g.cols.out, c.shape[3]];
    for (let b = 0; b < out[0]; b++) {
      for (let oh = 0; oh < out[1]; oh++) {
        for (let ow = 0; ow < out[2]; ow++) {
          for (let ch = 0; ch < out[3]; ch++) f(b, oh, ow, ch, outputIndex(out, b, oh, ow, ch), out);
        }
      }
    }
  };
  const forward = (input: SortPoolCase): ForwardResult => {
    const c = steps.validate(input);
    const g = poolGeometry(c.shape, c.padding, c);
    const shape: [number, number, number, number] = [c.shape[0], g.rows.out, g.cols.out, c.shape[3]];
    const w = steps.forwardWeights(weightsOf(c), c.k);
    const y = new Float64Array(sizeOf(shape));
    visit(c, g, (b, oh, ow, ch, o) => {
      const wc = channelWeights(w, c.k, ch);
      const ranked = steps.rank(steps.cells(c, g, b, oh, ow, ch));
      const products = ranked.slice(0, c.k).map((cell, r) => round(wc[r] * cell.value));
      y[o] = steps.output(steps.accumulate(products, round));
    });
    return { y, shape };
  };
  const gradient = (input: SortPoolCase, dyInput: ArrayLike<number>): GradientResult => {
    const c = steps.validate(input);
    const dy = validateDy(c, dyInput);
    const g = poolGeometry(c.shape, c.padding, c);
    const w = weightsOf(c);
    // SPEC.md §1 "Empty inputs": no window, so dLogits is exactly +0 without going through the softmax.
    if (isEmptyShape(c.shape)) return { dx: new Float64Array(0), dLogits: new Float64Array(w.length) };
    const wb = steps.backwardWeights(w, c.k);
    const dx = new Float64Array(c.x.length);
    const written = new Uint8Array(c.x.length);
    const s = new Float64Array(w.length);
    visit(c, g, (b, oh, ow, ch, _o, out) => {
      const cells = steps.cells(c, g, b, oh, ow, ch);
      const ranked = steps.rank(cells);
      const gy = dy[steps.dyIndex(out, b, oh, ow, ch)];
      const wc = channelWeights(wb, c.k, ch);
      for (const { index, value } of steps.dxTerms(ranked, cells, c.k, wc, gy, round, steps.scatter)) {
        if (index >= 0) steps.dxWrite(dx, written, steps.dxIndex(index, c.shape), value);
      }
      const base = weightOffset(w.length, c.k, ch);
      for (let r = 0; r < c.k; r++) {
        s[base + r] = round(s[base + r] + steps.rankSumTerm(steps.rankSumCell(ranked, cells, r), gy));
      }
    });
    return { dx, dLogits: steps.dLogits(steps.forwardWeights(w, c.k), s, c.k, c.shape[3]) };
  };
  return {
    name,
    description,
    precision: options.precision ?? "float64",
    device: "cpu",
    backend: "js",
    ties: options.ties ?? { kind: "spec" },
    forward: (c) => Promise.resolve().then(() => forward(c)),
    gradient: (c, dy) => Promise.resolve().then(() => gradient(c, dy)),
  };
}

/** Per-channel logits read rank-major: element (c, r) of the result is `logits[r·C + c]` (shared logits unchanged). */
function fromRankMajor(logits: ArrayLike<number>, k: number, channels: number): Float64Array {
  const out = Float64Array.from(logits);
  if (logits.length === k) return out;
  for (let c = 0; c < channels; c++) for (let r = 0; r < k; r++) out[c * k + r] = logits[r * channels + c];
  return out;
}

/** The inverse of {@link fromRankMajor}: element (c, r) goes to `r·C + c`. */
function toRankMajor(values: Float64Array, k: number, channels: number): Float64Array {
  const out = Float64Array.from(values);
  if (values.length === k) return out;
  for (let c = 0; c < channels; c++) for (let r = 0; r < k; r++) out[r * channels + c] = values[c * k + r];
  return out;
}

/** Rank order by a custom "ranks before" predicate (stable insertion sort, so the predicate is all that matters). */
function rankBy(cells: WindowCell[], before: (p: WindowCell, q: WindowCell) => boolean): WindowCell[] {
  const out: WindowCell[] = [];
  for (const cell of cells) {
    let i = out.length;
    while (i > 0 && before(cell, out[i - 1])) i--;
    out.splice(i, 0, cell);
  }
  return out;
}

/** Rounds to IEEE half precision's 11-bit significand (range not limited). */
function roundToHalfPrecision(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const e = Math.floor(Math.log2(Math.abs(v)));
  const q = 2 ** (e - 10);
  return Math.round(v / q) * q;
}

/** A planted bug and the properties that must catch it. */
export interface PlantedBug {
  readonly impl: Implementation;
  /** Properties that must report "fail" (or "deviation" where `expect` says so). */
  readonly caughtBy: readonly string[];
  /** What the catching properties must report. */
  readonly expect: "fail" | "deviation";
  /**
   * The only properties to run on this bug (default: all). For planted bugs that are real
   * entries on a GPU or tfjs (props/concurrency.ts, props/limits.ts), whose other properties would
   * cost GPU time and test nothing planted.
   */
  readonly only?: readonly string[];
}

/** The properties to run on `entry`: a planted bug's `only` list when it has one, else `all`. */
export function propertiesFor<P extends { readonly name: string }>(entry: Implementation, all: readonly P[]): P[] {
  const only = plantedBugs.find((b) => b.impl === entry)?.only;
  return only ? all.filter((p) => only.includes(p.name)) : [...all];
}

/** The scaffold without any bug: must pass everything. */
export const plantedControl: Implementation = mutant(
  "planted-control",
  "the mutant scaffold with no bug (must pass every property)",
  {},
);

/**
 * The scaffold with every operation rounded to float32 and no bug: must pass every property at the
 * float32 tolerances, which shows they are not tighter than honest float32 arithmetic allows.
 */
export const plantedControlFloat32: Implementation = mutant(
  "planted-control-f32",
  "the mutant scaffold in float32 arithmetic (Math.fround after every operation), no bug",
  {},
  { precision: "float32", float32Arithmetic: true },
);

/** Every planted bug. */
export const plantedBugs: readonly PlantedBug[] = [
  {
    impl: mutant("ignores-unknown-keys", "a case key it does not know (stride, pool_size) is dropped, not refused", {
      validate: (input) =>
        validateCase(
          Object.fromEntries(Object.entries(input).filter(([key]) => CASE_KEYS.includes(key))) as SortPoolCase,
        ),
    }),
    caughtBy: ["unknown-keys"],
    expect: "fail",
  },
  {
    impl: mutant("rejects-empty-batch", "a batch of 0 is refused as a bad shape instead of giving empty outputs", {
      validate: (input) => {
        const c = validateCase(input);
        if (c.shape[0] === 0) throw new SortPoolArgumentError("shape[0] (batch)", "a positive integer", "0");
        return c;
      },
    }),
    caughtBy: ["empty-input"],
    expect: "fail",
  },
  {
    impl: mutant("reversed-weights", "softmax weights applied in reverse rank order (the original's order)", {
      forwardWeights: (w, k) => reverseGroups(w, k),
      backwardWeights: (w, k) => reverseGroups(w, k),
    }),
    caughtBy: ["fwd-ref", "vjp-ref"],
    expect: "fail",
  },
  {
    impl: mutant("missing-softmax-jacobian", "dLogits returns the rank sums s_r, without the softmax VJP", {
      dLogits: (_w, s) => Float64Array.from(s),
    }),
    caughtBy: ["dlogits-fd", "vjp-ref"],
    expect: "fail",
  },
  {
    impl: mutant("wrong-tie-routing", "equal values rank higher cell index first, forward and backward alike", {
      rank: (cells) => rankBy(cells, (p, q) => ranksBefore(p.value, -p.cell, q.value, -q.cell)),
    }),
    caughtBy: ["ties"],
    expect: "fail",
  },
  {
    impl: mutant(
      "declared-tie-deviation",
      "wrong-tie-routing, but declared ties: deviates; must be reported as a declared deviation, not a failure",
      { rank: (cells) => rankBy(cells, (p, q) => ranksBefore(p.value, -p.cell, q.value, -q.cell)) },
      { ties: { kind: "deviates", description: "equal values rank higher cell index first" } },
    ),
    caughtBy: ["ties"],
    expect: "deviation",
  },
  {
    impl: mutant("negative-zero-below-zero", "-0 ranks below +0 (a bitwise comparison), forward and backward", {
      rank: (cells) =>
        rankBy(
          cells,
          (p, q) =>
            p.value === 0 && q.value === 0 && !Object.is(p.value, q.value)
              ? Object.is(q.value, -0)
              : ranksBefore(p.value, p.cell, q.value, q.cell),
        ),
    }),
    caughtBy: ["ties"],
    expect: "fail",
  },
  {
    impl: mutant(
      "padding-off-by-one",
      '"same" splits the padding the other way: ceil(total / 2) before (for 2x2/2: the top row / left column ' +
        "padded instead of bottom / right)",
      {
        cells: (c, g, b, oh, ow, ch) => {
          const [, h, w, nc] = c.shape;
          const [kh, kw] = g.poolSize;
          const cells: WindowCell[] = [];
          for (let cell = 0; cell < kh * kw; cell++) {
            const row = oh * g.strides[0] - g.rows.padAfter + Math.floor(cell / kw);
            const col = ow * g.strides[1] - g.cols.padAfter + (cell % kw);
            if (row < 0 || col < 0 || row >= h || col >= w) {
              if (c.k > 1) cells.push({ cell, value: 0, index: -1 });
              continue;
            }
            const index = ((b * h + row) * w + col) * nc + ch;
            cells.push({ cell, value: c.x[index], index });
          }
          return cells;
        },
      },
    ),
    caughtBy: ["fwd-ref", "k1-maxpool"],
    expect: "fail",
  },
  {
    impl: mutant("k1-counts-padding", "k = 1 ranks padded zeros too (the original's k > 1 padding applied to k = 1)", {
      cells: (c, g, b, oh, ow, ch) => windowCells(c.x, c.shape, Math.max(c.k, 2), b, oh, ow, ch, g),
    }),
    caughtBy: ["k1-maxpool", "fwd-ref"],
    expect: "fail",
  },
  {
    impl: mutant("clamped-padding-read", "a padded cell reads the clamped edge element instead of zero (k > 1)", {
      cells: (c, g, b, oh, ow, ch) => {
        const [, h, w, nc] = c.shape;
        const kw = g.poolSize[1];
        return windowCells(c.x, c.shape, c.k, b, oh, ow, ch, g).map((cell) => {
          if (cell.index >= 0) return cell;
          const row = Math.min(Math.max(inputRow(g, oh, Math.floor(cell.cell / kw)), 0), h - 1);
          const col = Math.min(Math.max(inputCol(g, ow, cell.cell % kw), 0), w - 1);
          return { cell: cell.cell, value: c.x[((b * h + row) * w + col) * nc + ch], index: -1 };
        });
      },
    }),
    caughtBy: ["fwd-ref"],
    expect: "fail",
  },
  {
    impl: mutant(
      "missing-comparator",
      "windows of up to 4 participants ranked by the 4-value sorting network without its last compare-exchange [1, 2]",
      {
        rank: (cells) => {
          if (cells.length > 4) return rankCells(cells);
          const slots = [...cells];
          const network = SORTING_NETWORK.slice(0, SORTING_NETWORK.length - 1);
          for (const [i, j] of network) {
            if (j >= slots.length) continue;
            if (ranksBefore(slots[j].value, slots[j].cell, slots[i].value, slots[i].cell)) {
              [slots[i], slots[j]] = [slots[j], slots[i]];
            }
          }
          return slots;
        },
      },
    ),
    caughtBy: ["fwd-ref", "permute"],
    expect: "fail",
  },
  {
    impl: mutant("nan-ranked-last", "NaN compares false, so it sinks to the lowest rank", {
      rank: (cells) =>
        rankBy(cells, (p, q) => {
          if (Number.isNaN(p.value) || Number.isNaN(q.value)) return Number.isNaN(q.value) && !Number.isNaN(p.value);
          return ranksBefore(p.value, p.cell, q.value, q.cell);
        }),
    }),
    caughtBy: ["fwd-nonfinite"],
    expect: "fail",
  },
  {
    impl: mutant(
      "half-precision-forward",
      "forward rounded to an 11-bit significand (fp16 precision, relative error ≤ 2^-11 ≈ 4.9e-4, inside JAX's 2e-3)",
      { output: roundToHalfPrecision },
      { precision: "float32" },
    ),
    caughtBy: ["fwd-ref"],
    expect: "fail",
  },
  {
    impl: mutant(
      "dlogits-wrong-axis",
      "s_r sums the window's r-th cell (window order) instead of its r-th ranked value",
      {
        rankSumCell: (_ranked, cells, r) => cells[r],
      },
    ),
    caughtBy: ["dlogits-fd", "vjp-ref"],
    expect: "fail",
  },
  {
    impl: mutant("dx-wrong-channel", "dx is scattered to the next channel", {
      dxIndex: (index, shape) => {
        const c = shape[3];
        return index - (index % c) + ((index % c) + 1) % c;
      },
    }),
    caughtBy: ["dx-fd", "vjp-ref"],
    expect: "fail",
  },
  {
    impl: mutant("dx-window-order", "dx weights the window's cells in window order instead of rank order", {
      scatter: (_ranked, cells, k) => cells.slice(0, k).map((cell, r) => ({ index: cell.index, weightIndex: r })),
    }),
    caughtBy: ["dx-fd", "vjp-ref"],
    expect: "fail",
  },
  {
    impl: mutant("dx-rank-off-by-one", "the cell at rank r receives w[r + 1]·dy (the last kept cell gets nothing)", {
      scatter: (ranked, _cells, k) => ranked.slice(0, k).map((cell, r) => ({ index: cell.index, weightIndex: r + 1 })),
    }),
    caughtBy: ["dx-fd", "vjp-ref"],
    expect: "fail",
  },
  {
    impl: mutant("dy-transposed", "the backward reads dy at (ow, oh) instead of (oh, ow) where that exists", {
      dyIndex: (out, b, oh, ow, ch) =>
        ow < out[1] && oh < out[2] ? outputIndex(out, b, ow, oh, ch) : outputIndex(out, b, oh, ow, ch),
    }),
    caughtBy: ["dx-fd", "vjp-ref"],
    expect: "fail",
  },
  {
    impl: mutant(
      "k1-dlogits-jacobian",
      "k = 1 dLogits through the softmax Jacobian, 1·(s − s): NaN once s is non-finite (issue 10, class 1)",
      { dLogits: (w, s, k) => perGroup(w, s, k, softmaxVjp) },
    ),
    caughtBy: ["k1-dlogits"],
    expect: "fail",
  },
  {
    impl: mutant(
      "logits-rounded-to-float32",
      "the logits are rounded to float32 before the softmax: 1e39 becomes Infinity (fine by the limit rule), but " +
        "1e8·(1 + j·2^-30) all become 1e8 (issue 10, class 2)",
      { weights: (logits, k) => softmax(Float32Array.from(logits), k) },
    ),
    caughtBy: ["logits-range"],
    expect: "fail",
  },
  {
    impl: mutant(
      "softmax-without-limit",
      "softmax as exp(l − max) / Σ without the limit rule: [Infinity, 0] gives exp(NaN) = NaN weights (issue 10, " +
        "class 3, what the op on webgpu did)",
      {
        weights: (logits, k) => {
          const out = new Float64Array(logits.length);
          for (let start = 0; start < logits.length; start += k) {
            const group = Array.prototype.slice.call(logits, start, start + k) as number[];
            const max = Math.max(...group);
            const e = group.map((l) => Math.exp(l - max));
            const sum = e.reduce((a, v) => a + v, 0);
            e.forEach((v, r) => (out[start + r] = v / sum));
          }
          return out;
        },
      },
    ),
    caughtBy: ["logits-nonfinite"],
    expect: "fail",
  },
  {
    impl: mutant(
      "rejects-nonfinite-logits",
      "a NaN or ±Infinity logit is rejected with a SortPoolArgumentError (issue 10, class 3, what the op on cpu did)",
      {
        checkLogits: (logits) => {
          const i = Array.from(logits).findIndex((l) => !Number.isFinite(l));
          if (i >= 0) throw new SortPoolArgumentError(`logits[${i}]`, "a finite number", String(logits[i]));
        },
      },
    ),
    caughtBy: ["logits-nonfinite"],
    expect: "fail",
  },
  {
    impl: mutant(
      "forward-from-plus-zero",
      "y accumulates from +0 instead of the first product: an all -0 window, or k = 1 on [-1, -0, -2, -3], gives +0 " +
        "(issue 10, class 4, what the reference did)",
      {
        accumulate: (products, round) => {
          let acc = 0;
          for (const p of products) acc = round(acc + p);
          return acc;
        },
      },
    ),
    caughtBy: ["signed-zero"],
    expect: "fail",
  },
  {
    impl: mutant(
      "dx-accumulated-from-plus-zero",
      "dx adds w[r]·dy onto +0 instead of assigning it: w[r]·(-0) = -0 comes out +0 (issue 10, class 4)",
      {
        dxWrite: (dx, _written, index, value) => {
          dx[index] += value;
        },
      },
    ),
    caughtBy: ["signed-zero"],
    expect: "fail",
  },
  {
    impl: mutant(
      "padded-cell-times-dy",
      "a padded cell adds 0·dy to the rank sums instead of nothing: NaN dLogits for a non-finite dy (issue 10, " +
        "class 5)",
      { rankSumTerm: (cell, g) => cell.value * g },
    ),
    caughtBy: ["nonfinite-dy"],
    expect: "fail",
  },
  {
    impl: mutant(
      "dx-mask-times-dy",
      "dx as autograd of where exchanges gives it: every real cell gets Σ_r [cell holds rank r]·w[r]·dy, so 0·dy " +
        "is NaN for a non-finite dy (issue 10, class 5, what tfjs-network did)",
      {
        dxTerms: (ranked, cells, k, w, g, round) =>
          cells.filter((cell) => cell.index >= 0).map((cell) => {
            let value = 0;
            for (let r = 0; r < k; r++) value = round(value + round((ranked[r] === cell ? 1 : 0) * round(w[r] * g)));
            return { index: cell.index, value };
          }),
      },
    ),
    caughtBy: ["nonfinite-dy"],
    expect: "fail",
  },
  {
    impl: mutant(
      "overlap-dx-overwritten",
      "dx is assigned instead of summed: where windows overlap, the last window's term overwrites the others (a " +
        "scatter without accumulation; right whenever windows do not overlap)",
      {
        dxWrite: (dx, written, index, value) => {
          dx[index] = value;
          written[index] = 1;
        },
      },
    ),
    caughtBy: ["vjp-ref", "dx-fd"],
    expect: "fail",
  },
  {
    impl: mutant(
      "per-channel-logits-row-major",
      "per-channel logits read (and dLogits written) rank-major, logit (c, r) at r·C + c instead of channel-major " +
        "c·k + r: right for shared logits, for k = 1 and for C = 1",
      {
        weights: (logits, k, channels) => softmax(fromRankMajor(logits, k, channels), k),
        dLogits: (w, s, k, channels) => toRankMajor(logitsGradient(w, s, k), k, channels),
      },
    ),
    caughtBy: ["fwd-ref", "vjp-ref"],
    expect: "fail",
  },
  {
    impl: unserialisedBackendEntry,
    caughtBy: ["concurrency"],
    expect: "fail",
    only: ["concurrency"],
  },
  {
    impl: partialsOneShort,
    caughtBy: ["bind-limits"],
    expect: "fail",
    only: ["bind-limits"],
  },
];

/** Every planted entry (the controls first). */
export const plantedEntries: readonly Implementation[] = [
  plantedControl,
  plantedControlFloat32,
  ...plantedBugs.map((p) => p.impl),
];

/** Planted entries whose name contains any comma-separated term (all when empty). */
export function selectPlanted(filter: string | undefined): Implementation[] {
  const terms = (filter ?? "").split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  if (terms.length === 0) return [...plantedEntries];
  const picked = plantedEntries.filter((i) => terms.some((t) => i.name.includes(t)));
  if (picked.length === 0) {
    throw new Error(
      `--impl: expected a planted entry name (part), received "${filter}"; known: ${
        plantedEntries.map((i) => i.name).join(", ")
      }`,
    );
  }
  return picked;
}
