/**
 * Argument validation shared by every implementation: each failure names the argument, what
 * was expected and what was received (SPEC.md §6).
 *
 * @module
 */
import { DEFAULT_POOL_SIZE, MAX_STRIDE, MAX_WINDOW_SIDE, outputShape, PADDINGS, sizeOf } from "./spec.ts";
import type { Padding, Pair, Shape4, SortPoolCase } from "./types.ts";

/** A rejected argument. `argument`, `expected` and `received` are also in the message. */
export class SortPoolArgumentError extends RangeError {
  /** Name of the offending argument, e.g. "shape" or "logits". */
  readonly argument: string;
  /** What the argument had to be. */
  readonly expected: string;
  /** What was passed, rendered briefly. */
  readonly received: string;

  /** Builds the error and its message `sort_pool2d: <argument>: expected <...>, received <...>`. */
  constructor(argument: string, expected: string, received: string) {
    super(`sort_pool2d: ${argument}: expected ${expected}, received ${received}`);
    this.name = "SortPoolArgumentError";
    this.argument = argument;
    this.expected = expected;
    this.received = received;
  }
}

/** Short printable rendering of any received value. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(length ${(value as unknown as ArrayLike<unknown>).length})`;
  }
  if (Array.isArray(value)) {
    const head = value.slice(0, 6).map((v) => describe(v)).join(", ");
    return `[${head}${value.length > 6 ? ", ..." : ""}] (length ${value.length})`;
  }
  return typeof value === "object" ? `an object (${value.constructor?.name ?? "Object"})` : typeof value;
}

/**
 * Checks `shape`: four positive integers, or with `allowEmpty` four non-negative integers (SPEC.md
 * §1 "Empty inputs": a zero-size dimension is an empty input, as every case and the op accept).
 */
export function validateShape(shape: unknown, allowEmpty = false): Shape4 {
  if (!Array.isArray(shape) || shape.length !== 4) {
    const received = Array.isArray(shape) ? `rank ${shape.length}: ${describe(shape)}` : describe(shape);
    throw new SortPoolArgumentError("shape", "rank 4 [batch, height, width, channels] (NHWC)", received);
  }
  const least = allowEmpty ? 0 : 1;
  for (let i = 0; i < 4; i++) {
    const d = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < least) {
      const axis = ["batch", "height", "width", "channels"][i];
      const expected = allowEmpty ? "a non-negative integer" : "a positive integer";
      throw new SortPoolArgumentError(`shape[${i}] (${axis})`, expected, describe(d));
    }
  }
  return shape as unknown as Shape4;
}

/** Whether a shape holds no element (a zero-size dimension): SPEC.md §1 "Empty inputs". */
export function isEmptyShape(shape: readonly number[]): boolean {
  return shape.some((d) => d === 0);
}

/**
 * Checks the extent of a "valid" window against the input (SPEC.md §3, §6): a non-empty input
 * needs height >= kh and width >= kw (else its output would be empty); an empty input (a zero-size
 * dimension) needs an output size `floor((H − kh) / sh) + 1` of at least 0 per axis, i.e.
 * H >= kh − sh, which is where tf.maxPool accepts it. `shape` entries may be null (unknown: not
 * checked); `argument` names the shape in the error.
 */
export function validateValidExtent(
  shape: readonly (number | null)[],
  poolSize: Pair,
  strides: Pair,
  argument = "shape",
): void {
  const empty = shape.some((d) => d === 0);
  const [h, w] = [shape[1], shape[2]];
  const least = (axis: 0 | 1) => empty ? poolSize[axis] - strides[axis] : poolSize[axis];
  if ((h !== null && h < least(0)) || (w !== null && w < least(1))) {
    const text = `[${shape.map((d) => (d === null ? "null" : String(d))).join(", ")}]`;
    const expected = empty
      ? `height >= ${least(0)} and width >= ${least(1)} (poolSize − strides) for an empty input with padding ` +
        `"valid" (the output size floor((H − kh) / sh) + 1 would be negative)`
      : `height >= ${poolSize[0]} and width >= ${poolSize[1]} (the poolSize) with padding "valid" ` +
        "(the output would be empty)";
    throw new SortPoolArgumentError(argument, expected, text);
  }
}

