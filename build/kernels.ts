/**
 * Generates the kernels: every `kernels/*.wgsl` file from the hand-written sources in
 * `kernels/source/`, then `src/webgpu/kernel_sources.ts`, the text of those files as a module, so
 * the library reaches its kernels through imports (which work from a registry, an https URL, a
 * `file:` URL and a bundle) instead of reading files.
 *
 * A kernel is written once, in `kernels/source/NAME.wgsl`, with its variants (the lane width,
 * which Params layout) as parameters, and the pieces several kernels share (Params layouts, sort
 * keys, the exact division, ...) in `kernels/source/shared/`. A small line-based preprocessor,
 * described in kernels/README.md, expands them:
 *
 * - `#output FILE name=value ...` (kernel sources only, before any text): generate `kernels/FILE`
 *   with these parameters; one line per generated file.
 * - `#include "PATH" name=value ...`: the text of `kernels/source/PATH`, expanded with the
 *   includer's parameters plus these, each line indented by the directive's indentation.
 * - `#if NAME == VALUE` (or `!=`), `#elif ...`, `#else`, `#endif`: keep lines conditionally; they nest.
 * - `//[NAME == VALUE] text` (or `!=`): the comment line `// text` where the condition holds, for
 *   prose that differs between variants.
 * - `{{NAME}}` in a text line: the parameter's value.
 * - `## ...`: a note for the source's reader, left out of the output.
 *
 * Every name must be a parameter of the expansion, and a directive that is not one of these is an
 * error, so a typo fails the generation instead of changing a kernel. `deno task kernels` writes
 * the `.wgsl` files and the module; build/kernels.test.ts fails while either differs from a fresh
 * generation. The generated `.wgsl` files stay the standalone files a porter reads.
 *
 * @module
 */

/** Path of the generated module, relative to the project root. */
export const KERNEL_MODULE_PATH = "src/webgpu/kernel_sources.ts";

/** Folder of the hand-written kernel sources, relative to the project root. */
export const KERNEL_SOURCE_DIR = "kernels/source/";

/** First line of the generated module. */
export const GENERATED_HEADER = "// generated from kernels/*.wgsl by build/kernels.ts (deno task kernels); do not edit";

/** Parameters of one expansion: name -> value. */
export type KernelParams = Readonly<Record<string, string>>;

/** One `#output` line of a kernel source: a generated file and the parameters it is expanded with. */
export interface KernelOutput {
  /** File name in `kernels/`. */
  readonly file: string;
  /** The kernel source, relative to {@link KERNEL_SOURCE_DIR}. */
  readonly source: string;
  /** Parameter values, in the order the `#output` line gives them. */
  readonly params: KernelParams;
}

/** Reads a source file by its path relative to {@link KERNEL_SOURCE_DIR}; throws when it is missing. */
export type SourceReader = (path: string) => string;

/** A generation error, with the source file and line it comes from. */
export class KernelSourceError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = "KernelSourceError";
  }
}

/**
 * First line of a generated `.wgsl` file: which source and parameters it comes from, e.g.
 * `// generated from kernels/source/forward.wgsl (lanes = 4) by build/kernels.ts (deno task kernels); do not edit`.
 */
export function generatedFileHeader(output: KernelOutput): string {
  const params = Object.entries(output.params).map(([name, value]) => `${name} = ${value}`).join(", ");
  return `// generated from ${KERNEL_SOURCE_DIR}${output.source}${params ? ` (${params})` : ""}` +
    " by build/kernels.ts (deno task kernels); do not edit";
}

// ---- the preprocessor ----

const DIRECTIVE = /^(\s*)#(\w*)\s*(.*)$/;
const CONDITIONAL_COMMENT = /^(\s*)\/\/\[([^\]]*)\](.*)$/;
const PARAM = /^(\w+)=(?:"([^"]*)"|([^\s"]+))(?:\s+|$)/;
const CONDITION = /^(\w+)\s*(==|!=)\s*(\S+)$/;
const SUBSTITUTION = /\{\{\s*(\w+)\s*\}\}/g;
const OUTPUT_FILE = /^[a-z0-9_]+\.wgsl$/;

