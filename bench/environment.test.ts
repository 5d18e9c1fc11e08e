/**
 * Tests of how runs are named: the engine and adapter from adapter.info, the requested wgpu
 * backend only as a note, and JSON files written before engines were named.
 */
import { describe, expect, test } from "vitest";
import { engineName, runLabel, runSlug } from "./environment.ts";

describe("engine naming", () => {
  const adapter = {
    available: true as const,
    info: { description: "llvmpipe (LLVM 15.0.6, 256 bits)" },
    features: [],
    limits: {},
  };
  const line = "llvmpipe (LLVM 15.0.6, 256 bits) [65541] on wgpu (Deno 2.9.6)";

  test("the label is the adapter line from adapter.info; the requested wgpu backend only as a note", () => {
    const deno = { engine: { name: "deno", implementation: "wgpu" }, adapterLine: line, adapter } as const;
    expect(runLabel({ ...deno, denoWebgpuBackend: "" })).toBe(line);
    expect(runLabel({ ...deno, denoWebgpuBackend: "gl" })).toBe(`${line} (DENO_WEBGPU_BACKEND=gl requested)`);
    expect(runSlug({ ...deno, denoWebgpuBackend: "gl" })).toBe("deno-llvmpipe-gl");
    expect(runSlug({ ...deno, denoWebgpuBackend: "" })).toBe("deno-llvmpipe");
    // Dawn ignores DENO_WEBGPU_BACKEND: neither the label nor the file name mention it.
    const dawn = {
      engine: { name: "dawn", implementation: "Dawn (npm webgpu 0.6.2)" },
      adapterLine: "SwiftShader Device (Subzero) [google, swiftshader] on Dawn (npm webgpu 0.6.2)",
      adapter: { ...adapter, info: { description: "SwiftShader Device (Subzero)" } },
      denoWebgpuBackend: "gl",
    } as const;
    expect(runLabel(dawn)).toBe(dawn.adapterLine);
    expect(runSlug(dawn)).toBe("dawn-swiftshader");
    expect(engineName(dawn)).toBe("dawn");
  });

  test("a JSON written before engines were named: deno, said so; no adapter", () => {
    const old = { adapter, denoWebgpuBackend: "vulkan" };
    expect(engineName(old)).toBe("deno");
    expect(runLabel(old)).toMatch(/^llvmpipe \(LLVM 15\.0\.6, 256 bits\) on an engine not recorded .*vulkan requested/);
    expect(runSlug({ adapter: { available: false, reason: "none" }, denoWebgpuBackend: "" })).toBe("deno-no-adapter");
  });
});
