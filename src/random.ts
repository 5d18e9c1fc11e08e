/**
 * Seeded pseudo-random numbers for test data, golden vectors and benchmark inputs, so every run
 * on every platform sees the same values.
 *
 * @module
 */

/** mulberry32: a small 32-bit generator; returns a function yielding floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` float32 values in [-1, 1) from `seed`. With `steps`, values lie on the grid of multiples of
 * 1/steps (so ties occur, as in real activations); without, they are as fine as float32 allows.
 */
export function uniformFloat32(n: number, seed: number, steps?: number): Float32Array<ArrayBuffer> {
  const random = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = random() * 2 - 1;
    out[i] = steps === undefined ? u : Math.floor(u * steps) / steps;
  }
  return out;
}
