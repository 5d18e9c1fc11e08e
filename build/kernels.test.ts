/**
 * The generated kernels stay what their sources say: every `kernels/*.wgsl` file equals a fresh
 * expansion of `kernels/source/`, the module equals a fresh generation from those files, and the
 * preprocessor keeps to the rules kernels/README.md states (and rejects what they do not allow).
 */
import { describe, expect, test } from "vitest";
import { KERNEL_FILE_TEXT } from "../src/webgpu/kernel_sources.ts";
import { COPY_FILES, copySources, KERNEL_FILES, kernelSources, kernelUrl } from "../src/webgpu/shaders.ts";
import {
  GENERATED_HEADER,
  generatedFileHeader,
  generateKernelFiles,
  generateKernelModule,
  KERNEL_MODULE_PATH,
  KERNEL_SOURCE_DIR,
  type KernelOutput,
  outputsOf,
  PROJECT_ROOT,
  readKernelFiles,
  renderKernelFile,
  renderKernelFiles,
  renderKernelModule,
  type SourceReader,
  sourceReader,
} from "./kernels.ts";

/** A reader over in-memory sources (path -> text). */
function memory(files: Record<string, string>): SourceReader {
  return (path) => {
    if (!(path in files)) throw new Error(`${path}: no such file`);
    return files[path];
  };
}

/** The expansion of `main.wgsl` (after its `#output` line) with the given snippets, without the header line. */
function expand(main: string, params: Record<string, string> = {}, snippets: Record<string, string> = {}): string {
  const output: KernelOutput = { file: "x.wgsl", source: "main.wgsl", params };
  const text = renderKernelFile(output, memory({ "main.wgsl": main, ...snippets }));
  return text.slice(text.indexOf("\n") + 1);
}

