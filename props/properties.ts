/**
 * The property table: each property is a generator (which cases it draws) and a check
 * `(context, entry, case) => verdict`. They work on any registry entry through its declared
 * capabilities (precision, device, ties, supports) and the `Implementation` interface alone.
 *
 * Every property draws general windows (poolSize and strides 1..4, overlapping ones included) and
 * per-channel logits besides the default 2x2/2 with shared logits (props/generators.ts), except
 * where a property says otherwise (`permute`: windows that do not overlap). Cases an entry does not
 * support (its `supports` declaration) are skipped with the reason shown (props/runner.ts).
 *
 * Tolerances and why they are what they are: props/tolerance.ts.
 *
 * @module
 */
import type fc from "fast-check";
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { float32Weights, outputShape, sizeOf, softmax, weightOffset } from "../src/spec.ts";
import { tf, withBackend } from "../src/tfjs/runtime.ts";
import type { Implementation, SortPoolCase } from "../src/types.ts";
import { CASE_KEYS, SortPoolArgumentError } from "../src/validate.ts";
import {
  caseArbitrary,
  type CaseConstraints,
  containingWindows,
  fdStepX,
  isRepresentable,
  perturb,
  type Precision,
  type PropCase,
  rankSums,
  slotCells,
  TIE_FREE_KINDS,
  type WindowInfo,
  windowInfos,
} from "./generators.ts";
import { flushSubnormals, groupMax, hasSubnormal, sortPoolCase } from "./agreement.ts";
import { concurrencyProperty } from "./concurrency.ts";
import { limitsProperty } from "./limits.ts";
import { logitsPrecisionOf } from "./subjects.ts";
import {
  dLogitsTolerance,
  forwardRounding,
  LOGIT_TRUNCATION_FACTOR,
  logitStep,
  referenceTolerance,
  subnormalForwardSlack,
} from "./tolerance.ts";
import { fmt, locateInput, locateOutput, type Verdict, VerdictBuilder } from "./verdict.ts";

/** Per-entry settings a check needs beyond the case. */
export interface CheckContext {
  /**
   * How many cell slots (props/generators.ts `slotCells`) the coordinate checks perturb per case;
   * each costs two forward calls and covers one cell of every window at once.
   */
  readonly slots: number;
}

/** One property. */
export interface PropertyDefinition {
  /** Short name, used by --property and in the summary table. */
  readonly name: string;
  /** One sentence: what it checks. */
  readonly title: string;
  /** Which cases it draws. */
  readonly constraints: CaseConstraints;
  /** Whether the check can report a tie-routing "deviation" (see verdict.ts). */
  readonly hasDeviations: boolean;
  /** Forward + gradient calls per case (cost estimate for the run planner). */
  calls(slots: number): number;
  /** Precision the case values are built for (values must be exact there and in the entry's precision). */
  generationPrecision(entry: Implementation): Precision;
  /**
   * The cases, when the property draws more than `constraints` describe (a schedule of concurrent
   * calls, a lowered device limit: props/concurrency.ts, props/limits.ts); default
   * `caseArbitrary(generationPrecision(entry), constraints)`.
   */
  arbitrary?(entry: Implementation): fc.Arbitrary<PropCase>;
  /** Runs the check; never throws (an exception from the entry becomes a failure). */
  check(ctx: CheckContext, entry: Implementation, c: PropCase): Promise<Verdict>;
}

/**
 * A property's constraints over every window family and per-channel logits (props/generators.ts);
 * fields of `constraints` take precedence.
 */
export function general(constraints: CaseConstraints): CaseConstraints {
  return { windows: "any", perChannelLogits: true, ...constraints };
}

/** The case as the entry receives it: x in the entry's precision (exact: the values are representable). */
export function toEntryCase(
  entry: Implementation,
  c: PropCase,
  x: Float64Array = c.x,
  logits: readonly number[] = c.logits,
): SortPoolCase {
  return sortPoolCase(c, entry.precision, x, logits);
}

/** The case for the float64 reference. */
function referenceCase(c: PropCase, x: Float64Array = c.x): SortPoolCase {
  return sortPoolCase(c, "float64", x);
}

/**
 * The rank weights SPEC.md §5 "Weights" lets `entry` use for `logits` (k shared, or C·k per channel
 * with groups of `k`): softmax (its limit) in float64; for a float32 entry rounded to float32 with
 * weights below 2^-126 flushed to +0 (`float32Weights`); for a subject that holds its logits in
 * float32 (the op's tensor, props/subjects.ts), of the logits rounded to float32 first.
 */
export function oracleWeights(entry: Implementation, logits: readonly number[], k = logits.length): Float64Array {
  const held = logitsPrecisionOf(entry) === "float32" ? Float32Array.from(logits) : logits;
  return entry.precision === "float32" ? Float64Array.from(float32Weights(held, k)) : softmax(held, k);
}

/** The weight of rank `r` in channel `ch`'s group (0 for r ≥ k). */
function weightAt(w: ArrayLike<number>, c: PropCase, ch: number, r: number): number {
  return r < c.k ? w[weightOffset(w.length, c.k, ch) + r] : 0;
}

/** The reference's y for `entry` (its weights: {@link oracleWeights}). */
function expectedForward(entry: Implementation, c: PropCase, x: Float64Array = c.x): Float64Array {
  return Float64Array.from(referenceForward(referenceCase(c, x), oracleWeights(entry, c.logits, c.k)).y);
}

/** The reference's dx and dLogits for `entry` (its weights: {@link oracleWeights}). */
function expectedGradient(entry: Implementation, c: PropCase): { dx: Float64Array; dLogits: Float64Array } {
  const g = referenceGradient(referenceCase(c), c.dy, oracleWeights(entry, c.logits, c.k));
  return { dx: Float64Array.from(g.dx), dLogits: Float64Array.from(g.dLogits) };
}

/**
 * Compares one output with the reference: the value ("fail" beyond `tolerance`) and, where both are
 * zeros, the sign (SPEC.md §5). A sign mismatch in a window where two zeros tie (+0 and -0, or a
 * padded zero) is a tie-rule "deviation" (which zero ranks first decides the sign), elsewhere a
 * failure.
 */
