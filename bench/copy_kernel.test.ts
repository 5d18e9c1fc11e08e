/** The copy kernel workload that the benchmarks compare the sort_pool2d kernels' bandwidth with. */
import { describe, expect, test } from "vitest";
import { prepareCopyBench } from "./copy_kernel.ts";

describe("prepareCopyBench", () => {
  test("runs forward and forward + backward on its own device, reports its bytes, frees on dispose", async () => {
    const bench = await prepareCopyBench([2, 8, 8, 16]);
    // 2048 input floats = 128 output vec4s: x 8 KiB read, y 2 KiB written; backward adds x and
    // dy read, dx written.
    expect(bench.forwardBytes).toBe(8192 + 2048);
    expect(bench.forwardBackwardBytes).toBe(2 * (8192 + 2048) + 8192);
    expect(bench.adapter).toMatch(/ on (wgpu|Dawn|browser)/);
    await bench.forward();
    await bench.forwardBackward();
    await bench.dispose();
    await bench.dispose();
    await expect(bench.forward()).rejects.toThrow(/after dispose/);
  });

  test("rejects a malformed shape", async () => {
    await expect(prepareCopyBench([2, 8, 8] as never)).rejects.toThrow(/shape/);
  });
});