/** A file's lines, without the empty string a final newline leaves. */
function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** `name=value` / `name="a value"` pairs, in order; throws on anything else. */
function parseParams(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text.trim();
  while (rest !== "") {
    const m = PARAM.exec(rest);
    if (!m) throw new KernelSourceError(where, `expected name=value or name="value", received ${JSON.stringify(rest)}`);
    if (m[1] in out) throw new KernelSourceError(where, `parameter ${m[1]} given twice`);
    out[m[1]] = m[2] ?? m[3];
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** The value of parameter `name`; throws when the expansion has no such parameter. */
function paramValue(params: KernelParams, name: string, where: string): string {
  if (!Object.hasOwn(params, name)) {
    const known = Object.keys(params).join(", ") || "none";
    throw new KernelSourceError(where, `no parameter "${name}" here (parameters: ${known})`);
  }
  return params[name];
}

function evaluate(condition: string, params: KernelParams, where: string): boolean {
  const m = CONDITION.exec(condition.trim());
  if (!m) throw new KernelSourceError(where, `expected NAME == VALUE or NAME != VALUE, received "${condition}"`);
  const equal = paramValue(params, m[1], where) === m[3];
  return m[2] === "==" ? equal : !equal;
}

function substitute(line: string, params: KernelParams, where: string): string {
  const out = line.replace(SUBSTITUTION, (_, name: string) => paramValue(params, name, where));
  if (out.includes("{{")) {
    throw new KernelSourceError(where, `unclosed or malformed {{NAME}} in ${JSON.stringify(line.trim())}`);
  }
  return out;
}

/** One open `#if`: whether the text around it is kept, whether a branch was taken, whether the current one is. */
interface Conditional {
  readonly outer: boolean;
  taken: boolean;
  active: boolean;
  sawElse: boolean;
  readonly where: string;
}

/** Where an `#include` was expanded from: the file, and the directive's place. */
interface Includer {
  readonly path: string;
  readonly where: string;
}

/** The parameters of an included file: its includer's, plus the directive's (which may not redefine one). */
function withParams(params: KernelParams, extra: KernelParams, where: string): KernelParams {
  for (const name of Object.keys(extra)) {
    if (Object.hasOwn(params, name)) {
      throw new KernelSourceError(where, `parameter ${name} already has the value "${params[name]}" here`);
    }
  }
  return { ...params, ...extra };
}

/**
 * The path of an `#include`, relative to {@link KERNEL_SOURCE_DIR}, with `.` and `..` segments
 * resolved; throws when it is absolute, a URL, or leads out of that folder.
 */
function includePath(path: string, where: string): string {
  const escapes = () =>
    new KernelSourceError(where, `#include "${path}": the path must stay inside ${KERNEL_SOURCE_DIR}`);
  if (path.startsWith("/") || path.includes("\\") || /^[a-z][a-z0-9+.-]*:/i.test(path)) throw escapes();
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "..") {
      if (segments.pop() === undefined) throw escapes();
    } else if (segment !== "." && segment !== "") segments.push(segment);
  }
  if (segments.length === 0) throw new KernelSourceError(where, `#include "${path}": not a file`);
  return segments.join("/");
}