function compareOutput(
  v: VerdictBuilder,
  label: string,
  info: WindowInfo,
  expected: number,
  actual: number,
  tolerance: number,
  note?: () => string,
): void {
  const where = () => locateOutput(info);
  if (!v.compare(label, expected, actual, tolerance, where, "fail", note)) return;
  const zeroTie = info.cells.filter((q) => q.value === 0).length >= 2;
  v.sameSign(label, expected, actual, where, zeroTie ? "deviation" : "fail", note);
}

/** Whether `actual` meets `expected` as {@link compareOutput} requires: NaN, ±Infinity, value within `tolerance`, zero sign. */
function sameOutput(expected: number, actual: number, tolerance: number): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return expected === actual;
  if (expected === 0 && actual === 0) return Object.is(expected, actual);
  return Math.abs(expected - actual) <= tolerance;
}

/** |v| for finite v, else 0 (a non-finite dy gives non-finite or exactly-zero dx: compared exactly). */
function finiteAbs(v: number): number {
  return Number.isFinite(v) ? Math.abs(v) : 0;
}

/**
 * max |value| over a window's top k at the perturbed input `x` (padded cells are 0). The finite
 * difference steps never change a rank order (props/generators.ts `fdStepX`), so the top k are
 * the same cells as at the case's x: no re-ranking needed.
 */
function topAbsAt(info: WindowInfo, k: number, x: Float64Array): number {
  let top = 0;
  for (let r = 0; r < k && r < info.ranked.length; r++) {
    const i = info.ranked[r].index;
    if (i >= 0 && !Number.isNaN(x[i])) top = Math.max(top, Math.abs(x[i]));
  }
  return top;
}

/** Σ |dy| (finite ones) over the windows holding an element: the scale of its dx (weights are ≤ 1). */
function dyScale(c: PropCase, held: readonly number[]): number {
  let sum = 0;
  for (const o of held) sum += finiteAbs(c.dy[o]);
  return sum;
}

/** Where an input element shows: the first window holding it, and how many do. */
function locateElement(c: PropCase, infos: readonly WindowInfo[], held: readonly number[], i: number) {
  return locateInput(c.shape, i, held.length > 0 ? infos[held[0]] : undefined, held.length);
}

/** Forward with a shape check; null (and a recorded failure) when the shape is wrong. */
async function forwardOf(
  entry: Implementation,
  c: PropCase,
  v: VerdictBuilder,
  x: Float64Array = c.x,
  logits: readonly number[] = c.logits,
): Promise<Float64Array | null> {
  const res = await entry.forward(toEntryCase(entry, c, x, logits));
  const expected = outputShape(c.shape, c.padding, c);
  const n = sizeOf(expected);
  if (!Array.isArray(res.shape) || res.shape.join(",") !== expected.join(",") || res.y.length !== n) {
    v.fail("output shape", `[${expected.join(", ")}] with ${n} values`, `[${res.shape}] with ${res.y.length} values`);
    return null;
  }
  return Float64Array.from(res.y);
}

/** Gradient with a length check; null (and a recorded failure) when lengths are wrong. */
async function gradientOf(
  entry: Implementation,
  c: PropCase,
  v: VerdictBuilder,
): Promise<{ dx: Float64Array; dLogits: Float64Array } | null> {
  const res = await entry.gradient(toEntryCase(entry, c), Float32Array.from(c.dy));
  const n = c.logits.length;
  if (res.dx.length !== c.x.length || res.dLogits.length !== n) {
    v.fail(
      "gradient lengths",
      `dx ${c.x.length}, dLogits ${n} (the logits' length)`,
      `dx ${res.dx.length}, dLogits ${res.dLogits.length}`,
    );
    return null;
  }
  return { dx: Float64Array.from(res.dx), dLogits: Float64Array.from(res.dLogits) };
}

/**
 * The slots a case's coordinate checks perturb: the first `count` of its slot order below kh·kw,
 * each with its cells (no window holds two of them); slots without a cell are passed over.
 */
function slotsOf(c: PropCase, windows: readonly number[][], count: number): { slot: number; cells: number[] }[] {
  const area = c.poolSize[0] * c.poolSize[1];
  const out: { slot: number; cells: number[] }[] = [];
  for (const slot of c.params.slotOrder) {
    if (out.length >= count) break;
    if (slot >= area) continue;
    const cells = slotCells(c, windows, slot);
    if (cells.length > 0) out.push({ slot, cells });
  }
  return out;
}

/** A direction moving exactly the given elements by +1. */
function unitDirection(n: number, cells: readonly number[]): Int8Array {
  const e = new Int8Array(n);
  for (const i of cells) e[i] = 1;
  return e;
}

/** Longest a single case may take before it counts as a failure (a hung device must not hang the run). */
export const CASE_TIMEOUT_MS = 120_000;

