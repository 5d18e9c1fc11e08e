import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "props/**/*.test.ts", "bench/**/*.test.ts", "ci/**/*.test.ts"],
    // GPU adapters here are CPU emulations shared by every test file; one file at a time keeps
    // timings sane on a 2-core machine.
    fileParallelism: false,
    testTimeout: 120_000,
  },
});
