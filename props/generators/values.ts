/**
 * Expands drawn parameters into a case: x of the drawn value kind, laid out so that values are
 * distinct inside every window where the kind says so, dy, the finite-difference directions, the
 * per-window permutation, the logits, the shift and the scale (props/generators.ts describes the
 * layouts).
 *
 * @module
 */
import { cellIndex, type PoolGeometry, poolGeometry, sizeOf } from "../../src/spec.ts";
import type { Padding, Shape4 } from "../../src/types.ts";
import { hasOverlap, isRepresentable, type Precision, windowFacts } from "../../testkit/mod.ts";
import { specialLogits } from "./logits.ts";
import { prng, randInt, randPermutation } from "./random.ts";
import {
  type CaseParams,
  DY_DENOMINATOR,
  LOGIT_DENOMINATOR,
  LOGIT_MAX,
  type PropCase,
  type ValueKind,
} from "./types.ts";

/** Unit exponent for a kind and precision, chosen by `scaleParam` (0 → the kind's most ordinary exponent). */
export function unitExponent(kind: ValueKind, precision: Precision, scaleParam: number): number {
  const hugeLo = precision === "float32" ? 60 : 900;
  const hugeHi = precision === "float32" ? 100 : 990;
  if (kind === "huge") return hugeLo + (scaleParam % (hugeHi - hugeLo + 1));
  if (kind === "tiny") return -(hugeLo + (scaleParam % (hugeHi - hugeLo + 1)));
  return [0, -1, 1, -2, 2, -3, 3][scaleParam % 7];
}

/**
 * Calls `visit(indices)` for every window of `g` in output order (batch, row, column, channel);
 * `indices[cell]` is the flat index of the cell or -1 where it is padding.
 */
function forEachWindow(shape: Shape4, g: PoolGeometry, visit: (indices: number[]) => void): void {
  const [nb, , , nc] = shape;
  for (let b = 0; b < nb; b++) {
    for (let oh = 0; oh < g.rows.out; oh++) {
      for (let ow = 0; ow < g.cols.out; ow++) {
        for (let ch = 0; ch < nc; ch++) {
          const indices: number[] = [];
          for (let cell = 0; cell < g.cells; cell++) indices.push(cellIndex(shape, b, oh, ow, ch, cell, g));
          visit(indices);
        }
      }
    }
  }
}

/**
 * The disjoint windows values are laid out by when the case's windows do not overlap: for tiling
 * windows (strides ≥ poolSize) the "same" grid when it starts at row and column 0 (it covers every
 * element once and, for "valid", holds the case's windows), else the case's own windows; undefined
 * when windows overlap (then values use the Latin layout).
 */
function layoutGrid(shape: Shape4, g: PoolGeometry, padding: Padding): PoolGeometry | undefined {
  if (hasOverlap(g)) return undefined;
  const tiling = g.strides[0] >= g.poolSize[0] && g.strides[1] >= g.poolSize[1];
  if (!tiling || padding === "same") return g;
  const same = poolGeometry(shape, "same", { poolSize: g.poolSize, strides: g.strides });
  return same.rows.padBefore === 0 && same.cols.padBefore === 0 ? same : g;
}
/** The values of the `ties`-like kinds, in units (the alphabet is a prefix of it). */
export const TIE_ALPHABET = [0, 1, -1, 2, -2];

/** A float64 NaN with the given high and low 32-bit words (sign, quiet bit and payload). */
function nanWithBits(high: number, low: number): number {
  const f = new Float64Array(1);
  const words = new Uint32Array(f.buffer);
  words[0] = low;
  words[1] = high;
  return f[0];
}

/**
 * NaNs with different bits: the canonical one, one with the sign bit set, and one with a payload
 * that survives conversion to float32 (0x7fc00001 there). A kernel that compares bit patterns must
 * still rank every NaN above +Infinity.
 */
export const NAN_VARIANTS: readonly number[] = [
  NaN,
  nanWithBits(0xfff80000, 0),
  nanWithBits(0x7ff80000, 0x20000000),
];