/** Wraps a check body: exceptions and cases over {@link CASE_TIMEOUT_MS} become a failure naming the cause. */
async function guarded(
  body: (v: VerdictBuilder) => Promise<void>,
): Promise<Verdict> {
  const v = new VerdictBuilder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the case did not finish within ${CASE_TIMEOUT_MS / 1000} s`)),
      CASE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([body(v), timeout]);
  } catch (err) {
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    v.fail("exception", "no exception", msg);
  } finally {
    clearTimeout(timer);
  }
  return v.build();
}

/** float64 rounding of a sum of n terms with absolute sum `abs` (computed in the harness). */
function harnessRounding(n: number, abs: number): number {
  return (n + 2) * 2 ** -53 * abs;
}

const FINITE_KINDS = ["distinct", "ties", "near-ties", "huge", "tiny", "mixed", "subnormals"] as const;

/**
 * Extra absolute allowance on a y of `entry` on case `c`: nonzero only for a float32 entry whose x
 * holds float32 subnormals, which a flushing device may treat as zeros (SPEC.md §4 "Subnormal
 * values").
 */
function subnormalSlack(entry: Implementation, c: PropCase): number {
  return entry.precision === "float32" && hasSubnormal(c.x) ? subnormalForwardSlack(c.k) : 0;
}

/** A check comparing an entry's forward with the reference's, window by window, under `label`. */
function forwardAgainstReference(label: string): PropertyDefinition["check"] {
  return (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const slack = subnormalSlack(entry, c);
      const infos = windowInfos(c, c.x);
      const tolerance = (w: WindowInfo) => referenceTolerance(entry.precision, w.topAbs) + slack;
      let ref = expectedForward(entry, c);
      if (slack > 0 && !infos.every((w) => sameOutput(ref[w.out], y[w.out], tolerance(w)))) {
        // SPEC.md §4 "Subnormal values": a device that flushes may rank the whole call at flush(x),
        // where a subnormal is a zero of its sign and ties +0 and -0 by cell.
        const flushed = expectedForward(entry, c, flushSubnormals(c.x));
        if (infos.every((w) => sameOutput(flushed[w.out], y[w.out], tolerance(w)))) ref = flushed;
      }
      for (const w of infos) compareOutput(v, label, w, ref[w.out], y[w.out], tolerance(w));
    });
}

const forwardVsReference: PropertyDefinition = {
  name: "fwd-ref",
  title: "forward equals the float64 reference (distinct values, ties, near ties, ±0, huge, tiny, mixed magnitudes, " +
    "float32 subnormals; batches of 0 too)",
  constraints: general({ kinds: FINITE_KINDS, emptyBatches: "sometimes" }),
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: forwardAgainstReference("y vs reference"),
};

const forwardNonFinite: PropertyDefinition = {
  name: "fwd-nonfinite",
  title: "forward follows the NaN / ±Infinity rules (NaN ranks above +Infinity) like the reference",
  constraints: general({ kinds: ["nonfinite", "infinities"] }),
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: forwardAgainstReference("y vs reference (NaN/±Infinity rules)"),
};

const dxFiniteDifferences: PropertyDefinition = {
  name: "dx-fd",
  title: "dx against central finite differences of the entry's own forward: along a random direction (2 " +
    "forwards; checked per window when windows do not overlap, as <dx, v> always), and per cell slot, one cell " +
    "of every window at once, each moved cell against the sum over the windows holding it (2 forwards per slot)",
  constraints: general({ kinds: ["distinct", "near-ties", "huge", "tiny"] }),
  hasDeviations: false,
  calls: (slots) => 3 + 2 * slots,
  generationPrecision: (e) => e.precision,
  check: (ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const windows = containingWindows(c, infos);
      const overlapping = windows.some((held) => held.length > 1);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const eps = fdStepX(c, infos);

      // Directional derivative as the single projected number <dx, v>, and window by window when
      // windows do not overlap (both sides then split exactly by window).
      const xp = perturb(c, c.x, eps, c.direction);
      const xm = perturb(c, c.x, -eps, c.direction);
      const yp = await forwardOf(entry, c, v, xp);
      const ym = await forwardOf(entry, c, v, xm);
      if (!yp || !ym) return;
      let fdTotal = 0;
      let fdAbs = 0;
      let tolTotal = 0;
      for (const w of infos) {
        const dy = c.dy[w.out];
        const fd = dy * (yp[w.out] - ym[w.out]) / (2 * eps);
        const fdTol = Math.abs(dy) *
          (forwardRounding(p, topAbsAt(w, c.k, xp)) + forwardRounding(p, topAbsAt(w, c.k, xm))) / (2 * eps);
        fdTotal += fd;
        fdAbs += Math.abs(fd);
        tolTotal += fdTol;
        if (overlapping) continue;
        let dir = 0;
        let dirAbs = 0;
        for (const cell of w.cells) {
          if (cell.index < 0) continue;
          dir += g.dx[cell.index] * c.direction[cell.index];
          dirAbs += Math.abs(g.dx[cell.index] * c.direction[cell.index]);
        }
        v.compare(
          "per-window directional derivative: Σ_window dx·v vs dy·(f(x+εv)−f(x−εv))/2ε",
          fd,
          dir,
          fdTol + referenceTolerance(p, dirAbs) + harnessRounding(w.cells.length, Math.abs(fd) + dirAbs),
          () => locateOutput(w),
          "fail",
          () => `eps ${fmt(eps)}`,
        );
      }
      let dirTotal = 0;
      let dirAbsTotal = 0;
      for (let i = 0; i < c.x.length; i++) {
        dirTotal += g.dx[i] * c.direction[i];
        dirAbsTotal += Math.abs(g.dx[i] * c.direction[i]);
      }
      // Each dx is a sum over at most 16 windows: 16 more roundings of its terms (weights ≤ 1, so
      // the terms are at most Σ|dy|, which bounds them through the per-element dy scales).
      let overlapRounding = 0;
      if (overlapping) {
        for (let i = 0; i < c.x.length; i++) {
          if (c.direction[i] !== 0 && windows[i].length > 1) {
            overlapRounding += referenceTolerance(p, dyScale(c, windows[i]));
          }
        }
      }
      v.compare(
        "directional derivative <dx, v> vs (f(x+εv)−f(x−εv))/2ε projected on dy",
        fdTotal,
        dirTotal,
        tolTotal + referenceTolerance(p, dirAbsTotal) + overlapRounding +
          harnessRounding(infos.length + c.x.length, fdAbs + dirAbsTotal),
        () => undefined,
        "fail",
        () => `eps ${fmt(eps)}, ${infos.length} windows${overlapping ? " (overlapping)" : ""}`,
      );
      for (let i = 0; i < c.x.length; i++) {
        if (windows[i].length === 0) {
          v.compare("dx of an element in no window", 0, g.dx[i], 0, () => locateInput(c.shape, i, undefined, 0));
        }
      }

      // Coordinate checks: one cell slot of every window moves at a time; a moved cell's derivative
      // is the sum over the windows holding it (each holds no other moved cell).
      for (const { slot, cells } of slotsOf(c, windows, ctx.slots)) {
        const e = unitDirection(c.x.length, cells);
        const xs = perturb(c, c.x, eps, e);
        const xt = perturb(c, c.x, -eps, e);
        const ys = await forwardOf(entry, c, v, xs);
        const yt = await forwardOf(entry, c, v, xt);
        if (!ys || !yt) return;
        for (const i of cells) {
          const held = windows[i];
          let fd = 0;
          let fdAbsI = 0;
          let tol = 0;
          for (const o of held) {
            const dy = c.dy[o];
            const term = dy * (ys[o] - yt[o]) / (2 * eps);
            fd += term;
            fdAbsI += Math.abs(term);
            tol += Math.abs(dy) *
              (forwardRounding(p, topAbsAt(infos[o], c.k, xs)) + forwardRounding(p, topAbsAt(infos[o], c.k, xt))) /
              (2 * eps);
          }
          const dx = g.dx[i];
          tol += referenceTolerance(p, held.length > 1 ? dyScale(c, held) : Math.abs(dx)) +
            harnessRounding(held.length + 1, fdAbsI);
          v.compare(
            "coordinate derivative: dx_i vs Σ_windows holding i dy·(f(x+εe_i)−f(x−εe_i))/2ε",
            fd,
            dx,
            tol,
            () => locateElement(c, infos, held, i),
            "fail",
            () => `eps ${fmt(eps)}, slot ${slot}`,
          );
        }
      }
    }),
};

const dLogitsFiniteDifferences: PropertyDefinition = {
  name: "dlogits-fd",
  title: "dLogits against a central difference of the entry's own forward along a random logits direction " +
    "(every logit, per-channel ones included; smooth tolerance: truncation + rounding)",
  constraints: general({ kinds: ["distinct", "ties", "near-ties", "huge", "tiny"] }),
  hasDeviations: false,
  calls: () => 3,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const eta = logitStep(p);
      const lp = c.logits.map((l, j) => l + eta * c.logitDirection[j]);
      const lm = c.logits.map((l, j) => l - eta * c.logitDirection[j]);
      if (![...lp, ...lm].every((l) => isRepresentable(l, c.precision))) {
        throw new Error("harness invariant broken: logits ± η is not exact");
      }
      const yp = await forwardOf(entry, c, v, c.x, lp);
      const ym = await forwardOf(entry, c, v, c.x, lm);
      if (!yp || !ym) return;
      let lPlus = 0;
      let lMinus = 0;
      let scale = 0;
      let absL = 0;
      for (const w of infos) {
        const dy = c.dy[w.out];
        lPlus += dy * yp[w.out];
        lMinus += dy * ym[w.out];
        absL += Math.abs(dy * yp[w.out]) + Math.abs(dy * ym[w.out]);
        scale += Math.abs(dy) * w.topAbs;
      }
      const fd = (lPlus - lMinus) / (2 * eta);
      const n = c.logits.length;
      let analytic = 0;
      let analyticAbs = 0;
      for (let j = 0; j < n; j++) {
        analytic += g.dLogits[j] * c.logitDirection[j];
        analyticAbs += Math.abs(g.dLogits[j] * c.logitDirection[j]);
      }
      const { s, t, windowsPerGroup } = rankSums(c, infos);
      const w = oracleWeights(entry, c.logits, c.k);
      // L is a sum of independent softmaxes (one per group of k): the truncation bound adds up per group.
      let sumMaxS = 0;
      for (let start = 0; start < n; start += c.k) {
        let maxS = 0;
        for (let j = start; j < start + c.k; j++) maxS = Math.max(maxS, Math.abs(s[j]));
        sumMaxS += maxS;
      }
      let own = 0;
      for (let j = 0; j < n; j++) {
        own += Math.abs(c.logitDirection[j]) * dLogitsTolerance(p, w[j], windowsPerGroup, groupMax(t, c.k, j));
      }
      const tol = LOGIT_TRUNCATION_FACTOR * eta * eta * sumMaxS + referenceTolerance(p, scale) / eta + own +
        harnessRounding(infos.length, absL) / eta + harnessRounding(n, analyticAbs);
      v.compare(
        "directional derivative <dLogits, u> vs (L(l+ηu)−L(l−ηu))/2η, L = <dy, f>",
        fd,
        analytic,
        tol,
        () => undefined,
        "fail",
        () =>
          `logits [${c.logits.map(fmt).join(", ")}], u [${c.logitDirection.join(", ")}], η ${fmt(eta)}, dLogits [${
            Array.from(g.dLogits).map(fmt).join(", ")
          }]`,
      );
    }),
};

const vjpVsReference: PropertyDefinition = {
  name: "vjp-ref",
  title: "dx and dLogits equal the float64 reference's (distinct values, near ties, huge, tiny, mixed; overlapping " +
    "windows: a cell's dx sums its windows' terms; batches of 0 too)",
  constraints: general({ kinds: ["distinct", "near-ties", "huge", "tiny", "mixed"], emptyBatches: "sometimes" }),
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const windows = containingWindows(c, infos);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const ref = expectedGradient(entry, c);
      for (let i = 0; i < c.x.length; i++) {
        const held = windows[i];
        v.compareSigned(
          held.length > 1 ? "dx vs reference (sum over overlapping windows)" : "dx vs reference",
          ref.dx[i],
          g.dx[i],
          referenceTolerance(p, dyScale(c, held)),
          () => locateElement(c, infos, held, i),
        );
      }
      compareDLogits(v, p, c, infos, oracleWeights(entry, c.logits, c.k), ref.dLogits, g.dLogits);
    }),
};

/** "NaN", "+Inf", "-Inf" or "finite". */
function classOf(d: number): string {
  return Number.isNaN(d) ? "NaN" : d === Infinity ? "+Inf" : d === -Infinity ? "-Inf" : "finite";
}

const vjpNonFinite: PropertyDefinition = {
  name: "vjp-nonfinite",
  title: "with NaN / ±Infinity inputs, dx follows the ranking like the reference (SPEC §5: a NaN cell ranks " +
    "first and receives w[r]·dy; a tie-rule difference is a deviation, as in ties); dLogits is NaN, ±Infinity " +
    "or finite exactly where the reference's is",
  constraints: general({ kinds: ["nonfinite", "infinities"] }),
  hasDeviations: true,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const windows = containingWindows(c, infos);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const ref = expectedGradient(entry, c);
      const w = oracleWeights(entry, c.logits, c.k);
      compareDxAtTies(v, p, c, infos, windows, w, ref.dx, g.dx);
      // s_r is a sum with infinite or NaN terms: its class (NaN, +Inf, -Inf, finite) does not depend
      // on the summation order, so the class of each dLogits entry must match; finite entries are
      // compared like vjp-ref's.
      const { t, windowsPerGroup } = rankSums(c, infos);
      for (let j = 0; j < c.logits.length; j++) {
        const expected = ref.dLogits[j];
        const actual = g.dLogits[j];
        if (classOf(expected) !== classOf(actual) || classOf(expected) !== "finite") {
          v.compare(`dLogits[${j}] class vs reference`, expected, actual, 0, () => undefined);
        } else {
          v.compare(
            `dLogits[${j}] vs reference`,
            expected,
            actual,
            dLogitsTolerance(p, w[j], windowsPerGroup, groupMax(t, c.k, j)),
            () => undefined,
          );
        }
      }
    }),
};

/** Equal for ranking purposes: the same number (+0 == -0), or both NaN. */
function tiedValues(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * dx vs the reference where ties occur: a mismatch at a cell tied with another participant of one
 * of its windows is a "deviation" (a different tie rule; reported, and a failure unless the entry
 * declares it), any other mismatch a failure.
 */
function compareDxAtTies(
  v: VerdictBuilder,
  p: Precision,
  c: PropCase,
  infos: readonly WindowInfo[],
  windows: readonly number[][],
  w: ArrayLike<number>,
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): void {
  for (let i = 0; i < c.x.length; i++) {
    const held = windows[i];
    const tied = held.some((o) => infos[o].cells.filter((q) => tiedValues(q.value, c.x[i])).length > 1);
    v.compareSigned(
      tied ? "dx vs reference under the spec's tie rule" : "dx vs reference (untied cell)",
      expected[i],
      actual[i],
      referenceTolerance(p, dyScale(c, held)),
      () => locateElement(c, infos, held, i),
      tied ? "deviation" : "fail",
      () => {
        // Which rank's weight did the entry route here? Helps read a tie-rule deviation.
        if (held.length === 0) return "element in no window";
        if (held.length > 1) {
          const terms = held.map((o) => {
            const rank = infos[o].ranked.findIndex((q) => q.index === i);
            return `window (${infos[o].oh}, ${infos[o].ow}): rank ${rank}, dy ${fmt(c.dy[o])}`;
          });
          return `a sum over ${held.length} windows: ${terms.join("; ")}`;
        }
        const info = infos[held[0]];
        const dy = c.dy[info.out];
        if (dy === 0) return "dy = 0";
        const rank = info.ranked.findIndex((q) => q.index === i);
        const own = Array.from({ length: c.k }, (_, r) => weightAt(w, c, info.ch, r));
        const matches = own.map((wr, r) => ({ r, err: Math.abs(wr * dy - actual[i]) })).sort((a, b) => a.err - b.err);
        return `spec rank ${rank} gets ${rank < c.k ? `w[${rank}]·dy = ${fmt(own[rank] * dy)}` : "0"}; entry's dx ` +
          `is closest to w[${matches[0].r}]·dy = ${fmt(own[matches[0].r] * dy)} (dy ${fmt(dy)})`;
      },
    );
  }
}

