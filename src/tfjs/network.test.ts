import { describe, expect, test } from "vitest";
import { rankCells, SORTING_NETWORK } from "../spec.ts";
import { liveComparators } from "./network.ts";

describe("liveComparators", () => {
  test("drops only comparators that cannot reach the top k slots", () => {
    expect(liveComparators(4)).toEqual(SORTING_NETWORK);
    expect(liveComparators(3)).toEqual(SORTING_NETWORK);
    expect(liveComparators(2)).toEqual(SORTING_NETWORK);
    expect(liveComparators(1)).toEqual([[0, 1], [2, 3], [0, 2]]);
  });

  test("the pruned network, with cells carried for ties, yields the spec's top k on all 4^4 value patterns", () => {
    for (const k of [1, 2, 3, 4]) {
      for (let code = 0; code < 256; code++) {
        const values = [0, 1, 2, 3].map((cell) => (code >> (2 * cell)) & 3);
        const slots = [0, 1, 2, 3];
        for (const [i, j] of liveComparators(k)) {
          const [a, b] = [slots[i], slots[j]];
          if (values[b] > values[a] || (values[b] === values[a] && b < a)) [slots[i], slots[j]] = [b, a];
        }
        const want = rankCells(values.map((value, cell) => ({ cell, value, index: cell }))).map((c) => c.cell);
        expect(slots.slice(0, k), `values ${values} k=${k}`).toEqual(want.slice(0, k));
      }
    }
  });
});
