/**
 * The gate's proof that it can fail: the slowdown transforms (shape of the rewritten WGSL; every
 * project kernel still compiles and computes the same values), and a reduced self-test run that
 * must catch both slowed trees and pass the unmodified control.
 */
import { describe, expect, test } from "vitest";
import { parseCli } from "../harness/cli.ts";
import { uniformFloat32 } from "../src/random.ts";
import { type KernelSources, kernelSources } from "../src/webgpu/shaders.ts";
import { createWgslImplementation } from "../src/webgpu/wgsl.ts";
import { DEFAULT_TOLERANCE, GATE_CLI, gateOptions, runSelfTest } from "./gate.ts";
import { formatSummary } from "./report.ts";
import { SLOWED_KERNELS, slowedTree } from "./selftest.ts";
import { addIdWork, runEntryPointTwice } from "./slowdown.ts";
import { SMALL_WORKLOAD } from "./workload.ts";

const SLOWED: readonly (keyof KernelSources)[] = [...SLOWED_KERNELS.forward, ...SLOWED_KERNELS.backward];

describe("slowdown transforms", () => {
  const src = [
    "@group(0) @binding(0) var<uniform> params: P;",
    "// a comment mentioning @compute must not count",
    "@compute @workgroup_size(64)",
    "fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    "  if (gid.x > 3u) { return; }",
    "}",
  ].join("\n");

  test("runEntryPointTwice wraps the entry point so the body runs twice, keeping name and signature", () => {
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

  test("addIdWork runs hash steps before the unchanged body and feeds an opaque zero into the id", () => {
    const slow = addIdWork(src, 16);
    expect(slow).toContain(
      "fn main(@builtin(global_invocation_id) slowdown_gid_in: vec3<u32>, @builtin(local_invocation_index) lid: u32, " +
        "@builtin(num_workgroups) slowdown_num_workgroups: vec3<u32>) {",
    );
    expect(slow).toContain("for (var slowdown_step = 0u; slowdown_step < 16u; slowdown_step++) {");
    expect(slow).toContain(
      "  let gid = slowdown_gid_in + vec3<u32>(select(0u, 1u, slowdown_hash == 7u && slowdown_num_workgroups.x == 0u), " +
        "0u, 0u);\n  if (gid.x > 3u) { return; }\n}",
    );
    expect(() => addIdWork(src, 0)).toThrow(/iterations/);
  });

  test("both refuse shaders they cannot transform", () => {
    for (const transform of [runEntryPointTwice, (s: string) => addIdWork(s, 4)]) {
      expect(() => transform("fn f() {}")).toThrow(/exactly one @compute/);
      expect(() => transform("@compute @workgroup_size(1) fn main(@builtin(local_invocation_index) i: u32) {}"))
        .toThrow(/no vec3<u32>/);
    }
  });

  test("every project kernel they slow still compiles", async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    try {
      const k = kernelSources();
      for (const name of SLOWED) {
        for (const code of [runEntryPointTwice(k[name]), addIdWork(k[name], 8)]) {
          device.pushErrorScope("validation");
          const module = device.createShaderModule({ code });
          device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
          const error = await device.popErrorScope();
          expect(error?.message, name).toBeUndefined();
        }
      }
    } finally {
      device.destroy();
    }
  });

  test("a slowed tree copies src/ and kernels/ and rewrites only the chosen pass's kernels", async () => {
    const dir = await slowedTree(new URL("../", import.meta.url).pathname, "forward", { kind: "work", steps: 3 });
    try {
      const k = kernelSources();
      const read = (file: string) => Deno.readTextFile(`${dir}/kernels/${file}`);
      expect(await read("sort_pool2d_forward.wgsl")).toBe(addIdWork(k.forward, 3));
      expect(await read("sort_pool2d_backward.wgsl")).toBe(k.backward);
      await Deno.stat(`${dir}/src/registry.ts`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

describe("slowed kernels compute the same values (the slowdown is time only)", () => {
  for (const channels of [3, 8]) {
    test(`C = ${channels} (${channels % 4 === 0 ? "vec4" : "scalar"} kernels)`, async () => {
      const k = kernelSources();
      const plain = createWgslImplementation({ name: "plain" });
      const variants = [runEntryPointTwice, (s: string) => addIdWork(s, 5)].map((transform, i) =>
        createWgslImplementation({
          name: `slow${i}`,
          shaders: Object.fromEntries(SLOWED.map((s) => [s, transform(k[s])])),
        })
      );
      try {
        const c = {
          x: uniformFloat32(2 * 5 * 7 * channels, 3),
          shape: [2, 5, 7, channels] as const,
          logits: [0.3, -0.2, 0.1],
          k: 3,
          padding: "same" as const,
        };
        const dy = uniformFloat32(2 * 3 * 4 * channels, 4);
        const want = await plain.forward(c);
        const grad = await plain.gradient(c, dy);
        for (const slow of variants) {
          expect(Array.from((await slow.forward(c)).y)).toEqual(Array.from(want.y));
          const g = await slow.gradient(c, dy);
          expect(Array.from(g.dx)).toEqual(Array.from(grad.dx));
          expect(Array.from(g.dLogits)).toEqual(Array.from(grad.dLogits));
        }
      } finally {
        for (const i of [plain, ...variants]) await i.dispose();
      }
    });
  }
});

describe("gate --self-test (reduced: workload 'small')", () => {
  test("catches the slowed forward and the slowed backward, and passes the unmodified control", async () => {
    const options = gateOptions(parseCli(GATE_CLI, ["--self-test", "--workload", "small"]).values);
    expect(options.workload).toBe(SMALL_WORKLOAD);
    const report = await runSelfTest(options);
    const summary = formatSummary(report);
    expect(report.tolerance).toBe(DEFAULT_TOLERANCE);
    const of = (candidate: string) => report.checks.filter((c) => c.candidate.startsWith(candidate));
    expect(of("control").map((c) => c.verdict), summary).toEqual(["pass", "pass", "pass", "pass"]);
    expect(of("slowed forward").map((c) => [c.pass, c.verdict]), summary).toEqual([
      ["forward", "regression"],
      ["forward", "regression"],
    ]);
    expect(of("slowed backward").map((c) => [c.pass, c.verdict]), summary).toEqual([
      ["forwardBackward", "regression"],
      ["forwardBackward", "regression"],
    ]);
    expect(report.ok, summary).toBe(true);
    expect(report.exitCode).toBe(0);
    expect(report.conclusion).toMatch(/control passed .* slowed forward caught .* slowed backward caught/);
  });
});
