/**
 * Unknown option and config keys (SPEC.md §6 "Unknown keys"): a misspelled key is a named error
 * listing the accepted keys, in the op, every registry entry and the layer, instead of being
 * ignored (which would silently pool 2x2/2); a serialised layer config, with tf.layers' own base
 * keys, still loads.
 */
import { describe, expect, test } from "vitest";
import { LAYER_CONFIG_KEYS, sortPooling2d } from "./layer.ts";
import { OPTION_KEYS, sortPool2d } from "./op.ts";
import { implementations } from "./registry.ts";
import { tf, type TfjsBackendName, useBackend } from "./tfjs/runtime.ts";
import type { SortPoolCase } from "./types.ts";
import { CASE_KEYS, closestKey, SortPoolArgumentError, validateKeys } from "./validate.ts";

/** The error `f` throws (synchronously or as a rejection). */
async function errorOf(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error("no error thrown");
}

describe("validateKeys", () => {
  test("names the argument, the unknown key, the closest accepted key and every accepted key", () => {
    const e = (() => {
      try {
        validateKeys({ k: 2, stride: [1, 1] }, "options", OPTION_KEYS);
      } catch (e) {
        return e as SortPoolArgumentError;
      }
      throw new Error("no error thrown");
    })();
    expect(e).toBeInstanceOf(SortPoolArgumentError);
    expect(e.argument).toBe("options");
    expect(e.message).toBe(
      'sort_pool2d: options: expected only the keys k, padding, poolSize, strides, received unknown key "stride" ' +
        '(did you mean "strides"?)',
    );
  });

  test("closest key: misspellings, snake_case and case; nothing close gives no suggestion", () => {
    expect(closestKey("stride", OPTION_KEYS)).toBe("strides");
    expect(closestKey("pool_size", OPTION_KEYS)).toBe("poolSize");
    expect(closestKey("poolsize", OPTION_KEYS)).toBe("poolSize");
    expect(closestKey("Padding", OPTION_KEYS)).toBe("padding");
    expect(closestKey("per_channel", LAYER_CONFIG_KEYS)).toBe("perChannel");
    expect(closestKey("kernelInitializer", OPTION_KEYS)).toBeUndefined();
    expect(closestKey("zzzz", CASE_KEYS)).toBeUndefined();
  });

  test("accepted keys pass whatever their value; an unknown key fails even when undefined", () => {
    expect(() => validateKeys({ k: 1, padding: "same", poolSize: undefined }, "options", OPTION_KEYS)).not.toThrow();
    expect(() => validateKeys({ k: 1, stride: undefined }, "options", OPTION_KEYS)).toThrow(/unknown key "stride"/);
  });
});