/** dLogits vs reference, shared by vjp-ref and ties (per-channel: each group against its own rank sums). */
function compareDLogits(
  v: VerdictBuilder,
  p: Precision,
  c: PropCase,
  infos: readonly WindowInfo[],
  w: ArrayLike<number>,
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): void {
  const { s, t, windowsPerGroup } = rankSums(c, infos);
  for (let j = 0; j < c.logits.length; j++) {
    v.compare(
      `dLogits[${j}] vs reference`,
      expected[j],
      actual[j],
      dLogitsTolerance(p, w[j], windowsPerGroup, groupMax(t, c.k, j)),
      () => undefined,
      "fail",
      () => {
        const start = j - (j % c.k);
        const group = (a: ArrayLike<number>) => Array.from(a).slice(start, start + c.k).map(fmt).join(", ");
        return `${c.logits.length > c.k ? `channel ${start / c.k}: ` : ""}rank sums s = [${group(s)}], weights [${
          group(w)
        }]`;
      },
    );
  }
}

const ties: PropertyDefinition = {
  name: "ties",
  title: "at exact ties (±0, padded zeros): forward and dLogits equal the reference; dx equals the reference's " +
    "under the spec's tie rule (a declared deviation is reported, not failed); dx lies between the one-sided " +
    "finite differences (summed over the windows holding the cell)",
  constraints: general({ kinds: ["ties"] }),
  hasDeviations: true,
  calls: (slots) => 2 + 2 * slots,
  generationPrecision: (e) => e.precision,
  check: (ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const windows = containingWindows(c, infos);
      const w = oracleWeights(entry, c.logits, c.k);
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const refY = expectedForward(entry, c);
      for (const info of infos) {
        compareOutput(
          v,
          "y vs reference at ties",
          info,
          refY[info.out],
          y[info.out],
          referenceTolerance(p, info.topAbs),
        );
      }
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const ref = expectedGradient(entry, c);
      compareDxAtTies(v, p, c, infos, windows, w, ref.dx, g.dx);
      compareDLogits(v, p, c, infos, w, ref.dLogits, g.dLogits);

      // One-sided finite differences: moving cell i up by eps puts it at the top of its tie group
      // (rank r0) in every window holding it, down at the bottom (r1); the derivatives are
      // Σ w[r0]·dy and Σ w[r1]·dy over those windows. Any tie order gives each window a rank in
      // r0..r1, whose weight lies between those two whenever the weights are monotone over r0..r1
      // (always true for a tie of two). The bracket is checked where that holds in every window.
      const eps = fdStepX(c, infos);
      for (const { cells } of slotsOf(c, windows, ctx.slots)) {
        const e = unitDirection(c.x.length, cells);
        const yUp = await forwardOf(entry, c, v, perturb(c, c.x, eps, e));
        const yDown = await forwardOf(entry, c, v, perturb(c, c.x, -eps, e));
        if (!yUp || !yDown) return;
        for (const i of cells) {
          const held = windows[i];
          let lo = 0;
          let hi = 0;
          let tol = 0;
          let monotone = true;
          const groups: string[] = [];
          for (const o of held) {
            const info = infos[o];
            const value = c.x[i];
            const group = info.ranked.map((q, r) => ({ q, r })).filter(({ q }) => q.value === value);
            const r0 = group[0].r;
            const r1 = group[group.length - 1].r;
            let up = true;
            let down = true;
            for (let r = r0; r < r1; r++) {
              const a = weightAt(w, c, info.ch, r);
              const b = weightAt(w, c, info.ch, r + 1);
              if (a < b) down = false;
              if (a > b) up = false;
            }
            if (!up && !down) {
              monotone = false;
              break;
            }
            const dy = c.dy[o];
            const fdUp = dy * (yUp[o] - y[o]) / eps;
            const fdDown = dy * (y[o] - yDown[o]) / eps;
            lo += Math.min(fdUp, fdDown);
            hi += Math.max(fdUp, fdDown);
            const scale = Math.max(info.topAbs, info.allAbs) + eps;
            tol += Math.abs(dy) * 2 * forwardRounding(p, scale) / eps +
              harnessRounding(2, Math.abs(fdUp) + Math.abs(fdDown));
            groups.push(`${r0}..${r1}`);
          }
          if (!monotone || held.length === 0) continue;
          const dx = g.dx[i];
          tol += referenceTolerance(p, held.length > 1 ? dyScale(c, held) : Math.abs(dx)) +
            harnessRounding(held.length, Math.abs(lo) + Math.abs(hi));
          v.within(
            "dx between the one-sided finite differences Σ dy·(f(x+εe_i)−f(x))/ε and Σ dy·(f(x)−f(x−εe_i))/ε",
            lo,
            hi,
            dx,
            tol,
            () => locateElement(c, infos, held, i),
            () => `tie group ranks ${groups.join(", ")}, eps ${fmt(eps)}`,
          );
        }
      }
    }),
};

