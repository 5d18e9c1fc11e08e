/**
 * The split of calls past the binding limit (src/webgpu/chunks.ts), checked without a GPU: for
 * random shapes and limits every binding fits, offsets are aligned unless staged, and the chunks
 * cover every input row, output row and work item exactly once.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { outputShape } from "../spec.ts";
import type { Padding, Shape4 } from "../types.ts";
import { SortPoolArgumentError } from "../validate.ts";
import { alignmentUnit, type BindingLimits, PARTIAL_BYTES, planChunks } from "./chunks.ts";

function request(shape: Shape4, padding: Padding) {
  const lanes = shape[3] % 4 === 0 ? 4 as const : 1 as const;
  const groupsPerInvocation = (shape[3] / lanes) % 2 === 0 ? 2 as const : 1 as const;
  return { shape, padding, lanes, groupsPerInvocation };
}

/** Checks a layout against the shape: coverage, sizes, alignment. Returns a description of the first fault. */
function fault(shape: Shape4, padding: Padding, limits: BindingLimits): string | null {
  const req = request(shape, padding);
  const layout = planChunks(req, limits);
  const [b, h, w, c] = shape;
  const [, ho, wo] = outputShape(shape, padding);
  const rowX = w * c * 4;
  const rowY = wo * c * 4;
  const L = limits.maxStorageBufferBindingSize;
  const A = limits.minStorageBufferOffsetAlignment;
  // Which input rows (global b·H + row) and output rows each chunk covers.
  const inCovered = new Int32Array(b * h);
  const outCovered = new Int32Array(b * ho);
  let items = 0;
  for (const [i, ch] of layout.chunks.entries()) {
    if (ch.index !== i) return `chunk ${i} has index ${ch.index}`;
    for (const [name, size] of [["x", ch.x.size], ["y", ch.y.size], ["partials", ch.partialBytes]] as const) {
      if (size > L) return `chunk ${i}: ${name} binding ${size} > limit ${L}`;
    }
    if (!ch.staged && (ch.x.offset % A !== 0 || ch.y.offset % A !== 0)) return `chunk ${i}: unaligned, not staged`;
    if (ch.staged && ch.x.offset % A === 0 && ch.y.offset % A === 0) return `chunk ${i}: staged needlessly`;
    if (ch.x.size !== ch.images * ch.inRows * rowX) return `chunk ${i}: x size`;
    if (ch.y.size !== ch.images * ch.outRows * rowY) return `chunk ${i}: y size`;
    const firstIn = ch.x.offset / rowX;
    for (let r = 0; r < ch.x.size / rowX; r++) inCovered[firstIn + r]++;
    const firstOut = ch.y.offset / rowY;
    for (let r = 0; r < ch.y.size / rowY; r++) outCovered[firstOut + r]++;
    items += ch.workItems;
    if (ch.partialBytes !== ch.workItems * PARTIAL_BYTES) return `chunk ${i}: partial bytes`;
    if (ch.images > 1 && (ch.outRowStart !== 0 || ch.outRows !== ho)) return `chunk ${i}: partial images`;
  }
  for (const clear of layout.clears) {
    if (clear.size !== rowX) return "clear of more than one row";
    inCovered[clear.offset / rowX]++;
  }
  if (inCovered.some((n) => n !== 1)) return `input rows covered ${[...inCovered]}`;
  if (outCovered.some((n) => n !== 1)) return `output rows covered ${[...outCovered]}`;
  const totalItems = (b * ho * wo * (c / req.lanes)) / req.groupsPerInvocation;
  if (items !== totalItems) return `work items ${items}, expected ${totalItems}`;
  if (layout.chunks.length > 1 && layout.chunkSumBytes !== layout.chunks.length * PARTIAL_BYTES) return "chunk sums";
  return null;
}

