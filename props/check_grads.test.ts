import { describe, expect, test } from "vitest";
import { referenceImplementation } from "../src/reference.ts";
import type { Implementation } from "../src/types.ts";
import { helpText } from "../harness/cli.ts";
import { CHECK_GRADS_CLI, checkGrads, parseArgs, plantedVerdicts, type Progress, UsageError } from "./check_grads.ts";
import { plantedEntries } from "./planted.ts";
import { properties } from "./properties.ts";
import { formatCoverage, formatSkips, formatSummary } from "./report.ts";
import { expectedConfigurations, expectedSkipsPerCase, planRuns } from "./plan.ts";
import { emptyCoverage, emptySkips } from "./runner.ts";

const quiet: Progress = { line: () => {}, status: () => {} };

describe("check-grads command line", () => {
  test("parses every flag", () => {
    const o = parseArgs([
      "--impl",
      "wgsl",
      "--property=ties,dx-fd",
      "--runs",
      "7",
      "--seed",
      "42",
      "--path",
      "3:0:1",
      "--json",
      "out.json",
      "--budget",
      "50",
      "--shrink",
      "0",
      "--planted",
    ]);
    expect(o).toMatchObject({
      impl: "wgsl",
      property: "ties,dx-fd",
      runs: 7,
      seed: 42,
      path: "3:0:1",
      json: "out.json",
      budget: 50,
      shrink: 0,
      planted: true,
    });
  });

  test("rejects bad input naming the flag, what was expected and what was received", () => {
    expect(() => parseArgs(["--runs", "0"])).toThrow(/--runs: expected an integer >= 1, received "0"/);
    expect(() => parseArgs(["--frobnicate"])).toThrow(UsageError);
    expect(() => parseArgs(["--path", "1:2"])).toThrow(/--path: expected a --seed as well/);
    expect(() => parseArgs(["--path", "x", "--seed", "1"])).toThrow(/fast-check path/);
    expect(() => parseArgs(["--seed"])).toThrow(/--seed: expected a value, received nothing/);
    expect(() => parseArgs(["stray"])).toThrow(/expected flags only/);
  });

  test("-h and --help ask for the help text, which lists every flag", () => {
    expect(parseArgs(["-h"]).help).toBe(true);
    const help = helpText(CHECK_GRADS_CLI);
    for (const flag of Object.keys(CHECK_GRADS_CLI.options)) expect(help).toContain(`--${flag}`);
  });
});

describe("run plan", () => {
  test("cheap entries keep the full run count, expensive ones get fewer but at least the minimum", () => {
    const cheap = { entry: referenceImplementation, secondsPerCall: 0.0005 };
    const gpu = {
      entry: { ...referenceImplementation, name: "gpu", device: "webgpu" } as Implementation,
      secondsPerCall: 0.05,
    };
    const slow = { entry: { ...referenceImplementation, name: "slow" } as Implementation, secondsPerCall: 5 };
    const plan = planRuns([cheap, gpu, slow], properties, 60, 100, 5);
    expect(plan.map((p) => p.runs)).toEqual([100, plan[1].runs, 5]);
    expect(plan[1].runs).toBeLessThan(100);
    expect(plan[1].runs).toBeGreaterThan(5);
    expect(plan[0].estimatedSeconds + plan[1].estimatedSeconds).toBeLessThanOrEqual(60);
  });

  test("compiling new window configurations and drawing skipped cases count against an entry's share", () => {
    const base = { entry: { ...referenceImplementation, name: "gpu", device: "webgpu" } as Implementation };
    const warm = planRuns([{ ...base, secondsPerCall: 0.02 }], properties, 60, 100, 5)[0];
    const cold = planRuns([{ ...base, secondsPerCall: 0.02, secondsPerNewWindow: 0.1 }], properties, 60, 100, 5)[0];
    expect(expectedConfigurations(properties.length * cold.runs)).toBeGreaterThan(10);
    expect(cold.runs).toBeLessThan(warm.runs);
    expect(cold.estimatedSeconds).toBeLessThanOrEqual(60);
    const limited = {
      ...base.entry,
      supports: { windows: "2x2/2" as const, perChannelLogits: false, limitation: "test" },
    };
    expect(expectedSkipsPerCase(limited)).toBeGreaterThan(1);
    expect(expectedSkipsPerCase(base.entry)).toBe(0);
    expect(planRuns([{ entry: limited, secondsPerCall: 0.02 }], properties, 60, 100, 5)[0].runs).toBeLessThan(
      warm.runs,
    );
  });
});

