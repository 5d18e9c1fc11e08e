/**
 * Generates `src/webgpu/kernel_sources.ts`: the text of every `kernels/*.wgsl` file as a module, so
 * the library reaches its kernels through imports (which work from a registry, an https URL, a
 * `file:` URL and a bundle) instead of reading files. The `.wgsl` files stay the sources a porter
 * reads and edits; `deno task kernels` regenerates the module after an edit, and
 * build/kernels.test.ts fails while the module differs from a fresh generation.
 *
 * @module
 */

/** Path of the generated module, relative to the project root. */
export const KERNEL_MODULE_PATH = "src/webgpu/kernel_sources.ts";

/** First line of the generated module. */
export const GENERATED_HEADER = "// generated from kernels/*.wgsl by build/kernels.ts (deno task kernels); do not edit";

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
    " * through this module (no file reads); edit the `.wgsl` files and regenerate.",
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

/** Reads every `*.wgsl` file of `root`'s `kernels/` folder (file name -> text). */
export async function readKernelFiles(root: string | URL): Promise<Record<string, string>> {
  const dir = new URL("kernels/", toDirUrl(root));
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".wgsl")) out[e.name] = await Deno.readTextFile(new URL(e.name, dir));
  }
  return out;
}

/** The module a fresh generation from `root`'s `kernels/` gives. */
export async function generateKernelModule(root: string | URL): Promise<string> {
  return renderKernelModule(await readKernelFiles(root));
}

/**
 * Regenerates `root`'s `src/webgpu/kernel_sources.ts` from its `kernels/` folder (for example in a
 * copy of the tree whose kernels were rewritten). Returns true when the file changed.
 */
export async function writeKernelModule(root: string | URL): Promise<boolean> {
  const target = new URL(KERNEL_MODULE_PATH, toDirUrl(root));
  const text = await generateKernelModule(root);
  const current = await Deno.readTextFile(target).catch(() => null);
  if (current === text) return false;
  await Deno.writeTextFile(target, text);
  return true;
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
      `usage: deno task kernels\n\nRegenerates ${KERNEL_MODULE_PATH} from kernels/*.wgsl (takes no flags)` +
        (help ? "" : `; received ${Deno.args.map((a) => JSON.stringify(a)).join(" ")}`),
    );
    Deno.exit(help ? 0 : 2);
  }
  const changed = await writeKernelModule(PROJECT_ROOT);
  console.log(`${KERNEL_MODULE_PATH}: ${changed ? "regenerated" : "up to date"}`);
}
