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

/** Checks `shape`: four positive integers. */
export function validateShape(shape: unknown): Shape4 {
  if (!Array.isArray(shape) || shape.length !== 4) {
    const received = Array.isArray(shape) ? `rank ${shape.length}: ${describe(shape)}` : describe(shape);
    throw new SortPoolArgumentError("shape", "rank 4 [batch, height, width, channels] (NHWC)", received);
  }
  for (let i = 0; i < 4; i++) {
    const d = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 1) {
      const axis = ["batch", "height", "width", "channels"][i];
      throw new SortPoolArgumentError(`shape[${i}] (${axis})`, "a positive integer", describe(d));
    }
  }
  return shape as unknown as Shape4;
}

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
 * Checks a whole case (SPEC.md §6) and fills in the window defaults. Also rejects "valid" padding
 * on an input smaller than the window (height < kh or width < kw), whose output would be empty.
 */
export function validateCase(c: SortPoolCase): ValidCase {
  if (c === null || typeof c !== "object") {
    throw new SortPoolArgumentError(
      "case",
      "an object { x, shape, logits, k, padding, poolSize?, strides? }",
      describe(c),
    );
  }
  const shape = validateShape(c.shape);
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
  if (padding === "valid" && (shape[1] < poolSize[0] || shape[2] < poolSize[1])) {
    throw new SortPoolArgumentError(
      "shape",
      `height >= ${poolSize[0]} and width >= ${
        poolSize[1]
      } (the poolSize) with padding "valid" (the output would be empty)`,
      `[${shape.join(", ")}]`,
    );
  }
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
