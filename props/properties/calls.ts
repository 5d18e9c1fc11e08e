/**
 * Calling the entry under check: the case in the entry's precision, forward and gradient with
 * their output shapes checked, and a guard that turns an exception or a hung case into a failure.
 *
 * @module
 */
import { outputShape, sizeOf } from "../../src/spec.ts";
import type { Implementation, SortPoolCase } from "../../src/types.ts";
import { sortPoolCase } from "../agreement.ts";
import type { PropCase } from "../generators.ts";
import { type Verdict, VerdictBuilder } from "../verdict.ts";

/** The case as the entry receives it: x in the entry's precision (exact: the values are representable). */
export function toEntryCase(
  entry: Implementation,
  c: PropCase,
  x: Float64Array = c.x,
  logits: readonly number[] = c.logits,
): SortPoolCase {
  return sortPoolCase(c, entry.precision, x, logits);
}

/** Forward with a shape check; null (and a recorded failure) when the shape is wrong. */
export async function forwardOf(
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
export async function gradientOf(
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

/** Longest a single case may take before it counts as a failure (a hung device must not hang the run). */
export const CASE_TIMEOUT_MS = 120_000;

/** Wraps a check body: exceptions and cases over {@link CASE_TIMEOUT_MS} become a failure naming the cause. */
export async function guarded(
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
