/**
 * The property table: each property is a generator (which cases it draws) and a check
 * `(context, entry, case) => verdict`. They work on any registry entry through its declared
 * capabilities (precision, device, ties) and the `Implementation` interface alone.
 *
 * Tolerances and why they are what they are: props/tolerance.ts.
 *
 * @module
 */
import type fc from "fast-check";
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { float32Weights, outputShape, rankSumTerm, sizeOf, softmax } from "../src/spec.ts";
import { useBackend } from "../src/tfjs/runtime.ts";
import type { Implementation, SortPoolCase } from "../src/types.ts";
import {
  caseArbitrary,
  type CaseConstraints,
  fdStepX,
  isRepresentable,
  ownerOf,
  perturb,
  type Precision,
  type PropCase,
  type WindowInfo,
  windowInfos,
} from "./generators.ts";
import { concurrencyProperty } from "./concurrency.ts";
import { limitsProperty } from "./limits.ts";
import { logitsPrecisionOf } from "./subjects.ts";
import {
  dLogitsTolerance,
  forwardRounding,
  LOGIT_TRUNCATION_FACTOR,
  logitStep,
  referenceTolerance,
} from "./tolerance.ts";
import { fmt, locateInput, locateOutput, type Verdict, VerdictBuilder } from "./verdict.ts";

