/**
 * Source transforms that make a WGSL compute shader deliberately slower, for the gate's
 * self-test (`deno task gate --self-test`) and its sensitivity measurements. Both keep the
 * shader's output unchanged and need no knowledge of the shader beyond its entry point.
 *
 * {@link runEntryPointTwice}: the entry point's whole body runs twice, about twice the time on
 * any device (the self-test's default). The original entry point becomes an ordinary function; a
 * new entry point of the same name and signature calls it twice. The second call gets its first
 * `vec3<u32>` id builtin (invocation or workgroup id) plus an offset that is always 0 at run time
 * but that no compiler can prove to be 0: `num_workgroups.x == 0u` is false whenever an invocation
 * runs at all (a dispatch of zero workgroups runs none), yet it is a run-time value. So neither
 * the work nor the stores of either call can be merged away: both results stay live, the work
 * doubles, and the output is unchanged (the second call recomputes and rewrites the same values).
 *
 * {@link addIdWork}: every invocation first runs `iterations` steps of an integer hash of its id
 * and adds an opaque zero derived from the hash to the id the body sees; the body itself is left
 * as it was. The extra time grows with `iterations` (on the CPU adapters here about 1.2x at 16
 * steps on the forward kernels, 2x at 64), which gives slowdowns of chosen size. A fraction of
 * workgroups running the body twice would not: on Mesa's llvmpipe an `if` costs its body's time
 * whether taken or not, so any conditional copy of the body slows every workgroup by about 1.5x.
 *
 * @module
 */

/** Where the entry point sits in the source. */
interface EntryPoint {
  /** Index where the attribute list (`@compute ...`) starts. */
  readonly start: number;
  /** Index of the body's opening brace. */
  readonly bodyOpen: number;
  /** Function name. */
  readonly name: string;
  /** Attributes before `fn` (`@compute @workgroup_size(...)`). */
  readonly attributes: string;
  /** Parameter list text between the parentheses, attributes included. */
  readonly params: string;
  /** Return type text (`-> T`), usually empty. */
  readonly returns: string;
}

/** Index just past the bracket matching the one at `open`. */
function matchingClose(source: string, open: number, opening: string, closing: string): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === opening) depth++;
    else if (source[i] === closing && --depth === 0) return i + 1;
  }
  throw new Error(`slowdown: unbalanced "${opening}" at offset ${open}`);
}

/** Removes `// ...` and `/* ... *\/` comments, keeping offsets (comments become spaces). */
function blankComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, " "));
}

/** Finds the single `@compute` entry point. */
export function findComputeEntryPoint(source: string): EntryPoint {
  const code = blankComments(source);
  const starts = [...code.matchAll(/@compute\b/g)].map((m) => m.index!);
  if (starts.length !== 1) {
    throw new Error(`slowdown: expected exactly one @compute entry point, found ${starts.length}`);
  }
  const start = starts[0];
  const fnMatch = /\bfn\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;
  fnMatch.lastIndex = start;
  const m = fnMatch.exec(code);
  if (!m) throw new Error("slowdown: no `fn` after @compute");
  const paramsOpen = m.index + m[0].length - 1;
  const paramsClose = matchingClose(code, paramsOpen, "(", ")");
  const bodyOpen = code.indexOf("{", paramsClose);
  if (bodyOpen < 0) throw new Error(`slowdown: no body after fn ${m[1]}`);
  return {
    start,
    bodyOpen,
    name: m[1],
    attributes: source.slice(start, m.index).trim(),
    params: source.slice(paramsOpen + 1, paramsClose - 1),
    returns: source.slice(paramsClose, bodyOpen).trim(),
  };
}

/** One parameter: its attributes, name and type. */
interface Param {
  readonly attributes: string;
  readonly name: string;
  readonly type: string;
}

