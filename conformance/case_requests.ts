/**
 * A conformance case and its request: what a case needs of a port ({@link Needs}), the case and
 * category types, and the helpers every source of cases shares to describe a case and build its
 * request (window fields sent only when not the default 2x2/2).
 *
 * @module
 */
import type { PropCase } from "../props/generators.ts";
import type { Pair } from "../src/types.ts";
import type { FailedAnswer } from "./compare.ts";
import type { Op, Request } from "./protocol.ts";

/** What a case needs of a port beyond the article's layer (2x2 windows, stride 2, logits shared by all channels). */
export interface Needs {
  /** The request carries `poolSize` or `strides` (a window other than 2x2/2, or a bad one to reject). */
  readonly windows: boolean;
  /** The request's logits are per channel (length C·k with C > 1). */
  readonly perChannelLogits: boolean;
}

/** What `r` needs: `windows` when it carries poolSize or strides, `perChannelLogits` when its logits have length C·k. */
export function needsOf(r: Request): Needs {
  const channels = Array.isArray(r.shape) ? r.shape[3] : 1;
  const logits = Array.isArray(r.logits) ? r.logits.length : 0;
  return {
    windows: r.poolSize !== undefined || r.strides !== undefined,
    perChannelLogits: typeof channels === "number" && channels > 1 && logits !== r.k && logits === channels * r.k,
  };
}

/** One conformance case: a request (in this project's weight order) and where it comes from. */
export interface ConformanceCase {
  /** Unique name; also the request's id. */
  readonly name: string;
  /** Category for the summary table ("golden", a generated class, or "bad-input"). */
  readonly category: string;
  /** What the inputs are, in a few words (shape, window, k, padding, value kind). */
  readonly description: string;
  /** The request, logits in this project's order (w[0] weights the largest). */
  readonly request: Request;
  /** What the case needs of the port ({@link needsOf} of the request). */
  readonly needs: Needs;
}

/** A category of cases and what it covers. */
export interface Category {
  readonly name: string;
  readonly title: string;
  /**
   * The likely cause when cases of this category fail, printed with the report (none: no single
   * cause) only when at least one failed answer of the category fits it ({@link Category.hintFits}).
   */
  readonly hint?: string;
  /**
   * Whether a failed answer of the category fits the hint's cause: a failure for another reason (a
   * tie broken the wrong way, the sign of a zero, an error answered) gets no hint that would mislead.
   */
  readonly hintFits?: (f: FailedAnswer) => boolean;
}

/** A case's window options, as a request carries them: present only when not the default 2x2/2. */
export interface WindowFields {
  readonly poolSize?: Pair;
  readonly strides?: Pair;
}

/** The window fields of a case, or none when it is 2x2 with stride 2 (the request then omits them). */
function windowFields(w: WindowFields): WindowFields {
  const poolSize = w.poolSize ?? [2, 2];
  const strides = w.strides ?? poolSize;
  if (poolSize[0] === 2 && poolSize[1] === 2 && strides[0] === 2 && strides[1] === 2) return {};
  return { poolSize: [poolSize[0], poolSize[1]], strides: [strides[0], strides[1]] };
}

/** A case in a few words: shape, window (when not the default), k, padding, and `extra`. */
export function describeCase(c: Pick<PropCase, "shape" | "k" | "padding"> & WindowFields, extra: string): string {
  const w = windowFields(c);
  const window = w.poolSize ? `, poolSize [${w.poolSize.join(", ")}], strides [${w.strides!.join(", ")}]` : "";
  return `shape [${c.shape.join(", ")}]${window}, k ${c.k}, "${c.padding}"${extra ? `, ${extra}` : ""}`;
}

/**
 * A request for a case. The window fields are read from `c` when it has them (general cases, and
 * the generators' cases should they carry a window) and sent only when not the default.
 */
export function requestOf(
  id: string,
  op: Op,
  c: Pick<PropCase, "shape" | "k" | "padding"> & WindowFields,
  x: ArrayLike<number>,
  logits: readonly number[],
  dy: ArrayLike<number> | undefined,
): Request {
  return {
    id,
    op,
    x: Array.from(x),
    shape: [...c.shape],
    logits: [...logits],
    k: c.k,
    padding: c.padding,
    ...windowFields(c),
    ...(op === "gradient" ? { dy: Array.from(dy ?? []) } : {}),
  };
}

/** A case from its request (its needs derived from the request). */
export function caseOf(name: string, category: string, description: string, request: Request): ConformanceCase {
  return { name, category, description, request, needs: needsOf(request) };
}
