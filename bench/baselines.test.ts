import { describe, expect, test } from "vitest";
import type { Shape4 } from "../src/types.ts";
import { preparePoolBaseline } from "./baselines.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";

describe("preparePoolBaseline", () => {
  test("runs tf.maxPool / tf.avgPool with a general window and strides, holding its tensors until disposed", async () => {
    await useBackend("cpu");
    const shape: Shape4 = [2, 9, 8, 3];
    for (const op of ["maxPool", "avgPool"] as const) {
      const before = tf.memory().numTensors;
      const handle = await preparePoolBaseline(op, "cpu", shape, "same", { poolSize: [3, 3], strides: [1, 2] });
      const held = tf.memory().numTensors;
      expect(held - before, op).toBe(2); // x and dy
      // tf.grad checks dy ([2, 9, 4, 3], 3x3 with strides [1, 2], "same") against the op's output: a baseline
      // that ignored the window (2x2/2: [2, 5, 4, 3]) would throw here.
      await handle.forward();
      await handle.forwardBackward();
      expect(tf.memory().numTensors, op).toBe(held);
      handle.dispose();
      handle.dispose();
      expect(tf.memory().numTensors, op).toBe(before);
    }
  });
});
