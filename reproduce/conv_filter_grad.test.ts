/**
 * The batch-sliced conv2d filter gradient: the slice plan (pure), and on tfjs's webgpu backend, on
 * whatever adapter runs the tests, the gradient the reproduction trains with against float64 at
 * the reduced run's conv1 shape, where tfjs's own kernel sums only about the first 38 images of a
 * batch of 128 on Mesa's CPU adapters.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { uniformFloat32 } from "../src/random.ts";
import { tf, withBackend } from "../src/tfjs/runtime.ts";
import { filterGradSlices, SLICE_LOOP_BUDGET, useConvFilterGradient } from "./conv_filter_grad.ts";

// Mesa's count: every loop pass, the leaving one included (batch, rows, columns), and the batch loop's exit.
const loops = (size: number, h: number, w: number) => size * (1 + (h + 1) + h * (w + 1)) + 1;

describe("filterGradSlices", () => {
  test("the reduced run's shapes: conv1 (40x40) in even slices of 32 at batch 128, conv2 (20x20) whole", () => {
    expect(filterGradSlices(128, 40, 40)).toEqual([[0, 32], [32, 32], [64, 32], [96, 32]]);
    expect(filterGradSlices(80, 40, 40)).toEqual([[0, 27], [27, 27], [54, 26]]);
    expect(filterGradSlices(128, 20, 20)).toEqual([[0, 128]]);
    // Narrow outputs cost a row-loop exit per row: 3,002 iterations an image at 1000x1, 19 images a slice.
    expect(filterGradSlices(128, 1000, 1)).toEqual([[0, 19], [19, 19], [38, 18], [56, 18], [74, 18], [92, 18], [
      110,
      18,
    ]]);
  });

  test("slices cover the batch in order, each within the budget, as few as the budget allows", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 240 }),
        fc.integer({ min: 1, max: 240 }),
        (batch, h, w) => {
          fc.pre(loops(1, h, w) <= SLICE_LOOP_BUDGET);
          const slices = filterGradSlices(batch, h, w);
          const starts = slices.map(([start]) => start);
          const sizes = slices.map(([, size]) => size);
          const contiguous = starts.every((start, i) => start === (i === 0 ? 0 : starts[i - 1] + sizes[i - 1]));
          const covered = sizes.reduce((a, b) => a + b, 0);
          const withinBudget = sizes.every((size) => loops(size, h, w) <= SLICE_LOOP_BUDGET);
          const even = Math.max(...sizes) - Math.min(...sizes) <= 1;
          // One slice fewer would put more images in some slice than the budget holds.
          let perSliceMax = 1;
          while (loops(perSliceMax + 1, h, w) <= SLICE_LOOP_BUDGET) perSliceMax++;
          const fewest = slices.length === 1 || Math.ceil(batch / (slices.length - 1)) > perSliceMax;
          expect({ contiguous, covered, withinBudget, even, fewest }).toEqual({
            contiguous: true,
            covered: batch,
            withinBudget: true,
            even: true,
            fewest: true,
          });
        },
      ),
      { seed: 20261207, numRuns: 300 },
    );
  });

  test("bad arguments: RangeError naming the argument and the value received", () => {
    expect(() => filterGradSlices(0, 40, 40)).toThrow(/batch must be a positive integer; received 0/);
    expect(() => filterGradSlices(8, 2.5, 40)).toThrow(/outHeight must be a positive integer; received 2.5/);
    expect(() => filterGradSlices(8, 40, NaN)).toThrow(/outWidth .* received NaN/);
    expect(() => filterGradSlices(8, 40, 40, -1)).toThrow(/budget .* received -1/);
    // One image over the budget: refused, never computed wrong.
    expect(() => filterGradSlices(1, 260, 260)).toThrow(/260x260 output needs 68123 loop iterations, over the budget/);
  });
});

/** dw[r][c][i][f] of a 3x3 "same" conv, stride 1, in float64 from the float32 inputs. */
function filterGradFloat64(
  x: Float32Array,
  dy: Float32Array,
  [batch, height, width, inChannels, filters]: number[],
): Float64Array {
  const dw = new Float64Array(9 * inChannels * filters);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < height; h++) {
      for (let w = 0; w < width; w++) {
        const dyAt = ((b * height + h) * width + w) * filters;
        for (let r = 0; r < 3; r++) {
          const xh = h + r - 1;
          if (xh < 0 || xh >= height) continue;
          for (let c = 0; c < 3; c++) {
            const xw = w + c - 1;
            if (xw < 0 || xw >= width) continue;
            const xAt = ((b * height + xh) * width + xw) * inChannels;
            for (let i = 0; i < inChannels; i++) {
              const xv = x[xAt + i];
              const out = ((r * 3 + c) * inChannels + i) * filters;
              for (let f = 0; f < filters; f++) dw[out + f] += xv * dy[dyAt + f];
            }
          }
        }
      }
    }
  }
  return dw;
}