describe("no WebGPU adapter", () => {
  test("entries on device webgpu fail every property with the reason; they are never skipped", async () => {
    let calls = 0;
    const gpu: Implementation = {
      ...referenceImplementation,
      name: "fake@webgpu",
      device: "webgpu",
      forward: (c) => (calls++, referenceImplementation.forward(c)),
    };
    const result = await checkGrads(
      [referenceImplementation, gpu],
      properties,
      { runs: 2, maxRuns: 2, minRuns: 1, budget: 10, planted: false, list: false, help: false, seed: 5 },
      quiet,
      () => Promise.resolve("navigator.gpu.requestAdapter() returned null: no WebGPU adapter"),
    );
    const mine = result.outcomes.filter((o) => o.entry === "fake@webgpu");
    expect(mine.length).toBe(properties.length);
    for (const o of mine) {
      expect(o.status).toBe("fail");
      expect(o.reason).toContain("no WebGPU adapter");
    }
    expect(calls).toBe(0);
    expect(result.outcomes.filter((o) => o.entry === "reference").every((o) => o.status === "pass")).toBe(true);
    const table = formatSummary(result.entries, result.properties, result.outcomes, result.plan);
    expect(table).toMatch(/fake@webgpu .*FAIL\(n\/a\)/);
  });
});

describe("cases per property and skips in the report", () => {
  test("the coverage table counts general / overlapping / per-channel cases; skips show their reason once", async () => {
    const limited: Implementation = {
      ...referenceImplementation,
      name: "limited",
      supports: {
        windows: "2x2/2",
        perChannelLogits: false,
        limitation: "a test entry limited to the article's layer",
      },
    };
    const chosen = properties.filter((p) => ["fwd-ref", "vjp-ref"].includes(p.name));
    const result = await checkGrads(
      [referenceImplementation, limited],
      chosen,
      { runs: 30, maxRuns: 30, minRuns: 1, budget: 10, planted: false, list: false, help: false, seed: 11 },
      quiet,
    );
    expect(result.outcomes.every((o) => o.status === "pass")).toBe(true);
    const ref = result.outcomes.filter((o) => o.entry === "reference");
    for (const o of ref) {
      expect(o.coverage.evaluated).toBe(30);
      expect(o.coverage.general).toBeGreaterThan(0);
      expect(o.coverage.overlapping).toBeGreaterThan(0);
      expect(o.coverage.perChannel).toBeGreaterThan(0);
      expect(o.skips.count).toBe(0);
    }
    const table = formatCoverage(result.entries, result.properties, result.outcomes);
    const row = (name: string) => table.split("\n").find((l) => l.startsWith(name))!;
    const [, refCell] = row("fwd-ref").split(/\s{2,}/);
    const c = ref.find((o) => o.property === "fwd-ref")!.coverage;
    expect(refCell).toBe(`30 ${c.general}/${c.overlapping}/${c.perChannel}`);
    expect(row("fwd-ref")).toMatch(/30 0\/0\/0$/);
    const skipped = result.outcomes.filter((o) => o.entry === "limited").reduce((s, o) => s + o.skips.count, 0);
    expect(skipped).toBeGreaterThan(0);
    expect(row("skipped (unsupported)")).toMatch(new RegExp(`0\\s+${skipped}$`));
    const skips = formatSkips(result.entries, result.outcomes);
    expect(skips).toContain(`limited: ${skipped} cases skipped over 2 properties`);
    expect(skips.match(/reason:/g)?.length).toBe(1);
    expect(skips).toContain("a test entry limited to the article's layer");
    expect(skips).not.toContain("reference:");
  });
});

describe("planted mode verdicts", () => {
  test("a planted bug that no property catches is reported as not caught", () => {
    const verdicts = plantedVerdicts(
      plantedEntries.map((e) => ({
        entry: e.name,
        property: "fwd-ref",
        status: "pass" as const,
        runs: 1,
        evaluations: 1,
        seed: 1,
        worstPassingRatio: 0,
        coverage: emptyCoverage(),
        skips: emptySkips(),
        wallMs: 0,
      })),
    );
    const controls = verdicts.filter((v) => v.name.includes("control"));
    expect(controls.every((v) => v.caught)).toBe(true);
    expect(verdicts.filter((v) => !v.name.includes("control")).every((v) => !v.caught)).toBe(true);
  });
});
