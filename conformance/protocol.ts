/**
 * The wire protocol between the conformance kit and a port: one JSON object per line, in both
 * directions, over the port's stdin and stdout.
 *
 * Request (kit → port):
 * ```json
 * {"id": "golden/hand-1x2x2x1-k2/gradient", "op": "gradient", "x": [1, 4, 3, 2], "shape": [1, 2, 2, 1],
 *  "logits": [0, 0], "k": 2, "padding": "valid", "dy": [1]}
 * ```
 * `poolSize` ([kh, kw]) and `strides` ([sh, sw]) are present only when the window is not the default
 * 2x2 with stride 2 (absent: `[2, 2]`, and `poolSize`); `logits` has length k (shared by all
 * channels) or C·k (per channel, channel-major). `dy` is present only when `op` is "gradient".
 * Answer (port → kit), one line per request, in order:
 * forward `{"id", "shape", "y"}`, gradient `{"id", "dx", "dLogits"}`, or, when the port rejects the
 * input, `{"id", "error": "message"}`.
 *
 * Numbers are JSON numbers, except the strings "NaN", "Infinity", "-Infinity" and "-0" (the
 * encoding of vectors/sort_pool2d.json). A JSON number `-0.0` is read as -0 too.
 *
 * Both directions as JSON Schema: schemas/conformance_request.schema.json and
 * schemas/conformance_answer.schema.json ({@link requestSchemaViolations},
 * {@link answerSchemaViolations}).
 *
 * @module
 */
import {
  conformanceAnswerViolations,
  conformanceRequestViolations,
  type SchemaViolation,
} from "../schemas/validate.ts";
import { encodeNumber } from "../testkit/mod.ts";

/** The operation a request asks for. */
export type Op = "forward" | "gradient";

/**
 * One request. Fields are `unknown`-typed where bad-input cases deliberately send something the
 * spec rejects (a k of 5, a padding of "full", ...).
 */
export interface Request {
  readonly id: string;
  readonly op: Op;
  readonly x: readonly number[];
  readonly shape: readonly number[];
  readonly logits: readonly number[];
  readonly k: number;
  readonly padding: string;
  /** `[kh, kw]`; absent for the default 2x2 window (SPEC.md §2). */
  readonly poolSize?: readonly number[];
  /** `[sh, sw]`; absent means `poolSize` (SPEC.md §2). */
  readonly strides?: readonly number[];
  readonly dy?: readonly number[];
}

/** Encodes a request as one line (no trailing newline), with the wire number encoding. */
export function encodeRequest(r: Request): string {
  const enc = (a: readonly number[]) => a.map(encodeNumber);
  const body: Record<string, unknown> = {
    id: r.id,
    op: r.op,
    x: enc(r.x),
    shape: r.shape,
    logits: enc(r.logits),
    k: r.k,
    padding: r.padding,
  };
  if (r.poolSize !== undefined) body.poolSize = r.poolSize;
  if (r.strides !== undefined) body.strides = r.strides;
  if (r.dy !== undefined) body.dy = enc(r.dy);
  return JSON.stringify(body);
}

/**
 * How a request (parsed JSON) breaks schemas/conformance_request.schema.json; empty when it fits.
 * Every request the kit sends fits it except the bad inputs that are ill-typed on purpose (a logit
 * "abc", a rank-3 shape, padding "full", ...), which a port must answer with an error anyway.
 */
export function requestSchemaViolations(request: unknown): SchemaViolation[] {
  return conformanceRequestViolations(request);
}

/**
 * How an answer (parsed JSON) to a request of `op` breaks schemas/conformance_answer.schema.json:
 * an object with only the protocol's fields, each of its type (numbers in the wire encoding), and
 * either `error` or the fields of `op` (forward: shape and y; gradient: dx and dLogits). Empty
 * when it fits; lengths and values are judged against the request afterwards (compare.ts).
 */
export function answerSchemaViolations(op: Op, body: unknown): SchemaViolation[] {
  return conformanceAnswerViolations(body, op);
}

/**
 * Characters a terminal shows as nothing or as something else, by Unicode property: controls (C0,
 * DEL, C1), format characters (U+FEFF byte-order mark, zero-width and bidi marks, tag characters),
 * spaces other than U+0020 (no-break, em, ideographic, ...), line and paragraph separators,
 * combining marks (U+034F grapheme joiner, accents with nothing to attach to), private-use,
 * unassigned and lone surrogate code points, the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0:
 * letters that render as blanks) and U+FFFD (what an invalid UTF-8 byte decodes to). Matched by
 * code point (the `u` flag), so a character above U+FFFF is one match, never a lone surrogate.
 */
const INVISIBLE =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Mn}\p{Me}\p{Co}\p{Cn}\p{Cs}\u115F\u1160\u3164\uFFA0\uFFFD]|(?! )\p{Zs}/gu;

/** `\uXXXX` for a code point up to U+FFFF, `\u{XXXXX}` above (one escape per character, never a surrogate). */
function escapeCodePoint(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, "0")}`;
}

/** `U+XXXX` (four to six hex digits) of a character's code point. */
function codePointName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * `text` with every invisible or replaced character ({@link INVISIBLE}) escaped (`\uXXXX`, or
 * `\u{XXXXX}` above U+FFFF), so that a report shows what the port really sent: a byte-order mark
 * before an answer reads `\ufeff{"id": ...}` instead of looking like a valid line. Apply it to
 * `JSON.stringify` output, where a backslash the port sent is already doubled, so the escapes stay
 * unambiguous.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, escapeCodePoint);
}

/** A note naming the unexpected characters of `text` that {@link visible} escapes (empty when none). */
export function invisibleNote(text: string): string {
  const found = [...new Set(text.match(INVISIBLE) ?? [])];
  if (found.length === 0) return "";
  const names = found.slice(0, 4).map((ch) =>
    ch === "\uFEFF"
      ? "U+FEFF (a byte-order mark: write UTF-8 without one)"
      : ch === "\uFFFD"
      ? "U+FFFD (bytes that are not UTF-8)"
      : codePointName(ch)
  );
  return ` (it holds ${names.join(", ")}${found.length > 4 ? ", ..." : ""}, shown escaped)`;
}

/** An answer line parsed as JSON, before its fields are checked against the request. */
export type ParsedLine =
  | { kind: "object"; id: unknown; body: Record<string, unknown> }
  | { kind: "not-json"; problem: string };

/** Parses one line of the port's stdout. Bare NaN / Infinity tokens get a hint (they are not JSON). */
export function parseAnswerLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    const hint = /(^|[^"\w])-?(NaN|Infinity)\b/.test(line)
      ? ' (bare NaN / Infinity tokens are not JSON: send the strings "NaN", "Infinity", "-Infinity")'
      : "";
    // V8 names the offending character by its first UTF-16 unit: restore a character above U+FFFF whole.
    const message = (e instanceof Error ? e.message : String(e)).replace(
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/g,
      (high) => line.match(new RegExp(`${high}[\\uDC00-\\uDFFF]`))?.[0] ?? high,
    );
    return { kind: "not-json", problem: `${message}${hint}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const what = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    return { kind: "not-json", problem: `a JSON ${what}, not an object` };
  }
  const body = value as Record<string, unknown>;
  return { kind: "object", id: body.id, body };
}
