/**
 * The cluttered-MNIST reproduction, end to end at toy size: the npz reader on the real file (and
 * its errors), the model for each k, flag parsing (--seeds, --resume, --report-only), the
 * statistics over seeds (paired differences, the seeded bootstrap), and one-step runs on tfjs's
 * cpu backend that resume a report, write the JSON and the SVG chart, and redraw them from the JSON.
 */
import { zipSync } from "fflate";
import { dump } from "npyjs";
import { beforeAll, describe, expect, test } from "vitest";
import { parseCli, UsageError } from "../harness/cli.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import { DataFileError, IMAGE_PIXELS, loadClutteredMnist, parseClutteredMnist } from "./data.ts";
import { bestEpochIndex, median, shuffledIndices } from "./experiment.ts";
import {
  checkSameAdapter,
  CLI,
  MAX_SEEDS,
  planPairs,
  QUICK,
  readReport,
  realPathOf,
  reproduce,
  settingsFrom,
} from "./main.ts";
import { distinctResamples, pairedTable } from "./report.ts";
import { ARTICLE_BEST_VAL_CE, buildModel, layerSeedsOf } from "./model.ts";
import { bootstrapMeanInterval, mean, pairedDifferences, quantile, sampleSd, summarizeByK } from "./stats.ts";
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

  test("nearby seeds share no layer seed (seed s + 1's first layer is not seed s's second)", () => {
    const all = [0, 1, 2, 3, 4, 99].flatMap((seed) => {
      const { weights, logits } = layerSeedsOf(seed);
      expect(layerSeedsOf(seed)).toEqual({ weights, logits });
      return [...weights, ...logits];
    });
    expect(new Set(all).size).toBe(all.length);
  });

  test("shuffle is a seeded permutation; median", () => {
    const a = shuffledIndices(50, mulberry32(99));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(Array.from(shuffledIndices(50, mulberry32(99)))).toEqual(Array.from(a));
    expect(Array.from(shuffledIndices(50, mulberry32(98)))).not.toEqual(Array.from(a));
    expect([median([3, 1, 2]), median([4, 1, 3, 2])]).toEqual([2, 2.5]);
    // The best epoch: the first lowest; a NaN evaluation (diverged) is never best unless all are.
    expect(bestEpochIndex([0.9, 0.8, 0.8])).toBe(1);
    expect(bestEpochIndex([NaN, 0.9, 1.1])).toBe(1);
    expect(bestEpochIndex([2.3, NaN, 2.2])).toBe(2);
    expect(bestEpochIndex([NaN, NaN])).toBe(0);
  });
});

