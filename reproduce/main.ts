/**
 * `deno task reproduce`: the article's cluttered-MNIST experiment in tfjs (see reproduce/model.ts
 * and reproduce/experiment.ts for the protocol), or with `--step-cost N` the pooling layers' cost
 * per training step inside that model.
 *
 * Progress (a bar with ETA per epoch) goes to stderr; the final table to stdout; `--json` and
 * `--svg` write the report and the chart.
 *
 * @module
 */
import { SingleBar } from "cli-progress";
import process from "node:process";
import {
  type CliSpec,
  defineCli,
  type FlagValues,
  intFlag,
  listFlag,
  numberFlag,
  runCli,
  UsageError,
} from "../src/cli.ts";
import { tf, type TfjsBackendName, useBackend } from "../src/tfjs/runtime.ts";
import { choiceFlag } from "../src/cli.ts";
import { type ClutteredMnist, DEFAULT_DATA_FILE, head, loadClutteredMnist } from "./data.ts";
import { type ExperimentConfig, measureStepCost, type RunResult, trainOne } from "./experiment.ts";
import { ARTICLE_BEST_VAL_CE, DEFAULT_BN_MOMENTUM } from "./model.ts";
import { chartSvg, makeReport, runsTable, stepCostTable } from "./report.ts";

/** Settings of `--quick`: a CI-sized run (all four k, one epoch, a few hundred images). */
export const QUICK = { trainLimit: 256, testLimit: 200, epochs: 1 } as const;

/** The command's flags and help. */
export const CLI: CliSpec = defineCli({
  command: "deno task reproduce",
  summary: "Trains the article's cluttered-MNIST model (conv-bn-relu, pool, conv-bn-relu, pool, dense 1024-bn-relu, " +
    "dense 10) for each k (k = 1: tf.layers.maxPooling2d; k = 2..4: sortPooling2d) with Adam 0.001, batch 128, " +
    "and reports the best validation cross-entropy on X_test per k next to the article's. Defaults are the full " +
    "protocol (30 epochs on 11,000 images: about 10 hours on a CPU-emulated WebGPU adapter, minutes on a GPU).",
  options: {
    k: {
      type: "string",
      value: "LIST",
      description: "values of k to train, comma-separated, each 1..4",
      default: "1,2,3,4",
    },
    epochs: { type: "string", value: "N", description: "epochs per k", default: "30" },
    "train-limit": {
      type: "string",
      value: "N",
      description: "train on the first N of the 11,000 training images (X_train + X_valid)",
      default: "11000",
    },
    "test-limit": {
      type: "string",
      value: "N",
      description: "evaluate on the first N of X_test's 1,000",
      default: "1000",
    },
    "batch-size": { type: "string", value: "N", description: "training batch size", default: "128" },
    seed: { type: "string", value: "N", description: "seed of the initializers and of the shuffling", default: "99" },
    "bn-momentum": {
      type: "string",
      value: "M",
      description: "batch norm moving-average momentum; 0.99 is the original's (TF1 default). Short runs need\n" +
        "less: after S steps the moving statistics still hold 0.99^S of their initial values",
      default: String(DEFAULT_BN_MOMENTUM),
    },
    backend: { type: "string", value: "NAME", description: "tfjs backend: webgpu or cpu", default: "webgpu" },
    json: { type: "string", value: "FILE", description: "write the JSON report here" },
    svg: {
      type: "string",
      value: "FILE",
      description: "write the SVG chart here (default: the --json path with .svg, if --json is given)",
    },
    quick: {
      type: "boolean",
      description:
        `CI-sized run: k = 1..4, ${QUICK.epochs} epoch, ${QUICK.trainLimit} training and ${QUICK.testLimit} ` +
        "test images (explicit --k/--epochs/--train-limit/--test-limit still win)",
    },
    "step-cost": {
      type: "string",
      value: "ROUNDS",
      description: "instead of training: time one training step of the model with tf.layers.maxPooling2d and with\n" +
        "sortPooling2d for each --k, ROUNDS interleaved rounds after 2 warm-up steps each",
    },
    data: { type: "string", value: "FILE", description: "the npz file", default: DEFAULT_DATA_FILE.pathname },
  },
  epilog: "Exit codes: 0 done, 1 error, 2 usage error.\n" +
    "On this repository's CPU-only machines the Vulkan adapter (DENO_WEBGPU_BACKEND=vulkan, lavapipe) compiles\n" +
    "tfjs's shaders in seconds where the GL one (llvmpipe) takes over a minute.",
});