/** Every `.wgsl` file under `kernels/source/` (path relative to it -> text). */
async function handWrittenSources(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: URL, prefix: string): Promise<void> {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`);
      else if (e.isFile && e.name.endsWith(".wgsl")) {
        out[`${prefix}${e.name}`] = await Deno.readTextFile(new URL(e.name, dir));
      }
    }
  }
  await walk(new URL(KERNEL_SOURCE_DIR, PROJECT_ROOT), "");
  return out;
}

describe("generated kernel files", () => {
  test("every kernels/*.wgsl equals a fresh generation from kernels/source/ (else: deno task kernels)", async () => {
    const fresh = await generateKernelFiles(PROJECT_ROOT);
    const onDisk = await readKernelFiles(PROJECT_ROOT);
    expect(Object.keys(onDisk).sort(), "kernels/*.wgsl files vs the #output lines of kernels/source/").toEqual(
      Object.keys(fresh).sort(),
    );
    const stale = Object.keys(fresh).filter((name) => onDisk[name] !== fresh[name]);
    expect(stale, "stale generated kernels: deno task kernels").toEqual([]);
  });

  test("each generated file's first line names its source and parameters", () => {
    expect(
      generatedFileHeader({ file: "sort_pool2d_forward_vec4.wgsl", source: "forward.wgsl", params: { lanes: "4" } }),
    )
      .toBe(
        "// generated from kernels/source/forward.wgsl (lanes = 4) by build/kernels.ts (deno task kernels); do not edit",
      );
    expect(generatedFileHeader({ file: "sort_pool2d_dlogits.wgsl", source: "dlogits.wgsl", params: {} })).toBe(
      "// generated from kernels/source/dlogits.wgsl by build/kernels.ts (deno task kernels); do not edit",
    );
    for (const [name, text] of Object.entries(KERNEL_FILE_TEXT)) {
      expect(text.split("\n", 1)[0], name).toMatch(/^\/\/ generated from kernels\/source\/\w+\.wgsl .*; do not edit$/);
    }
  });

  test("the scalar and vec4 variants of a kernel come from one source", async () => {
    const sources = await handWrittenSources();
    const read = memory(sources);
    const pairs = Object.keys(sources)
      .filter((path) => !path.includes("/"))
      .map((path) => outputsOf(path, read))
      .filter((outputs) => outputs.some((o) => o.params.lanes === "4"));
    expect(pairs.map((outputs) => outputs.map((o) => `${o.file} lanes=${o.params.lanes}`)).sort()).toEqual([
      ["sort_pool2d_backward.wgsl lanes=1", "sort_pool2d_backward_vec4.wgsl lanes=4"],
      ["sort_pool2d_forward.wgsl lanes=1", "sort_pool2d_forward_vec4.wgsl lanes=4"],
      ["sort_pool2d_general_forward.wgsl lanes=1", "sort_pool2d_general_forward_vec4.wgsl lanes=4"],
      ["sort_pool2d_general_gather.wgsl lanes=1", "sort_pool2d_general_gather_vec4.wgsl lanes=4"],
      ["sort_pool2d_general_ranks.wgsl lanes=1", "sort_pool2d_general_ranks_vec4.wgsl lanes=4"],
    ]);
  });

  test("sort_key (SPEC.md §4's order), EXCLUDED_KEY and swap_where are each written once, in shared/", async () => {
    const sources = await handWrittenSources();
    const once: [RegExp, string][] = [
      [/\bfn sort_key\b/g, "shared/sort_key.wgsl"],
      [/\bconst EXCLUDED_KEY\b/g, "shared/excluded_key.wgsl"],
      [/\bfn swap_where\b/g, "shared/swap_where.wgsl"],
    ];
    for (const [definition, home] of once) {
      const defining = Object.entries(sources).filter(([, text]) => text.match(definition) !== null).map(([p]) => p);
      expect(defining, String(definition)).toEqual([home]);
      expect(sources[home].match(definition), String(definition)).toHaveLength(1);
    }
  });
});

describe("generated kernel module", () => {
  test(`${KERNEL_MODULE_PATH} equals a fresh generation from kernels/ (else: deno task kernels)`, async () => {
    const committed = await Deno.readTextFile(new URL(KERNEL_MODULE_PATH, PROJECT_ROOT));
    expect(committed.split("\n", 1)[0]).toBe(GENERATED_HEADER);
    expect(
      committed === (await generateKernelModule(PROJECT_ROOT)),
      `${KERNEL_MODULE_PATH} is stale: deno task kernels`,
    )
      .toBe(true);
  });

  test("every kernel shaders.ts names comes from the module with its file's exact text", async () => {
    const sources = kernelSources();
    for (const [key, file] of Object.entries(KERNEL_FILES)) {
      expect(sources[key as keyof typeof KERNEL_FILES], file).toBe(await Deno.readTextFile(kernelUrl(file)));
    }
    const copy = copySources();
    for (const [key, file] of Object.entries(COPY_FILES)) {
      expect(copy[key as keyof typeof COPY_FILES], file).toBe(await Deno.readTextFile(kernelUrl(file)));
    }
    expect(Object.keys(KERNEL_FILE_TEXT).sort()).toEqual(
      [...Object.values(KERNEL_FILES), ...Object.values(COPY_FILES)].sort(),
    );
  });

  test("overrides still replace single kernels", () => {
    expect(kernelSources({ forward: "// mine" }).forward).toBe("// mine");
    expect(kernelSources().forward).not.toBe("// mine");
  });

  test("the generator escapes what a template literal would change", async () => {
    const text = "a `b` \\n ${c} $ {d} \\\\";
    const mod = renderKernelModule({ "x.wgsl": text });
    const url = `data:text/typescript;base64,${btoa(mod)}`;
    const { KERNEL_FILE_TEXT: read } = await import(url);
    expect(read["x.wgsl"]).toBe(text);
  });
});

describe("kernel source preprocessor", () => {
  test("an include takes the directive's indentation and parameters, and the includer's", () => {
    const main = 'fn f() {\n  #include "s.wgsl" name=v type="vec4<f32>"\n\n}\n';
    const snippet = "let {{name}}: {{type}} = {{type}}({{lanes}});\n\nreturn;\n";
    expect(expand(main, { lanes: "4" }, { "s.wgsl": snippet })).toBe(
      "fn f() {\n  let v: vec4<f32> = vec4<f32>(4);\n\n  return;\n\n}\n",
    );
  });

  test("#if / #elif / #else / #endif keep one branch, and nest", () => {
    const main = [
      "#if lanes == 1",
      "one",
      "#elif lanes == 4",
      "four",
      "#if kind != a",
      "not a",
      "#endif",
      "#else",
      "other",
      "#endif",
      "end",
    ].join("\n");
    expect(expand(main, { lanes: "1", kind: "a" })).toBe("one\nend\n");
    expect(expand(main, { lanes: "4", kind: "a" })).toBe("four\nend\n");
    expect(expand(main, { lanes: "4", kind: "b" })).toBe("four\nnot a\nend\n");
    expect(expand(main, { lanes: "2", kind: "b" })).toBe("other\nend\n");
  });

  test("a conditional comment line is kept as a comment where its condition holds; ## notes and #output go", () => {
    const main = [
      "#output x.wgsl lanes=1",
      "## a note for the source's reader",
      "// shared",
      "//[lanes == 1] one {{lanes}}",
      "  //[lanes != 1] not one",
      "code();",
    ].join("\n");
    expect(expand(main, { lanes: "1" })).toBe("// shared\n// one 1\ncode();\n");
    expect(expand(main, { lanes: "4" })).toBe("// shared\n  // not one\ncode();\n");
  });

  test("#output lines list a source's generated files with their parameters", () => {
    const read = memory({ "k.wgsl": '## note\n#output a.wgsl lanes=1\n#output b.wgsl lanes=4 label="x y"\ncode\n' });
    expect(outputsOf("k.wgsl", read)).toEqual([
      { file: "a.wgsl", source: "k.wgsl", params: { lanes: "1" } },
      { file: "b.wgsl", source: "k.wgsl", params: { lanes: "4", label: "x y" } },
    ]);
    expect(renderKernelFiles(["k.wgsl"], read)).toEqual({
      "a.wgsl":
        "// generated from kernels/source/k.wgsl (lanes = 1) by build/kernels.ts (deno task kernels); do not edit\n" +
        "code\n",
      "b.wgsl":
        "// generated from kernels/source/k.wgsl (lanes = 4, label = x y) by build/kernels.ts (deno task kernels); do not edit\n" +
        "code\n",
    });
  });

  test("rejects, with the file and line, what the rules do not allow", () => {
    const fails = (main: string, pattern: RegExp, snippets: Record<string, string> = {}) =>
      expect(() => expand(main, { lanes: "1" }, snippets)).toThrow(pattern);
    fails("#iff lanes == 1\n", /main\.wgsl:1: unknown directive "#iff"/);
    fails("a\n{{lane}}\n", /main\.wgsl:2: no parameter "lane" here/);
    fails("#if lane == 1\n#endif\n", /main\.wgsl:1: no parameter "lane"/);
    fails("//[lane == 1] x\n", /no parameter "lane"/);
    fails("#if lanes = 1\n#endif\n", /expected NAME == VALUE/);
    fails("#if lanes == 1\n", /main\.wgsl:1: #if without #endif/);
    fails("#endif\n", /#endif without an open #if/);
    fails("#if lanes == 1\n#else\n#else\n#endif\n", /main\.wgsl:3: #else without an open #if/);
    fails("#if lanes == 1\n#endif x\n", /#endif takes nothing after it/);
    fails("{{lanes}\n", /malformed \{\{NAME\}\}/);
    fails('#include "missing.wgsl"\n', /main\.wgsl:1: #include "missing\.wgsl": missing\.wgsl: no such file/);
    fails('#include "s.wgsl" lanes=4\n', /main\.wgsl:1: parameter lanes already has the value "1"/, {
      "s.wgsl": "x\n",
    });
    fails('#include "s.wgsl" name\n', /expected name=value/, { "s.wgsl": "x\n" });
    fails('#include "a.wgsl"\n', /#include cycle: main\.wgsl -> a\.wgsl -> b\.wgsl -> a\.wgsl/, {
      "a.wgsl": '#include "b.wgsl"\n',
      "b.wgsl": '#include "a.wgsl"\n',
    });
    fails('#include "s.wgsl"\n', /s\.wgsl:1: #output belongs in a kernel source/, { "s.wgsl": "#output y.wgsl\n" });
    fails('#include "s.wgsl"\n', /s\.wgsl:1: #include "\.\.\/x\.wgsl": the path must stay inside/, {
      "s.wgsl": '#include "../x.wgsl"\n',
    });
    expect(() => outputsOf("k.wgsl", memory({ "k.wgsl": "code\n#output a.wgsl\n" }))).toThrow(
      /k\.wgsl:2: #output lines come first/,
    );
    expect(() => outputsOf("k.wgsl", memory({ "k.wgsl": "#output A.txt\n" }))).toThrow(/expected NAME\.wgsl/);
    const twice = memory({ "a.wgsl": "#output x.wgsl\n", "b.wgsl": "#output x.wgsl\n" });
    expect(() => renderKernelFiles(["a.wgsl", "b.wgsl"], twice)).toThrow(/x\.wgsl is generated twice/);
    expect(() => renderKernelFiles(["a.wgsl"], memory({ "a.wgsl": "code\n" }))).toThrow(/no #output line/);
  });

  test("a missing include names the including file and line, not only the missing file", async () => {
    const snippets = { "shared/s.wgsl": 'a\n  #include "shared/gone.wgsl" x=1\n' };
    expect(() => expand('b\n#include "shared/s.wgsl"\n', {}, snippets)).toThrow(
      /^kernels\/source\/shared\/s\.wgsl:2: #include "shared\/gone\.wgsl": shared\/gone\.wgsl: no such file$/,
    );
    // The same through the files reader: the directive's place, then the file it did not find.
    const root = await Deno.makeTempDir({ prefix: "sortpool-kernels-" });
    try {
      await Deno.mkdir(`${root}/kernels/source/shared`, { recursive: true });
      await Deno.writeTextFile(`${root}/kernels/source/k.wgsl`, '#output k.wgsl\ncode\n#include "shared/gone.wgsl"\n');
      await expect(generateKernelFiles(root)).rejects.toThrow(
        'kernels/source/k.wgsl:3: #include "shared/gone.wgsl": kernels/source/shared/gone.wgsl: no such file',
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });

  test("an #include path may not lead out of kernels/source/", () => {
    const fails = (path: string) =>
      expect(() => expand(`x\n#include "${path}"\n`, {}, { "../up.wgsl": "y\n", "/abs.wgsl": "y\n" }), path)
        .toThrow(new RegExp(`main\\.wgsl:2: #include ".*": the path must stay inside kernels/source/`));
    for (const path of ["../up.wgsl", "shared/../../up.wgsl", "./../up.wgsl", "/abs.wgsl", "file:///abs.wgsl"]) {
      fails(path);
    }
    // Inside the folder, `.` and `..` resolve (so a cycle is found whatever the spelling).
    expect(expand('#include "shared/../s.wgsl"\n', {}, { "s.wgsl": "y\n" })).toBe("y\n");
    expect(() => expand('#include "./main.wgsl"\n')).toThrow(/#include cycle: main\.wgsl -> main\.wgsl/);
    // The files reader refuses such a path too, whoever asks.
    const read = sourceReader(PROJECT_ROOT);
    expect(() => read("../README.md")).toThrow(/outside kernels\/source\//);
    expect(() => read("/etc/hostname")).toThrow(/outside kernels\/source\//);
    expect(read("shared/sort_key.wgsl")).toMatch(/fn sort_key/);
  });
});
