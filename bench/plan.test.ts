/**
 * Tests of what a run plans: flag parsing, plan levels, the suites each level runs (the default
 * plan answers the kernel targets; `--full` is the whole former default plan), `--shapes`/`--k`
 * selection, the call-time prediction and the bytes formula.
 */
import { describe, expect, test } from "vitest";
import { parseCli } from "../harness/cli.ts";
import { BENCH_CLI, benchFlags, engineSpecSlug, parseEngineSpec } from "./flags.ts";
import { planLevel, planLines, planRun } from "./levels.ts";
import { bytesMoved, throughput } from "./metrics.ts";
import { FULL_PLAN, QUICK_PLAN, selectPlan } from "./plan.ts";
import { CallTimeHistory } from "./predict.ts";
import { SUITE_NAMES } from "./suites.ts";

const parse = (args: string[]) => benchFlags(parseCli(BENCH_CLI, args).values, SUITE_NAMES);

describe("flags", () => {
  test("defaults and values", () => {
    expect(parse([])).toEqual({
      quick: false,
      dryRun: false,
      full: false,
      cross: false,
      engines: [],
      merge: [],
      filter: [],
      json: undefined,
      report: undefined,
      shapes: [],
      ks: [],
    });
    expect(parse(["--quick", "--filter", "wgsl, tfjs", "--json=o.json", "--report", "r", "--k", "1,4"])).toMatchObject({
      quick: true,
      filter: ["wgsl", "tfjs"],
      json: "o.json",
      report: "r",
      ks: [1, 4],
    });
    expect(parse(["--suites", "bandwidth,windows"]).suites).toEqual(["bandwidth", "windows"]);
    expect(parse(["--full", "--dry-run"])).toMatchObject({ full: true, dryRun: true });
    expect(parseCli(BENCH_CLI, ["-h"]).help).toBe(true);
  });

  test.each([
    [["--bogus"], "--bogus"],
    [["--json"], "--json"],
    [["--report="], "--report"],
    [["--filter", ","], "--filter"],
    [["--k", "5"], "--k"],
    [["--k", "x"], "--k"],
    [["--quick=yes"], "--quick"],
    [["--suites", "gate"], "--suites"],
    [["--suites", ""], "--suites"],
    [["--engines", "webgl"], "--engines"],
    [["--engines", "dawn:gl"], "--engines"],
    [["--engines", "deno", "--quick"], "--engines"],
    [["--engines", "deno", "--suites", "shapes"], "--suites"],
    [["--engines", "deno", "--dry-run"], "--dry-run"],
    [["--cross", "--quick"], "--cross"],
    [["--full", "--quick"], "--full"],
    [["--merge", ","], "--merge"],
    [["--merge", "a.json", "--k", "4"], "--k"],
  ])("%j is rejected naming %s", (args, flag) => {
    expect(() => parse(args)).toThrow(new RegExp(`^${flag.replace(/-/g, "\\-")}: expected`));
  });

  test("engines, the cross plan and merge", () => {
    expect(parse(["--engines", "deno:GL, dawn,deno"]).engines).toEqual([
      { engine: "deno", backend: "gl" },
      { engine: "dawn" },
      { engine: "deno" },
    ]);
    expect(parse(["--cross", "--suites", "windows"]).suites).toEqual(["windows"]);
    expect(parse(["--merge", "a.json,b.json", "--merge", "c.json"]).merge).toEqual(["a.json", "b.json", "c.json"]);
    expect(engineSpecSlug(parseEngineSpec("deno:vulkan"))).toBe("deno-vulkan");
    expect(engineSpecSlug(parseEngineSpec("dawn"))).toBe("dawn");
  });

  test("positionals are rejected", () => {
    expect(() => parse(["stray"])).toThrow(/expected flags only/);
  });
});