/** Edit distance of two short strings (for a closest-key suggestion). */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The accepted key closest to `key` (case, `_` and `-` ignored; at most 3 edits), or undefined. */
export function closestKey(key: string, accepted: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of accepted) {
    const d = editDistance(norm(key), norm(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.min(3, Math.max(1, Math.floor(norm(key).length / 2))) ? best : undefined;
}

/** A key as an error message shows it: a string as JSON, a symbol as `Symbol(description)`. */
function keyText(key: string | symbol): string {
  return typeof key === "symbol" ? key.toString() : JSON.stringify(key);
}

/**
 * Whether `value` is a plain object: its prototype is `Object.prototype` or null (an object
 * literal, `JSON.parse` output, `Object.create(null)`), so every key it has is its own.
 */
export function isPlainObject(value: unknown): value is Record<string | symbol, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/** What a non-plain object is, for an error: its class, or the keys it inherits. */
function describeNonPlain(value: object): string {
  const proto = Object.getPrototypeOf(value) as object;
  const ctor = Object.hasOwn(proto, "constructor") ? (proto as { constructor?: unknown }).constructor : undefined;
  if (typeof ctor === "function" && ctor.name) {
    return `a ${ctor.name} (an object whose prototype is ${ctor.name}.prototype)`;
  }
  const inherited: (string | symbol)[] = [];
  for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    inherited.push(...Reflect.ownKeys(p));
  }
  return `an object with another prototype than Object.prototype${
    inherited.length > 0 ? ` (inheriting the keys ${inherited.map(keyText).join(", ")})` : ""
  }`;
}

/**
 * Checks an options object (SPEC.md §6 "Unknown keys"): it must be a plain object
 * ({@link isPlainObject}: prototype `Object.prototype` or null), and it may have no key outside
 * `accepted`. Options are read as properties, so an inherited key would count (an inherited
 * `strides` is used) while escaping the key check (an inherited `stride` is ignored): a Map, a
 * class instance or an `Object.create(proto)` is refused instead. Every own key counts, enumerable
 * or not, string or symbol, whatever its value: a misspelled option (`stride`, `pool_size`) would
 * otherwise be silently ignored and its default used. Throws a SortPoolArgumentError naming
 * `argument` and, for a non-plain object, what it is; for an unknown key, the key (with the closest
 * accepted key, when one is close) and the accepted keys.
 */
export function validateKeys(value: object, argument: string, accepted: readonly string[]): void {
  if (!isPlainObject(value)) {
    throw new SortPoolArgumentError(
      argument,
      `a plain object (prototype Object.prototype or null: an object literal or JSON) with only the keys ${
        accepted.join(", ")
      }`,
      describeNonPlain(value),
    );
  }
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === "string" && accepted.includes(key)) continue;
    const near = typeof key === "string" ? closestKey(key, accepted) : undefined;
    const hidden = Object.getOwnPropertyDescriptor(value, key)?.enumerable === false ? " (not enumerable)" : "";
    throw new SortPoolArgumentError(
      argument,
      `only the keys ${accepted.join(", ")}`,
      `unknown key ${keyText(key)}${hidden}${near === undefined ? "" : ` (did you mean ${JSON.stringify(near)}?)`}`,
    );
  }
}

/** The keys of a registry case ({@link SortPoolCase}). */
export const CASE_KEYS: readonly string[] = ["x", "shape", "logits", "k", "padding", "poolSize", "strides"];

/** Checks `k`: an integer in 1..cells, where cells = kh·kw (4 for the default 2x2 window). */
export function validateK(k: unknown, cells = 4): number {
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > cells) {
    const window = cells === 4 ? "" : ` (the window has kh·kw = ${cells} cells)`;
    throw new SortPoolArgumentError("k", `an integer in 1..${cells}${window}`, describe(k));
  }
  return k;
}

/** Checks a `[rows, columns]` pair of integers in 1..max, named `argument` (SPEC.md §6). */
function validatePair(value: unknown, argument: string, max: number, meaning: string): Pair {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new SortPoolArgumentError(argument, `a pair [${meaning}] of integers in 1..${max}`, describe(value));
  }
  for (let i = 0; i < 2; i++) {
    const d = value[i];
    if (typeof d !== "number" || !Number.isInteger(d) || d < 1 || d > max) {
      throw new SortPoolArgumentError(`${argument}[${i}]`, `an integer in 1..${max}`, describe(d));
    }
  }
  return [value[0], value[1]];
}

/** Checks `poolSize`: absent (→ `[2, 2]`) or `[kh, kw]` with each in 1..4 (SPEC.md §2). */
export function validatePoolSize(poolSize: unknown): Pair {
  if (poolSize === undefined) return DEFAULT_POOL_SIZE;
  return validatePair(poolSize, "poolSize", MAX_WINDOW_SIDE, "kh, kw");
}

/** Checks `strides`: absent (→ `poolSize`) or `[sh, sw]` with each in 1..4 (SPEC.md §2). */
export function validateStrides(strides: unknown, poolSize: Pair): Pair {
  if (strides === undefined) return poolSize;
  return validatePair(strides, "strides", MAX_STRIDE, "sh, sw");
}

