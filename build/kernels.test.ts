/**
 * The generated kernel module stays what kernels/*.wgsl say: it equals a fresh generation, and it
 * holds every file src/webgpu/shaders.ts names, with the files' exact text.
 */
import { describe, expect, test } from "vitest";
import { KERNEL_FILE_TEXT } from "../src/webgpu/kernel_sources.ts";
import { COPY_FILES, copySources, KERNEL_FILES, kernelSources, kernelUrl } from "../src/webgpu/shaders.ts";
import {
  GENERATED_HEADER,
  generateKernelModule,
  KERNEL_MODULE_PATH,
  PROJECT_ROOT,
  renderKernelModule,
} from "./kernels.ts";

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