/** The run's settings after flags and --quick are applied. */
export interface Settings extends ExperimentConfig {
  readonly backend: TfjsBackendName;
  readonly trainLimit: number;
  readonly testLimit: number;
  readonly quick: boolean;
  readonly json?: string;
  readonly svg?: string;
  readonly stepCostRounds: number;
  readonly data: string;
}

function given(args: readonly string[], flag: string): boolean {
  return args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
}

/** Reads the flags into {@link Settings}. @throws UsageError naming the flag. */
export function settingsFrom(values: FlagValues, args: readonly string[]): Settings {
  const quick = values.quick === true;
  const pick = (flag: string, quickValue: number, min: number, max?: number) =>
    quick && !given(args, flag) ? quickValue : intFlag(values, flag, min, max);
  const ks = listFlag(values, "k", (item) => {
    const k = /^\d+$/.test(item) ? Number(item) : NaN;
    if (!(k >= 1 && k <= 4)) throw new UsageError("--k", "values of k in 1..4", JSON.stringify(item));
    return k;
  });
  if (new Set(ks).size !== ks.length) throw new UsageError("--k", "distinct values", JSON.stringify(values.k));
  const json = typeof values.json === "string" ? values.json : undefined;
  const svg = typeof values.svg === "string" ? values.svg : json?.replace(/(\.json)?$/, ".svg");
  return {
    ks,
    epochs: pick("epochs", QUICK.epochs, 1),
    trainLimit: pick("train-limit", QUICK.trainLimit, 1, 11000),
    testLimit: pick("test-limit", QUICK.testLimit, 1, 1000),
    batchSize: intFlag(values, "batch-size", 1, 11000),
    evalBatchSize: 500,
    seed: intFlag(values, "seed", 0, 2 ** 31 - 1),
    bnMomentum: numberFlag(values, "bn-momentum", 0, 1),
    backend: choiceFlag(values, "backend", ["webgpu", "cpu"] as const),
    quick,
    json,
    svg,
    stepCostRounds: values["step-cost"] === undefined ? 0 : intFlag(values, "step-cost", 1, 1000),
    data: String(values.data),
  };
}

/** Where and with what the run happened: runtime versions, backend, WebGPU adapter, machine. */
export async function environment(backend: TfjsBackendName): Promise<Record<string, unknown>> {
  let adapter: Record<string, string> | null = null;
  if (backend === "webgpu") {
    const a = await navigator.gpu.requestAdapter();
    if (a) {
      const info = a.info;
      adapter = {
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
      };
    }
  }
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    webgpuAdapter: adapter,
    DENO_WEBGPU_BACKEND: Deno.env.get("DENO_WEBGPU_BACKEND") ?? null,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    hardwareConcurrency: navigator.hardwareConcurrency,
    date: new Date().toISOString(),
  };
}

function configOf(s: Settings, data: ClutteredMnist): Record<string, unknown> {
  return {
    ks: s.ks,
    epochs: s.epochs,
    trainImages: data.train.n,
    testImages: data.test.n,
    trainLimit: s.trainLimit,
    testLimit: s.testLimit,
    batchSize: s.batchSize,
    seed: s.seed,
    bnMomentum: s.bnMomentum,
    quick: s.quick,
    optimizer: "adam(learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8)",
    loss: "softmax cross-entropy on logits, batch mean",
    model: "conv3x3x16 same-bn-relu, pool 2x2 same, conv3x3x16 same-bn-relu, pool, flatten, dense1024-bn-relu, " +
      "dense10 no bias; k=1: tf.layers.maxPooling2d, k>=2: sortPooling2d (logits N(0, 0.1))",
    seeds: "initializers seeded from seed (same conv/dense init for every k), logits from seed+1000+layer, " +
      "shuffle: mulberry32(seed) per run (same batches for every k)",
    dataFile: s.data,
  };
}