/** Per-entry settings a check needs beyond the case. */
export interface CheckContext {
  /**
   * How many window cell slots (0..4) the coordinate checks perturb per case; each costs two
   * forward calls and covers that cell of every window at once.
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

/** The case as the entry receives it: x in the entry's precision (exact: the values are representable). */
export function toEntryCase(
  entry: Implementation,
  c: PropCase,
  x: Float64Array = c.x,
  logits: readonly number[] = c.logits,
): SortPoolCase {
  return {
    x: entry.precision === "float32" ? Float32Array.from(x) : Float64Array.from(x),
    shape: c.shape,
    logits: [...logits],
    k: c.k,
    padding: c.padding,
  };
}

/** The case for the float64 reference. */
function referenceCase(c: PropCase, x: Float64Array = c.x): SortPoolCase {
  return { x, shape: c.shape, logits: [...c.logits], k: c.k, padding: c.padding };
}

/**
 * The rank weights SPEC.md §5 "Weights" lets `entry` use for `logits`: softmax (its limit) in
 * float64; for a float32 entry rounded to float32 with weights below 2^-126 flushed to +0
 * (`float32Weights`); for a subject that holds its logits in float32 (the op's tensor,
 * props/subjects.ts), of the logits rounded to float32 first.
 */
export function oracleWeights(entry: Implementation, logits: readonly number[]): Float64Array {
  const held = logitsPrecisionOf(entry) === "float32" ? Float32Array.from(logits) : logits;
  return entry.precision === "float32" ? Float64Array.from(float32Weights(held)) : softmax(held);
}

/** The reference's y for `entry` (its weights: {@link oracleWeights}). */
function expectedForward(entry: Implementation, c: PropCase, x: Float64Array = c.x): Float64Array {
  return Float64Array.from(referenceForward(referenceCase(c, x), oracleWeights(entry, c.logits)).y);
}

/** The reference's dx and dLogits for `entry` (its weights: {@link oracleWeights}). */
function expectedGradient(entry: Implementation, c: PropCase): { dx: Float64Array; dLogits: Float64Array } {
  const g = referenceGradient(referenceCase(c), c.dy, oracleWeights(entry, c.logits));
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

/** |v| for finite v, else 0 (a non-finite dy gives non-finite or exactly-zero dx: compared exactly). */
function finiteAbs(v: number): number {
  return Number.isFinite(v) ? Math.abs(v) : 0;
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
  const expected = outputShape(c.shape, c.padding);
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
  if (res.dx.length !== c.x.length || res.dLogits.length !== c.k) {
    v.fail(
      "gradient lengths",
      `dx ${c.x.length}, dLogits ${c.k}`,
      `dx ${res.dx.length}, dLogits ${res.dLogits.length}`,
    );
    return null;
  }
  return { dx: Float64Array.from(res.dx), dLogits: Float64Array.from(res.dLogits) };
}

/** A direction that moves cell `slot` of every window (real cells only); null when no window has one. */
function slotDirection(c: PropCase, infos: readonly WindowInfo[], slot: number): Int8Array | null {
  const e = new Int8Array(c.x.length);
  let any = false;
  for (const w of infos) {
    const p = w.cells.find((cell) => cell.cell === slot && cell.index >= 0);
    if (p) {
      e[p.index] = 1;
      any = true;
    }
  }
  return any ? e : null;
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

/** Per-rank sums s_r = Σ_windows ranked_r·dy and T_r = Σ |ranked_r·dy| (spec ranking, float64). */
function rankSums(c: PropCase, infos: readonly WindowInfo[]): { s: Float64Array; t: Float64Array } {
  const s = new Float64Array(c.k);
  const t = new Float64Array(c.k);
  for (const w of infos) {
    for (let r = 0; r < c.k; r++) {
      const term = rankSumTerm(w.ranked[r], c.dy[w.out]);
      s[r] += term;
      t[r] += Math.abs(term);
    }
  }
  return { s, t };
}

/** float64 rounding of a sum of n terms with absolute sum `abs` (computed in the harness). */
function harnessRounding(n: number, abs: number): number {
  return (n + 2) * 2 ** -53 * abs;
}

const FINITE_KINDS = ["distinct", "ties", "near-ties", "huge", "tiny", "mixed"] as const;

/** A check comparing an entry's forward with the reference's, window by window, under `label`. */
function forwardAgainstReference(label: string): PropertyDefinition["check"] {
  return (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const ref = expectedForward(entry, c);
      for (const w of windowInfos(c, c.x)) {
        compareOutput(v, label, w, ref[w.out], y[w.out], referenceTolerance(entry.precision, w.topAbs));
      }
    });
}

const forwardVsReference: PropertyDefinition = {
  name: "fwd-ref",
  title: "forward equals the float64 reference (distinct values, ties, near ties, ±0, huge, tiny, mixed magnitudes)",
  constraints: { kinds: FINITE_KINDS },
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: forwardAgainstReference("y vs reference"),
};

const forwardNonFinite: PropertyDefinition = {
  name: "fwd-nonfinite",
  title: "forward follows the NaN / ±Infinity rules (NaN ranks above +Infinity) like the reference",
  constraints: { kinds: ["nonfinite", "infinities"] },
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: forwardAgainstReference("y vs reference (NaN/±Infinity rules)"),
};

const dxFiniteDifferences: PropertyDefinition = {
  name: "dx-fd",
  title: "dx against central finite differences of the entry's own forward: per window along a random direction " +
    "(2 forwards), and per cell slot for every window at once (2 forwards per slot)",
  constraints: { kinds: ["distinct", "near-ties", "huge", "tiny"] },
  hasDeviations: false,
  calls: (slots) => 3 + 2 * slots,
  generationPrecision: (e) => e.precision,
  check: (ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const owner = ownerOf(c, infos);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const eps = fdStepX(c, infos);

      // Directional derivative, checked window by window (windows do not overlap, so both sides
      // split exactly by window) and as the single projected number <dx, v>.
      const xp = perturb(c, c.x, eps, c.direction);
      const xm = perturb(c, c.x, -eps, c.direction);
      const yp = await forwardOf(entry, c, v, xp);
      const ym = await forwardOf(entry, c, v, xm);
      if (!yp || !ym) return;
      const infoP = windowInfos(c, xp);
      const infoM = windowInfos(c, xm);
      let fdTotal = 0;
      let dirTotal = 0;
      let tolTotal = 0;
      for (const w of infos) {
        const dy = c.dy[w.out];
        const fd = dy * (yp[w.out] - ym[w.out]) / (2 * eps);
        let dir = 0;
        let dirAbs = 0;
        for (const cell of w.cells) {
          if (cell.index < 0) continue;
          dir += g.dx[cell.index] * c.direction[cell.index];
          dirAbs += Math.abs(g.dx[cell.index] * c.direction[cell.index]);
        }
        const tol = Math.abs(dy) *
            (forwardRounding(p, infoP[w.out].topAbs) + forwardRounding(p, infoM[w.out].topAbs)) / (2 * eps) +
          referenceTolerance(p, dirAbs) + harnessRounding(4, Math.abs(fd) + dirAbs);
        fdTotal += fd;
        dirTotal += dir;
        tolTotal += tol;
        v.compare(
          "per-window directional derivative: Σ_window dx·v vs dy·(f(x+εv)−f(x−εv))/2ε",
          fd,
          dir,
          tol,
          () => locateOutput(w),
          "fail",
          () => `eps ${fmt(eps)}`,
        );
      }
      v.compare(
        "directional derivative <dx, v> vs (f(x+εv)−f(x−εv))/2ε projected on dy",
        fdTotal,
        dirTotal,
        tolTotal + harnessRounding(infos.length, Math.abs(fdTotal) + Math.abs(dirTotal)),
        () => undefined,
        "fail",
        () => `eps ${fmt(eps)}, ${infos.length} windows`,
      );
      for (let i = 0; i < c.x.length; i++) {
        if (owner[i] < 0) {
          v.compare("dx of an element outside every window", 0, g.dx[i], 0, () => locateInput(c.shape, i, undefined));
        }
      }

      // Coordinate checks: one cell slot of every window moves at a time.
      for (const slot of c.params.slotOrder.slice(0, ctx.slots)) {
        const e = slotDirection(c, infos, slot);
        if (!e) continue;
        const xs = perturb(c, c.x, eps, e);
        const xt = perturb(c, c.x, -eps, e);
        const ys = await forwardOf(entry, c, v, xs);
        const yt = await forwardOf(entry, c, v, xt);
        if (!ys || !yt) return;
        const infoS = windowInfos(c, xs);
        const infoT = windowInfos(c, xt);
        for (const w of infos) {
          const cell = w.cells.find((q) => q.cell === slot && q.index >= 0);
          if (!cell) continue;
          const dy = c.dy[w.out];
          const fd = dy * (ys[w.out] - yt[w.out]) / (2 * eps);
          const dx = g.dx[cell.index];
          const tol = Math.abs(dy) *
              (forwardRounding(p, infoS[w.out].topAbs) + forwardRounding(p, infoT[w.out].topAbs)) / (2 * eps) +
            referenceTolerance(p, Math.abs(dx)) + harnessRounding(2, Math.abs(fd));
          v.compare(
            "coordinate derivative: dx_i vs dy·(f(x+εe_i)−f(x−εe_i))/2ε",
            fd,
            dx,
            tol,
            () => locateInput(c.shape, cell.index, w),
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
    "(smooth tolerance: truncation + rounding)",
  constraints: { kinds: ["distinct", "ties", "near-ties", "huge", "tiny"] },
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
      const lp = c.logits.map((l, r) => l + eta * c.logitDirection[r]);
      const lm = c.logits.map((l, r) => l - eta * c.logitDirection[r]);
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
      let analytic = 0;
      let analyticAbs = 0;
      for (let r = 0; r < c.k; r++) {
        analytic += g.dLogits[r] * c.logitDirection[r];
        analyticAbs += Math.abs(g.dLogits[r] * c.logitDirection[r]);
      }
      const { s, t } = rankSums(c, infos);
      const w = oracleWeights(entry, c.logits);
      let maxS = 0;
      let maxT = 0;
      for (let r = 0; r < c.k; r++) {
        maxS = Math.max(maxS, Math.abs(s[r]));
        maxT = Math.max(maxT, t[r]);
      }
      let own = 0;
      for (let r = 0; r < c.k; r++) {
        own += Math.abs(c.logitDirection[r]) * dLogitsTolerance(p, w[r], infos.length, maxT);
      }
      const tol = LOGIT_TRUNCATION_FACTOR * eta * eta * maxS + referenceTolerance(p, scale) / eta + own +
        harnessRounding(infos.length, absL) / eta + harnessRounding(c.k, analyticAbs);
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
  title: "dx and dLogits equal the float64 reference's (distinct values, near ties, huge, tiny, mixed)",
  constraints: { kinds: ["distinct", "near-ties", "huge", "tiny", "mixed"] },
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const owner = ownerOf(c, infos);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const ref = expectedGradient(entry, c);
      for (let i = 0; i < c.x.length; i++) {
        const o = owner[i];
        v.compareSigned(
          "dx vs reference",
          ref.dx[i],
          g.dx[i],
          referenceTolerance(p, o >= 0 ? Math.abs(c.dy[o]) : 0),
          () => locateInput(c.shape, i, o >= 0 ? infos[o] : undefined),
        );
      }
      compareDLogits(v, p, c, infos, oracleWeights(entry, c.logits), ref.dLogits, g.dLogits);
    }),
};

const vjpNonFinite: PropertyDefinition = {
  name: "vjp-nonfinite",
  title: "with NaN / ±Infinity inputs, dx follows the ranking like the reference (SPEC §5: a NaN cell ranks " +
    "first and receives w[r]·dy; a tie-rule difference is a deviation, as in ties); dLogits is NaN, ±Infinity " +
    "or finite exactly where the reference's is",
  constraints: { kinds: ["nonfinite", "infinities"] },
  hasDeviations: true,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const owner = ownerOf(c, infos);
      const g = await gradientOf(entry, c, v);
      if (!g) return;
      const ref = expectedGradient(entry, c);
      const w = oracleWeights(entry, c.logits);
      compareDxAtTies(v, p, c, infos, owner, w, ref.dx, g.dx);
      // s_r is a sum with infinite or NaN terms: its class (NaN, +Inf, -Inf, finite) does not depend
      // on the summation order, so the class of each dLogits entry must match; finite entries are
      // compared like vjp-ref's.
      const classOf = (
        d: number,
      ) => (Number.isNaN(d) ? "NaN" : d === Infinity ? "+Inf" : d === -Infinity ? "-Inf" : "finite");
      const { t } = rankSums(c, infos);
      const finiteT = Array.from(t).filter(Number.isFinite);
      const maxT = finiteT.length > 0 ? Math.max(...finiteT) : 0;
      for (let r = 0; r < c.k; r++) {
        const expected = ref.dLogits[r];
        const actual = g.dLogits[r];
        if (classOf(expected) !== classOf(actual) || classOf(expected) !== "finite") {
          v.compare(`dLogits[${r}] class vs reference`, expected, actual, 0, () => undefined);
        } else {
          v.compare(`dLogits[${r}] vs reference`, expected, actual, dLogitsTolerance(p, w[r], infos.length, maxT), () =>
            undefined);
        }
      }
    }),
};

/** Equal for ranking purposes: the same number (+0 == -0), or both NaN. */
function tiedValues(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * dx vs the reference where ties occur: a mismatch at a cell tied with another participant of its
 * window is a "deviation" (a different tie rule; reported, and a failure unless the entry declares
 * it), any other mismatch a failure.
 */
function compareDxAtTies(
  v: VerdictBuilder,
  p: Precision,
  c: PropCase,
  infos: readonly WindowInfo[],
  owner: Int32Array,
  w: ArrayLike<number>,
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): void {
  for (let i = 0; i < c.x.length; i++) {
    const o = owner[i];
    const dy = o >= 0 ? c.dy[o] : 0;
    const tied = o >= 0 && infos[o].cells.filter((q) => tiedValues(q.value, c.x[i])).length > 1;
    v.compareSigned(
      tied ? "dx vs reference under the spec's tie rule" : "dx vs reference (untied cell)",
      expected[i],
      actual[i],
      referenceTolerance(p, finiteAbs(dy)),
      () => locateInput(c.shape, i, o >= 0 ? infos[o] : undefined),
      tied ? "deviation" : "fail",
      () => {
        // Which rank's weight did the entry route here? Helps read a tie-rule deviation.
        const info = infos[o];
        if (!info || dy === 0) return "element outside every window or dy = 0";
        const rank = info.ranked.findIndex((q) => q.index === i);
        const matches = Array.from(w).map((wr, r) => ({ r, err: Math.abs(wr * dy - actual[i]) }))
          .sort((a, b) => a.err - b.err);
        return `spec rank ${rank} gets ${rank < c.k ? `w[${rank}]·dy = ${fmt(w[rank] * dy)}` : "0"}; entry's dx ` +
          `is closest to w[${matches[0].r}]·dy = ${fmt(w[matches[0].r] * dy)} (dy ${fmt(dy)})`;
      },
    );
  }
}

/** dLogits vs reference, shared by vjp-ref and ties. */
function compareDLogits(
  v: VerdictBuilder,
  p: Precision,
  c: PropCase,
  infos: readonly WindowInfo[],
  w: ArrayLike<number>,
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): void {
  const { s, t } = rankSums(c, infos);
  let maxT = 0;
  for (let r = 0; r < c.k; r++) maxT = Math.max(maxT, t[r]);
  for (let r = 0; r < c.k; r++) {
    v.compare(
      `dLogits[${r}] vs reference`,
      expected[r],
      actual[r],
      dLogitsTolerance(p, w[r], infos.length, maxT),
      () => undefined,
      "fail",
      () => `rank sums s = [${Array.from(s).map(fmt).join(", ")}], weights [${Array.from(w).map(fmt).join(", ")}]`,
    );
  }
}

const ties: PropertyDefinition = {
  name: "ties",
  title: "at exact ties (±0, padded zeros): forward and dLogits equal the reference; dx equals the reference's " +
    "under the spec's tie rule (a declared deviation is reported, not failed); dx lies between the one-sided " +
    "finite differences",
  constraints: { kinds: ["ties"] },
  hasDeviations: true,
  calls: (slots) => 2 + 2 * slots,
  generationPrecision: (e) => e.precision,
  check: (ctx, entry, c) =>
    guarded(async (v) => {
      const p = entry.precision;
      const infos = windowInfos(c, c.x);
      const owner = ownerOf(c, infos);
      const w = oracleWeights(entry, c.logits);
      const weight = (r: number) => (r < c.k ? w[r] : 0);
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
      compareDxAtTies(v, p, c, infos, owner, w, ref.dx, g.dx);
      compareDLogits(v, p, c, infos, w, ref.dLogits, g.dLogits);

      // One-sided finite differences: moving cell i up by eps puts it at the top of its tie group
      // (rank r0), down at the bottom (r1); the derivatives are w[r0]·dy and w[r1]·dy. Any tie
      // order gives a rank in r0..r1, whose weight lies between those two whenever the weights
      // are monotone over r0..r1 (always true for a tie of two). The bracket is checked there.
      const eps = fdStepX(c, infos);
      for (const slot of c.params.slotOrder.slice(0, ctx.slots)) {
        const e = slotDirection(c, infos, slot);
        if (!e) continue;
        const yUp = await forwardOf(entry, c, v, perturb(c, c.x, eps, e));
        const yDown = await forwardOf(entry, c, v, perturb(c, c.x, -eps, e));
        if (!yUp || !yDown) return;
        for (const info of infos) {
          const cell = info.cells.find((q) => q.cell === slot && q.index >= 0);
          if (!cell) continue;
          const group = info.ranked.map((q, r) => ({ q, r })).filter(({ q }) => q.value === cell.value);
          const r0 = group[0].r;
          const r1 = group[group.length - 1].r;
          let up = true;
          let down = true;
          for (let r = r0; r < r1; r++) {
            if (weight(r) < weight(r + 1)) down = false;
            if (weight(r) > weight(r + 1)) up = false;
          }
          if (!up && !down) continue;
          const dy = c.dy[info.out];
          const fdUp = dy * (yUp[info.out] - y[info.out]) / eps;
          const fdDown = dy * (y[info.out] - yDown[info.out]) / eps;
          const dx = g.dx[cell.index];
          const scale = Math.max(info.topAbs, info.allAbs) + eps;
          const tol = Math.abs(dy) * 2 * forwardRounding(p, scale) / eps + referenceTolerance(p, Math.abs(dx)) +
            harnessRounding(2, Math.abs(fdUp) + Math.abs(fdDown));
          v.within(
            "dx between the one-sided finite differences dy·(f(x+εe_i)−f(x))/ε and dy·(f(x)−f(x−εe_i))/ε",
            Math.min(fdUp, fdDown),
            Math.max(fdUp, fdDown),
            dx,
            tol,
            () => locateInput(c.shape, cell.index, info),
            () => `tie group ranks ${r0}..${r1}, eps ${fmt(eps)}`,
          );
        }
      }
    }),
};

const k1MaxPool: PropertyDefinition = {
  name: "k1-maxpool",
  title: "k = 1 equals tf.maxPool (tfjs cpu backend, same padding string), including ±Infinity; not NaN: " +
    "tfjs 4.22's cpu maxPool skips NaN (an all-NaN window gives -Infinity), its webgpu maxPool and the spec propagate it",
  constraints: { kinds: ["distinct", "ties", "near-ties", "mixed", "infinities"], ks: [1] },
  hasDeviations: false,
  calls: () => 1,
  generationPrecision: () => "float32",
  check: (_ctx, entry, c) =>
    guarded(async (v) => {
      const y = await forwardOf(entry, c, v);
      if (!y) return;
      const tf = await useBackend("cpu");
      const pooled = tf.tidy(() => tf.maxPool(tf.tensor4d(Float32Array.from(c.x), [...c.shape]), 2, 2, c.padding));
      const tfShape = pooled.shape;
      const expected = await pooled.data();
      pooled.dispose();
      const spec = outputShape(c.shape, c.padding);
      if (tfShape.join(",") !== spec.join(",")) {
        v.fail("tf.maxPool output shape vs spec", `[${spec.join(", ")}]`, `[${tfShape.join(", ")}]`);
        return;
      }
      for (const w of windowInfos(c, c.x)) {
        v.compare(
          "y vs tf.maxPool",
          expected[w.out],
          y[w.out],
          referenceTolerance(entry.precision, w.topAbs),
          () => locateOutput(w),
        );
      }
    }),
};

const shiftScale: PropertyDefinition = {
  name: "shift-scale",
  title: 'with "valid" (or k = 1, which ignores padding): f(x + c) = f(x) + c and f(a·x) = a·f(x) for a > 0',
  constraints: { kinds: ["distinct", "ties", "near-ties", "huge", "tiny"], shiftInvariant: true },
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
  title: "permuting the values inside each window (real cells) leaves the forward unchanged, NaN/±Infinity included",
  constraints: { kinds: ["distinct", "ties", "nonfinite", "near-ties", "mixed"] },
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
  constraints: { kinds: FINITE_KINDS },
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
          referenceTolerance(entry.precision, w.allAbs),
          () => locateOutput(w),
        );
      }
    }),
};

