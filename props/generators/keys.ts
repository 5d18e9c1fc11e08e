/**
 * Keys that are not case keys, for the property that passes a case with one and expects it refused
 * (SPEC.md §6 "Unknown keys").
 *
 * @module
 */
import fc from "fast-check";

/**
 * Keys close to a case key that are not one (SPEC.md §6 "Unknown keys"): what a misspelling, a
 * snake_case habit or another framework's name gives.
 */
export const NEAR_KEYS: readonly string[] = ["stride", "pool_size", "pool", "window", "kernel_size", "ksize", "pad"];

/** How {@link unknownKeyArbitrary} changes a case key. */
const MISSPELLINGS: readonly ((key: string) => string)[] = [
  (key) => key.slice(0, -1), // strides → stride
  (key) => `${key}s`, // padding → paddings
  (key) => key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`), // poolSize → pool_size
  (key) => key.toLowerCase(), // poolSize → poolsize
  (key) => key[0].toUpperCase() + key.slice(1), // padding → Padding
  (key) => key.length > 1 ? key[1] + key[0] + key.slice(2) : `_${key}`, // shape → hsape; k → _k
];

/** A key that is not among `accepted`: a changed accepted key, or one of {@link NEAR_KEYS}. */
export function unknownKeyArbitrary(accepted: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...accepted), fc.nat({ max: MISSPELLINGS.length - 1 })).map(([key, how]) =>
      MISSPELLINGS[how](key)
    ),
    fc.constantFrom(...NEAR_KEYS),
  ).filter((key) => key.length > 0 && !accepted.includes(key));
}
