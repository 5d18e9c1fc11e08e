/**
 * The windows a case draws (SPEC.md §2–3), in four families: the default 2x2/2 left out of the
 * case, tiling windows, overlapping windows and any pair (gaps included); and how drawn shapes are
 * fitted to their window (props/generators.ts describes the weights and the work cap).
 *
 * @module
 */
import fc from "fast-check";
import { axisGeometry } from "../../src/spec.ts";
import type { Padding } from "../../src/types.ts";
import { type CaseParams, DEFAULT_WINDOW, MAX_WINDOW, type WindowDraw, type WindowParams, WORK_CAP } from "./types.ts";

const side = fc.integer({ min: 1, max: MAX_WINDOW });

/** Overlapping rows: kh 2..4 with sh < kh; columns any window with a stride up to its width. Transposed half the time. */
const overlappingWindow: fc.Arbitrary<WindowParams> = fc.record({
  kh: fc.integer({ min: 2, max: MAX_WINDOW }),
  shDown: fc.integer({ min: 1, max: MAX_WINDOW - 1 }),
  kw: side,
  swDown: fc.integer({ min: 0, max: MAX_WINDOW - 1 }),
  transpose: fc.boolean(),
}).map(({ kh, shDown, kw, swDown, transpose }) => {
  const sh = Math.max(1, kh - shDown);
  const sw = Math.max(1, kw - swDown);
  return transpose
    ? { poolSize: [kw, kh], strides: [sw, sh], explicit: true }
    : { poolSize: [kh, kw], strides: [sh, sw], explicit: true };
});

/** Tiling windows: strides = poolSize (2x2/2 passed explicitly among them). */
const tilingWindow: fc.Arbitrary<WindowParams> = fc.tuple(side, side).map(([kh, kw]) => ({
  poolSize: [kh, kw],
  strides: [kh, kw],
  explicit: true,
}));

/** Any window and strides (gaps between windows included: stride > window). */
const anyWindow: fc.Arbitrary<WindowParams> = fc.tuple(side, side, side, side).map(([kh, kw, sh, sw]) => ({
  poolSize: [kh, kw],
  strides: [sh, sw],
  explicit: true,
}));

/**
 * Windows of a `draw` (see `CaseConstraints`); the default window comes first, so failures
 * shrink to it when the window does not matter. "non-overlapping" draws may still have
 * stride < window along an axis with a single window (caught per case by the filter).
 */
export function windowArbitrary(draw: WindowDraw): fc.Arbitrary<WindowParams> {
  if (draw === "default") return fc.constant(DEFAULT_WINDOW);
  const families = [
    { weight: 40, arbitrary: fc.constant(DEFAULT_WINDOW) },
    { weight: 15, arbitrary: tilingWindow },
    { weight: 15, arbitrary: anyWindow },
  ];
  if (draw === "any") families.push({ weight: 30, arbitrary: overlappingWindow });
  return fc.oneof(...families);
}

/** Output windows x cells per image and channel (the work a case costs, up to a constant). */
function workOf(height: number, width: number, padding: Padding, w: WindowParams): number {
  const rows = axisGeometry(height, padding, w.poolSize[0], w.strides[0]).out;
  const cols = axisGeometry(width, padding, w.poolSize[1], w.strides[1]).out;
  return rows * cols * w.poolSize[0] * w.poolSize[1];
}

/**
 * Fits drawn parameters to their window: "valid" raises H and W to at least kh and kw; H and W
 * shrink (the larger first) until the work is at most {@link WORK_CAP}; a k above kh·kw folds onto
 * the allowed ks. Returns undefined when no allowed k fits the window.
 */
export function fitToWindow(p: CaseParams, ks: readonly number[]): CaseParams | undefined {
  const [kh, kw] = p.window.poolSize;
  const cells = kh * kw;
  const allowed = ks.filter((k) => k <= cells);
  if (allowed.length === 0) return undefined;
  const k = p.k <= cells ? p.k : allowed[(p.k - 1) % allowed.length];
  let height = p.padding === "valid" ? Math.max(p.height, kh) : p.height;
  let width = p.padding === "valid" ? Math.max(p.width, kw) : p.width;
  const minH = p.padding === "valid" ? kh : 1;
  const minW = p.padding === "valid" ? kw : 1;
  while (workOf(height, width, p.padding, p.window) > WORK_CAP && (height > minH || width > minW)) {
    if ((height >= width && height > minH) || width <= minW) height--;
    else width--;
  }
  return { ...p, k, height, width };
}
