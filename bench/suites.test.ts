/**
 * Tests of the suite table and the output paths: unique names, `--full` runs every suite, each
 * suite's stored keys load back from the run's JSON, `--report` as a folder or a Markdown file.
 */
import { describe, expect, test } from "vitest";
import { bandwidthRow } from "./bandwidth.ts";
import { actionPath, reportPaths } from "./outputs.ts";
import { PLAN_LEVELS } from "./run.ts";
import { selectedSuites, SUITE_NAMES, SUITES } from "./suites.ts";
import { bandwidthResult, fakeRun, TARGET_ROWS, timing } from "./test_fixtures.ts";
import { benchFlags } from "./flags.ts";

const noFlags = benchFlags({}, SUITE_NAMES);

describe("suite table", () => {
  test("unique names; --full runs every suite; every level plans without errors", () => {
    expect(new Set(SUITE_NAMES).size).toBe(SUITES.length);
    expect(selectedSuites("full", noFlags)).toEqual([...SUITES]);
    for (const level of PLAN_LEVELS) {
      for (const s of selectedSuites(level, noFlags)) {
        expect(s.describe(s.plan(level, noFlags)).length).toBeGreaterThan(0);
      }
    }
  });

  test("each suite's stored keys load back from the run's JSON", () => {
    const results: Record<string, unknown> = {
      shapes: fakeRun(TARGET_ROWS).suites,
      bandwidth: bandwidthResult([bandwidthRow("wgsl", 1, timing("a", () => 10), timing("b", () => 9))], true),
      windows: { ...fakeRun(TARGET_ROWS).suites[0], window: { poolSize: [3, 3], strides: [2, 2] } },
    };
    expect(Object.keys(results).sort()).toEqual([...SUITE_NAMES].sort());
    for (const s of SUITES) {
      const plan = s.plan("quick", noFlags);
      const run = JSON.parse(JSON.stringify({ ...fakeRun([]), suites: [], ...s.store(plan, results[s.name]) }));
      expect(s.load(run)).toEqual(JSON.parse(JSON.stringify(results[s.name])));
      expect(s.load({ ...fakeRun([]), suites: [] })).toBeUndefined();
    }
  });
});

describe("output paths", () => {
  test("--report DIR gets README.md; --report FILE.md is the file, charts in its folder", () => {
    expect(reportPaths("bench-report/x/")).toEqual({ dir: "bench-report/x", markdown: "bench-report/x/README.md" });
    expect(reportPaths("bench/results/cross-engine.md")).toEqual({
      dir: "bench/results",
      markdown: "bench/results/cross-engine.md",
    });
    expect(reportPaths("r.md")).toEqual({ dir: ".", markdown: "r.md" });
    expect(actionPath("out/b.json")).toBe("out/b.benchmark-action.json");
    expect(actionPath("out/b")).toBe("out/b.benchmark-action.json");
  });
});
