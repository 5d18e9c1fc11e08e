/**
 * Tests of the cross-engine table: common cases, per-run clock, verdicts, ids of repeated
 * adapters, NOT MEASURED rows, its chart, browser-page runs and the merge's refusals.
 */
import { describe, expect, test } from "vitest";
import { crossEngine, crossRunLabel, crossRunSlug, ratioOn, runClock, type SavedRun } from "./cross_engine.ts";
import { chartData, crossEngineMarkdown, crossEngineSvg } from "./cross_engine_report.ts";
import { asSavedRun, mergeFiles, untrustedReasons } from "./engines.ts";
import { engineRun, row } from "./test_fixtures.ts";

describe("cross-engine table", () => {
  const deno = engineRun("deno", 2, 10, true); // 0.4x, 0.5x
  const dawn = engineRun("dawn", 3, 30); // 0.6x, 1.5x

  test("one row per run on the cases every run measured; verdicts against 0.5x and 1.0x per engine", () => {
    const c = crossEngine([{ run: deno, file: "a.json" }, { run: dawn }]);
    expect(c.runs.map((r) => [r.id, r.engine])).toEqual([["deno-llvmpipe-vulkan", "deno"], [
      "dawn-swiftshader",
      "dawn",
    ]]);
    expect(c.runs[1].label).toBe("SwiftShader Device (Subzero) [google] on Dawn (npm webgpu 0.6.2)");
    expect(c.rows.map((r) => [r.run, r.entry, r.k, r.verdict.forward.status, r.verdict.forwardBackward.status]))
      .toEqual([
        ["deno-llvmpipe-vulkan", "wgsl", 4, "PASS", "PASS"],
        ["dawn-swiftshader", "wgsl", 4, "FAIL", "FAIL"],
      ]);
    expect(c.rows[0].vsMaxPool.forward!.median).toBeCloseTo(0.4, 10);
    expect(c.rows[1].vsMaxPool.forwardBackward!.median).toBeCloseTo(1.5, 10);
    expect(c.rows[0].copyPercent.forward!.median).toBeCloseTo(50, 10); // copy 1 ms / wgsl 2 ms
    expect(c.notInEveryRun).toEqual(["wgsl 32x64x64x32 k=1: deno-llvmpipe-vulkan"]);
    expect(c.summary.map((s) => [s.run, s.forward.pass, s.forwardBackward.pass, s.forward.of])).toEqual([
      ["deno-llvmpipe-vulkan", 1, 1, 1],
      ["dawn-swiftshader", 0, 0, 1],
    ]);
    const md = crossEngineMarkdown(c);
    expect(md).toContain(
      "| `dawn-swiftshader` | wgsl | target 32x64x64x32 | 4 | 0.600x [0.600, 0.600] | FAIL | 1.50x [1.50, 1.50] | FAIL " +
        "| 33 % [33, 33] | 13 % [13, 13] | process-cpu, 5 rounds | 3.00 | 30 |",
    );
    // CPU adapters (llvmpipe, SwiftShader): judged on process CPU time, GPU timestamps shown as context.
    expect(c.runs.map((r) => r.clock)).toEqual(["process-cpu", "process-cpu"]);
    expect(md).toContain(
      "| `dawn-swiftshader` | wgsl | target 32x64x64x32 | 4 | gpu-timestamps | 0.600x [0.600, 0.600] |",
    );
    expect(md).toContain("- `deno-llvmpipe-vulkan`: llvmpipe (LLVM 15.0.6, 256 bits) [65541] on wgpu (Deno 2.9.6)");
    expect(md).toContain(
      "- `dawn-swiftshader` wgsl: forward <= 0.5x tf.maxPool 0/1 FAIL; forward+backward <= 1.0x 0/1 FAIL",
    );
  });

  test("the clock: process CPU time on a CPU adapter, GPU timestamps on a GPU; per-round ratios of raw samples", () => {
    const gpu = {
      ...dawn,
      environment: {
        ...dawn.environment,
        adapter: { available: true as const, info: { description: "NVIDIA H100" }, features: [], limits: {} },
      },
    };
    expect(runClock(gpu).clock).toBe("gpu-timestamps");
    expect(crossEngine([{ run: gpu }]).rows[0].vsMaxPool.forward!.clock).toBe("gpu-timestamps");
    // Without GPU timestamps a GPU run falls back to wall clock, never to process CPU time.
    const noTs = {
      ...gpu,
      suites: gpu.suites.map((x) => ({
        ...x,
        rows: x.rows.map((r) => ({ ...r, samples: { ...r.samples, device: undefined } })),
      })),
    };
    expect(crossEngine([{ run: noTs }]).rows[0].vsMaxPool.forward!.clock).toBe("wall-clock");
    expect(runClock(dawn).clock).toBe("process-cpu");
    // CPU time twice the GPU time in one round of a: that round's ratio moves, the median not.
    const a = row({ subject: "wgsl", pass: "forward", ms: 2 });
    const b = row({ subject: "tf.maxPool@webgpu", kind: "baseline", k: null, pass: "forward", ms: 4 });
    const cpuA = { ...a, samples: { ...a.samples, cpu: [2, 2, 8, 2, 2] } };
    expect(ratioOn(cpuA, b, "process-cpu")).toMatchObject({ median: 0.5, n: 5, clock: "process-cpu" });
    expect(ratioOn(cpuA, b, "process-cpu")!.high).toBeGreaterThanOrEqual(0.5);
    expect(ratioOn(a, { ...b, status: "failed" }, "process-cpu")).toBeNull();
    expect(ratioOn(a, b, "gpu-timestamps", 100)!.median).toBe(50);
  });

  test("two runs with the same engine and adapter get distinct ids; a failed row is NOT MEASURED", () => {
    const broken = engineRun("deno", 2, 10);
    const rows = broken.suites[0].rows.map((r) =>
      r.subject === "wgsl" && r.pass === "forwardBackward"
        ? { ...r, status: "failed" as const, reason: "boom", vsMaxPool: null }
        : r
    );
    const c = crossEngine([{ run: deno }, { run: { ...broken, suites: [{ ...broken.suites[0], rows }] } }]);
    expect(c.runs.map((r) => r.id)).toEqual(["deno-llvmpipe-vulkan", "deno-llvmpipe-vulkan#2"]);
    expect(c.rows[1].verdict.forwardBackward).toEqual({ status: "NOT MEASURED", reason: "failed: boom" });
    expect(crossEngineMarkdown(c)).toContain("NOT MEASURED (failed: boom)");
  });

  test("the chart: a vega-lite spec with a point and an interval per run and measure, rendered to SVG", async () => {
    const c = crossEngine([{ run: deno }, { run: dawn }]);
    const data = chartData(c);
    expect(data.length).toBe(6); // 2 runs x (fwd ratio, fwd+bwd ratio, fwd % copy)
    expect(data.filter((d) => d.target !== null).map((d) => d.target)).toEqual([0.5, 1, 0.5, 1]);
    expect(data.map((d) => d.series)).toEqual([
      ...Array(3).fill("deno-llvmpipe-vulkan"),
      ...Array(3).fill("dawn-swiftshader"),
    ]);
    const svg = await crossEngineSvg(c, "test chart");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("test chart");
    expect(svg).toContain("dawn-swiftshader");
  });

  /** A browser page's run (web/main.ts): Chrome on SwiftShader, GPU timestamps, no process CPU time. */
  // The page's engine names ("chrome") are outside bench's own EngineInfo names: cast.
  const page = {
    ...dawn,
    kind: "sortpool-browser-run",
    environment: {
      ...dawn.environment,
      engine: { name: "chrome", implementation: "HeadlessChrome 156.0 (WebGPU: Dawn)" },
      adapterLine: "swiftshader [google] on HeadlessChrome 156.0 (WebGPU: Dawn)",
      adapter: {
        available: true as const,
        info: { vendor: "google", architecture: "swiftshader", device: "", description: "", isFallbackAdapter: true },
        features: [],
        limits: {},
      },
    },
    suites: dawn.suites.map((x) => ({
      ...x,
      rows: x.rows.map((r) => ({ ...r, timer: "gpu-timestamps" as const, samples: { ...r.samples, cpu: [] } })),
    })),
    summary: { state: "done" },
    plant: null,
    checks: { results: [{ check: "golden", subject: "wgsl", failed: 0 }] },
  } as unknown as SavedRun;

  test("a page run: its own clock (GPU timestamps, not process CPU), named by adapter architecture", () => {
    expect(runClock(page).clock).toBe("gpu-timestamps");
    expect(runClock(page).why).toMatch(/no process CPU time/);
    const c = crossEngine([{ run: page, file: "page.json" }]);
    expect(c.runs[0].id).toBe("chrome-swiftshader");
    expect(c.rows[0].vsMaxPool.forward!.clock).toBe("gpu-timestamps");
    const md = crossEngineMarkdown(c);
    expect(md).toContain("clock: gpu-timestamps (a CPU adapter, but the file has no process CPU time");
    expect(md).not.toContain("clock: process-cpu");
    expect(crossRunSlug(page.environment)).toBe("chrome-swiftshader");
    // A page that found no adapter: described as such, not as a file that predates engine names.
    const none = {
      ...page.environment,
      adapterLine: "",
      adapter: { available: false as const, reason: "navigator.gpu is missing" },
    };
    expect(crossRunLabel(none)).toBe(
      "no adapter (navigator.gpu is missing) on HeadlessChrome 156.0 (WebGPU: Dawn)",
    );
    expect(crossRunLabel(none)).not.toMatch(/predates/);
  });

  test("merge: a failed, planted or check-failing run is refused, or merged marked UNTRUSTED on request", async () => {
    expect(untrustedReasons(page)).toEqual([]);
    expect(untrustedReasons(deno)).toEqual([]);
    const bad = {
      ...page,
      summary: { state: "failed" },
      plant: { name: "wrong-weights-order" },
      checks: { results: [{ check: "golden", subject: "wgsl", failed: 12 }] },
    };
    expect(untrustedReasons(bad)).toEqual([
      'its run ended "failed", not "done"',
      "it ran the planted failure wrong-weights-order",
      "checks failed: golden on wgsl (12 cases)",
    ]);
    const dir = await Deno.makeTempDir();
    const errors: string[] = [];
    const [error, log] = [console.error, console.log];
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    console.log = () => {};
    try {
      await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify(bad));
      const out = { json: `${dir}/m.json`, report: `${dir}/report` };
      expect(await mergeFiles([`${dir}/bad.json`], out, "test")).toBe(1);
      expect(errors.join("\n")).toMatch(/bad\.json is not a trustworthy measurement: its run ended "failed".*Refused/);
      expect(await mergeFiles([`${dir}/bad.json`], out, "test", true)).toBe(0);
      const report = await Deno.readTextFile(`${dir}/report/README.md`);
      expect(report).toContain("WARNING: UNTRUSTED runs merged on request");
      expect(report).toMatch(/`chrome-swiftshader`: UNTRUSTED \(its run ended "failed"/);
      const json = JSON.parse(await Deno.readTextFile(`${dir}/m.json`));
      expect(JSON.stringify(json)).toContain("UNTRUSTED");
    } finally {
      [console.error, console.log] = [error, log];
      await Deno.remove(dir, { recursive: true });
    }
  });

  test("merge input: a file that is not a bench JSON is named with what it lacks", () => {
    expect(() => asSavedRun({ suites: [] }, "x.json")).toThrow(/^x\.json: not a bench JSON \(no gated\)/);
    expect(asSavedRun(JSON.parse(JSON.stringify(deno)), "y.json").plan).toBe("cross");
  });
});
