/**
 * Tests of the kernel-target verdicts of the shape suites (on the run's headline clock) and of
 * the verdict tables.
 */
import { describe, expect, test } from "vitest";
import { shapesVerdicts } from "./shapes_report.ts";
import { headlineMarkdown, judge, targetsMarkdown, type TargetVerdict } from "./targets.ts";
import { fakeRun, row, TARGET_ROWS } from "./test_fixtures.ts";

describe("kernel targets of the shape suites", () => {
  test("gated entries only; verdicts follow the per-round ratios; one speed-up target per non-gated entry", () => {
    const run = fakeRun(TARGET_ROWS);
    const verdicts = shapesVerdicts([...run.suites], run);
    expect(verdicts.every((v) => v.entry === "wgsl" && v.case === "32x64x64x32, k=4")).toBe(true);
    expect(verdicts.map((v) => [v.target, v.met, Number(v.value!.toFixed(2))])).toEqual([
      ["forward <= 0.5x tf.maxPool time", true, 0.4], // 2 / 5
      ["forward+backward <= 1.0x tf.maxPool time", false, 1.5], // 30 / 20
      ["forward >= 100x faster than tfjs-topk@webgpu", true, 200], // 400 / 2
      ["forward >= 100x faster than tfjs-network@webgpu", false, 50], // 100 / 2
    ]);
    for (const v of verdicts) expect(v.interval).not.toBeNull();
    expect(verdicts.some((v) => v.inconclusive)).toBe(false); // identical rounds: zero-width intervals
    expect(shapesVerdicts([...run.suites], { ...run, gated: [] })).toEqual([]);
  });

  test("judged on the headline clock: process CPU time on a CPU adapter, even when GPU timestamps disagree", () => {
    // GPU timestamps say 0.6x (a preempted device thread), process CPU time 0.4x.
    const wgsl = row({ subject: "wgsl", pass: "forward", ms: 3 });
    const cpuWgsl = { ...wgsl, samples: { ...wgsl.samples, cpu: [2, 2, 2, 2, 2] } };
    const maxPool = row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 5 });
    const run = fakeRun([cpuWgsl, maxPool]);
    const [forward, fb] = shapesVerdicts([...run.suites], run);
    expect(forward).toMatchObject({ value: 0.4, met: true, detail: "process-cpu, 5 rounds" });
    expect(fb).toMatchObject({ value: null, met: null });
    expect(fb.detail).toMatch(/^wgsl: not measured/);
    // On a GPU the same rows are judged on GPU timestamps.
    const gpu = {
      ...run,
      environment: {
        ...run.environment,
        adapter: { available: true as const, info: { description: "NVIDIA H100" }, features: [], limits: {} },
      },
    };
    expect(shapesVerdicts([...gpu.suites], gpu)[0]).toMatchObject({ value: 0.6, met: false });
  });
});

describe("verdict tables", () => {
  const spec = { entry: "wgsl", unit: "%" as const, ok: (v: number) => v >= 90 };
  const verdicts: TargetVerdict[] = [
    judge({ ...spec, target: "bw", case: "32x64x64x32, k=1" }, { median: 95, low: 92, high: 99, n: 9, clock: "c" }),
    judge({ ...spec, target: "bw", case: "32x64x64x32, k=4" }, { median: 91, low: 85, high: 93, n: 9, clock: "c" }),
    judge(
      { entry: "wgsl", target: "fwd", case: "32x64x64x32, k=4", unit: "x", ok: (v) => v <= 0.5 },
      { median: 0.41, low: 0.38, high: 0.45, n: 15, clock: "process-cpu" },
    ),
    judge({ ...spec, entry: "other", target: "bw", case: "32x64x64x32, k=1" }, null, "prepare failed: boom"),
  ];

  test("the full table: one row per verdict, with case, interval, verdict and clock", () => {
    const md = targetsMarkdown(verdicts);
    expect(md).toContain(
      "| wgsl | bw | 32x64x64x32, k=4 | 91 % [85, 93] | PASS (interval straddles the target) | c, 9 rounds |",
    );
    expect(md).toContain("| other | bw | 32x64x64x32, k=1 | - | NOT MEASURED | prepare failed: boom |");
    expect(targetsMarkdown([])).toMatch(/could not be judged/);
  });

  test("the compact table: a row per entry, a column per target, its cases labelled by k", () => {
    const md = headlineMarkdown(verdicts).split("\n");
    expect(md[0]).toBe("| entry | bw | fwd |");
    expect(md[2]).toBe(
      "| wgsl | k=1: 95 % [92, 99] PASS; k=4: 91 % [85, 93] PASS (interval straddles the target) | " +
        "0.410x [0.380, 0.450] PASS |",
    );
    expect(md[3]).toBe("| other | NOT MEASURED (prepare failed: boom) | - |");
  });
});