describe("only plain objects, every own key", () => {
  const plainRule = (accepted: readonly string[]) =>
    `a plain object (prototype Object.prototype or null: an object literal or JSON) with only the keys ${
      accepted.join(", ")
    }`;
  const inheriting = (proto: object) => Object.assign(Object.create(proto), { k: 2, padding: "same" });
  const hidden = (key: string) => Object.defineProperty({ k: 2, padding: "same" }, key, { value: [1, 1] });

  test("validateKeys: inherited keys (misspelled or not), a Map or a class instance are refused by name", () => {
    const cases: [object, string][] = [
      [
        inheriting({ stride: [1, 1] }),
        'an object with another prototype than Object.prototype (inheriting the keys "stride")',
      ],
      [
        inheriting({ strides: [1, 1] }),
        'an object with another prototype than Object.prototype (inheriting the keys "strides")',
      ],
      [new Map([["k", 2]]), "a Map (an object whose prototype is Map.prototype)"],
      [
        new (class Options {
          k = 2;
        })(),
        "a Options (an object whose prototype is Options.prototype)",
      ],
    ];
    for (const [value, received] of cases) {
      let e: unknown;
      try {
        validateKeys(value, "options", OPTION_KEYS);
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(SortPoolArgumentError);
      expect((e as SortPoolArgumentError).expected).toBe(plainRule(OPTION_KEYS));
      expect((e as SortPoolArgumentError).received).toBe(received);
    }
    // null prototype: still a plain object
    expect(() => validateKeys(Object.assign(Object.create(null), { k: 2 }), "options", OPTION_KEYS)).not.toThrow();
  });

  test("validateKeys: own non-enumerable and symbol keys count", () => {
    expect(() => validateKeys(hidden("stride"), "options", OPTION_KEYS)).toThrow(
      'received unknown key "stride" (not enumerable) (did you mean "strides"?)',
    );
    expect(() => validateKeys({ k: 2, [Symbol("strides")]: [1, 1] }, "options", OPTION_KEYS)).toThrow(
      "received unknown key Symbol(strides)",
    );
    // an accepted key that is not enumerable is still accepted
    expect(() => validateKeys(hidden("strides"), "options", OPTION_KEYS)).not.toThrow();
  });

  test("the op, every registry entry and the layer apply it", async () => {
    await useBackend("cpu");
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const logits = tf.zeros([2]) as tf.Tensor1D;
    for (const options of [inheriting({ stride: [1, 1] }), inheriting({ strides: [1, 1] }), new Map([["k", 2]])]) {
      const e = await errorOf(() => sortPool2d(x, logits, options as never)) as SortPoolArgumentError;
      expect(e).toBeInstanceOf(SortPoolArgumentError);
      expect(e.argument).toBe("options");
      expect(e.expected).toBe(plainRule(OPTION_KEYS));
    }
    const e = await errorOf(() => sortPool2d(x, logits, hidden("stride") as never)) as SortPoolArgumentError;
    expect(e.received).toBe('unknown key "stride" (not enumerable) (did you mean "strides"?)');
    tf.dispose([x, logits]);
    const base = { x: new Float32Array([1, 4, 3, 2]), shape: [1, 2, 2, 1], logits: [0, 0], k: 2, padding: "valid" };
    for (const impl of implementations) {
      for (
        const c of [
          Object.assign(Object.create({ strides: [1, 1] }), base),
          Object.defineProperty({ ...base }, "stride", { value: [1, 1] }),
        ]
      ) {
        const err = await errorOf(() => impl.forward(c as SortPoolCase)) as SortPoolArgumentError;
        expect(err, impl.name).toBeInstanceOf(SortPoolArgumentError);
        expect(err.argument).toBe("case");
      }
    }
    for (
      const config of [
        Object.assign(Object.create({ pool_size: 3 }), { k: 2, name: "pool" }),
        Object.defineProperty({ k: 2, name: "pool" }, "stride", { value: 1 }),
      ]
    ) {
      const err = await errorOf(() => sortPooling2d(config as never)) as SortPoolArgumentError;
      expect(err).toBeInstanceOf(SortPoolArgumentError);
      expect(err.argument).toBe("pool: config");
    }
  });
});

describe.each(["cpu", "webgpu"] as TfjsBackendName[])("sortPool2d options on tfjs %s", (backend) => {
  test("stride, pool_size and other unknown keys are named errors; nothing is computed", async () => {
    await useBackend(backend);
    const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    const logits = tf.zeros([2]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const bad: [object, string, string | undefined][] = [
      [{ k: 2, stride: [1, 1] }, "stride", "strides"],
      [{ k: 2, padding: "same", stride: [1, 1] }, "stride", "strides"],
      [{ k: 2, padding: "same", pool_size: [3, 3] }, "pool_size", "poolSize"],
      [{ k: 2, padding: "same", perChannel: true }, "perChannel", undefined],
      [{ k: 2, padding: "valid", poolsize: [3, 3] }, "poolsize", "poolSize"],
    ];
    for (const [options, key, near] of bad) {
      const e = await errorOf(() => sortPool2d(x, logits, options as never)) as SortPoolArgumentError;
      expect(e, JSON.stringify(options)).toBeInstanceOf(SortPoolArgumentError);
      expect(e.argument).toBe("options");
      expect(e.expected).toBe("only the keys k, padding, poolSize, strides");
      expect(e.received).toBe(
        `unknown key ${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`,
      );
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, logits]);
  });
});

describe("registry entries", () => {
  const base: SortPoolCase = {
    x: new Float32Array([1, 4, 3, 2]),
    shape: [1, 2, 2, 1],
    logits: [0, 0],
    k: 2,
    padding: "valid",
  };
  test.each(implementations.map((i) => [i.name, i] as const))(
    "%s: a case with stride or pool_size is refused (forward, gradient, prepareBench)",
    async (_name, impl) => {
      for (const [key, near] of [["stride", "strides"], ["pool_size", "poolSize"], ["dy", "k"]] as const) {
        const c = { ...base, [key]: [1, 1] } as SortPoolCase;
        const calls: (() => Promise<unknown>)[] = [() => impl.forward(c), () => impl.gradient(c, [1])];
        if (impl.prepareBench) calls.push(() => impl.prepareBench!(c));
        for (const call of calls) {
          const e = await errorOf(call) as SortPoolArgumentError;
          expect(e, `${impl.name} ${key}`).toBeInstanceOf(SortPoolArgumentError);
          expect(e.argument).toBe("case");
          expect(e.expected).toBe("only the keys x, shape, logits, k, padding, poolSize, strides");
          expect(e.received).toContain(`unknown key ${JSON.stringify(key)}`);
          if (key !== "dy") expect(e.received).toContain(`did you mean ${JSON.stringify(near)}`);
        }
      }
      // The same case without the misspelled key computes.
      expect(Array.from((await impl.forward(base)).y)).toEqual([3.5]);
    },
  );
});

describe("SortPooling2D config", () => {
  test("pool_size, stride, per_channel and other unknown keys are named errors at construction", async () => {
    const bad: [object, string, string | undefined][] = [
      [{ k: 2, pool_size: 3 }, "pool_size", "poolSize"],
      [{ k: 2, stride: 1 }, "stride", "strides"],
      [{ k: 2, per_channel: true }, "per_channel", "perChannel"],
      [{ k: 2, kernelInitializer: "zeros" }, "kernelInitializer", undefined],
      [{ k: 2, inputShape: [4, 4, 1], activation: "relu" }, "activation", undefined],
    ];
    for (const [config, key, near] of bad) {
      const e = await errorOf(() => sortPooling2d({ ...config, name: "pool" } as never)) as SortPoolArgumentError;
      expect(e, JSON.stringify(config)).toBeInstanceOf(SortPoolArgumentError);
      expect(e.argument).toBe("pool: config");
      expect(e.expected).toBe(`only the keys ${LAYER_CONFIG_KEYS.join(", ")}`);
      expect(e.received).toBe(
        `unknown key ${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`,
      );
    }
  });

  test("tf.layers' base keys are accepted; getConfig (with them) round-trips through fromConfig and a saved model", async () => {
    await useBackend("cpu");
    const layer = sortPooling2d({
      k: 2,
      name: "pool",
      trainable: false,
      batchInputShape: [null, 4, 4, 2],
      dtype: "float32",
      perChannel: true,
    });
    const model = tf.sequential({ layers: [layer] });
    const config = layer.getConfig();
    for (const key of Object.keys(config)) expect(LAYER_CONFIG_KEYS, key).toContain(key);
    const again = tf.serialization.SerializationMap.getMap().classNameMap["SortPooling2D"];
    const copy = again[1](again[0], JSON.parse(JSON.stringify(config))) as tf.layers.Layer;
    expect(copy.getConfig()).toEqual(config);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler((a) => {
      artifacts = a;
      return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) });
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers[0].getConfig()).toEqual(config);
    for (const m of [model, loaded]) m.dispose();
  });
});