/**
 * tf.maxPool of the case's x with its window, strides and padding on tfjs's `backend`, and (with
 * `withGradient`) tf.grad of it at the case's dy.
 */
function tfMaxPool(
  backend: "cpu" | "webgpu",
  c: PropCase,
  withGradient: boolean,
): Promise<{ shape: number[]; y: Float32Array; dx?: Float32Array }> {
  return withBackend(backend, async () => {
    const poolSize: [number, number] = [c.poolSize[0], c.poolSize[1]];
    const strides: [number, number] = [c.strides[0], c.strides[1]];
    const pool = (t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, poolSize, strides, c.padding);
    const x = tf.tensor4d(Float32Array.from(c.x), [...c.shape]);
    const pooled = pool(x);
    const dy = withGradient ? tf.tensor4d(Float32Array.from(c.dy), pooled.shape) : undefined;
    const dx = dy ? tf.grad(pool)(x, dy) : undefined;
    try {
      return {
        shape: pooled.shape,
        y: Float32Array.from(await pooled.data()),
        dx: dx ? Float32Array.from(await dx.data()) : undefined,
      };
    } finally {
      tf.dispose([x, pooled, ...(dy ? [dy] : []), ...(dx ? [dx] : [])]);
    }
  });
}

/**
 * tfjs-backend-webgpu 4.22's maxPool starts its maximum at -1e20 (`-1.0 / pow(10.0, -20.0)` in
 * pool_webgpu.js), so a window whose maximum is below that (-Infinity, or a huge negative value)
 * gives -1e20 there: such windows are compared with tfjs's cpu maxPool only.
 */
