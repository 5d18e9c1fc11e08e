/**
 * Shapes a property asks for beyond the drawn ones: empty inputs (a zero batch, height, width or
 * channel count) and the shapes where windows whose kept cells are all padding are common.
 *
 * @module
 */
import type { CaseParams } from "./types.ts";

/** The dimensions an empty input can have at zero (SPEC.md §1 "Empty inputs"). */
export const EMPTY_DIMENSIONS = ["batch", "height", "width", "channels"] as const;

/**
 * `p` with dimension `dim` set to 0: a zero height or width keeps "valid" only where the output
 * size stays defined (SPEC.md §3: H ≥ kh − sh, i.e. sh ≥ kh for H = 0), else takes "same"; a
 * zero channel count takes shared logits (C·k would be empty).
 */
export function emptied(p: CaseParams, dim: (typeof EMPTY_DIMENSIONS)[number]): CaseParams {
  const [kh, kw] = p.window.poolSize;
  const [sh, sw] = p.window.strides;
  switch (dim) {
    case "batch":
      return { ...p, batch: 0 };
    case "channels":
      return { ...p, channels: 0, perChannel: false };
    case "height":
      return { ...p, height: 0, padding: p.padding === "valid" && sh < kh ? "same" : p.padding };
    case "width":
      return { ...p, width: 0, padding: p.padding === "valid" && sw < kw ? "same" : p.padding };
  }
}

/**
 * For the `padded-nonfinite` dy kind, the parameters under which windows whose kept cells are all
 * padding are common: "same" padding, `distinct` values (random signs, no zero that would tie with a
 * padded zero, no NaN or ±Infinity that would make dLogits non-finite anyway), k ≤ 3; for the
 * default window also an odd width (k = 2: the right column's windows keep their two padded cells
 * when both real values are negative), and an odd height for k = 3 (only the corner window has
 * three padded cells). Other parameters pass unchanged.
 */
export function paddedDyShape(p: CaseParams): CaseParams {
  if (p.dyKind !== "padded-nonfinite") return p;
  const k = Math.min(p.k, 3);
  const base = { ...p, padding: "same" as const, kind: "distinct" as const, k };
  if (p.window.explicit) return base;
  return { ...base, width: p.width | 1, height: k === 3 ? p.height | 1 : p.height };
}
