import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { referenceForward } from "../src/reference.ts";
import type { Implementation } from "../src/types.ts";
import { caseArbitrary, classify } from "./generators.ts";
import { plantedBugs, plantedControl, plantedControlFloat32, propertiesFor } from "./planted.ts";
import { properties, toEntryCase } from "./properties.ts";
import { formatOutcome } from "./report.ts";
import { type PropertyOutcome, runProperty, slotsFor } from "./runner.ts";

const SEED = 1234567;
const RUNS = 40;

async function runAll(entry: Implementation, shrinkLimit = 0): Promise<PropertyOutcome[]> {
  const outcomes: PropertyOutcome[] = [];
  for (const property of propertiesFor(entry, properties)) {
    outcomes.push(
      await runProperty(entry, property, {
        seed: SEED,
        runs: RUNS,
        shrinkLimit,
        context: { slots: slotsFor(entry) },
        replayCommand: "deno task check-grads --planted",
      }),
    );
  }
  return outcomes;
}

describe("planted bugs", () => {
  for (const control of [plantedControl, plantedControlFloat32]) {
    test(`${control.name}: the scaffold without a bug passes every property`, async () => {
      const failing = (await runAll(control)).filter((o) => o.status !== "pass");
      expect(failing.map(formatOutcome).join("\n\n")).toBe("");
    });
  }

  for (const bug of plantedBugs) {
    test(`${bug.impl.name} is caught by ${bug.caughtBy.join(", ")}`, async () => {
      const outcomes = await runAll(bug.impl);
      const status = Object.fromEntries(outcomes.map((o) => [o.property, o.status]));
      for (const property of bug.caughtBy) expect(status[property], property).toBe(bug.expect);
      if (bug.expect === "deviation") {
        // A declared deviation is reported, never failed and never hidden.
        expect(outcomes.filter((o) => o.status === "fail").map(formatOutcome).join("\n\n")).toBe("");
        const ties = outcomes.find((o) => o.property === "ties")!;
        expect(ties.verdict?.mismatches.some((m) => m.severity === "deviation" && m.where !== undefined)).toBe(true);
      }
    });
  }

  test("the same tie bug without the declaration is a failure, with its window in the report", async () => {
    const bug = plantedBugs.find((b) => b.impl.name === "wrong-tie-routing")!;
    const outcome = await runProperty(bug.impl, properties.find((p) => p.name === "ties")!, {
      seed: SEED,
      runs: RUNS,
      shrinkLimit: 200,
      context: { slots: 4 },
      replayCommand: "deno task check-grads --planted",
    });
    expect(outcome.status).toBe("fail");
    const text = formatOutcome(outcome);
    expect(text).toContain("dx vs reference under the spec's tie rule");
    expect(text).toMatch(/at batch \d+, channel \d+, window \(\d+, \d+\)/);
    expect(text).toContain("spec rank");
    expect(text).toContain(`replay: deno task check-grads --planted --impl wrong-tie-routing --seed ${SEED} --path `);
    // The shrunk counterexample is small.
    expect(outcome.counterexample!.x.length).toBeLessThanOrEqual(8);

    // Replaying seed and path reproduces the same counterexample.
    const replay = await runProperty(bug.impl, properties.find((p) => p.name === "ties")!, {
      seed: SEED,
      runs: RUNS,
      path: outcome.path,
      shrinkLimit: 0,
      context: { slots: 4 },
      replayCommand: "deno task check-grads --planted",
    });
    expect(replay.status).toBe("fail");
    expect(replay.counterexample!.params).toEqual(outcome.counterexample!.params);
  });

  test("the overlap and per-channel bugs are caught on overlapping / per-channel cases only", async () => {
    for (
      const [name, property, needs] of [
        ["overlap-dx-overwritten", "vjp-ref", "overlapping"],
        ["per-channel-logits-row-major", "fwd-ref", "perChannel"],
      ] as const
    ) {
      const bug = plantedBugs.find((b) => b.impl.name === name)!;
      const outcome = await runProperty(bug.impl, properties.find((p) => p.name === property)!, {
        seed: SEED,
        runs: RUNS,
        shrinkLimit: 100,
        context: { slots: 4 },
        replayCommand: "deno task check-grads --planted",
      });
      expect(outcome.status, name).toBe("fail");
      // Shrinking keeps what the bug needs: the counterexample still overlaps / has per-channel logits.
      expect(classify(outcome.counterexample!)[needs], name).toBe(true);
      // Without it the mutant equals the reference.
      const plain = fc.sample(caseArbitrary("float64", { kinds: ["distinct"], windows: "non-overlapping" }), {
        numRuns: 20,
        seed: SEED,
      });
      for (const c of plain) {
        const input = toEntryCase(bug.impl, c);
        expect(Array.from((await bug.impl.forward(input)).y)).toEqual(Array.from(referenceForward(input).y));
        const g = await bug.impl.gradient(input, c.dy);
        const ref = await plantedControl.gradient(input, c.dy);
        expect(Array.from(g.dx)).toEqual(Array.from(ref.dx));
        expect(Array.from(g.dLogits)).toEqual(Array.from(ref.dLogits));
      }
    }
  });

  test("half-precision-forward stays within JAX's float32 tolerance (2e-3 relative) yet is caught", async () => {
    const bug = plantedBugs.find((b) => b.impl.name === "half-precision-forward")!;
    const cases = fc.sample(caseArbitrary("float32", { kinds: ["distinct"] }), { numRuns: 30, seed: SEED });
    let worst = 0;
    for (const c of cases) {
      const y = (await bug.impl.forward(toEntryCase(bug.impl, c))).y;
      const ref = referenceForward(toEntryCase(bug.impl, c)).y;
      for (let i = 0; i < y.length; i++) {
        if (ref[i] !== 0) worst = Math.max(worst, Math.abs(y[i] - ref[i]) / Math.abs(ref[i]));
      }
    }
    expect(worst).toBeLessThan(2e-3);
    expect(worst).toBeGreaterThan(1e-5);
  });
});
