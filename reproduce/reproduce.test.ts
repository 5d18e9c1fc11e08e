/**
 * The cluttered-MNIST reproduction, end to end at toy size: the npz reader on the real file (and
 * its errors), the model for each k, flag parsing, and a one-step run on tfjs's cpu backend that
 * writes the JSON report and the SVG chart.
 */
import { zipSync } from "fflate";
import { dump } from "npyjs";
import { beforeAll, describe, expect, test } from "vitest";
import { parseCli, UsageError } from "../src/cli.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import { DataFileError, IMAGE_PIXELS, loadClutteredMnist, parseClutteredMnist } from "./data.ts";
import { median, shuffledIndices } from "./experiment.ts";
import { CLI, QUICK, reproduce, settingsFrom } from "./main.ts";
import { ARTICLE_BEST_VAL_CE, buildModel } from "./model.ts";
import { mulberry32 } from "../src/random.ts";

beforeAll(async () => {
  await useBackend("cpu");
});

describe("data", () => {
  test("reads the project's npz: 11,000 training images (X_train + X_valid), 1,000 test", async () => {
    const { train, test: testSplit } = await loadClutteredMnist();
    expect([train.n, testSplit.n]).toEqual([11000, 1000]);
    expect(train.x.length).toBe(11000 * IMAGE_PIXELS);
    let min = Infinity, max = -Infinity;
    for (const v of testSplit.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.5);
    expect(new Set(train.y).size).toBe(10);
  });

  test("malformed archives get a DataFileError naming the array", () => {
    const npy = (data: Float32Array | Int32Array, shape: number[]) => new Uint8Array(dump(data, shape));
    const ok = {
      "X_train.npy": npy(new Float32Array(2 * IMAGE_PIXELS), [2, IMAGE_PIXELS]),
      "y_train.npy": npy(new Int32Array([1, 2]), [2, 1]),
      "X_valid.npy": npy(new Float32Array(IMAGE_PIXELS), [1, IMAGE_PIXELS]),
      "y_valid.npy": npy(new Int32Array([3]), [1, 1]),
      "X_test.npy": npy(new Float32Array(IMAGE_PIXELS), [1, IMAGE_PIXELS]),
      "y_test.npy": npy(new Int32Array([4]), [1, 1]),
    };
    const parsed = parseClutteredMnist(zipSync(ok));
    expect([parsed.train.n, Array.from(parsed.train.y), parsed.test.n]).toEqual([3, [1, 2, 3], 1]);
    const cases: [Record<string, Uint8Array>, RegExp][] = [
      [{ ...ok, "X_test.npy": undefined as never }, /no X_test\.npy/],
      [{ ...ok, "X_test.npy": npy(new Float32Array(10), [1, 10]) }, /X_test: expected shape \[n, 1600\]/],
      [{ ...ok, "y_test.npy": npy(new Int32Array([12]), [1, 1]) }, /y_test\[0\]: expected a label in 0\.\.9/],
      [{ ...ok, "y_test.npy": npy(new Int32Array([1, 2]), [2, 1]) }, /y_test: expected shape \[1, 1\]/],
    ];
    for (const [files, message] of cases) {
      const present = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined));
      expect(() => parseClutteredMnist(zipSync(present))).toThrow(message);
    }
    expect(() => parseClutteredMnist(new Uint8Array([1, 2, 3]))).toThrow(DataFileError);
  });
});

describe("model", () => {
  test("k = 1 uses tf max pooling, k = 2..4 two SortPooling2D layers with logits [k]; same initial conv weights", async () => {
    const firstConv: Float32Array[] = [];
    for (const k of [1, 2, 3, 4]) {
      const model = buildModel({ k, seed: 99 });
      expect(model.outputs[0].shape).toEqual([null, 10]);
      const pools = model.layers.filter((l) => l.name.startsWith("pool"));
      expect(pools.map((l) => l.getClassName())).toEqual(
        k === 1 ? ["MaxPooling2D", "MaxPooling2D"] : ["SortPooling2D", "SortPooling2D"],
      );
      expect(pools[1].outputShape).toEqual([null, 10, 10, 16]);
      expect(model.getLayer("bn3").getConfig().momentum).toBe(0.99);
      for (const p of pools) expect(p.getWeights().map((w) => w.shape)).toEqual(k === 1 ? [] : [[k]]);
      expect(model.getLayer("logits").getWeights().length).toBe(1); // dense 10 without bias
      firstConv.push((await model.getLayer("conv1").getWeights()[0].data()) as Float32Array);
      model.dispose();
    }
    for (const w of firstConv.slice(1)) expect(Array.from(w)).toEqual(Array.from(firstConv[0]));
    expect(ARTICLE_BEST_VAL_CE).toEqual({ 1: 0.259, 2: 0.202, 3: 0.196, 4: 0.196 });
  });

  test("shuffle is a seeded permutation; median", () => {
    const a = shuffledIndices(50, mulberry32(99));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(Array.from(shuffledIndices(50, mulberry32(99)))).toEqual(Array.from(a));
    expect(Array.from(shuffledIndices(50, mulberry32(98)))).not.toEqual(Array.from(a));
    expect([median([3, 1, 2]), median([4, 1, 3, 2])]).toEqual([2, 2.5]);
  });
});