/** Splits a parameter list at top-level commas. */
function parseParams(params: string): Param[] {
  const parts: string[] = [];
  let depth = 0, from = 0;
  for (let i = 0; i < params.length; i++) {
    const ch = params[i];
    if (ch === "(" || ch === "<") depth++;
    else if (ch === ")" || ch === ">") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(params.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(params.slice(from));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0).map((p) => {
    const m = /^((?:@[A-Za-z_]+(?:\([^)]*\))?\s*)*)([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([\s\S]+)$/.exec(p);
    if (!m) throw new Error(`slowdown: cannot parse parameter "${p}"`);
    return { attributes: m[1].trim(), name: m[2], type: m[3].trim() };
  });
}

/** What both transforms need to know about an entry point. */
interface Analysed {
  readonly entry: EntryPoint;
  readonly params: Param[];
  /** Index of the parameter whose value gets the opaque zero offset. */
  readonly perturbed: number;
  /** Name of the `num_workgroups` builtin (the entry point's own, or the one a transform adds). */
  readonly groupsName: string;
  /** The `num_workgroups` parameter to add, when the entry point has none. */
  readonly addedParams: string[];
}

/** Finds the entry point, its parameters, the id to offset and the workgroup-count builtin. */
function analyse(source: string): Analysed {
  const entry = findComputeEntryPoint(source);
  if (entry.returns) throw new Error(`slowdown: entry point ${entry.name} returns a value (${entry.returns})`);
  const params = parseParams(entry.params);
  // Offset an id (invocation or workgroup), not the workgroup count, when there is one.
  const vec3u = (p: Param) => /^vec3\s*<\s*u32\s*>$|^vec3u$/.test(p.type);
  const isCount = (p: Param) => /@builtin\(\s*num_workgroups\s*\)/.test(p.attributes);
  const idIndex = params.findIndex((p) => vec3u(p) && !isCount(p));
  const perturbed = idIndex >= 0 ? idIndex : params.findIndex(vec3u);
  if (perturbed < 0) throw new Error(`slowdown: entry point ${entry.name} has no vec3<u32> builtin to offset`);
  const groups = params.find(isCount);
  const groupsName = groups?.name ?? "slowdown_num_workgroups";
  return {
    entry,
    params,
    perturbed,
    groupsName,
    addedParams: groups ? [] : [`@builtin(num_workgroups) ${groupsName}: vec3<u32>`],
  };
}

/**
 * Returns `source` with its compute entry point's body run twice (see the module documentation).
 * Throws when the source has not exactly one `@compute` entry point, the entry point returns a
 * value, or it has no `vec3<u32>` builtin to offset.
 */
export function runEntryPointTwice(source: string): string {
  const { entry, params, perturbed, groupsName, addedParams } = analyse(source);
  const wrapperParams = [...params.map((p) => `${p.attributes} ${p.name}: ${p.type}`.trim()), ...addedParams].join(
    ", ",
  );
  const opaqueZero = `select(0u, 1u, ${groupsName}.x == 0u)`;
  const body = `${entry.name}_body_once`;
  const plain = params.map((p) => `${p.name}: ${p.type}`).join(", ");
  const first = params.map((p) => p.name).join(", ");
  const second = params.map((p, i) => i === perturbed ? `${p.name} + vec3<u32>(${opaqueZero}, 0u, 0u)` : p.name)
    .join(", ");
  const wrapper = [
    "",
    "// Self-test slowdown (gate/slowdown.ts): the original entry point, run twice. The second",
    "// call's id offset is 0 at run time but unknown to the compiler, so both calls stay.",
    `${entry.attributes}`,
    `fn ${entry.name}(${wrapperParams}) {`,
    `  ${body}(${first});`,
    `  ${body}(${second});`,
    "}",
    "",
  ].join("\n");
  return source.slice(0, entry.start) + `fn ${body}(${plain}) ` + source.slice(entry.bodyOpen) + wrapper;
}

/**
 * Returns `source` with `iterations` steps of an integer hash of the entry point's first
 * `vec3<u32>` id builtin run before its body, whose result feeds an opaque zero offset of that id
 * (see the module documentation). The body is unchanged. Throws like {@link runEntryPointTwice}, and
 * a RangeError when `iterations` is not a positive integer.
 */
export function addIdWork(source: string, iterations: number): string {
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new RangeError(`addIdWork: iterations: expected a positive integer, received ${iterations}`);
  }
  const { entry, params, perturbed, groupsName, addedParams } = analyse(source);
  const id = params[perturbed];
  const input = `slowdown_${id.name}_in`;
  const signature = [
    ...params.map((p, i) => `${p.attributes} ${i === perturbed ? input : p.name}: ${p.type}`.trim()),
    ...addedParams,
  ].join(", ");
  // The count's value is read before the offset id is bound (it may be the offset parameter itself).
  const count = groupsName === id.name ? input : groupsName;
  const bodyClose = matchingClose(blankComments(source), entry.bodyOpen, "{", "}");
  const head = [
    entry.attributes,
    `fn ${entry.name}(${signature}) {`,
    `  // Self-test slowdown (gate/slowdown.ts): ${iterations} hash steps whose result is an opaque 0 added to ${id.name}.`,
    `  var slowdown_hash = ${input}.x;`,
    `  for (var slowdown_step = 0u; slowdown_step < ${iterations}u; slowdown_step++) {`,
    "    slowdown_hash = (slowdown_hash ^ (slowdown_hash >> 13u)) * 1664525u + 1013904223u;",
    "  }",
    `  let ${id.name} = ${input} + vec3<u32>(select(0u, 1u, slowdown_hash == 7u && ${count}.x == 0u), 0u, 0u);`,
  ].join("\n");
  return source.slice(0, entry.start) + head + source.slice(entry.bodyOpen + 1, bodyClose) + source.slice(bodyClose);
}