export const TFJS_WEBGPU_MAXPOOL_FLOOR = -1e20;

const k1MaxPool: PropertyDefinition = {
  name: "k1-maxpool",
  title: "k = 1 equals tf.maxPool(x, [kh, kw], [sh, sw], padding) on tfjs's cpu backend, and for webgpu entries " +
    "also on its webgpu backend (except windows whose maximum is below -1e20, where tfjs-webgpu's maxPool starts " +
    "its maximum): the forward always (±Infinity included), dx against tf.grad of tf.maxPool on tie-free values " +
    "(its gradient routing at ties is its own: the last maximum on webgpu); not NaN: tfjs 4.22's cpu maxPool " +
    "skips NaN (an all-NaN window gives -Infinity), its webgpu maxPool and the spec propagate it",
  constraints: general({ kinds: ["distinct", "ties", "near-ties", "mixed", "infinities"], ks: [1] }),
  hasDeviations: false,
  calls: () => 3,
  generationPrecision: () => "float32",
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const tieFree = TIE_FREE_KINDS.includes(c.params.kind);
      const g = tieFree ? await gradientOf(entry, c, v) : undefined;
      if (tieFree && !g) return;
      const spec = outputShape(c.shape, c.padding, c);
      const infos = windowInfos(c, c.x);
      const windows = containingWindows(c, infos);
      const backends = entry.device === "webgpu" ? ["cpu", "webgpu"] as const : ["cpu"] as const;
      for (const backend of backends) {
        const expected = await tfMaxPool(backend, c, tieFree);
        if (expected.shape.join(",") !== spec.join(",")) {
          v.fail(`tf.maxPool on tfjs-${backend}: output shape vs spec`, `[${spec.join(", ")}]`, `[${expected.shape}]`);
          return;
        }
        for (const w of infos) {
          if (backend === "webgpu" && !(w.max >= TFJS_WEBGPU_MAXPOOL_FLOOR)) continue;
          v.compare(
            `y vs tf.maxPool on tfjs-${backend}`,
            expected.y[w.out],
            y[w.out],
            referenceTolerance(entry.precision, w.topAbs),
            () => locateOutput(w),
          );
        }
        if (!g || !expected.dx) continue;
        for (let i = 0; i < c.x.length; i++) {
          const held = windows[i];
          v.compare(
            `dx vs tf.grad of tf.maxPool on tfjs-${backend} (tie-free values)`,
            expected.dx[i],
            g.dx[i],
            referenceTolerance(entry.precision, dyScale(c, held)),
            () => locateElement(c, infos, held, i),
          );
        }
      }
    }),
};

const shiftScale: PropertyDefinition = {
  name: "shift-scale",
  title: 'with "valid" (or k = 1, which ignores padding): f(x + c) = f(x) + c and f(a·x) = a·f(x) for a > 0',
  constraints: general({ kinds: ["distinct", "ties", "near-ties", "huge", "tiny"], shiftInvariant: true }),
  hasDeviations: false,
  calls: () => 3,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const ones = new Int8Array(c.x.length).fill(1);
      const shifted = perturb(c, c.x, c.shift, ones);
      const scaled = c.x.map((x) => c.scale * x);
      for (let i = 0; i < scaled.length; i++) {
        if (!isRepresentable(scaled[i], c.precision) || scaled[i] / c.scale !== c.x[i]) {
          throw new Error(`harness invariant broken: ${c.scale}·${c.x[i]} is not exact`);
        }
      }
      const y = await forwardOf(entry, c, v);
      const ys = await forwardOf(entry, c, v, shifted);
      const ya = await forwardOf(entry, c, v, scaled);
      if (!y || !ys || !ya) return;
      for (const w of windowInfos(c, c.x)) {
        v.compare(
          "f(x + c) vs f(x) + c",
          y[w.out] + c.shift,
          ys[w.out],
          2 * referenceTolerance(p, w.topAbs + Math.abs(c.shift)),
          () => locateOutput(w),
          "fail",
          () => `c = ${fmt(c.shift)}`,
        );
        v.compare(
          "f(a·x) vs a·f(x)",
          c.scale * y[w.out],
          ya[w.out],
          2 * referenceTolerance(p, c.scale * w.topAbs),
          () => locateOutput(w),
          "fail",
          () => `a = ${fmt(c.scale)}`,
        );
      }
    }),
};