/**
 * The whole answer of `entry` against the reference at the entry's weights ({@link oracleWeights}),
 * for inputs where no tie-rule deviation can hide (the new input classes of issue 10): y (when
 * `forward`), dx and dLogits. NaN must meet NaN and ±Infinity itself; the zeros whose sign SPEC.md
 * §5 fixes (y, dx, and dLogits for k = 1, which must be exactly +0) are compared with Object.is;
 * a finite dLogits element within dLogitsTolerance of the finite rank-sum magnitudes.
 */
async function checkAgainstOracle(
  v: VerdictBuilder,
  entry: Implementation,
  c: PropCase,
  parts: { forward: boolean },
): Promise<void> {
  const p = entry.precision;
  const infos = windowInfos(c, c.x);
  const w = oracleWeights(entry, c.logits);
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
  compareDxAtTies(v, p, c, infos, ownerOf(c, infos), w, ref.dx, g.dx);
  if (c.k === 1) {
    v.compareSigned("dLogits for k = 1 (exactly +0)", 0, g.dLogits[0], 0, () => undefined);
    return;
  }
  const { t } = rankSums(c, infos);
  const finiteT = Array.from(t).filter(Number.isFinite);
  const maxT = finiteT.length > 0 ? Math.max(...finiteT) : 0;
  for (let r = 0; r < c.k; r++) {
    v.compare(
      `dLogits[${r}] vs reference (NaN/±Infinity exactly)`,
      ref.dLogits[r],
      g.dLogits[r],
      dLogitsTolerance(p, finiteAbs(w[r]), infos.length, maxT),
      () => undefined,
      "fail",
      () => `reference dLogits [${Array.from(ref.dLogits).map(fmt).join(", ")}], ${weightsText()}`,
    );
  }
}