/** `path`'s expanded lines (directives applied), for `params`; `stack` holds its includers. */
function expandFile(path: string, params: KernelParams, read: SourceReader, stack: readonly Includer[]): string[] {
  if (stack.some((s) => s.path === path)) {
    const chain = [...stack.map((s) => s.path), path].join(" -> ");
    throw new KernelSourceError(stack.at(-1)!.where, `#include cycle: ${chain}`);
  }
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    // A missing include names the directive that asked for it, not only the file.
    const includer = stack.at(-1);
    if (!includer) throw e;
    throw new KernelSourceError(includer.where, `#include "${path}": ${e instanceof Error ? e.message : String(e)}`);
  }
  const out: string[] = [];
  const open: Conditional[] = [];
  const kept = () => open.every((c) => c.active);
  linesOf(text).forEach((line, i) => {
    const where = `${KERNEL_SOURCE_DIR}${path}:${i + 1}`;
    const comment = CONDITIONAL_COMMENT.exec(line);
    if (comment) {
      const [, indent, condition, text] = comment;
      if (evaluate(condition, params, where) && kept()) out.push(substitute(`${indent}//${text}`, params, where));
      return;
    }
    const m = DIRECTIVE.exec(line);
    if (!m) {
      if (kept()) out.push(substitute(line, params, where));
      return;
    }
    const [, indent, name, rest] = m;
    if (name === "" && rest.startsWith("#")) return; // `## a note` for the source's reader
    const noArgument = () => {
      if (rest !== "") throw new KernelSourceError(where, `#${name} takes nothing after it, received "${rest}"`);
    };
    switch (name) {
      case "if": {
        const outer = kept();
        const holds = evaluate(rest, params, where);
        open.push({ outer, taken: outer && holds, active: outer && holds, sawElse: false, where });
        return;
      }
      case "elif":
      case "else": {
        const top = open.at(-1);
        if (!top || top.sawElse) throw new KernelSourceError(where, `#${name} without an open #if (or after #else)`);
        let holds = true;
        if (name === "elif") holds = evaluate(rest, params, where);
        else noArgument();
        top.active = top.outer && !top.taken && holds;
        top.taken ||= top.active;
        top.sawElse = name === "else";
        return;
      }
      case "endif":
        noArgument();
        if (!open.pop()) throw new KernelSourceError(where, "#endif without an open #if");
        return;
      case "include": {
        const inc = /^"([^"]+)"(\s.*)?$/.exec(rest);
        if (!inc) throw new KernelSourceError(where, `expected #include "PATH" name=value ..., received "${rest}"`);
        const extra = parseParams(inc[2] ?? "", where);
        if (!kept()) return;
        const file = includePath(inc[1], where);
        const included = expandFile(file, withParams(params, extra, where), read, [...stack, { path, where }]);
        out.push(...included.map((l) => (l === "" ? l : indent + l)));
        return;
      }
      case "output":
        if (stack.length > 0) {
          throw new KernelSourceError(where, "#output belongs in a kernel source, not an included file");
        }
        return; // read by outputsOf
      default:
        throw new KernelSourceError(
          where,
          `unknown directive "#${name}" (known: include, if, elif, else, endif, output, ##)`,
        );
    }
  });
  const unclosed = open.at(-1);
  if (unclosed) throw new KernelSourceError(unclosed.where, "#if without #endif");
  return out;
}