const permutation: PropertyDefinition = {
  name: "permute",
  title: "permuting the values inside each window (real cells) leaves the forward unchanged, NaN/±Infinity " +
    "included (windows that do not overlap: overlapping ones share cells, so no such permutation exists)",
  constraints: general({ kinds: ["distinct", "ties", "nonfinite", "near-ties", "mixed"], windows: "non-overlapping" }),
  hasDeviations: false,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      const yp = await forwardOf(entry, c, v, c.xPermuted);
      if (!y || !yp) return;
      const permutedInfos = windowInfos(c, c.xPermuted);
      for (const w of windowInfos(c, c.x)) {
        v.compare(
          "f(values permuted within each window) vs f(x)",
          y[w.out],
          yp[w.out],
          referenceTolerance(entry.precision, w.topAbs),
          () => locateOutput(w),
          "fail",
          () => `permuted window: ${locateOutput(permutedInfos[w.out]).window}`,
        );
      }
    }),
};

const windowBounds: PropertyDefinition = {
  name: "bounds",
  title: 'every output lies within [min, max] of its window (padded zeros included for k > 1 "same")',
  constraints: general({ kinds: FINITE_KINDS }),
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      for (const w of windowInfos(c, c.x)) {
        v.within(
          "y within [min, max] of its window",
          w.min,
          w.max,
          y[w.out],
          referenceTolerance(entry.precision, w.allAbs) + subnormalSlack(entry, c),
          () => locateOutput(w),
        );
      }
    }),
};

/**
 * Whether two cells of equal value (+0 and -0 equal, NaN with NaN) sit next to each other in a
 * window's rank order with the first of them kept (rank < k): only there can a different tie rule
 * change which cells are kept, or in which order.
 */
function tieReachesKeptRanks(info: WindowInfo, k: number): boolean {
  const r = info.ranked;
  for (let i = 0; i < Math.min(k, r.length - 1); i++) {
    const [a, b] = [r[i].value, r[i + 1].value];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  }
  return false;
}

/**
 * The whole answer of `entry` against the reference at the entry's weights ({@link oracleWeights}),
 * for inputs where no tie-rule deviation can hide (the new input classes of issue 10): y (when
 * `forward`), dx and dLogits. NaN must meet NaN and ±Infinity itself; the zeros whose sign SPEC.md
 * §5 fixes (y, dx, and dLogits for k = 1, which must be exactly +0) are compared with Object.is;
 * a finite dLogits element within dLogitsTolerance of the finite rank-sum magnitudes of its group.
 */
async function checkAgainstOracle(
  v: VerdictBuilder,
  entry: Implementation,
  c: PropCase,
  parts: { forward: boolean },
): Promise<void> {
  const p = entry.precision;
  const infos = windowInfos(c, c.x);
  const w = oracleWeights(entry, c.logits, c.k);
  const weightsText = () => `weights [${Array.from(w).map(fmt).join(", ")}]`;
  if (parts.forward) {
    const y = await forwardOf(entry, c, v);
    if (!y) return;
    const ref = expectedForward(entry, c);
    for (const info of infos) {
      compareOutput(
        v,
        "y vs reference",
        info,
        ref[info.out],
        y[info.out],
        referenceTolerance(p, info.topAbs),
        weightsText,
      );
    }
  }
  const g = await gradientOf(entry, c, v);
  if (!g) return;
  const ref = expectedGradient(entry, c);
  compareDxAtTies(v, p, c, infos, containingWindows(c, infos), w, ref.dx, g.dx);
  if (c.k === 1) {
    for (let j = 0; j < c.logits.length; j++) {
      v.compareSigned(`dLogits[${j}] for k = 1 (exactly +0)`, 0, g.dLogits[j], 0, () => undefined);
    }
    return;
  }
  const { t, windowsPerGroup } = rankSums(c, infos);
  // A tie that reaches the kept ranks lets another tie rule keep other cells (a padded zero for a
  // real one, say), which changes the rank sums: there dLogits may differ by a declared deviation.
  const tieInKept = infos.some((info) => tieReachesKeptRanks(info, c.k));
  for (let j = 0; j < c.logits.length; j++) {
    v.compare(
      `dLogits[${j}] vs reference (NaN/±Infinity exactly)`,
      ref.dLogits[j],
      g.dLogits[j],
      dLogitsTolerance(p, finiteAbs(w[j]), windowsPerGroup, groupMax(t, c.k, j)),
      () => undefined,
      tieInKept ? "deviation" : "fail",
      () => `reference dLogits [${Array.from(ref.dLogits).map(fmt).join(", ")}], ${weightsText()}`,
    );
  }
}

const k1DLogits: PropertyDefinition = {
  name: "k1-dlogits",
  title: "k = 1: dLogits is exactly [+0] (every element, per channel too) whatever x (NaN, ±Infinity, ±0), dy " +
    "(±Infinity, NaN) and the logit (±Infinity, NaN, past float32) hold; dx routes w[0]·dy to the first maximal " +
    "cell of each window (issue 10, class 1)",
  constraints: general({
    kinds: ["nonfinite", "infinities", "ties", "distinct", "signed-zeros"],
    ks: [1],
    dyKinds: ["finite", "nonfinite"],
    logitKinds: ["ordinary", "nonfinite", "range"],
  }),
  hasDeviations: true,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: false })),
};

