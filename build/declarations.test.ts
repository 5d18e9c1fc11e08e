/** The npm package's declaration file: the bundler's concatenated .d.ts, tidied into one valid module. */
import { describe, expect, test } from "vitest";
import { tidyDeclarations } from "./build.ts";

describe("tidyDeclarations", () => {
  test("keeps one namespace import per name (TypeScript rejects a duplicate identifier)", () => {
    const dts = [
      'import type * as tf from "@tensorflow/tfjs";',
      'import { helper } from "./local.ts";',
      "export declare function a(x: tf.Tensor): tf.Tensor;",
      'import * as tf from "@tensorflow/tfjs";',
      'import type * as tf from "@tensorflow/tfjs";',
      "export declare function b(x: tf.Tensor): tf.Tensor;",
    ].join("\n");
    const out = tidyDeclarations(dts, new Set(["a", "b"])).split("\n");
    expect(out.filter((l) => /\* as tf from/.test(l))).toEqual(['import * as tf from "@tensorflow/tfjs";']);
    expect(out.some((l) => l.includes("./local.ts"))).toBe(false);
    expect(out.filter((l) => l.startsWith("export declare function"))).toHaveLength(2);
  });

  test("a type-only namespace import stays when there is no value import of that name", () => {
    const dts = 'import type * as tf from "@tensorflow/tfjs";\nexport declare function a(x: tf.Tensor): void;';
    expect(tidyDeclarations(dts, new Set(["a"]))).toContain('import type * as tf from "@tensorflow/tfjs";');
  });
});
