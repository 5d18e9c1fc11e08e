/**
 * The planted bugs: each a mutant of the reference (props/planted/scaffold.ts) carrying one bug a
 * real kernel could have, or a real entry with one fault planted (props/properties/concurrency.ts,
 * props/properties/limits.ts), with the properties that must catch it.
 *
 * @module
 */
import type { Implementation, SortPoolCase } from "../../src/types.ts";
import {
  inputCol,
  inputRow,
  logitsGradient,
  outputIndex,
  rankCells,
  ranksBefore,
  softmax,
  softmaxVjp,
  SORTING_NETWORK,
  type WindowCell,
  windowCells,
} from "../../src/spec.ts";
import { CASE_KEYS, SortPoolArgumentError, validateCase } from "../../src/validate.ts";
import { unserialisedBackendEntry } from "../properties/concurrency.ts";
import { partialsOneShort } from "../properties/limits.ts";
import {
  fromRankMajor,
  mutant,
  perGroup,
  rankBy,
  reverseGroups,
  roundToHalfPrecision,
  toRankMajor,
} from "./scaffold.ts";

/** A planted bug and the properties that must catch it. */
export interface PlantedBug {
  readonly impl: Implementation;
  /** Properties that must report "fail" (or "deviation" where `expect` says so). */
  readonly caughtBy: readonly string[];
  /** What the catching properties must report. */
  readonly expect: "fail" | "deviation";
  /**
   * The only properties to run on this bug (default: all). For planted bugs that are real
   * entries on a GPU or tfjs (props/properties/concurrency.ts, props/properties/limits.ts), whose
   * other properties would cost GPU time and test nothing planted.
   */
  readonly only?: readonly string[];
}

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
      "k = 1 dLogits through the softmax Jacobian, 1·(s − s): NaN once s is non-finite (input class: masked " +
        "windows)",
      { dLogits: (w, s, k) => perGroup(w, s, k, softmaxVjp) },
    ),
    caughtBy: ["k1-dlogits"],
    expect: "fail",
  },
  {
    impl: mutant(
      "logits-rounded-to-float32",
      "the logits are rounded to float32 before the softmax: 1e39 becomes Infinity (fine by the limit rule), but " +
        "1e8·(1 + j·2^-30) all become 1e8 (input class: logits beyond float32)",
      { weights: (logits, k) => softmax(Float32Array.from(logits), k) },
    ),
    caughtBy: ["logits-range"],
    expect: "fail",
  },
  {
    impl: mutant(
      "softmax-without-limit",
      "softmax as exp(l − max) / Σ without the limit rule: [Infinity, 0] gives exp(NaN) = NaN weights (non-finite " +
        "logits: what the op on webgpu did)",
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
      "a NaN or ±Infinity logit is rejected with a SortPoolArgumentError (non-finite logits: what the op on cpu " +
        "did)",
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
        "(zero signs: what the reference did)",
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
      "dx adds w[r]·dy onto +0 instead of assigning it: w[r]·(-0) = -0 comes out +0 (input class: zero signs)",
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
      "a padded cell adds 0·dy to the rank sums instead of nothing: NaN dLogits for a non-finite dy (input " +
        "class: non-finite dy)",
      { rankSumTerm: (cell, g) => cell.value * g },
    ),
    caughtBy: ["nonfinite-dy"],
    expect: "fail",
  },
  {
    impl: mutant(
      "dx-mask-times-dy",
      "dx as autograd of where exchanges gives it: every real cell gets Σ_r [cell holds rank r]·w[r]·dy, so 0·dy " +
        "is NaN for a non-finite dy (what tfjs-network did)",
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