const logitsRange: PropertyDefinition = {
  name: "logits-range",
  title: "logits near and past float32's range (±3.4e38, 1e39, -2e39, B·(1 + j·2^-30) that float32 cannot tell " +
    "apart), and logit gaps of 80..110 whose float32 weights are subnormal (flushed to +0) or barely normal, " +
    "next to ±Infinity in x: y, dx and dLogits follow softmax in float64 rounded to the entry's precision " +
    "(issue 10, class 2)",
  constraints: general({ kinds: ["distinct", "ties", "near-ties", "infinities"], logitKinds: ["range"] }),
  hasDeviations: true,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: true })),
};

const logitsNonFinite: PropertyDefinition = {
  name: "logits-nonfinite",
  title: "logits holding ±Infinity or NaN: softmax's limit (+Infinity logits share the weight, -Infinity ones get " +
    "0, NaN makes y, kept dx and dLogits NaN; per channel: only that channel's), one behaviour on every entry and " +
    "on the op on both tfjs backends (issue 10, class 3)",
  constraints: general({ kinds: ["distinct", "ties", "nonfinite", "infinities"], logitKinds: ["nonfinite"] }),
  hasDeviations: true,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: true })),
};

const signedZero: PropertyDefinition = {
  name: "signed-zero",
  title: "signed zeros (Object.is): y sums from the first product, so a zero y is -0 exactly when every kept " +
    "product is -0, and k = 1 returns the window's top value bitwise; a zero dx carries w[r]·dy's sign (a sum " +
    "over overlapping windows: -0 only when every term is) (issue 10, class 4)",
  constraints: general({ kinds: ["signed-zeros", "ties"] }),
  hasDeviations: true,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const ref = expectedForward(entry, c);
      for (const info of windowInfos(c, c.x)) {
        compareOutput(
          v,
          "y vs reference",
          info,
          ref[info.out],
          y[info.out],
          referenceTolerance(entry.precision, info.topAbs),
        );
        if (c.k === 1) {
          compareOutput(v, "k = 1: y is the window's top value itself", info, info.ranked[0].value, y[info.out], 0);
        }
      }
      await checkAgainstOracle(v, entry, c, { forward: false });
    }),
};

const nonFiniteDy: PropertyDefinition = {
  name: "nonfinite-dy",
  title: "dy holding ±Infinity or NaN: kept real cells get w[r]·dy, every other cell (ranked ≥ k, padded, in no " +
    "window) exactly +0; padded cells are skipped in dLogits' rank sums (never 0·dy); a non-finite v·dy poisons " +
    "every dLogits element of its group for k > 1, none for k = 1 (issue 10, class 5)",
  constraints: general({
    kinds: ["distinct", "ties", "signed-zeros", "nonfinite"],
    dyKinds: ["nonfinite", "padded-nonfinite"],
  }),
  hasDeviations: true,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: false })),
};

const emptyInput: PropertyDefinition = {
  name: "empty-input",
  title: "a zero batch, height, width or channel count: y empty with the output shape of SPEC.md §3, dx empty, " +
    "every dLogits element exactly +0 " +
    'whatever the logits (NaN, ±Infinity, past float32), nothing computed (SPEC.md §1 "Empty inputs")',
  constraints: general({ kinds: ["distinct"], emptyBatches: "always", logitKinds: ["ordinary", "nonfinite", "range"] }),
  hasDeviations: false,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v); // checks the shape and that y has its 0 values
      if (!y) return;
      const g = await gradientOf(entry, c, v); // checks that dx has x's 0 values
      if (!g) return;
      for (let j = 0; j < c.logits.length; j++) {
        v.compareSigned(`dLogits[${j}] of an empty input (exactly +0)`, 0, g.dLogits[j], 0, () => undefined);
      }
    }),
};

const unknownKeys: PropertyDefinition = {
  name: "unknown-keys",
  title: "a case with a key that is not a case key (stride, pool_size, Padding, a dropped or swapped letter) is " +
    "refused by forward and gradient with a SortPoolArgumentError naming the case, the key and the accepted " +
    'keys, never computed with the key ignored (SPEC.md §6 "Unknown keys")',
  constraints: general({ kinds: ["distinct"], emptyBatches: "sometimes", unknownKeys: true }),
  hasDeviations: false,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const key = c.unknownKey!;
      const input = { ...toEntryCase(entry, c), [key]: [1, 1] } as SortPoolCase;
      for (
        const [op, call] of [
          ["forward", () => entry.forward(input)],
          ["gradient", () => entry.gradient(input, Float32Array.from(c.dy))],
        ] as const
      ) {
        const outcome = await (call() as Promise<unknown>).then(() => "no error", (e: unknown) => e);
        const named = outcome instanceof SortPoolArgumentError && outcome.argument === "case" &&
          outcome.received.startsWith(`unknown key ${JSON.stringify(key)}`) &&
          outcome.expected === `only the keys ${CASE_KEYS.join(", ")}`;
        if (!named) {
          v.fail(
            `${op} with the key ${JSON.stringify(key)}`,
            `SortPoolArgumentError: sort_pool2d: case: expected only the keys ${CASE_KEYS.join(", ")}, received ` +
              `unknown key ${JSON.stringify(key)}...`,
            outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : String(outcome),
          );
        }
      }
    }),
};

/** Every property, in report order. */
export const properties: readonly PropertyDefinition[] = [
  forwardVsReference,
  forwardNonFinite,
  dxFiniteDifferences,
  dLogitsFiniteDifferences,
  vjpVsReference,
  vjpNonFinite,
  ties,
  k1MaxPool,
  shiftScale,
  permutation,
  windowBounds,
  concurrencyProperty,
  limitsProperty,
  k1DLogits,
  logitsRange,
  logitsNonFinite,
  signedZero,
  nonFiniteDy,
  emptyInput,
  unknownKeys,
];

/** Properties whose name is in the comma-separated `filter` (all when empty); throws naming the known ones. */
export function selectProperties(filter: string | undefined): PropertyDefinition[] {
  const names = (filter ?? "").split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  if (names.length === 0) return [...properties];
  const unknown = names.filter((n) => !properties.some((p) => p.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `--property: expected names from ${properties.map((p) => p.name).join(", ")}, received ${unknown.join(", ")}`,
    );
  }
  return properties.filter((p) => names.includes(p.name));
}

/** The arbitrary of `property` for `entry`. */
export function arbitraryFor(property: PropertyDefinition, entry: Implementation): fc.Arbitrary<PropCase> {
  return property.arbitrary?.(entry) ?? caseArbitrary(property.generationPrecision(entry), property.constraints);
}
