import { describe, expect, test } from "vitest";
import { validateCase } from "../src/validate.ts";
import { caseWindows, containingWindows, hasOverlap, membershipsOf, rankSums, windowFacts } from "./windows.ts";

/** 3x3 input, one channel, values 0..8 row-major: the largest cell is the last. */
const X = Float64Array.from({ length: 9 }, (_, i) => i);

describe("window facts", () => {
  test('the default 2x2/2 window, "same": padded zeros rank for k > 1, magnitudes of the top k', () => {
    const facts = windowFacts({ shape: [1, 3, 3, 1], k: 2, padding: "same" }, X);
    expect(facts.map((w) => [w.out, w.oh, w.ow])).toEqual([[0, 0, 0], [1, 0, 1], [2, 1, 0], [3, 1, 1]]);
    // Window (1, 1) holds x[8] and three padded zeros (after the input: TensorFlow's "same" split).
    const corner = facts[3];
    expect(corner.cells.map((c) => c.index)).toEqual([8, -1, -1, -1]);
    expect(corner.ranked.map((c) => c.value)).toEqual([8, 0, 0, 0]);
    expect([corner.topAbs, corner.allAbs, corner.min, corner.max]).toEqual([8, 8, 0, 8]);
    expect(facts[0].ranked.map((c) => c.index)).toEqual([4, 3, 1, 0]);
    expect(facts[0].topAbs).toBe(4);
  });

  test("k = 1 leaves padded cells out; NaN is left out of the magnitudes", () => {
    const x = Float64Array.from([NaN, -5, 1, 2]);
    const [w] = windowFacts({ shape: [1, 2, 2, 1], k: 1, padding: "same" }, x);
    expect(w.ranked[0].value).toBeNaN();
    expect([w.topAbs, w.allAbs]).toEqual([0, 5]);
    const [pad] = windowFacts({ shape: [1, 1, 1, 1], k: 1, padding: "same" }, [3]);
    expect(pad.cells.map((c) => c.index)).toEqual([0]);
  });

  test("overlapping windows: containing windows and memberships agree, in output order", () => {
    const c = validateCase({
      x: X,
      shape: [1, 3, 3, 1],
      logits: [0, 0],
      k: 2,
      padding: "valid",
      poolSize: [2, 2],
      strides: [1, 1],
    });
    const cw = caseWindows(c);
    expect(hasOverlap(cw.g)).toBe(true);
    const held = containingWindows(c, cw.windows);
    expect(held[4]).toEqual([0, 1, 2, 3]); // the centre is in every window
    expect(held[0]).toEqual([0]);
    for (let i = 0; i < 9; i++) {
      const members = membershipsOf(cw, i);
      expect(members.map((m) => m.window.out)).toEqual(held[i]);
      for (const m of members) expect(m.window.cells.find((q) => q.cell === m.cell)?.index).toBe(i);
    }
    // The centre (4) is the largest of window (0, 0) only.
    expect(membershipsOf(cw, 4).map((m) => m.rank)).toEqual([0, 1, 2, 3]);
    expect(hasOverlap(caseWindows(validateCase({ ...c, strides: [2, 2], padding: "same" })).g)).toBe(false);
  });

  test("rank sums per group of k: shared logits over every window, per-channel logits over their channel's", () => {
    const shape = [1, 2, 2, 2] as const;
    const x = Float64Array.from([1, 10, 2, 20, 3, 30, 4, 40]); // channel 0: 1..4, channel 1: 10..40
    const facts = windowFacts({ shape: [...shape], k: 2, padding: "valid" }, x);
    const shared = rankSums({ k: 2, logits: [0, 0], dy: [1, -1], shape: [...shape] }, facts);
    expect(Array.from(shared.s)).toEqual([4 - 40, 3 - 30]);
    expect(Array.from(shared.t)).toEqual([44, 33]);
    expect(shared.windowsPerGroup).toBe(2);
    const perChannel = rankSums({ k: 2, logits: [0, 0, 0, 0], dy: [1, -1], shape: [...shape] }, facts);
    expect(Array.from(perChannel.s)).toEqual([4, 3, -40, -30]);
    expect(perChannel.windowsPerGroup).toBe(1);
  });
});
