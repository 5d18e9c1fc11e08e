/**
 * Tests of the README results generator: each run dated and named by engine, adapter and load;
 * the kernel targets per entry; sections replaced between their markers only.
 */
import { describe, expect, test } from "vitest";
import { bandwidthRow } from "./bandwidth.ts";
import { headlineSection, replaceSections, resultsSection, runLine, SECTIONS } from "./readme_results.ts";
import { bandwidthResult, fakeRun, LLVMPIPE_LINE, TARGET_ROWS, timing } from "./test_fixtures.ts";

const run = {
  ...fakeRun(TARGET_ROWS),
  args: [],
  plan: "default" as const,
  durationMs: 118_000,
  cpuMs: 190_000,
  loadavgAtEnd: "7.00 6.00 5.00",
  bandwidth: bandwidthResult([bandwidthRow("wgsl", 1, timing("a", () => 10), timing("b", () => 9.5))], true),
};

describe("README results", () => {
  test("a run's line: date, command, plan, duration and CPU time, engine and adapter, load, clock", () => {
    expect(runLine(run)).toBe(
      "Measured 2026-01-01 00:00 UTC with `deno task bench` (default plan: bandwidth, shapes) in 118 s (190 s " +
        `process CPU time). Engine and adapter (adapter.info): ${LLVMPIPE_LINE} (DENO_WEBGPU_BACKEND=vulkan ` +
        "requested). Host: 2 CPUs, load average 0.50 0.40 0.30 at start, 7.00 6.00 5.00 at the end. Kernel " +
        "targets judged on process-cpu (a CPU adapter: its device threads run in the bench process, so process " +
        "CPU time counts the kernels' work and not other processes' load): median of per-round ratios [95% " +
        'bootstrap interval]; PASS when the median meets the target, "interval straddles" when its interval ' +
        "crosses it.",
    );
  });

  test("the headline section: a row per gated entry, a column per target", () => {
    const text = headlineSection([run], ["out/bench-deno-llvmpipe-vulkan.json"]);
    const lines = text.split("\n");
    expect(lines[0]).toBe(SECTIONS.headline[0]);
    expect(lines.at(-1)).toBe(SECTIONS.headline[1]);
    expect(text).toContain("bench/readme_results.ts out/bench-deno-llvmpipe-vulkan.json`; do not edit by hand");
    expect(text).toContain(
      "| entry | forward >= 90 % of copy bandwidth (2x2/2) | forward <= 0.5x tf.maxPool time | " +
        "forward+backward <= 1.0x tf.maxPool time |",
    );
    expect(text).toContain("| wgsl | 95 % [95, 95] PASS | 0.400x [0.400, 0.400] PASS | 1.50x [1.50, 1.50] FAIL |");
  });

  test("the results section: every verdict and each suite's summary", () => {
    const text = resultsSection([run], ["a.json"]);
    expect(text).toContain("### deno-llvmpipe-vulkan (default plan)");
    expect(text).toContain("Empty queue round trip 11.5 ms.");
    expect(text).toContain("2x2/2 forward against the copy kernel:");
    expect(text).toContain("Shape suites (2x2/2):");
    expect(text).toContain("| target 32x64x64x32 | 4 | fwd |");
  });

  test("sections are replaced between their markers, the rest of the file kept; no markers, nothing replaced", () => {
    const readme = `# Title\n\nbefore\n${SECTIONS.headline.join("\nold\n")}\nafter\n`;
    const out = replaceSections(readme, { headline: "NEW", results: "FULL" });
    expect(out).toEqual({ text: "# Title\n\nbefore\nNEW\nafter\n", replaced: ["headline"] });
    expect(replaceSections("no markers", { headline: "NEW", results: "FULL" }).replaced).toEqual([]);
  });
});