/** Checks `padding`: "same" or "valid". */
export function validatePadding(padding: unknown): Padding {
  if (typeof padding !== "string" || !(PADDINGS as readonly string[]).includes(padding)) {
    throw new SortPoolArgumentError("padding", `one of ${PADDINGS.map((p) => `"${p}"`).join(", ")}`, describe(padding));
  }
  return padding as Padding;
}

/**
 * Checks `logits`: `k` numbers shared by all channels, or `C·k` per channel (channel-major;
 * `channels` = C). Any number is accepted, ±Infinity and NaN included: the weights are softmax
 * evaluated as its limit (SPEC.md §5 "Weights"), and a NaN logit makes y NaN like a NaN in x.
 * Rejects a non-array, a wrong length and elements that are not numbers (SPEC.md §6).
 */
export function validateLogits(logits: unknown, k: number, channels = 1): ArrayLike<number> {
  const lengths = channels > 1 ? `k = ${k} or C·k = ${channels}·${k} = ${channels * k}` : `k = ${k}`;
  const isArrayLike = Array.isArray(logits) || (ArrayBuffer.isView(logits) && !(logits instanceof DataView));
  if (!isArrayLike) throw new SortPoolArgumentError("logits", `an array of ${lengths} numbers`, describe(logits));
  const arr = logits as ArrayLike<unknown>;
  if (arr.length !== k && arr.length !== channels * k) {
    throw new SortPoolArgumentError("logits", `length ${lengths}`, `length ${arr.length}`);
  }
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== "number") {
      throw new SortPoolArgumentError(`logits[${i}]`, "a number (NaN and ±Infinity are allowed)", describe(v));
    }
  }
  return arr as ArrayLike<number>;
}

/** A validated case: every field checked, `poolSize` and `strides` filled in with their defaults. */
export interface ValidCase extends SortPoolCase {
  /** `[kh, kw]`. */
  readonly poolSize: Pair;
  /** `[sh, sw]`. */
  readonly strides: Pair;
}

/**
 * Checks a whole case (SPEC.md §6) and fills in the window defaults. Also rejects a key outside
 * {@link CASE_KEYS}, and "valid" padding on a non-empty input smaller than the window (height < kh
 * or width < kw), whose output would be empty ({@link validateValidExtent}).
 */
export function validateCase(c: SortPoolCase): ValidCase {
  if (c === null || typeof c !== "object") {
    throw new SortPoolArgumentError(
      "case",
      "an object { x, shape, logits, k, padding, poolSize?, strides? }",
      describe(c),
    );
  }
  validateKeys(c, "case", CASE_KEYS);
  const shape = validateShape(c.shape, true);
  const poolSize = validatePoolSize(c.poolSize);
  const strides = validateStrides(c.strides, poolSize);
  const k = validateK(c.k, poolSize[0] * poolSize[1]);
  const padding = validatePadding(c.padding);
  const logits = validateLogits(c.logits, k, shape[3]);
  if (!(c.x instanceof Float32Array || c.x instanceof Float64Array)) {
    throw new SortPoolArgumentError("x", "a Float32Array or Float64Array", describe(c.x));
  }
  const n = sizeOf(shape);
  if (c.x.length !== n) {
    throw new SortPoolArgumentError("x", `length B·H·W·C = ${shape.join("·")} = ${n}`, `length ${c.x.length}`);
  }
  if (padding === "valid") validateValidExtent(shape, poolSize, strides);
  return { x: c.x, shape, logits, k, padding, poolSize, strides };
}

/**
 * Checks an upstream gradient: an array (or typed array) of the case's output size whose elements
 * are numbers (NaN and ±Infinity allowed: SPEC.md §5 "Gradient"); SPEC.md §6 names `dy` or `dy[i]`.
 */
export function validateDy(c: SortPoolCase, dy: unknown): ArrayLike<number> {
  const out = outputShape(c.shape, c.padding, c);
  const n = sizeOf(out);
  const isArrayLike = Array.isArray(dy) || (ArrayBuffer.isView(dy) && !(dy instanceof DataView));
  if (!isArrayLike) throw new SortPoolArgumentError("dy", `an array of ${n} numbers`, describe(dy));
  const arr = dy as ArrayLike<unknown>;
  if (arr.length !== n) {
    throw new SortPoolArgumentError("dy", `length of the output [${out.join(", ")}] = ${n}`, `length ${arr.length}`);
  }
  // A typed array's elements share one type: checking the first covers BigInt64Array and friends.
  const checked = Array.isArray(dy) ? n : Math.min(n, 1);
  for (let i = 0; i < checked; i++) {
    if (typeof arr[i] !== "number") {
      throw new SortPoolArgumentError(
        `dy[${i}]`,
        "a number (NaN and ±Infinity are allowed)",
        `${describe(arr[i])} (${typeof arr[i]})`,
      );
    }
  }
  return arr as ArrayLike<number>;
}
