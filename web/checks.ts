/**
 * The page's correctness checks: requests in the conformance kit's form (conformance/protocol.ts),
 * answered by a subject running on this browser's GPU and judged exactly as the kit judges a port
 * (conformance/compare.ts: the float64 reference with the weights a float32 implementation uses,
 * the project's tolerances, the zero-sign rules), with the kit's failure reports.
 *
 * - Golden vectors: every case of vectors/sort_pool2d.json, forward and gradient.
 * - Property subset: the kit's seeded cases drawn from the property generators
 *   (conformance/cases.ts `generatedCases`: distinct values, padded borders, ties, near-ties,
 *   magnitudes, signed zeros, non-finite x and dy, logits past float32's range, general windows
 *   with overlap, gaps, asymmetric windows, "same" splits and per-channel logits), a few per class.
 *
 * Subjects: a registry entry (`wgsl` on its own GPUDevice, `wgsl@tfjs` inside tfjs's webgpu
 * backend) or the public op `sortPool2d` on tfjs's webgpu backend (gradient through `tf.grads`).
 *
 * @module
 */
import { generatedCases } from "../conformance/cases.ts";
import { checkAnswer, expectedFor, type Problem } from "../conformance/compare.ts";
import { encodeRequest, type Request, visible } from "../conformance/protocol.ts";
import { parseGoldenFile } from "../vectors/golden.ts";
import { sortPool2d, sortPool2dWithKernels } from "../src/op.ts";
import { outputShape } from "../src/spec.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import type { Implementation, Padding, Pair, Shape4, SortPoolCase } from "../src/types.ts";

/** One request of a check and where it comes from. */
export interface CheckCase {
  /** Unique name, e.g. "golden/ties-k2/gradient" or "ties#1/forward". */
  readonly name: string;
  /** "golden", or the generator class. */
  readonly category: string;
  readonly request: Request;
}

/** Something that answers requests as a conformance port does (a JSON-like body). */
export interface Subject {
  /** Registry name or "sortPool2d@webgpu". */
  readonly name: string;
  readonly description: string;
  answer(r: Request): Promise<Record<string, unknown>>;
}

/** One failed case, with the conformance kit's report. */
export interface CaseFailure {
  readonly name: string;
  readonly category: string;
  /** The kit's report lines: what failed, where, expected against received, tolerance. */
  readonly report: string[];
  /** The request as one line (the kit's `replay:`), truncated when long. */
  readonly replay: string;
}

/** The outcome of one check (one set of cases on one subject). */
export interface CheckResult {
  /** "golden" or "properties". */
  readonly check: string;
  readonly subject: string;
  readonly description: string;
  readonly passed: number;
  readonly failed: number;
  readonly total: number;
  /** Per category: passed and failed. */
  readonly byCategory: Record<string, { passed: number; failed: number }>;
  /** The first failures (at most {@link MAX_REPORTED}), with reports. */
  readonly failures: CaseFailure[];
  readonly durationMs: number;
}

/** Failures reported in full per check (the counts cover all). */
export const MAX_REPORTED = 12;

/** Precision the GPU subjects are judged at. */
const PRECISION = "float32";

/** Golden cases as requests: a forward and a gradient request per case (conformance/cases.ts `goldenCases`). */
export function goldenRequests(fileText: string): CheckCase[] {
  const out: CheckCase[] = [];
  for (const g of parseGoldenFile(fileText)) {
    for (const op of ["forward", "gradient"] as const) {
      const id = `golden/${g.name}/${op}`;
      out.push({
        name: id,
        category: "golden",
        request: {
          id,
          op,
          x: Array.from(g.x),
          shape: [...g.shape],
          logits: [...g.logits],
          k: g.k,
          padding: g.padding,
          ...(g.poolSize === undefined ? {} : { poolSize: [...g.poolSize] }),
          ...(g.strides === undefined ? {} : { strides: [...g.strides] }),
          ...(op === "gradient" ? { dy: Array.from(g.dy) } : {}),
        },
      });
    }
  }
  return out;
}

