import { defineConfig } from "vitest/config";
import { ensureRuntimeDir } from "./harness/runtime_dir.ts";

// Test files request WebGPU adapters: give the test processes (they inherit it) a private XDG_RUNTIME_DIR
// when none is set, or lavapipe prints "XDG_RUNTIME_DIR is invalid" on every request.
ensureRuntimeDir();

export default defineConfig({
  test: {
    include: [
      "src/**/*.test.ts",
      "harness/**/*.test.ts",
      "vectors/**/*.test.ts",
      "props/**/*.test.ts",
      "bench/**/*.test.ts",
      "gate/**/*.test.ts",
      "conformance/**/*.test.ts",
      "schemas/**/*.test.ts",
      "testkit/**/*.test.ts",
      "reproduce/**/*.test.ts",
      "build/**/*.test.ts",
      "web/**/*.test.ts",
    ],
    // GPU adapters here are CPU emulations shared by every test file; one file at a time keeps
    // timings sane on a 2-core machine.
    fileParallelism: false,
    // With SORTPOOL_ENGINE=dawn this module installs Dawn as navigator.gpu in each test process
    // before any test file can request an adapter; otherwise it does nothing.
    setupFiles: ["./src/webgpu/engine.ts"],
    testTimeout: 120_000,
  },
  // wgsl_reflect's package entry is CommonJS-flavoured for Node; its ES module is what deno.json maps.
  resolve: { alias: [{ find: /^wgsl_reflect$/, replacement: "wgsl_reflect/wgsl_reflect.module.js" }] },
});