/** The `#output` lines of kernel source `path` (text before them may only be `##` notes). */
export function outputsOf(path: string, read: SourceReader): KernelOutput[] {
  const outputs: KernelOutput[] = [];
  let text = false;
  linesOf(read(path)).forEach((line, i) => {
    const where = `${KERNEL_SOURCE_DIR}${path}:${i + 1}`;
    const m = /^#output\s+(\S+)(.*)$/.exec(line);
    if (!m) {
      if (!/^\s*##/.test(line)) text = true;
      if (/^\s*#output\b/.test(line)) throw new KernelSourceError(where, `expected #output FILE name=value ...`);
      return;
    }
    if (text) throw new KernelSourceError(where, "#output lines come first (after ## notes only)");
    if (!OUTPUT_FILE.test(m[1])) {
      throw new KernelSourceError(where, `output file: expected NAME.wgsl, received "${m[1]}"`);
    }
    outputs.push({ file: m[1], source: path, params: parseParams(m[2], where) });
  });
  return outputs;
}

/**
 * The text of generated file `output`: its header line, then its source expanded with its
 * parameters.
 */
export function renderKernelFile(output: KernelOutput, read: SourceReader): string {
  const lines = expandFile(output.source, output.params, read, []);
  return [generatedFileHeader(output), ...lines].join("\n") + "\n";
}

/**
 * Every generated file (file name -> text) of the kernel sources `sources` (paths relative to
 * {@link KERNEL_SOURCE_DIR}, each with at least one `#output`), in file-name order.
 */
export function renderKernelFiles(sources: readonly string[], read: SourceReader): Record<string, string> {
  const outputs = sources.flatMap((source) => {
    const found = outputsOf(source, read);
    if (found.length === 0) throw new KernelSourceError(`${KERNEL_SOURCE_DIR}${source}`, "no #output line");
    return found;
  });
  const files: Record<string, string> = {};
  for (const output of outputs.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    if (output.file in files) {
      throw new KernelSourceError(`${KERNEL_SOURCE_DIR}${output.source}`, `${output.file} is generated twice`);
    }
    files[output.file] = renderKernelFile(output, read);
  }
  return files;
}

// ---- files ----

/** The kernel sources of `root`: the `*.wgsl` files directly in `kernels/source/` (not `shared/`). */
export async function listKernelSources(root: string | URL): Promise<string[]> {
  const dir = new URL(KERNEL_SOURCE_DIR, toDirUrl(root));
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".wgsl")) names.push(e.name);
  }
  return names.sort();
}

/** A {@link SourceReader} over `root`'s `kernels/source/`. */
export function sourceReader(root: string | URL): SourceReader {
  const dir = new URL(KERNEL_SOURCE_DIR, toDirUrl(root));
  return (path) => {
    const url = new URL(path, dir);
    if (!url.href.startsWith(dir.href)) {
      throw new KernelSourceError(`${KERNEL_SOURCE_DIR}${path}`, `outside ${KERNEL_SOURCE_DIR}`);
    }
    try {
      return Deno.readTextFileSync(url);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new KernelSourceError(`${KERNEL_SOURCE_DIR}${path}`, "no such file");
      throw e;
    }
  };
}

/** The `kernels/*.wgsl` files (file name -> text) a fresh generation from `root`'s sources gives. */
export async function generateKernelFiles(root: string | URL): Promise<Record<string, string>> {
  return renderKernelFiles(await listKernelSources(root), sourceReader(root));
}

/** A WGSL text as a template literal whose value is exactly `text`. */
function templateLiteral(text: string): string {
  return "`" + text.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${") + "`";
}

/**
 * One property of the object literal, laid out as `deno fmt` lays it out (line width 120): the
 * literal on the key's line when its first line fits there, else on the next line.
 */
function property(key: string, literal: string): string {
  const sameLine = `  ${key}: ${literal},`;
  return sameLine.split("\n", 1)[0].length <= LINE_WIDTH ? sameLine : `  ${key}:\n    ${literal},`;
}

/** deno.json's fmt.lineWidth. */
const LINE_WIDTH = 120;

/**
 * The generated module's text for `files` (file name -> WGSL text), in file-name order so the
 * output does not depend on the directory listing's order.
 */
export function renderKernelModule(files: Readonly<Record<string, string>>): string {
  const names = Object.keys(files).sort();
  const lines = [
    GENERATED_HEADER,
    "/**",
    " * The WGSL text of every file in `kernels/`, by file name. The library's kernels reach it",
    " * through this module (no file reads); edit the sources in `kernels/source/` and regenerate.",
    " *",
    " * @module",
    " */",
    "",
    "/** WGSL text of each `kernels/*.wgsl` file, keyed by its file name. */",
    "export const KERNEL_FILE_TEXT: Readonly<Record<string, string>> = {",
    ...names.map((name) => property(JSON.stringify(name), templateLiteral(files[name]))),
    "};",
    "",
  ];
  return lines.join("\n");
}