/** Expands the drawn parameters into a case for `precision`. Pure: the same input gives the same case. */
export function buildCase(params: CaseParams, precision: Precision): PropCase {
  const shape: Shape4 = [params.batch, params.height, params.width, params.channels];
  const { k, padding, kind } = params;
  const { poolSize, strides } = params.window;
  const g = poolGeometry(shape, padding, { poolSize, strides });
  const cells = g.cells;
  const rand = prng(params.dataSeed);
  const n = sizeOf(shape);
  const unitExp = unitExponent(kind, precision, params.scaleParam);
  const unit = 2 ** unitExp;
  const x = new Float64Array(n);
  const hugeExp = unitExponent("huge", precision, params.scaleParam);
  const spread = params.spread;
  const nearTieBits = 6 + (params.nearTieParam % 11);
  // Distinct residues 0..cells-1 inside a window and a random integer part in steps of 2·cells keep
  // the values of a window distinct (odd numbers, so never a padded zero either).
  const step = 2 * cells;

  const valueAt = (i: number, residue: number, base: number) => {
    const odd = step * randInt(rand, -spread, spread) + 2 * residue + 1;
    switch (kind) {
      case "distinct":
      case "huge":
      case "tiny":
        x[i] = odd * unit;
        break;
      case "mixed": {
        // Distinct units never collide: odd·2^a = odd'·2^b only when a = b.
        const e = [-hugeExp, 0, hugeExp][randInt(rand, 0, 2)];
        x[i] = odd * 2 ** e;
        break;
      }
      case "near-ties": {
        const offset = step * randInt(rand, -Math.min(spread, 3), Math.min(spread, 3)) + 2 * residue + 1;
        x[i] = base * unit + offset * unit * 2 ** -nearTieBits;
        break;
      }
      case "signed-zeros": {
        const u = rand();
        x[i] = u < 0.5 ? -0 : u < 0.65 ? 0 : -randInt(rand, 1, 3) * unit;
        break;
      }
      case "ties":
      case "nonfinite":
      case "infinities":
      case "subnormals": {
        const a = TIE_ALPHABET[randInt(rand, 0, params.alphabet - 1)];
        let v = a === 0 ? (rand() < 0.5 ? -0 : 0) : a * unit;
        if (kind === "subnormals" && rand() < 0.35) {
          // A float32 subnormal: odd·2^-149·2^j < 2^-126, either sign.
          v = (rand() < 0.5 ? -1 : 1) * (2 * randInt(rand, 0, 3) + 1) * 2 ** (-149 + randInt(rand, 0, 19));
        }
        if (kind !== "ties" && kind !== "subnormals" && rand() < 0.25) {
          const specials = kind === "nonfinite"
            ? [NAN_VARIANTS[randInt(rand, 0, NAN_VARIANTS.length - 1)], Infinity, -Infinity]
            : [Infinity, -Infinity];
          v = specials[randInt(rand, 0, specials.length - 1)];
        }
        x[i] = v;
        break;
      }
    }
  };

  const grid = layoutGrid(shape, g, padding);
  const filled = new Uint8Array(n);
  if (grid) {
    // Disjoint windows: a per-window permutation of the residues keeps values distinct inside the
    // window without tying the rank order to the cell order; one near-tie base per window.
    forEachWindow(shape, grid, (indices) => {
      const residues = randPermutation(rand, cells);
      const base = 2 * randInt(rand, -7, 7) + 1; // odd, so never 0: near-ties stay away from padded zeros
      for (let cell = 0; cell < cells; cell++) {
        const i = indices[cell];
        if (i < 0) continue;
        valueAt(i, residues[cell], base);
        filled[i] = 1;
      }
    });
  } else {
    // Overlapping windows: the Latin layout, one residue permutation and near-tie base per image
    // and channel; any kh x kw block of rows and columns holds every residue once.
    const [nb, h, w, nc] = shape;
    const [kh, kw] = poolSize;
    for (let b = 0; b < nb; b++) {
      for (let ch = 0; ch < nc; ch++) {
        const residues = randPermutation(rand, cells);
        const base = 2 * randInt(rand, -7, 7) + 1;
        for (let row = 0; row < h; row++) {
          for (let col = 0; col < w; col++) {
            const i = ((b * h + row) * w + col) * nc + ch;
            valueAt(i, residues[(row % kh) * kw + (col % kw)], base);
            filled[i] = 1;
          }
        }
      }
    }
  }
  // Elements no layout window covers (in no window of the case either) still get values of the kind.
  for (let i = 0; i < n; i++) if (!filled[i]) valueAt(i, randInt(rand, 0, cells - 1), 2 * randInt(rand, -7, 7) + 1);

  const outN = sizeOf([shape[0], g.rows.out, g.cols.out, shape[3]]);
  const dy = new Float64Array(outN);
  for (let j = 0; j < outN; j++) {
    dy[j] = rand() < 0.1 ? 0 : randInt(rand, -4 * DY_DENOMINATOR, 4 * DY_DENOMINATOR) / DY_DENOMINATOR;
  }
  const direction = new Int8Array(n);
  for (let i = 0; i < n; i++) direction[i] = randInt(rand, -1, 1);
  const groups = params.perChannel && shape[3] > 1 ? shape[3] : 1;
  const logitCount = groups * k;
  const logitDirection: number[] = Array.from({ length: logitCount }, () => randInt(rand, -1, 1));
  // A zero direction would test nothing.
  if (logitDirection.every((u): boolean => u === 0)) logitDirection[randInt(rand, 0, logitCount - 1)] = 1;

  const xPermuted = x.slice();
  if (grid) {
    forEachWindow(shape, grid, (indices) => {
      const real = indices.filter((i) => i >= 0);
      const order = randPermutation(rand, real.length);
      for (let t = 0; t < real.length; t++) xPermuted[real[t]] = x[real[order[t]]];
    });
  }

  const shift = randInt(rand, -8, 8) * unit;
  const scale = [2, 0.5, 4, 0.25, 3, 0.75][randInt(rand, 0, 5)];

  // The edge-case input classes (signed zeros in dy, non-finite dy, logits past float32 and
  // non-finite) draw from a stream of their own, so the cases above stay the same for a given seed
  // whatever these kinds are; logits past the first four drawn codes (k > 4,
  // or the other channels' groups) from a third one.
  const extra = prng((params.dataSeed ^ 0x5bd1e995) >>> 0);
  const moreCodes = prng((params.dataSeed ^ 0x27d4eb2f) >>> 0);
  const code = () => randInt(moreCodes, -LOGIT_MAX * LOGIT_DENOMINATOR, LOGIT_MAX * LOGIT_DENOMINATOR);
  const logits: number[] = [];
  for (let group = 0; group < groups; group++) {
    let own = Array.from(
      { length: k },
      (_, r) => (group === 0 && r < params.logitCodes.length ? params.logitCodes[r] : code()) / LOGIT_DENOMINATOR,
    );
    if (params.descendingLogits) own = own.sort((p, q) => q - p);
    if (params.logitKind !== "ordinary") own = specialLogits(own, params.logitKind, extra);
    logits.push(...own);
  }
  // Zeros in dy carry a random sign: w[r]·(-0) is a -0 dx that an implementation accumulating
  // from +0 would lose (SPEC.md §5).
  for (let j = 0; j < outN; j++) if (dy[j] === 0 && extra() < 0.5) dy[j] = -0;
  const dySpecials = [Infinity, -Infinity, NaN];
  if (params.dyKind === "nonfinite") {
    for (let j = 0; j < outN; j++) if (extra() < 0.2) dy[j] = dySpecials[randInt(extra, 0, 2)];
  } else if (params.dyKind === "padded-nonfinite") {
    for (const w of windowFacts({ shape, k, padding, poolSize, strides }, x)) {
      if (w.ranked.slice(0, k).every((cell) => cell.index < 0)) {
        dy[w.out] = dySpecials[randInt(extra, 0, 2)];
      }
    }
  }

  const c: PropCase = {
    params,
    precision,
    shape,
    k,
    padding,
    poolSize: [poolSize[0], poolSize[1]],
    strides: [strides[0], strides[1]],
    logits,
    x,
    dy,
    direction,
    logitDirection,
    xPermuted,
    unit,
    shift,
    scale,
  };
  for (const arr of params.logitKind === "ordinary" ? [x, dy, logits] : [x, dy]) {
    for (const v of arr) {
      if (!isRepresentable(v, precision)) {
        throw new Error(`generator invariant broken: ${v} is not exact in ${precision} (kind ${kind})`);
      }
    }
  }
  return c;
}
