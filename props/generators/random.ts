/**
 * The seeded randomness that expands a drawn case's bulk arrays: the same data seed gives the same
 * arrays on every platform and every replay.
 *
 * @module
 */
import { mulberry32 } from "../../src/random.ts";

/** The project's seeded PRNG (mulberry32): the same seed gives the same stream on every platform. */
export const prng: (seed: number) => () => number = mulberry32;

/** Uniform integer in [lo, hi] from a PRNG. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** A random permutation of 0..n-1 (Fisher–Yates). */
export function randPermutation(rand: () => number, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randInt(rand, 0, i);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}
