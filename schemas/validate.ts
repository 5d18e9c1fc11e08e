/**
 * Validation against this folder's JSON Schemas (draft 2020-12) with ajv, in strict mode, and
 * ajv's errors rendered for people: each violation names the JSON path of the value (`$.cases[3].x[5]`),
 * what the schema expects there and what was received.
 *
 * - `golden_vectors.schema.json`: the golden-vector file, vectors/sort_pool2d.json;
 * - `conformance_request.schema.json`: a request the conformance kit sends a port;
 * - `conformance_answer.schema.json`: an answer a port sends back (`$defs/forwardAnswer`,
 *   `$defs/gradientAnswer` for a request of that op).
 *
 * Validators are compiled on first use.
 *
 * @module
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import goldenVectorsSchema from "./golden_vectors.schema.json" with { type: "json" };
import conformanceRequestSchema from "./conformance_request.schema.json" with { type: "json" };
import conformanceAnswerSchema from "./conformance_answer.schema.json" with { type: "json" };

/** The schema files, by name, as parsed JSON (what porters read). */
export const SCHEMAS: Readonly<Record<SchemaName, Readonly<Record<string, unknown>>>> = {
  golden_vectors: goldenVectorsSchema,
  conformance_request: conformanceRequestSchema,
  conformance_answer: conformanceAnswerSchema,
};

/** The name of a schema file in schemas/, without `.schema.json`. */
export type SchemaName = "golden_vectors" | "conformance_request" | "conformance_answer";

/** The path of a schema file, relative to the repository root, as messages name it. */
export function schemaPath(name: SchemaName): string {
  return `schemas/${name}.schema.json`;
}

/** One way a value breaks a schema. */
export interface SchemaViolation {
  /** JSON path of the offending value (or of the missing field), e.g. `$.cases[3].x[5]`, `$.dLogits`. */
  readonly path: string;
  /** What the schema expects there, in words. */
  readonly expected: string;
  /** What is there, in words or as (shortened) JSON. */
  readonly received: string;
}

/** `PATH: expected WHAT; received WHAT`. */
export function formatViolation(v: SchemaViolation): string {
  return `${v.path}: expected ${v.expected}; received ${v.received}`;
}

/**
 * A new ajv instance as every validator here uses it: strict mode (unknown keywords, ambiguous
 * types, tuples and `required` fields without `properties` are errors, so a schema that ajv would
 * read loosely does not compile), every error collected, and each error carrying its schema and data.
 */
