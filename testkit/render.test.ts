import { describe, expect, test } from "vitest";
import { validateCase } from "../src/validate.ts";
import { describeWindowCells, formatNumber, formatNumberExact, whereInput, whereOutput, windowSpan } from "./render.ts";
import { caseWindows, windowFacts } from "./windows.ts";

describe("numbers", () => {
  test("-0, NaN and ±Infinity stay visible; long fractions are cut to 12 digits, or kept whole", () => {
    expect([-0, NaN, -Infinity, 3, 0.1].map(formatNumber)).toEqual(["-0", "NaN", "-Infinity", "3", "0.1"]);
    expect(formatNumber(1 / 3)).toBe("0.333333333333");
    expect(formatNumberExact(1 / 3)).toBe("0.3333333333333333");
    expect(formatNumberExact(-0)).toBe("-0");
  });
});

describe("windows in words", () => {
  const x = Float64Array.from([1, -0, 2, 5, 4, 3]); // 2x3, one channel
  test("each cell with its value and spec rank; padded zeros that rank, padded positions that do not", () => {
    const [first, last] = windowFacts({ shape: [1, 2, 3, 1], k: 2, padding: "same" }, x);
    expect(describeWindowCells(first, formatNumber)).toBe("00=1 r2 | 01=-0 r3 | 10=5 r0 | 11=4 r1");
    expect(describeWindowCells(last, formatNumber)).toBe("00=2 r1 | 01=pad 0 r2 | 10=3 r0 | 11=pad 0 r3");
    const [, k1] = windowFacts({ shape: [1, 2, 3, 1], k: 1, padding: "same" }, x);
    expect(describeWindowCells(k1, formatNumber)).toBe("00=2 r1 | 01=pad(ignored) | 10=3 r0 | 11=pad(ignored)");
    expect(windowSpan(last.geometry, last.oh, last.ow)).toEqual({ rows: [0, 1], cols: [2, 3] });
  });

  test("where an output and an input element are, padding named, every window of an overlapped cell listed", () => {
    const c = validateCase({ x, shape: [1, 2, 3, 1], logits: [0, 1], k: 2, padding: "same" });
    const cw = caseWindows(c);
    expect(whereOutput(cw, cw.windows[1])).toBe(
      "batch 0, row 0, column 1, channel 0 of y; its 2x2 window: input rows 0..1, columns 2..3 (padding: 1 after " +
        "it), cells (row-column: value, spec rank) 00=2 r1 | 01=pad 0 r2 | 10=3 r0 | 11=pad 0 r3",
    );
    expect(whereInput(cw, 1)).toMatch(/^batch 0, row 0, column 1, channel 0 of x: cell 1 of the window at y row 0, /);
    const overlap = caseWindows(validateCase({ ...c, padding: "valid", poolSize: [2, 2], strides: [1, 1] }));
    expect(whereInput(overlap, 4, { w: [0.75, 0.25], dy: [2, -4] })).toBe(
      "batch 0, row 1, column 1, channel 0 of x: in 2 overlapping windows, kept by 2; its dx is the sum of w[r]·dy " +
        "over those, in this order, starting from the first term (SPEC §5): y row 0, column 0: cell 3, spec rank 1, " +
        "kept (rank < k = 2), w[1]·dy = 0.5; y row 0, column 1: cell 2, spec rank 0, kept (rank < k = 2), " +
        "w[0]·dy = -3",
    );
  });
});