/** Reads every `*.wgsl` file of `root`'s `kernels/` folder as it is on disk (file name -> text). */
export async function readKernelFiles(root: string | URL): Promise<Record<string, string>> {
  const dir = new URL("kernels/", toDirUrl(root));
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".wgsl")) out[e.name] = await Deno.readTextFile(new URL(e.name, dir));
  }
  return out;
}

/**
 * The module a generation from `root`'s `kernels/*.wgsl` files as they are on disk gives (the
 * gate's slowed trees rewrite those files and take their module from here).
 */
export async function generateKernelModule(root: string | URL): Promise<string> {
  return renderKernelModule(await readKernelFiles(root));
}

async function writeIfChanged(target: URL, text: string): Promise<boolean> {
  const current = await Deno.readTextFile(target).catch(() => null);
  if (current === text) return false;
  await Deno.writeTextFile(target, text);
  return true;
}

/**
 * Regenerates `root`'s `src/webgpu/kernel_sources.ts` from its `kernels/*.wgsl` files as they are
 * (for example in a copy of the tree whose kernels were rewritten). Returns true when the file
 * changed.
 */
export async function writeKernelModule(root: string | URL): Promise<boolean> {
  return writeIfChanged(new URL(KERNEL_MODULE_PATH, toDirUrl(root)), await generateKernelModule(root));
}

/**
 * What `deno task kernels` does: regenerates `root`'s `kernels/*.wgsl` from `kernels/source/`,
 * then `src/webgpu/kernel_sources.ts` from them. Throws, writing nothing, when `kernels/` holds a
 * `.wgsl` file that no source generates (a hand-written or renamed kernel: give it a source, or
 * delete it). Returns the paths (relative to `root`) that changed.
 */
export async function writeKernels(root: string | URL): Promise<string[]> {
  const base = toDirUrl(root);
  const files = await generateKernelFiles(root);
  const orphans = Object.keys(await readKernelFiles(root)).filter((name) => !(name in files));
  if (orphans.length > 0) {
    throw new Error(
      `kernels/${orphans.join(", kernels/")}: generated by no source in ${KERNEL_SOURCE_DIR} ` +
        "(add an #output line to a source, or delete the file)",
    );
  }
  const changed: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    if (await writeIfChanged(new URL(`kernels/${name}`, base), text)) changed.push(`kernels/${name}`);
  }
  if (await writeIfChanged(new URL(KERNEL_MODULE_PATH, base), renderKernelModule(files))) {
    changed.push(KERNEL_MODULE_PATH);
  }
  return changed;
}

function toDirUrl(root: string | URL): URL {
  if (root instanceof URL) return root.href.endsWith("/") ? root : new URL(`${root.href}/`);
  const abs = root.startsWith("/") ? root : `${Deno.cwd()}/${root}`;
  return new URL(`file://${abs.endsWith("/") ? abs : `${abs}/`}`);
}

/** The project root (this file's parent folder's parent). */
export const PROJECT_ROOT: URL = new URL("../", import.meta.url);

if (import.meta.main) {
  if (Deno.args.length > 0) {
    const help = Deno.args.every((a) => a === "-h" || a === "--help");
    (help ? console.log : console.error)(
      `usage: deno task kernels\n\nRegenerates kernels/*.wgsl from ${KERNEL_SOURCE_DIR} (kernels/README.md), then ` +
        `${KERNEL_MODULE_PATH} from them (takes no flags)` +
        (help ? "" : `; received ${Deno.args.map((a) => JSON.stringify(a)).join(" ")}`),
    );
    Deno.exit(help ? 0 : 2);
  }
  const changed = await writeKernels(PROJECT_ROOT);
  console.log(changed.length === 0 ? "kernels: up to date" : `regenerated: ${changed.join(", ")}`);
}