describe("planChunks", () => {
  test("one chunk when everything fits, bound whole at offset 0", () => {
    const layout = planChunks(request([2, 5, 7, 3], "same"), {
      maxStorageBufferBindingSize: 1 << 20,
      minStorageBufferOffsetAlignment: 256,
      maxBufferSize: 1 << 30,
    });
    expect(layout.chunks).toHaveLength(1);
    expect(layout.chunks[0].x).toEqual({ offset: 0, size: 2 * 5 * 7 * 3 * 4 });
    expect(layout.chunkSumBytes).toBe(0);
    expect(layout.clears).toEqual([]);
  });

  test("x fits the 128 MiB limit, the partial sums do not: two batch chunks", () => {
    const layout = planChunks(request([3_000_000, 3, 3, 1], "same"), {
      maxStorageBufferBindingSize: 134_217_728,
      minStorageBufferOffsetAlignment: 32,
      maxBufferSize: 2_147_483_647,
    });
    // Per image: x 36 bytes, y 16, partials 4 · 16 = 64 → 2,097,152 images per chunk.
    expect(layout.chunks.map((c) => c.images)).toEqual([2_097_152, 902_848]);
    expect(layout.chunks.every((c) => !c.staged)).toBe(true);
    expect(layout.partialBytes).toBe(2_097_152 * 64);
  });

  test("one image past the limit splits along rows; a window row past it is refused naming x", () => {
    const limits = { maxStorageBufferBindingSize: 4096, minStorageBufferOffsetAlignment: 32, maxBufferSize: 1 << 30 };
    const layout = planChunks(request([1, 9, 8, 32], "valid"), limits);
    expect(layout.chunks.length).toBeGreaterThan(1);
    expect(layout.chunks.every((c) => c.images === 1)).toBe(true);
    expect(layout.clears).toEqual([{ offset: 8 * 8 * 32 * 4, size: 8 * 32 * 4 }]);
    expect(fault([1, 9, 8, 32], "valid", limits)).toBeNull();
    const error = (() => {
      try {
        planChunks(request([1, 2, 64, 32], "same"), limits);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SortPoolArgumentError);
    expect((error as SortPoolArgumentError).argument).toBe("x");
    expect((error as Error).message).toContain("4096 bytes");
  });

  test("x past maxBufferSize is refused naming x", () => {
    expect(() =>
      planChunks(request([4, 8, 8, 4], "same"), {
        maxStorageBufferBindingSize: 1024,
        minStorageBufferOffsetAlignment: 32,
        maxBufferSize: 2048,
      })
    ).toThrow(SortPoolArgumentError);
  });

  test("alignmentUnit: the smallest count whose byte offsets are all aligned", () => {
    expect(alignmentUnit([36, 16], 32)).toBe(8);
    expect(alignmentUnit([64], 256)).toBe(4);
    expect(alignmentUnit([256, 512], 256)).toBe(1);
  });

  test("random shapes and limits: bindings fit, offsets align or stage, rows and items covered once", () => {
    fc.assert(
      fc.property(
        fc.record({
          b: fc.integer({ min: 1, max: 12 }),
          h: fc.integer({ min: 1, max: 13 }),
          w: fc.integer({ min: 1, max: 13 }),
          c: fc.integer({ min: 1, max: 9 }),
          padding: fc.constantFrom<Padding>("same", "valid"),
          limitFraction: fc.double({ min: 0.02, max: 1.5, noNaN: true }),
          alignment: fc.constantFrom(4, 32, 64, 256),
        }),
        ({ b, h, w, c, padding, limitFraction, alignment }) => {
          if (padding === "valid" && (h < 2 || w < 2)) return;
          const shape: Shape4 = [b, h, w, c];
          const [, ho, wo] = outputShape(shape, padding);
          const biggest = Math.max(b * h * w * c * 4, b * ho * wo * c * PARTIAL_BYTES);
          const limit = Math.max(16, 4 * Math.floor((limitFraction * biggest) / 4));
          const limits = {
            maxStorageBufferBindingSize: limit,
            minStorageBufferOffsetAlignment: alignment,
            maxBufferSize: 1 << 30,
          };
          const rowNeed = Math.max(2 * w * c * 4, wo * c * 4, wo * c * PARTIAL_BYTES);
          // At most one chunk per output row, whose dLogits sums (16 bytes each) share one binding.
          if (rowNeed > limit || b * ho * PARTIAL_BYTES > limit) {
            // Refused only when a window row (or the chunk sums) may not fit; allowed to succeed anyway.
            try {
              planChunks(request(shape, padding), limits);
            } catch (e) {
              expect(e).toBeInstanceOf(SortPoolArgumentError);
            }
            return;
          }
          expect(fault(shape, padding, limits)).toBeNull();
        },
      ),
      { numRuns: 400, seed: 20251130 },
    );
  });
});