export function strictAjv(): Ajv2020 {
  return new Ajv2020({ strict: true, allErrors: true, verbose: true });
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/** The validator of a schema file, or of one of its `$defs` (`pointer` like `#/$defs/forwardAnswer`). */
function validator(name: SchemaName, pointer = ""): ValidateFunction {
  const key = `${name}${pointer}`;
  let v = compiled.get(key);
  if (v === undefined) {
    if (ajv === undefined) {
      ajv = strictAjv();
      for (const [n, schema] of Object.entries(SCHEMAS)) ajv.addSchema(schema, n);
    }
    v = ajv.getSchema(key);
    if (v === undefined) throw new Error(`${schemaPath(name)} has no schema at ${JSON.stringify(pointer)}`);
    compiled.set(key, v);
  }
  return v;
}

/**
 * Every way `data` breaks schema `name` (or its `$defs` at `pointer`); empty when it fits. Errors
 * inside a failed `anyOf`/`oneOf` branch are folded into one violation for the whole alternative.
 */
export function schemaViolations(name: SchemaName, data: unknown, pointer = ""): SchemaViolation[] {
  const validate = validator(name, pointer);
  if (validate(data)) return [];
  return renderErrors(data, validate.errors ?? []);
}

/**
 * A validator for a schema kept elsewhere (e.g. a harness's own file format), compiled once in
 * strict mode, whose violations read as this folder's do. With `firstOnly`, validation stops at the
 * first violation: a large file broken everywhere is refused quickly, without collecting every fault.
 */
export function violationsAgainst(
  schema: Readonly<Record<string, unknown>>,
  options: { readonly firstOnly?: boolean } = {},
): (data: unknown) => SchemaViolation[] {
  const ajv = options.firstOnly ? new Ajv2020({ strict: true, allErrors: false, verbose: true }) : strictAjv();
  const validate = ajv.compile(schema);
  return (data) => validate(data) ? [] : renderErrors(data, validate.errors ?? []);
}

/** The violations of a vectors file (parsed JSON) against `golden_vectors.schema.json`. */
export function goldenVectorsViolations(data: unknown): SchemaViolation[] {
  return schemaViolations("golden_vectors", data);
}

/** The violations of a request (parsed JSON) against `conformance_request.schema.json`. */
export function conformanceRequestViolations(data: unknown): SchemaViolation[] {
  return schemaViolations("conformance_request", data);
}

/**
 * The violations of an answer (parsed JSON) against `conformance_answer.schema.json`: for a request
 * of `op`, its `$defs/forwardAnswer` or `$defs/gradientAnswer`; without `op`, the root (any answer).
 */
export function conformanceAnswerViolations(data: unknown, op?: "forward" | "gradient"): SchemaViolation[] {
  const pointer = op === undefined ? "" : `#/$defs/${op}Answer`;
  return schemaViolations("conformance_answer", data, pointer);
}

/** An ajv error with `verbose: true`: its schema, the schema holding the keyword, and the data. */
type VerboseError = ErrorObject & { schema?: unknown; parentSchema?: Record<string, unknown>; data?: unknown };

/**
 * The schema paths under which a keyword's subschemas (`anyOf` branches, an `if`'s `then`/`else`)
 * report their errors: below the keyword's own path, or, for a branch that is a `$ref`, below the
 * referenced schema's path (ajv reports errors of a referenced schema at that schema's path).
 */
function branchPrefixes(keywordPath: string, branches: unknown[]): string[] {
  const prefixes = [`${keywordPath}/`];
  for (const b of branches) {
    const ref = typeof b === "object" && b !== null ? (b as { $ref?: unknown }).$ref : undefined;
    if (typeof ref === "string") prefixes.push(`${ref}/`);
  }
  return prefixes;
}

/** Whether error `e` lies inside the subschemas of keyword error `outer` (same value or below it). */
function inside(e: ErrorObject, outer: ErrorObject, prefixes: string[]): boolean {
  const below = e.instancePath === outer.instancePath || e.instancePath.startsWith(`${outer.instancePath}/`);
  return e !== outer && below && prefixes.some((p) => e.schemaPath.startsWith(p));
}

/** Renders ajv's errors: alternatives folded, `if` summaries dropped (their branches' errors say it), no duplicates. */
function renderErrors(root: unknown, errors: readonly ErrorObject[]): SchemaViolation[] {
  const all = errors as readonly VerboseError[];
  const folded = new Set<ErrorObject>();
  // A failed anyOf/oneOf reports every branch's errors before its own: keep only its own, which says what fits.
  for (const e of all) {
    if (e.keyword !== "anyOf" && e.keyword !== "oneOf") continue;
    const prefixes = branchPrefixes(e.schemaPath, Array.isArray(e.schema) ? e.schema : []);
    for (const f of all) if (inside(f, e, prefixes)) folded.add(f);
  }
  // The reason an if/then/else branch applies, e.g. "a forward request carries no dy", for that branch's errors.
  const because = new Map<ErrorObject, string>();
  for (const e of all) {
    if (e.keyword !== "if") continue;
    const failing = String((e.params as { failingKeyword?: unknown }).failingKeyword);
    const branch = e.parentSchema?.[failing];
    const reason = firstSentence(branch);
    if (reason === undefined) continue;
    const prefixes = branchPrefixes(e.schemaPath.replace(/\/if$/, `/${failing}`), [branch]);
    for (const f of all) if (inside(f, e, prefixes) && !because.has(f)) because.set(f, reason);
  }
  const out: SchemaViolation[] = [];
  const seen = new Set<string>();
  for (const e of all) {
    if (folded.has(e) || e.keyword === "if") continue;
    const v = renderError(root, e);
    const reason = because.get(e);
    const full = reason === undefined || v.expected.includes(reason)
      ? v
      : { ...v, expected: `${v.expected} (${reason})` };
    const key = formatViolation(full);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(full);
    }
  }
  return out;
}