describe("the reproduction's conv2d filter gradient on tfjs webgpu", () => {
  // conv1 of the reduced run (batch 128, and the epoch's last batch of 80); a tall, narrow output,
  // where every row costs Mesa a loop exit (3,002 iterations an image, 19 images a slice).
  const cases = [
    { batch: 128, height: 40, width: 40, name: "conv1's shape at batch 128" },
    { batch: 80, height: 40, width: 40, name: "conv1's shape at batch 80" },
    { batch: 128, height: 1000, width: 1, name: "a 1000x1 output at batch 128" },
  ];
  for (const { batch, height, width, name } of cases) {
    test(`${name}: every image's terms are summed (float64 within 1e-4 relative)`, async () => {
      await withBackend("webgpu", async () => {
        useConvFilterGradient("sliced", "webgpu");
        const shape = [batch, height, width, 1, 16];
        const x = uniformFloat32(batch * height * width, 11);
        const dy = uniformFloat32(batch * height * width * 16, 12);
        const xt = tf.tensor4d(x, [batch, height, width, 1]);
        const dyt = tf.tensor4d(dy, [batch, height, width, 16]);
        const w = tf.zeros([3, 3, 1, 16]) as tf.Tensor4D;
        const g = tf.grad((wt: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, wt as tf.Tensor4D, 1, "same"), dyt)))(w);
        const got = (await g.data()) as Float32Array;
        tf.dispose([xt, dyt, w, g]);
        const want = filterGradFloat64(x, dy, shape);
        // Scale: the sum of |terms| of the element, so a lost image (~1/batch of it) cannot hide.
        const scale = filterGradFloat64(x.map(Math.abs), dy.map(Math.abs), shape);
        let worst = 0;
        for (let j = 0; j < want.length; j++) {
          if (scale[j] > 0) worst = Math.max(worst, Math.abs(got[j] - want[j]) / scale[j]);
        }
        expect(worst).toBeLessThan(1e-4);
      });
    });
  }

  test("a shape whose single image is over the budget is refused with an error, not summed short", async () => {
    await withBackend("webgpu", () => {
      useConvFilterGradient("sliced", "webgpu");
      const x = tf.zeros([2, 260, 260, 1]) as tf.Tensor4D;
      const w = tf.zeros([3, 3, 1, 4]) as tf.Tensor4D;
      expect(() => tf.grad((wt: tf.Tensor) => tf.sum(tf.conv2d(x, wt as tf.Tensor4D, 1, "same")))(w)).toThrow(
        /one image with a 260x260 output needs 68123 loop iterations/,
      );
      tf.dispose([x, w]);
    });
  });

  test("'stock' puts tfjs's own kernel back, 'sliced' replaces it again; both are idempotent", async () => {
    await withBackend("webgpu", () => {
      useConvFilterGradient("stock", "webgpu");
      const own = tf.getKernel("Conv2DBackpropFilter", "webgpu");
      useConvFilterGradient("stock", "webgpu");
      expect(tf.getKernel("Conv2DBackpropFilter", "webgpu")).toBe(own);
      useConvFilterGradient("sliced", "webgpu");
      const sliced = tf.getKernel("Conv2DBackpropFilter", "webgpu");
      expect(sliced).not.toBe(own);
      useConvFilterGradient("sliced", "webgpu");
      expect(tf.getKernel("Conv2DBackpropFilter", "webgpu")).toBe(sliced);
      expect(() => useConvFilterGradient("sliced", "no-such-backend")).toThrow(/no kernel registered for backend/);
    });
  });
});