/** The seeded property subset: `perClass` cases of every generator class (conformance/cases.ts). */
export function propertyRequests(seed: number, perClass: number): CheckCase[] {
  return generatedCases(PRECISION, seed, perClass).map((c) => ({
    name: c.name,
    category: c.category,
    request: c.request,
  }));
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function windowOf(r: Request): { poolSize?: Pair; strides?: Pair } {
  return {
    ...(r.poolSize === undefined ? {} : { poolSize: [r.poolSize[0], r.poolSize[1]] as Pair }),
    ...(r.strides === undefined ? {} : { strides: [r.strides[0], r.strides[1]] as Pair }),
  };
}

/** A registry entry as a subject: x, dy as float32, logits as sent (SPEC §5: the entry takes the softmax in float64). */
export function entrySubject(impl: Implementation): Subject {
  return {
    name: impl.name,
    description: impl.description,
    async answer(r) {
      const c: SortPoolCase = {
        x: Float32Array.from(r.x),
        shape: [...r.shape] as unknown as Shape4,
        logits: [...r.logits],
        k: r.k,
        padding: r.padding as Padding,
        ...windowOf(r),
      };
      try {
        if (r.op === "forward") {
          const { y, shape } = await impl.forward(c);
          return { shape: [...shape], y: Array.from(y) };
        }
        const { dx, dLogits } = await impl.gradient(c, Float32Array.from(r.dy ?? []));
        return { dx: Array.from(dx), dLogits: Array.from(dLogits) };
      } catch (e) {
        return { error: message(e) };
      }
    },
  };
}

/**
 * The public op on tfjs's webgpu backend as a subject: `sortPool2d(x, logits, options)` with x,
 * logits and dy as float32 tensors (the logits' softmax runs on the GPU), dx and dLogits from
 * `tf.grads` with dy as the upstream gradient. `kernelSet` swaps the registered WGSL kernel set
 * (the page's planted variant only); without it this is exactly `sortPool2d`.
 */
export function opSubject(kernelSet?: string): Subject {
  return {
    name: "sortPool2d@webgpu",
    description: "the public op sortPool2d on tfjs-backend-webgpu (logits as a float32 tensor, softmax on the GPU; " +
      "gradients through tf.grads)",
    async answer(r) {
      await useBackend("webgpu");
      const shape = [...r.shape] as unknown as Shape4;
      const options = { k: r.k, padding: r.padding as Padding, ...windowOf(r) };
      const run = (x: tf.Tensor4D, l: tf.Tensor1D) =>
        kernelSet === undefined ? sortPool2d(x, l, options) : sortPool2dWithKernels(x, l, options, kernelSet);
      const held: tf.Tensor[] = [];
      try {
        const x = tf.tensor4d(Float32Array.from(r.x), [...shape]);
        const l = tf.tensor1d(Float32Array.from(r.logits));
        held.push(x, l);
        if (r.op === "forward") {
          const y = run(x, l);
          held.push(y);
          return { shape: [...y.shape], y: Array.from(await y.data()) };
        }
        const dy = tf.tensor4d(Float32Array.from(r.dy ?? []), [...outputShape(shape, options.padding, options)]);
        held.push(dy);
        const [dx, dl] = tf.grads((a: tf.Tensor, b: tf.Tensor) => run(a as tf.Tensor4D, b as tf.Tensor1D))([x, l], dy);
        held.push(dx, dl);
        return { dx: Array.from(await dx.data()), dLogits: Array.from(await dl.data()) };
      } catch (e) {
        return { error: message(e) };
      } finally {
        tf.dispose(held);
      }
    },
  };
}

/** The conformance kit's lines for one problem (conformance/run.ts `formatProblem`). */
export function formatProblem(p: Problem): string[] {
  const lines = [`${p.what}: ${p.element ? `first difference at ${p.element}, ${p.location}` : ""}`.trimEnd()];
  const tol = p.tolerance ? ` (tolerance ${p.tolerance})` : "";
  const diff = p.differing ? `; ${p.differing} elements differ` : "";
  lines.push(`  expected ${p.expected}`, `  received ${visible(p.received)}${tol}${diff}`);
  return lines;
}

/** Runs `cases` on `subject` one at a time; `onCase` after each (for progress). */
export async function runCheck(
  check: string,
  subject: Subject,
  cases: readonly CheckCase[],
  onCase: (done: number, total: number, failed: number) => void = () => {},
): Promise<CheckResult> {
  const start = performance.now();
  const byCategory: Record<string, { passed: number; failed: number }> = {};
  const failures: CaseFailure[] = [];
  let passed = 0, failed = 0;
  for (const c of cases) {
    const expected = expectedFor(c.request, PRECISION);
    let problems: Problem[];
    try {
      problems = checkAnswer(c.request, expected, await subject.answer(c.request), PRECISION, "largest-first");
    } catch (e) {
      problems = [{ what: "answer", expected: "an answer", received: `the check threw ${message(e)}` }];
    }
    const tally = byCategory[c.category] ??= { passed: 0, failed: 0 };
    if (problems.length === 0) {
      passed++;
      tally.passed++;
    } else {
      failed++;
      tally.failed++;
      if (failures.length < MAX_REPORTED) {
        const line = encodeRequest(c.request);
        failures.push({
          name: c.name,
          category: c.category,
          report: problems.flatMap(formatProblem),
          replay: line.length > 600 ? `${line.slice(0, 600)}… (${line.length} characters)` : line,
        });
      }
    }
    onCase(passed + failed, cases.length, failed);
  }
  return {
    check,
    subject: subject.name,
    description: subject.description,
    passed,
    failed,
    total: cases.length,
    byCategory,
    failures,
    durationMs: performance.now() - start,
  };
}