/** One ajv error as a violation. */
function renderError(root: unknown, e: VerboseError): SchemaViolation {
  const at = jsonPath(root, e.instancePath);
  const p = e.params as Record<string, unknown>;
  const parent = e.parentSchema ?? {};
  const received = brief(e.data);
  switch (e.keyword) {
    case "required":
    case "dependentRequired": {
      const field = String(p.missingProperty);
      const when = e.keyword === "dependentRequired" ? ` too, since ${JSON.stringify(p.property)} is present` : "";
      return {
        path: childPath(at, field),
        expected: `a field ${JSON.stringify(field)}${when}`,
        received: "nothing: the field is missing",
      };
    }
    case "additionalProperties": {
      const field = String(p.additionalProperty);
      const known = Object.keys((parent.properties ?? {}) as Record<string, unknown>);
      const value = (e.data as Record<string, unknown> | undefined)?.[field];
      return {
        path: childPath(at, field),
        expected: `no field ${JSON.stringify(field)} (the fields are ${
          known.map((k) => JSON.stringify(k)).join(", ")
        })`,
        received: brief(value),
      };
    }
    case "false schema":
      return { path: at, expected: "no such field here", received };
    case "type":
      return { path: at, expected: typeWords(p.type), received: `${received} (${typeOf(e.data)})` };
    case "enum":
      return { path: at, expected: `one of ${(p.allowedValues as unknown[]).map(brief).join(", ")}`, received };
    case "const":
      return { path: at, expected: brief(p.allowedValue), received };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { path: at, expected: rangeWords(parent, p), received };
    case "minItems":
    case "maxItems":
      return {
        path: at,
        expected: parent.minItems === parent.maxItems
          ? `an array of exactly ${parent.minItems} items`
          : `an array of ${e.keyword === "minItems" ? "at least" : "at most"} ${p.limit} items`,
        received: `${Array.isArray(e.data) ? e.data.length : "?"} items: ${received}`,
      };
    case "minLength":
      return {
        path: at,
        expected: p.limit === 1 ? "a non-empty string" : `a string of at least ${p.limit} characters`,
        received,
      };
    case "pattern":
      return { path: at, expected: `a string matching /${p.pattern}/`, received };
    case "anyOf":
    case "oneOf":
      return {
        path: at,
        expected: firstSentence(parent) ?? `a value that fits ${e.keyword === "anyOf" ? "one" : "exactly one"} of ` +
            `the alternatives at ${e.schemaPath}`,
        received,
      };
    default:
      return { path: at, expected: `a value that passes "${e.keyword}" (ajv: ${e.message})`, received };
  }
}

/** The first sentence of a schema's description (without its final period), or undefined. */
function firstSentence(schema: unknown): string | undefined {
  const d = typeof schema === "object" && schema !== null ? (schema as { description?: unknown }).description : null;
  if (typeof d !== "string" || d.length === 0) return undefined;
  const sentence = d.split(/(?<=\.)\s/)[0].replace(/\.$/, "");
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

/** "an integer in 1..16", "an integer >= 0", "a number <= 4". */
function rangeWords(schema: Record<string, unknown>, p: Record<string, unknown>): string {
  const what = schema.type === "integer" ? "an integer" : "a number";
  const { minimum, maximum } = schema;
  if (typeof minimum === "number" && typeof maximum === "number") return `${what} in ${minimum}..${maximum}`;
  return `${what} ${p.comparison} ${p.limit}`;
}

/** "a string", "an integer", "an array or null" for ajv's `type` parameter. */
function typeWords(type: unknown): string {
  const article = (t: string) => (t === "null" ? "null" : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
  return String(type).split(",").map(article).join(" or ");
}

/** The JSON type of a value, in words. */
function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a number";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** A value as JSON, shortened to about 80 characters. */
function brief(v: unknown): string {
  if (v === undefined) return "nothing";
  // JSON has no Infinity or NaN (a literal like 1e999 parses to Infinity): show them as they are.
  const s = typeof v === "number" && !Number.isFinite(v) ? String(v) : JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** `base.key`, or `base["key"]` when the key is not an identifier. */
function childPath(base: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/**
 * A JSON pointer (ajv's `instancePath`, e.g. `/cases/3/x/5`) as a JSON path (`$.cases[3].x[5]`),
 * walking `root` to tell array indices from object keys that happen to be digits.
 */
export function jsonPath(root: unknown, pointer: string): string {
  let path = "$";
  let node: unknown = root;
  if (pointer === "") return path;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      path += `[${key}]`;
      node = node[Number(key)];
    } else {
      path = childPath(path, key);
      node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}