describe("plan levels", () => {
  const suitesOf = (args: string[], slowDawn = false) =>
    planRun(planLevel(parse(args), slowDawn), parse(args)).map((p) => p.suite.name);

  test("the default answers the kernel targets: bandwidth and the gated entries on the targets' shape", () => {
    expect(planLevel(parse([]), false)).toBe("default");
    expect(suitesOf([])).toEqual(["bandwidth", "shapes"]);
    const [bandwidth, shapes] = planRun("default", parse([])).map((p) => p.plan) as [
      { plan: { ks: number[]; rounds: number } },
      { plan: { gatedOnly: boolean; shapes: { label: string; ks: number[]; shape: number[] }[] } },
    ];
    expect(bandwidth.plan).toMatchObject({ ks: [1, 2, 3, 4], rounds: 15 });
    expect(shapes.plan.gatedOnly).toBe(true);
    expect(shapes.plan.shapes.map((s) => [s.label, s.shape, s.ks])).toEqual([["target", [32, 64, 64, 32], [4]]]);
  });

  test("--full is the former default: the five-shape plan, the bandwidth suite at every k, the 3x3/2 suite", () => {
    expect(suitesOf(["--full"])).toEqual(["bandwidth", "shapes", "windows"]);
    const text = planLines("full", parse(["--full"])).join("\n");
    expect(text).toContain(
      "target 32x64x64x32, k=1,2,3,4: wgsl, wgsl@tfjs (forward), each paired with a copy-kernel " +
        "call; 21 rounds of best-of-3",
    );
    for (const shape of ["small 1x32x32x16", "medium 4x64x64x32", "target 32x64x64x32", "resnet 8x112x112x64"]) {
      expect(text).toMatch(new RegExp(`${shape} webgpu: \\d+ tasks .*tf\\.avgPool@webgpu, copy@webgpu`));
      expect(text).toMatch(new RegExp(`${shape} cpu: \\d+ tasks .*tf\\.maxPool@cpu, tf\\.avgPool@cpu`));
    }
    expect(text).toContain("large 32x112x112x64 cpu: skipped");
    expect(text).toMatch(/resnet-stem 3x3\/2 32x112x112x64: \d+ tasks .*, 5 rounds/);
  });

  test("--quick runs a little of every suite; --cross and Dawn on a CPU adapter the shapes of the cross plan", () => {
    expect(suitesOf(["--quick"])).toEqual(["bandwidth", "shapes", "windows"]);
    expect(suitesOf(["--cross"])).toEqual(["shapes"]);
    expect(suitesOf([], true)).toEqual(["shapes"]);
    expect(suitesOf(["--suites", "windows"])).toEqual(["windows"]);
  });

  test("--shapes needs the shape suites; --shapes and --k reject values the plan lacks, naming the flag", () => {
    expect(() => planRun("default", parse(["--suites", "bandwidth", "--shapes", "target"]))).toThrow(
      /^--shapes: expected --suites including shapes/,
    );
    expect(() => planRun("default", parse(["--shapes", "small"]))).toThrow(/^--shapes: expected labels of the default/);
    expect(selectPlan(FULL_PLAN, ["small", "large"], [4]).shapes.map((s) => [s.label, s.ks])).toEqual([
      ["small", [4]],
      ["large", [4]],
    ]);
    expect(() => selectPlan(QUICK_PLAN, ["huge"], [])).toThrow(/--shapes/);
    expect(() => selectPlan(QUICK_PLAN, [], [2])).toThrow(/--k/);
  });
});

describe("call-time prediction", () => {
  test("scales the largest smaller shape linearly, same k first, else the slowest k there", () => {
    const h = new CallTimeHistory();
    expect(h.predict("webgpu", "x", 4, "forward", 100)).toBeNull();
    h.record("webgpu", "x", 1, "forward", 10, 100);
    h.record("webgpu", "x", 4, "forward", 30, 100);
    h.record("webgpu", "x", 4, "forward", 50, 1000);
    expect(h.predict("webgpu", "x", 4, "forward", 4000)!.ms).toBe(200);
    expect(h.predict("webgpu", "x", 2, "forward", 4000)!.ms).toBe(200); // slowest k at 1000 elements
    expect(h.predict("webgpu", "x", 1, "forward", 500)!.ms).toBe(50); // from k=1 at 100 elements
    expect(h.predict("webgpu", "x", 1, "forwardBackward", 500)).toBeNull();
    expect(h.predict("cpu", "x", 1, "forward", 500)).toBeNull();
  });
});

describe("bytes formula", () => {
  test("forward 4(N + M), forward+backward 4(3N + 2M)", () => {
    // N = 2*4*6*3 = 144, M = 2*2*3*3 = 36
    expect(bytesMoved([2, 4, 6, 3], "same", "forward")).toBe(4 * (144 + 36));
    expect(bytesMoved([2, 4, 6, 3], "same", "forwardBackward")).toBe(4 * (3 * 144 + 2 * 36));
    // odd sizes: "same" rounds the output up, "valid" down
    expect(bytesMoved([1, 3, 3, 1], "same", "forward")).toBe(4 * (9 + 4));
    expect(bytesMoved([1, 3, 3, 1], "valid", "forward")).toBe(4 * (9 + 1));
    const t = throughput([1, 10, 10, 10], "valid", "forward", 2);
    expect(t.elementsPerSecond).toBe(1000 / 0.002);
    expect(t.gigabytesPerSecond).toBeCloseTo((4 * (1000 + 250)) / 0.002 / 1e9, 12);
  });
});