const k1DLogits: PropertyDefinition = {
  name: "k1-dlogits",
  title: "k = 1: dLogits is exactly [+0] whatever x (NaN, ±Infinity, ±0), dy (±Infinity, NaN) and the logit " +
    "(±Infinity, NaN, past float32) hold; dx routes w[0]·dy to the first maximal cell (issue 10, class 1)",
  constraints: {
    kinds: ["nonfinite", "infinities", "ties", "distinct", "signed-zeros"],
    ks: [1],
    dyKinds: ["finite", "nonfinite"],
    logitKinds: ["ordinary", "nonfinite", "range"],
  },
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
  constraints: { kinds: ["distinct", "ties", "near-ties", "infinities"], logitKinds: ["range"] },
  hasDeviations: true,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: true })),
};

const logitsNonFinite: PropertyDefinition = {
  name: "logits-nonfinite",
  title: "logits holding ±Infinity or NaN: softmax's limit (+Infinity logits share the weight, -Infinity ones get " +
    "0, NaN makes y, kept dx and dLogits NaN), one behaviour on every entry and on the op on both tfjs backends " +
    "(issue 10, class 3)",
  constraints: { kinds: ["distinct", "ties", "nonfinite", "infinities"], logitKinds: ["nonfinite"] },
  hasDeviations: true,
  calls: () => 2,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: true })),
};

const signedZero: PropertyDefinition = {
  name: "signed-zero",
  title: "signed zeros (Object.is): y sums from the first product, so a zero y is -0 exactly when every kept " +
    "product is -0, and k = 1 returns the window's top value bitwise; a zero dx carries w[r]·dy's sign " +
    "(issue 10, class 4)",
  constraints: { kinds: ["signed-zeros", "ties"] },
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
    "every dLogits element for k > 1, none for k = 1 (issue 10, class 5)",
  constraints: {
    kinds: ["distinct", "ties", "signed-zeros", "nonfinite"],
    dyKinds: ["nonfinite", "padded-nonfinite"],
  },
  hasDeviations: true,
  calls: () => 1,
  generationPrecision: (e) => e.precision,
  check: (_ctx, entry, c) => guarded((v) => checkAgainstOracle(v, entry, c, { forward: false })),
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
