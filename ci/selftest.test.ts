import { describe, expect, test } from "vitest";
import { DEFAULT_TOLERANCE, parseGateArgs, runSelfTest } from "./gate.ts";
import { formatSummary } from "./report.ts";
import { runEntryPointTwice } from "./slowdown.ts";
import { kernelSources } from "../src/webgpu/shaders.ts";
import { SMALL_WORKLOAD } from "./workload.ts";
import { uniformFloat32 } from "../src/random.ts";
import { createWgslImplementation } from "../src/webgpu/wgsl.ts";

describe("slowdown transform", () => {
  test("wraps the entry point so the original body runs twice, keeping name and signature", () => {
    const src = [
      "@group(0) @binding(0) var<uniform> params: P;",
      "// a comment mentioning @compute must not count",
      "@compute @workgroup_size(64)",
      "fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
      "  if (gid.x > 3u) { return; }",
      "}",
    ].join("\n");
    const slow = runEntryPointTwice(src);
    expect(slow).toContain("fn main_body_once(gid: vec3<u32>, lid: u32) {\n  if (gid.x > 3u) { return; }\n}");
    expect(slow).toContain(
      [
        "@compute @workgroup_size(64)",
        "fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32, " +
        "@builtin(num_workgroups) slowdown_num_workgroups: vec3<u32>) {",
        "  main_body_once(gid, lid);",
        "  main_body_once(gid + vec3<u32>(select(0u, 1u, slowdown_num_workgroups.x == 0u), 0u, 0u), lid);",
        "}",
      ].join("\n"),
    );
    expect(slow.match(/@compute/g)).toHaveLength(2); // the comment's, and the one entry point
  });

  test("reuses an existing num_workgroups builtin", () => {
    const slow = runEntryPointTwice(
      "@compute @workgroup_size(8)\nfn go(@builtin(num_workgroups) n: vec3<u32>, @builtin(workgroup_id) w: vec3<u32>) {}",
    );
    expect(slow).toContain("fn go(@builtin(num_workgroups) n: vec3<u32>, @builtin(workgroup_id) w: vec3<u32>) {");
    expect(slow).toContain("  go_body_once(n, w + vec3<u32>(select(0u, 1u, n.x == 0u), 0u, 0u));");
  });

  test("refuses shaders it cannot transform", () => {
    expect(() => runEntryPointTwice("fn f() {}")).toThrow(/exactly one @compute/);
    expect(() => runEntryPointTwice("@compute @workgroup_size(1) fn main(@builtin(local_invocation_index) i: u32) {}"))
      .toThrow(/no vec3<u32>/);
  });

  test("every project kernel it slows still compiles", async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    try {
      const k = kernelSources();
      for (
        const [name, code] of Object.entries({
          forward: k.forward,
          forwardVec4: k.forwardVec4,
          backward: k.backward,
          backwardVec4: k.backwardVec4,
        })
      ) {
        device.pushErrorScope("validation");
        const module = device.createShaderModule({ code: runEntryPointTwice(code) });
        device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
        const error = await device.popErrorScope();
        expect(error?.message, name).toBeUndefined();
      }
    } finally {
      device.destroy();
    }
  });
});

describe("slowed kernels compute the same values (the slowdown is time only)", () => {
  for (const channels of [3, 8]) {
    test(`C = ${channels} (${channels % 4 === 0 ? "vec4" : "scalar"} kernels)`, async () => {
      const k = kernelSources();
      const plain = createWgslImplementation({ name: "plain" });
      const slow = createWgslImplementation({
        name: "slow",
        shaders: Object.fromEntries(
          (["forward", "forwardVec4", "backward", "backwardVec4"] as const).map((s) => [s, runEntryPointTwice(k[s])]),
        ),
      });
      try {
        const c = {
          x: uniformFloat32(2 * 5 * 7 * channels, 3),
          shape: [2, 5, 7, channels] as const,
          logits: [0.3, -0.2, 0.1],
          k: 3,
          padding: "same" as const,
        };
        const dy = uniformFloat32(2 * 3 * 4 * channels, 4);
        expect(Array.from((await slow.forward(c)).y)).toEqual(Array.from((await plain.forward(c)).y));
        const [gs, gp] = [await slow.gradient(c, dy), await plain.gradient(c, dy)];
        expect(Array.from(gs.dx)).toEqual(Array.from(gp.dx));
        expect(Array.from(gs.dLogits)).toEqual(Array.from(gp.dLogits));
      } finally {
        await slow.dispose?.();
        await plain.dispose?.();
      }
    });
  }
});

describe("gate --self-test (reduced: workload 'small')", () => {
  test("reports the slowed forward and the slowed backward as regressions", async () => {
    const options = parseGateArgs(["--self-test", "--workload", "small", "--baseline", "/nonexistent/baseline.json"]);
    expect(options.workload).toBe(SMALL_WORKLOAD);
    const report = await runSelfTest(options);
    const verdict = (entry: string, pass: string) =>
      report.checks.find((c) => c.entry.includes(entry) && c.pass === pass)?.verdict;
    expect(report.tolerance).toBe(DEFAULT_TOLERANCE);
    const summary = formatSummary(report);
    expect(verdict("slowed forward", "forward"), summary).toBe("regression");
    expect(verdict("slowed backward", "forwardBackward"), summary).toBe("regression");
    expect(report.ok).toBe(true);
    expect(report.conclusion).toMatch(/slowed forward caught .* slowed backward caught/);
  });
});
