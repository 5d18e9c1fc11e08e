/**
 * What a golden case is built from before the reference runs ({@link CaseRecipe}), and the seeded
 * value generators the recipes share: distinct values, exact ties, upstream gradients.
 *
 * @module
 */
import type { Padding, Pair, Shape4 } from "../src/types.ts";

/** Distinct float32-exact values (multiples of 1/64 in [-8, 8)), shuffled. */
export function distinctValues(n: number, random: () => number): number[] {
  const pool = Array.from({ length: 1024 }, (_, i) => (i - 512) / 64);
  const values: number[] = [];
  while (values.length < n) {
    const i = Math.floor(random() * pool.length);
    values.push(pool[i]);
    // Drawing without replacement keeps every window free of ties until the pool runs low.
    pool.splice(i, 1);
    if (pool.length === 0) pool.push(...Array.from({ length: 1024 }, (_, j) => (j - 512) / 64 + 1 / 128));
  }
  return values;
}

/** Float32-exact values drawn from a small set, so windows hold exact ties. */
export function tiedValues(n: number, random: () => number, set: readonly number[]): number[] {
  return Array.from({ length: n }, () => set[Math.floor(random() * set.length)]);
}

/** Float32-exact upstream gradient values (multiples of 1/16 in [-2, 2)). */
export function gradientValues(n: number, random: () => number): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * 64 - 32) / 16);
}

/**
 * One case before generation: its fields as written, and how to draw x (and dy) from the case's
 * seeded random stream (vectors/generate.ts).
 */
export interface CaseRecipe {
  name: string;
  description: string;
  shape: Shape4;
  k: number;
  padding: Padding;
  /** Window and stride; omitted on default (2x2/2) cases, which are written without them. */
  poolSize?: Pair;
  strides?: Pair;
  logits: number[];
  x: (n: number, random: () => number) => number[];
  /** Upstream gradient; default: random multiples of 1/16 in [-2, 2). */
  dy?: (n: number, random: () => number) => number[];
}