describe("command line", () => {
  const settings = (args: string[]) => settingsFrom(parseCli(CLI, args).values, args);

  test("defaults are the full protocol; --quick shrinks it, explicit flags win", () => {
    const full = settings([]);
    expect(full).toMatchObject({ ks: [1, 2, 3, 4], epochs: 30, trainLimit: 11000, testLimit: 1000, batchSize: 128 });
    expect(full).toMatchObject({ seed: 99, seeds: [99], backend: "webgpu", stepCostRounds: 0, bnMomentum: 0.99 });
    expect(full).toMatchObject({ resume: false, reportOnly: false });
    expect(settings(["--bn-momentum", "0.5"]).bnMomentum).toBe(0.5);
    const quick = settings(["--quick"]);
    expect(quick).toMatchObject({ ks: [1, 2, 3, 4], epochs: QUICK.epochs, trainLimit: QUICK.trainLimit });
    expect(settings(["--quick", "--epochs", "2", "--k=2,3"])).toMatchObject({ epochs: 2, ks: [2, 3] });
    expect(settings(["--json", "out/r.json"]).svg).toBe("out/r.svg");
    expect(settings(["--json", "r.json", "--svg", "c.svg"]).svg).toBe("c.svg");
    expect(settings(["--json", "out/R.JSON"]).svg).toBe("out/R.svg");
  });

  test("--seeds: seeds and inclusive ranges, in order; --seed is one seed", () => {
    expect(settings(["--seeds", "0,1,2"]).seeds).toEqual([0, 1, 2]);
    expect(settings(["--seeds", "0-4"])).toMatchObject({ seeds: [0, 1, 2, 3, 4], seed: 0 });
    expect(settings(["--seeds", " 7, 3-4 ,10-10"]).seeds).toEqual([7, 3, 4, 10]);
    expect(settings(["--seed", "5"]).seeds).toEqual([5]);
    expect(settings(["--seeds", `0-${MAX_SEEDS - 1}`]).seeds).toHaveLength(MAX_SEEDS);
    expect(settings(["--resume", "--json", "r.json"])).toMatchObject({ resume: true, json: "r.json" });
    expect(settings(["--report-only", "--json", "r.json"])).toMatchObject({ reportOnly: true, svg: "r.svg" });
  });

  test("the plan goes seed by seed, so a partial run holds whole seeds", () => {
    expect(planPairs([1, 2, 3], [0, 1])).toEqual([
      { k: 1, seed: 0 },
      { k: 2, seed: 0 },
      { k: 3, seed: 0 },
      { k: 1, seed: 1 },
      { k: 2, seed: 1 },
      { k: 3, seed: 1 },
    ]);
  });

  test("bad --seeds, --resume, --report-only: UsageError naming the flag, what was expected and received", () => {
    const cases: [string[], string, RegExp][] = [
      [["--seeds", ""], "--seeds", /comma-separated list/],
      [["--seeds", "a"], "--seeds", /expected seeds in 0\.\.2147483647 or ranges A-B.*received "a"/],
      [["--seeds", "4-2"], "--seeds", /A <= B.*received "4-2"/],
      [["--seeds=-1"], "--seeds", /received "-1"/],
      [["--seeds", "1.5"], "--seeds", /received "1\.5"/],
      [["--seeds", "2147483648"], "--seeds", /received "2147483648"/],
      [["--seeds", "1,1"], "--seeds", /distinct seeds.*1 twice/],
      [["--seeds", "0-2,2"], "--seeds", /distinct seeds.*2 twice/],
      [["--seeds", `0-${MAX_SEEDS}`], "--seeds", new RegExp(`at most ${MAX_SEEDS} seeds`)],
      [["--seed", "3", "--seeds", "0-2"], "--seeds", /either --seed N or --seeds LIST/],
      [["--resume"], "--resume", /expected --json FILE.*received no --json/],
      [["--report-only"], "--report-only", /expected --json FILE/],
      [["--report-only", "--resume", "--json", "r.json"], "--report-only", /received --resume/],
      [["--report-only", "--seeds", "0", "--k", "2", "--json", "r.json"], "--report-only", /received --k, --seeds/],
      [["--resume", "--step-cost", "3", "--json", "r.json"], "--resume", /received --step-cost/],
      [["--seeds", "0,,1"], "--seeds", /none empty, received "0,,1"/],
      [["--json", "r.json", "--svg", "./r.json"], "--svg", /a file other than --json's/],
      [["--json", "out/R.JSON", "--svg", "out/R.JSON"], "--svg", /a file other than --json's/],
      [["--json", ""], "--json", /expected a file name, received "" \(empty\)/],
      [["--json", "r.json", "--svg", ""], "--svg", /expected a file name/],
      [["--json", "r.json", "--resume", "--overwrite"], "--overwrite", /either --overwrite or --resume/],
      [["--report-only", "--json", "r.json", "--k", "9"], "--report-only", /received --k/],
    ];
    for (const [args, flag, message] of cases) {
      let error: unknown;
      try {
        settings(args);
      } catch (e) {
        error = e;
      }
      expect(error, args.join(" ")).toBeInstanceOf(UsageError);
      expect((error as UsageError).flag, args.join(" ")).toBe(flag);
      expect((error as UsageError).message, args.join(" ")).toMatch(message);
    }
  });

  test("bad flags: UsageError naming the flag", () => {
    for (
      const [args, flag] of [
        [["--k", "0,2"], "--k"],
        [["--k", "1,1"], "--k"],
        [["--k", ""], "--k"],
        [["--epochs", "0"], "--epochs"],
        [["--backend", "wasm"], "--backend"],
        [["--conv-filter-grad", "chunked"], "--conv-filter-grad"],
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

describe("statistics over seeds", () => {
  const run = (k: number, seed: number, ce: number, acc = 0.5) => ({
    k,
    seed,
    bestValCrossEntropy: ce,
    valAccuracyAtBest: acc,
  });

  test("mean, sample sd, quantile", () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(sampleSd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(sampleSd([1])).toBeNaN();
    expect([quantile([1, 2, 3, 4], 0), quantile([1, 2, 3, 4], 0.5), quantile([1, 2, 3, 4], 1)]).toEqual([1, 2.5, 4]);
  });

  test("the bootstrap interval is seeded (same input, same interval), brackets the mean, and is the value for one", () => {
    const d = [-0.1, -0.05, 0.02, -0.12, -0.03];
    const a = bootstrapMeanInterval(d);
    expect(bootstrapMeanInterval(d)).toEqual(a);
    expect(a[0]).toBeLessThan(mean(d));
    expect(a[1]).toBeGreaterThan(mean(d));
    expect(a[0]).toBeGreaterThanOrEqual(Math.min(...d));
    expect(a[1]).toBeLessThanOrEqual(Math.max(...d));
    const many = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
    const b = bootstrapMeanInterval(many);
    expect(bootstrapMeanInterval(many)).toEqual(b);
    expect(bootstrapMeanInterval(many, { resamples: 2000, seed: 7, level: 0.95 })).not.toEqual(b);
    expect(bootstrapMeanInterval([0.3, 0.3, 0.3])).toEqual([0.3, 0.3]);
    expect(bootstrapMeanInterval([0.25])).toEqual([0.25, 0.25]);
  });

  test("paired differences use only seeds both k and k = 1 finished; wins count k below k = 1", () => {
    const runs = [
      run(1, 0, 0.8),
      run(1, 1, 0.7),
      run(1, 2, 0.9),
      run(2, 0, 0.75),
      run(2, 1, 0.72),
      run(2, 2, 0.8),
      run(3, 1, 0.6),
      run(3, 7, 0.1), // no k = 1 run for seed 7: not paired
    ];
    const [k2, k3] = pairedDifferences(runs, ARTICLE_BEST_VAL_CE);
    expect(k2.seeds).toEqual([0, 1, 2]);
    expect(k2.differences.map((v) => +v.toFixed(6))).toEqual([-0.05, 0.02, -0.1]);
    expect(k2.mean).toBeCloseTo(-0.13 / 3, 12);
    expect(k2.wins).toBe(2);
    expect(k2.article).toBeCloseTo(0.202 - 0.259, 12);
    expect(k3).toMatchObject({ k: 3, seeds: [1], wins: 1 });
    expect(k3.mean).toBeCloseTo(-0.1, 12);
    const byK = summarizeByK(runs);
    expect(byK.map((s) => [s.k, s.seeds])).toEqual([[1, [0, 1, 2]], [2, [0, 1, 2]], [3, [1, 7]]]);
    expect(byK[0].bestValCrossEntropyMean).toBeCloseTo(0.8, 12);
    expect(byK[0].bestValCrossEntropySd).toBeCloseTo(0.1, 12);
  });
});

describe("one-step runs", () => {
  // A training step of this model costs about 3 s on tfjs's cpu backend whatever the batch size.
  test("--resume trains only the unfinished (k, seed) pairs, writes the report and chart; --report-only redraws them", async () => {
    const dir = await Deno.makeTempDir({ prefix: "sortpool-reproduce-" });
    try {
      const args = ["--k", "2", "--seeds", "5,6", "--epochs", "1", "--train-limit", "2", "--test-limit", "3"];
      const s = { ...runSettings([...args, "--batch-size", "2", "--resume"], dir), backend: "cpu" as const };
      // A finished pair from an earlier, interrupted run of the same protocol.
      const finished = {
        k: 2,
        seed: 5,
        pooling: "sortPooling2d",
        valCrossEntropy: [1.5],
        valAccuracy: [0.25],
        trainLoss: [2],
        bestValCrossEntropy: 1.5,
        bestEpoch: 1,
        valAccuracyAtBest: 0.25,
        msPerStep: NaN,
        firstStepMs: 1,
        steps: 1,
        finalWeights: [[0.5, 0.5], [0.5, 0.5]],
        wallSeconds: 1234,
      };
      const earlier = {
        epochs: 1,
        trainImages: 2,
        testImages: 3,
        batchSize: 2,
        bnMomentum: 0.99,
        backend: "cpu",
        convFilterGradient: "sliced",
      };
      await Deno.writeTextFile(`${dir}/r.json`, JSON.stringify({ runs: [finished], config: earlier }));
      expect(await reproduce(s)).toBe(0);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
      expect(report.runs.map((r: { k: number; seed: number }) => [r.k, r.seed])).toEqual([[2, 5], [2, 6]]);
      expect(report.runs[0].wallSeconds).toBe(1234); // kept, not retrained
      const run = report.runs[1];
      expect(run.valCrossEntropy).toHaveLength(1);
      expect(run.valAccuracy).toHaveLength(1);
      expect(run.bestValCrossEntropy).toBe(run.valCrossEntropy[0]);
      expect(run.bestValCrossEntropy).toBeGreaterThan(0);
      expect(run.bestEpoch).toBe(1);
      expect(run.steps).toBe(1);
      expect(run.firstStepMs).toBeGreaterThan(0);
      expect(run.finalWeights.map((w: number[]) => w.length)).toEqual([2, 2]);
      expect(run.finalWeights[0][0] + run.finalWeights[0][1]).toBeCloseTo(1, 6);
      expect(report.config).toMatchObject({ seeds: [5, 6], trainImages: 2, testImages: 3, batchSize: 2 });
      expect(report.config.wallSeconds).toBeCloseTo(1234 + run.wallSeconds, 6);
      expect(report.environment).toMatchObject({ backend: "cpu", tfjs: tf.version.tfjs });
      expect(report.article.bestValCrossEntropy["2"]).toBe(0.202);
      expect(report.summary.byK).toHaveLength(1);
      expect(report.summary.byK[0]).toMatchObject({ k: 2, seeds: [5, 6] });
      expect(report.summary.byK[0].bestValCrossEntropy).toEqual([1.5, run.bestValCrossEntropy]);
      expect(report.summary.pairedToK1).toEqual([]); // no k = 1 to pair with
      expect(report.summary.bootstrap).toMatchObject({ resamples: 10000, level: 0.95 });
      const svg = await Deno.readTextFile(`${dir}/r.svg`);
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toContain("best validation cross-entropy");

      // Everything finished: --resume trains nothing and leaves the file as it was, byte for byte;
      // --report-only redraws the chart from the JSON alone.
      const before = await Deno.readTextFile(`${dir}/r.json`);
      expect(await reproduce(s)).toBe(0);
      expect(await Deno.readTextFile(`${dir}/r.json`)).toBe(before);
      await Deno.remove(`${dir}/r.svg`);
      const redraw = runSettings(["--report-only"], dir);
      expect(await reproduce(redraw)).toBe(0);
      expect(await Deno.readTextFile(`${dir}/r.svg`)).toContain("validation cross-entropy (X_test)");

      // A file of another protocol is not resumed, nor one trained on another backend.
      const other = { ...runSettings([...args, "--batch-size", "1", "--resume"], dir), backend: "cpu" as const };
      await expect(reproduce(other)).rejects.toThrow(/--resume: expected batchSize 2 as in .*received 1/);
      const webgpu = { ...s, backend: "webgpu" as const };
      await expect(reproduce(webgpu)).rejects.toThrow(/--resume: expected backend "cpu" as in .*received "webgpu"/);

      // Nor one written before the filter gradient was recorded: its runs used tfjs's own kernel.
      const { convFilterGradient: _, ...older } = earlier;
      await Deno.writeTextFile(`${dir}/r.json`, JSON.stringify({ runs: [finished], config: older }));
      await expect(reproduce(s)).rejects.toThrow(
        /--resume: expected convFilterGradient "stock" as in .*received "sliced"/,
      );
      expect(settingsFrom(parseCli(CLI, ["--conv-filter-grad", "stock"]).values, [])).toMatchObject({
        convFilterGradient: "stock",
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

describe("report files", () => {
  const run = (k: number, seed: number, over: Record<string, unknown> = {}) => ({
    k,
    seed,
    pooling: k === 1 ? "maxPooling2d" : "sortPooling2d",
    valCrossEntropy: [0.9, 0.8],
    valAccuracy: [0.6, 0.7],
    trainLoss: [1.2, 0.9],
    bestValCrossEntropy: 0.8,
    bestEpoch: 2,
    valAccuracyAtBest: 0.7,
    msPerStep: 10,
    firstStepMs: 20,
    steps: 4,
    finalWeights: k === 1 ? [] : [[0.5, 0.5]],
    wallSeconds: 1,
    ...over,
  });
  const config = {
    epochs: 2,
    trainImages: 4,
    testImages: 3,
    batchSize: 2,
    bnMomentum: 0.5,
    backend: "cpu",
    convFilterGradient: "sliced",
  };
  const text = (runs: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ runs, config, ...extra });
  const refusal = (doc: string) => {
    try {
      readReport(doc, "r.json", "--report-only");
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as UsageError).message;
    }
    return "accepted";
  };

  test("a well-formed report reads back; NaN written as null reads as NaN, not 0", () => {
    const diverged = {
      msPerStep: null,
      valCrossEntropy: [null, null],
      bestValCrossEntropy: null,
      bestEpoch: 1,
      valAccuracyAtBest: 0.6,
    };
    const report = readReport(text([run(1, 0), run(2, 0, diverged)]), "r", "x");
    expect(report.runs.map((r) => [r.k, r.seed])).toEqual([[1, 0], [2, 0]]);
    expect(report.runs[1].msPerStep).toBeNaN();
    expect(report.runs[1].bestValCrossEntropy).toBeNaN();
    // A report older than per-run seeds: the runs take config.seed.
    const old = JSON.stringify({ runs: [{ ...run(1, 0), seed: undefined }], config: { ...config, seed: 99 } });
    expect(readReport(old, "r", "x").runs[0].seed).toBe(99);
  });

  test("every committed report reads back, and its committed chart is the one --report-only draws", async () => {
    const folder = new URL("./results/", import.meta.url);
    const dir = await Deno.makeTempDir({ prefix: "sortpool-charts-" });
    let count = 0;
    try {
      for await (const entry of Deno.readDir(folder)) {
        if (!entry.name.endsWith(".json")) continue;
        const path = new URL(entry.name, folder).pathname;
        const report = readReport(await Deno.readTextFile(path), entry.name, "--report-only");
        expect(report.runs.length, entry.name).toBeGreaterThanOrEqual(4);
        const svg = `${dir}/${entry.name}.svg`;
        const args = ["--report-only", "--json", path, "--svg", svg];
        expect(await reproduce(settingsFrom(parseCli(CLI, args).values, args))).toBe(0);
        const committed = await Deno.readTextFile(path.replace(/\.json$/, ".svg"));
        expect(await Deno.readTextFile(svg) === committed, `${entry.name}: the committed chart is stale`).toBe(true);
        count++;
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    expect(count).toBeGreaterThanOrEqual(3);
  });

  test("a file that is not a report, or whose runs are ill-formed, is refused naming the file and the fault", () => {
    const cases: [string, RegExp][] = [
      [text([run(1, 0), run(1, 0, { bestValCrossEntropy: 0.01 })]), /one run per \(k, seed\).*k=1, seed 0 again/],
      [text([run(1, 0, { k: "1" })]), /\$\.runs\[0\]\.k: expected .*integer.*received "1"/],
      [text([run(1, 0, { seed: "0" })]), /\$\.runs\[0\]\.seed: expected .*integer/],
      [text([run(1, 0, { k: 7 })]), /\$\.runs\[0\]\.k: expected .*4.*received 7/],
      [text([run(1, 0, { bestValCrossEntropy: "0.7" })]), /\$\.runs\[0\]\.bestValCrossEntropy/],
      [text([null]), /\$\.runs\[0\]: expected .*object.*received null/],
      [text([run(2, 0, { pooling: "maxPooling2d" })]), /pooling: expected "sortPooling2d" for k=2/],
      [
        text([run(1, 0, { valCrossEntropy: [0.9] })]),
        /valCrossEntropy: expected 2 values \(config\.epochs\); received 1/,
      ],
      [text([run(1, 0, { bestEpoch: 3 })]), /bestEpoch: expected 1\.\.2; received 3/],
      [text([run(1, 0)], { extra: 1 }), /\$\.extra: expected no field "extra"/],
      [JSON.stringify({ runs: [{ ...run(1, 0), seed: undefined }], config }), /\.seed: expected a seed/],
      [JSON.stringify({ stepCost: [], config }), /received a --step-cost table/],
      [JSON.stringify({ runs: [], config: { ...config, epochs: "2" } }), /\$\.config\.epochs/],
      ["[]", /expected a report of deno task reproduce in r\.json/],
      // What the schema cannot say: the figures of a run must agree with each other and with the config.
      [
        text([run(1, 0, { bestEpoch: 1, bestValCrossEntropy: 0.9, valAccuracyAtBest: 0.6 })]),
        /bestEpoch: expected the first epoch with the lowest valCrossEntropy, 2; received 1/,
      ],
      [
        text([run(1, 0, { valCrossEntropy: [0.8, 0.8] })]),
        /the first epoch with the lowest valCrossEntropy, 1; received 2/,
      ],
      [
        text([
          run(1, 0, { valCrossEntropy: [null, 0.9], bestValCrossEntropy: null, bestEpoch: 1, valAccuracyAtBest: 0.6 }),
        ]),
        /bestEpoch: expected the first epoch .*, 2; received 1/,
      ],
      [
        text([run(1, 0, { bestValCrossEntropy: 0.7 })]),
        /bestValCrossEntropy: expected valCrossEntropy\[bestEpoch - 1\], 0\.8; received 0\.7/,
      ],
      [text([run(1, 0, { valAccuracyAtBest: 0.9 })]), /valAccuracyAtBest: expected valAccuracy\[bestEpoch - 1\], 0\.7/],
      [text([run(1, 0, { finalWeights: [[1]] })]), /finalWeights: expected \[\] for max pooling/],
      [text([run(3, 0, { finalWeights: [[0.5, 0.5]] })]), /finalWeights: expected lists of 3 weights/],
      [text([run(3, 0, { finalWeights: [] })]), /finalWeights: expected lists of 3 weights/],
      [text([run(1, 0, { steps: 1e9 })]), /steps: expected 4 \(epochs x batches of trainImages\); received 1000000000/],
      [
        JSON.stringify({ runs: [run(2, 0)], config: { ...config, ks: [1] } }),
        /\.k: expected one of config\.ks \[1\]; received 2/,
      ],
      [
        JSON.stringify({ runs: [run(1, 5)], config: { ...config, seeds: [0, 1] } }),
        /\.seed: expected one of config\.seeds/,
      ],
      [text([run(1, 0)], { environment: { resumedAt: 5 } }), /\$\.environment\.resumedAt: expected an array/],
      [
        text([run(1, 0)], { environment: { deep: JSON.parse("[".repeat(20_000) + "]".repeat(20_000)) } }),
        /cannot be written back/,
      ],
      ["{", /unparsable JSON/],
    ];
    for (const [doc, message] of cases) expect(refusal(doc), doc).toMatch(message);
    expect(refusal(text([run(1, 0)]))).toBe("accepted");
    // A byte-order mark, as some editors save one, is not a fault.
    expect(refusal("\uFEFF" + text([run(1, 0)]))).toBe("accepted");
  });

  test("--report-only: a missing file, a folder, or a report without runs is a usage error, not a stack trace", async () => {
    const dir = await Deno.makeTempDir({ prefix: "sortpool-report-" });
    try {
      const at = (json: string) => settingsFrom(parseCli(CLI, ["--report-only", "--json", json]).values, []);
      await expect(reproduce(at(`${dir}/none.json`))).rejects.toThrow(
        /--report-only: expected a readable report file at --json .*none\.json, received NotFound/,
      );
      await expect(reproduce(at(dir))).rejects.toThrow(/--report-only: expected a readable report file/);
      await Deno.writeTextFile(`${dir}/empty.json`, text([]));
      await expect(reproduce(at(`${dir}/empty.json`))).rejects.toThrow(/expected a report with finished runs.*no runs/);
      await expect(Deno.stat(`${dir}/empty.svg`)).rejects.toThrow(Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  test("a run refuses, before training, to replace a report, to write while another run holds it, or into a folder", async () => {
    const dir = await Deno.makeTempDir({ prefix: "sortpool-outputs-" });
    const protocol = ["--epochs", "2", "--train-limit", "4", "--test-limit", "3", "--batch-size", "2", "--k", "1"];
    const at = (...args: string[]) => {
      const all = [...args, ...protocol, "--seeds", "0"];
      return { ...settingsFrom(parseCli(CLI, all).values, all), backend: "cpu" as const, bnMomentum: 0.5 };
    };
    try {
      const json = `${dir}/r.json`;
      await Deno.writeTextFile(json, text([run(1, 0)]));
      await expect(reproduce(at("--json", json))).rejects.toThrow(
        /--json: expected a file that holds no training report yet \(--resume continues it; --overwrite replaces it\), received .*r\.json, a report with 1 run/,
      );
      // Another run holds the file's lock (a system lock, as another process's would be): refused. A lock
      // file that nobody holds (left by a run that was killed) is taken, whatever it says.
      const held = await Deno.open(`${json}.lock`, { create: true, write: true });
      expect(await held.tryLock(true)).toBe(true);
      await expect(reproduce(at("--json", json, "--resume"))).rejects.toThrow(
        /--json: expected a report that no other run is writing, received .*r\.json: another deno task reproduce holds/,
      );
      held.close();
      await Deno.writeTextFile(`${json}.lock`, "4194305 and garbage\n");
      const before = await Deno.readTextFile(json);
      expect(await reproduce(at("--json", json, "--resume"))).toBe(0); // every pair done: nothing trained
      expect(await Deno.readTextFile(json)).toBe(before);
      await expect(Deno.stat(`${json}.lock`)).rejects.toThrow(Deno.errors.NotFound);
      // A link to the report is the report: the same lock.
      await Deno.symlink(json, `${dir}/alias.json`);
      const again = await Deno.open(`${json}.lock`, { create: true, write: true });
      expect(await again.tryLock(true)).toBe(true);
      await expect(reproduce(at("--json", `${dir}/alias.json`, "--resume"))).rejects.toThrow(
        /another deno task reproduce holds/,
      );
      again.close();
      await Deno.remove(`${json}.lock`);
      await Deno.mkdir(`${dir}/folder`);
      await expect(reproduce(at("--json", `${dir}/folder`))).rejects.toThrow(
        /--json: expected a file name, received .*which is a folder/,
      );
      await expect(reproduce(at("--json", `${dir}/new/`))).rejects.toThrow(
        /--json: expected a file name, received .*a folder name/,
      );
      await expect(reproduce(at("--json", `${json}/under`))).rejects.toThrow(
        /--(json|svg): expected a path whose folders are folders/,
      );
      await expect(reproduce(at("--json", `${dir}/new/.`))).rejects.toThrow(
        /expected a file name, received .*a folder name/,
      );
      const folderSvg = ["--report-only", "--json", json, "--svg", `${dir}/folder`];
      await expect(reproduce(settingsFrom(parseCli(CLI, folderSvg).values, folderSvg))).rejects.toThrow(
        /--svg: expected a file name, received .*which is a folder/,
      );
      await expect(reproduce(at("--json", `${dir}/x.json`, "--svg", `${dir}/folder`))).rejects.toThrow(
        /--svg: expected a file name/,
      );
      // The chart may not replace the report, even through a linked folder, one not made yet below it,
      // or a `..` that the system reads past a link.
      await Deno.symlink(dir, `${dir}/link`);
      expect(realPathOf(`${dir}/link/sub/r.json`)).toBe(realPathOf(`${dir}/sub/r.json`));
      await Deno.mkdir(`${dir}/real/deep`, { recursive: true });
      await Deno.mkdir(`${dir}/other`);
      await Deno.symlink(`${dir}/real/deep`, `${dir}/other/dl`);
      expect(realPathOf(`${dir}/other/dl/../r2.json`)).toBe(realPathOf(`${dir}/real/r2.json`));
      const linked = ["--report-only", "--json", json, "--svg", `${dir}/link/r.json`];
      expect(() => settingsFrom(parseCli(CLI, linked).values, linked)).toThrow(
        /--svg: expected a file other than --json's/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  test("a resumed file trained on another WebGPU adapter is refused", () => {
    const on = (line: string | null) => ({ webgpuAdapter: line === null ? null : { line } });
    const old = { ...readReport(text([run(1, 0)]), "r", "x"), environment: on("llvmpipe on wgpu") };
    expect(() => checkSameAdapter(old, on("llvmpipe on wgpu"), "r.json")).not.toThrow();
    expect(() => checkSameAdapter(old, on("SwiftShader on Dawn"), "r.json")).toThrow(
      /--resume: expected the WebGPU adapter the runs in r\.json trained on, llvmpipe on wgpu, DENO_WEBGPU_BACKEND=unset .*received SwiftShader on Dawn/,
    );
    expect(() => checkSameAdapter({ ...old, environment: on(null) }, on(null), "r.json")).not.toThrow();
    // Mesa's GL and Vulkan adapters describe themselves alike: the variable that chose one tells them apart.
    const vulkan = { ...on("llvmpipe on wgpu"), DENO_WEBGPU_BACKEND: "vulkan" };
    const gl = { ...on("llvmpipe on wgpu"), DENO_WEBGPU_BACKEND: "gl" };
    expect(() => checkSameAdapter({ ...old, environment: vulkan }, gl, "r.json")).toThrow(
      /DENO_WEBGPU_BACKEND=vulkan .*received llvmpipe on wgpu, DENO_WEBGPU_BACKEND=gl/,
    );
  });

  test("with few seeds the paired table says its bootstrap interval is about the range", () => {
    expect([1, 2, 3, 4, 5].map(distinctResamples)).toEqual([1, 3, 10, 35, 126]);
    const runs = [0, 1, 2].flatMap((seed) => [run(1, seed), run(2, seed, { bestValCrossEntropy: 0.7 - seed / 100 })]);
    const few = pairedTable(pairedDifferences(runs as never, ARTICLE_BEST_VAL_CE));
    expect(few).toMatch(/k = 2: with 3 paired seeds the bootstrap has only 10 distinct resamples/);
    // The note is per seed count: rows with 2 and with 3 paired seeds each get their own.
    const mixed = [...runs, run(3, 0), run(3, 1)];
    const notes = pairedTable(pairedDifferences(mixed as never, ARTICLE_BEST_VAL_CE));
    expect(notes).toMatch(/k = 3: with 2 paired seeds the bootstrap has only 3 distinct resamples/);
    expect(notes).toMatch(/k = 2: with 3 paired seeds/);
    const many = [0, 1, 2, 3, 4, 5].flatMap((seed) => [run(1, seed), run(2, seed)]);
    expect(pairedTable(pairedDifferences(many as never, ARTICLE_BEST_VAL_CE))).not.toMatch(/distinct resamples/);
  });
});

function runSettings(args: string[], dir: string) {
  const all = [...args, "--json", `${dir}/r.json`];
  return settingsFrom(parseCli(CLI, all).values, all);
}