describe("command line", () => {
  const settings = (args: string[]) => settingsFrom(parseCli(CLI, args).values, args);

  test("defaults are the full protocol; --quick shrinks it, explicit flags win", () => {
    const full = settings([]);
    expect(full).toMatchObject({ ks: [1, 2, 3, 4], epochs: 30, trainLimit: 11000, testLimit: 1000, batchSize: 128 });
    expect(full).toMatchObject({ seed: 99, backend: "webgpu", stepCostRounds: 0, bnMomentum: 0.99 });
    expect(settings(["--bn-momentum", "0.5"]).bnMomentum).toBe(0.5);
    const quick = settings(["--quick"]);
    expect(quick).toMatchObject({ ks: [1, 2, 3, 4], epochs: QUICK.epochs, trainLimit: QUICK.trainLimit });
    expect(settings(["--quick", "--epochs", "2", "--k=2,3"])).toMatchObject({ epochs: 2, ks: [2, 3] });
    expect(settings(["--json", "out/r.json"]).svg).toBe("out/r.svg");
    expect(settings(["--json", "r.json", "--svg", "c.svg"]).svg).toBe("c.svg");
  });

  test("bad flags: UsageError naming the flag", () => {
    for (
      const [args, flag] of [
        [["--k", "0,2"], "--k"],
        [["--k", "1,1"], "--k"],
        [["--k", ""], "--k"],
        [["--epochs", "0"], "--epochs"],
        [["--backend", "wasm"], "--backend"],
        [["--train-limit", "20000"], "--train-limit"],
        [["--step-cost", "x"], "--step-cost"],
        [["--bn-momentum", "1.5"], "--bn-momentum"],
        [["--bogus"], "--bogus"],
      ] as [string[], string][]
    ) {
      let error: unknown;
      try {
        settings(args);
      } catch (e) {
        error = e;
      }
      expect(error, args.join(" ")).toBeInstanceOf(UsageError);
      expect((error as UsageError).flag).toBe(flag);
    }
  });
});

describe("a one-step run", () => {
  // One k: a training step of this model costs about 3 s on tfjs's cpu backend whatever the batch size.
  test("trains k = 2 on 2 images for one epoch (cpu) and writes the JSON report and the SVG chart", async () => {
    const dir = await Deno.makeTempDir({ prefix: "sortpool-reproduce-" });
    try {
      const args = ["--k", "2", "--epochs", "1", "--train-limit", "2", "--test-limit", "3", "--batch-size", "2"];
      const s = { ...runSettings(args, dir), backend: "cpu" as const };
      expect(await reproduce(s)).toBe(0);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
      expect(report.runs.map((r: { k: number }) => r.k)).toEqual([2]);
      for (const run of report.runs) {
        expect(run.valCrossEntropy).toHaveLength(1);
        expect(run.valAccuracy).toHaveLength(1);
        expect(run.bestValCrossEntropy).toBe(run.valCrossEntropy[0]);
        expect(run.bestValCrossEntropy).toBeGreaterThan(0);
        expect(run.bestEpoch).toBe(1);
        expect(run.steps).toBe(1);
        expect(run.firstStepMs).toBeGreaterThan(0);
        expect(run.finalWeights.map((w: number[]) => w.length)).toEqual([2, 2]);
        expect(run.finalWeights[0][0] + run.finalWeights[0][1]).toBeCloseTo(1, 6);
      }
      expect(report.config).toMatchObject({ seed: 99, trainImages: 2, testImages: 3, batchSize: 2 });
      expect(report.environment).toMatchObject({ backend: "cpu", tfjs: tf.version.tfjs });
      expect(report.article.bestValCrossEntropy["2"]).toBe(0.202);
      const svg = await Deno.readTextFile(`${dir}/r.svg`);
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toContain("validation cross-entropy");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

function runSettings(args: string[], dir: string) {
  const all = [...args, "--json", `${dir}/r.json`];
  return settingsFrom(parseCli(CLI, all).values, all);
}