async function writeFile(path: string, text: string): Promise<void> {
  const dir = path.replace(/[/\\][^/\\]*$/, "");
  if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** Runs the experiment with `s` and writes its outputs; returns the exit code. */
export async function reproduce(s: Settings): Promise<number> {
  await useBackend(s.backend);
  const full = await loadClutteredMnist(s.data);
  const data = { train: head(full.train, s.trainLimit), test: head(full.test, s.testLimit) };
  const env = await environment(s.backend);
  const config = configOf(s, data);
  console.error(
    `reproduce: backend ${s.backend}${env.webgpuAdapter ? ` (${JSON.stringify(env.webgpuAdapter)})` : ""}, ` +
      `k ${s.ks.join(",")}, ${s.epochs} epochs, ${data.train.n} training / ${data.test.n} test images, ` +
      `batch ${s.batchSize}, seed ${s.seed}`,
  );

  if (s.stepCostRounds > 0) {
    const rows = await measureStepCost(data.train, {
      ks: s.ks,
      batchSize: s.batchSize,
      seed: s.seed,
      warmup: 2,
      rounds: s.stepCostRounds,
    }, (subject, round, ms) => console.error(`  round ${round}: ${subject} ${ms.toFixed(0)} ms`));
    console.log(stepCostTable(rows));
    if (s.json) {
      await writeFile(s.json, JSON.stringify({ stepCost: rows, config, environment: env }, null, 2) + "\n");
    }
    return 0;
  }

  const runs: RunResult[] = [];
  const started = performance.now();
  const totalSteps = s.ks.length * s.epochs * Math.ceil(data.train.n / s.batchSize);
  let doneSteps = 0;
  let bar: SingleBar | null = null;
  for (const k of s.ks) {
    const run = await trainOne(k, data.train, data.test, s, {
      epochStart(k, epoch, steps) {
        bar = new SingleBar({
          format: `k=${k} epoch ${epoch}/${s.epochs} [{bar}] {value}/{total} steps | ETA {eta_formatted} | loss {loss}`,
          stream: process.stderr,
          etaBuffer: Math.max(2, steps),
          noTTYOutput: true,
          notTTYSchedule: 60_000,
          hideCursor: true,
        });
        bar.start(steps, 0, { loss: "-" });
      },
      step(_k, _epoch, step, loss) {
        doneSteps++;
        bar?.update(step, { loss: loss.toFixed(4) });
      },
      epochEnd(k, epoch, r) {
        bar?.stop();
        const elapsed = (performance.now() - started) / 1000;
        const left = elapsed / doneSteps * (totalSteps - doneSteps);
        console.error(
          `k=${k} epoch ${epoch}/${s.epochs}: train loss ${r.trainLoss.toFixed(4)}, ` +
            `val CE ${r.valCrossEntropy.toFixed(4)}, val acc ${(100 * r.valAccuracy).toFixed(1)} % ` +
            `(${elapsed.toFixed(0)} s elapsed, about ${left.toFixed(0)} s left)`,
        );
      },
    });
    runs.push(run);
  }
  const report = makeReport(runs, { ...config, wallSeconds: (performance.now() - started) / 1000 }, env);
  const reduced = s.epochs < 30 || data.train.n < 11000 || data.test.n < 1000 ||
    s.bnMomentum !== DEFAULT_BN_MOMENTUM || s.batchSize !== 128;
  const title = `${reduced ? "REDUCED " : ""}cluttered MNIST, ${data.train.n} training images, ${s.epochs} epoch(s)` +
    `${s.bnMomentum !== DEFAULT_BN_MOMENTUM ? `, bn momentum ${s.bnMomentum}` : ""} (${s.backend})`;
  console.log(`${title}; article values: k=1..4 ${Object.values(ARTICLE_BEST_VAL_CE).join(" / ")}`);
  console.log(runsTable(runs));
  if (s.json) {
    await writeFile(s.json, JSON.stringify(report, null, 2) + "\n");
    console.error(`reproduce: wrote ${s.json}`);
  }
  if (s.svg) {
    await writeFile(s.svg, await chartSvg(runs, title));
    console.error(`reproduce: wrote ${s.svg}`);
  }
  return 0;
}

if (import.meta.main) {
  await runCli(CLI, Deno.args, ({ values }) => reproduce(settingsFrom(values, Deno.args)));
}
