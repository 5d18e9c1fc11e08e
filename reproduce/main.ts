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
import { basename, dirname, isAbsolute, resolve } from "node:path";
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
} from "../harness/cli.ts";
import { tf, type TfjsBackendName, useBackend } from "../src/tfjs/runtime.ts";
import { choiceFlag } from "../harness/cli.ts";
import { describeAdapter, requestAdapterOrThrow } from "../src/webgpu/device.ts";
import { engineInfo } from "../src/webgpu/engine.ts";
import { type ClutteredMnist, DEFAULT_DATA_FILE, head, loadClutteredMnist } from "./data.ts";
import { CONV_FILTER_GRADIENTS, type ConvFilterGradient, useConvFilterGradient } from "./conv_filter_grad.ts";
import {
  bestEpochIndex,
  type ExperimentConfig,
  measureStepCost,
  type RunResult,
  stepsPerEpoch,
  trainOne,
} from "./experiment.ts";
import { ARTICLE_BEST_VAL_CE, DEFAULT_BN_MOMENTUM } from "./model.ts";
import { formatViolation, violationsAgainst } from "../schemas/validate.ts";
import reportSchema from "./report.schema.json" with { type: "json" };
import {
  chartSvg,
  makeReport,
  pairedTable,
  type Report,
  runsTable,
  stepCostTable,
  summaryTable,
  titleOf,
} from "./report.ts";

/** Settings of `--quick`: a CI-sized run (all four k, one epoch, a few hundred images). */
export const QUICK = { trainLimit: 256, testLimit: 200, epochs: 1 } as const;

/** The command's flags and help. */
export const CLI: CliSpec = defineCli({
  command: "deno task reproduce",
  summary: "Trains the article's cluttered-MNIST model (conv-bn-relu, pool, conv-bn-relu, pool, dense 1024-bn-relu, " +
    "dense 10) for each k (k = 1: tf.layers.maxPooling2d; k = 2..4: sortPooling2d) with Adam 0.001, batch 128, " +
    "and reports the best validation cross-entropy on X_test per k next to the article's; with --seeds, over " +
    "seeds, with each k > 1 paired against k = 1 per seed. Defaults are the full protocol (30 epochs on 11,000 " +
    "images: 10,320 training steps per seed, 6 to 12 s each on a CPU-emulated WebGPU adapter, so about a day per " +
    "seed there; GPU-sized).",
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
    seed: {
      type: "string",
      value: "N",
      description: "seed of the initializers and of the shuffling (one seed; see --seeds)",
      default: "99",
    },
    seeds: {
      type: "string",
      value: "LIST",
      description: "train every k for every seed in LIST: comma-separated seeds and ranges, e.g. 0,1,2 or 0-4.\n" +
        "A seed gives every k the same initial weights and batches, so k > 1 pairs with k = 1 per seed.\n" +
        "Runs go seed by seed (every k of the first seed, then the next), so a partial run is still paired",
    },
    resume: {
      type: "boolean",
      description: "continue the run in --json FILE: keep its finished (k, seed) pairs and train only the rest\n" +
        "(the file is rewritten after every pair, so an interrupted run loses at most the pair in progress).\n" +
        "Its protocol (epochs, images, batch size, bn momentum, backend, --conv-filter-grad, the data file's\n" +
        "hash) and WebGPU adapter (with DENO_WEBGPU_BACKEND) must match; with every pair done it rewrites nothing",
    },
    overwrite: {
      type: "boolean",
      description: "replace the report in --json FILE if there is one (without it, a run refuses to overwrite a\n" +
        "report: pass --resume to continue it, or another --json)",
    },
    "report-only": {
      type: "boolean",
      description: "train nothing: read --json FILE and print its tables and write its chart (--svg) again",
    },
    "bn-momentum": {
      type: "string",
      value: "M",
      description: "batch norm moving-average momentum; 0.99 is the original's (TF1 default). Short runs need\n" +
        "less: after S steps the moving statistics still hold 0.99^S of their initial values",
      default: String(DEFAULT_BN_MOMENTUM),
    },
    backend: { type: "string", value: "NAME", description: "tfjs backend: webgpu or cpu", default: "webgpu" },
    "conv-filter-grad": {
      type: "string",
      value: "HOW",
      description: "how tfjs computes conv2d's filter gradient: sliced (in batch slices, each within the\n" +
        "65,535 loop iterations Mesa's CPU adapters run per shader invocation; on them tfjs's own kernel\n" +
        "silently sums only the first images of a batch; a shape whose one image needs more is refused) or\n" +
        "stock (tfjs's kernel as it is, to reproduce that)",
      default: "sliced",
    },
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
  /** Seeds to train every k with, in order (`seed` is the first). */
  readonly seeds: readonly number[];
  readonly resume: boolean;
  readonly reportOnly: boolean;
  /** Replace an existing report at --json (without it, a training run refuses to). */
  readonly overwrite: boolean;
  readonly backend: TfjsBackendName;
  /** How conv2d's filter gradient is computed (reproduce/conv_filter_grad.ts). */
  readonly convFilterGradient: ConvFilterGradient;
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

/** Most seeds one --seeds list may name (a typo like 0-10000 should not plan days of training). */
export const MAX_SEEDS = 1000;

/**
 * Parses a --seeds list: comma-separated seeds (integers in 0..2^31-1) and ranges A-B (A <= B,
 * both ends included), distinct, at most {@link MAX_SEEDS}; order kept.
 * @throws UsageError naming --seeds.
 */
export function parseSeeds(values: FlagValues, flag = "seeds"): number[] {
  const max = 2 ** 31 - 1;
  const expected = "seeds in 0..2147483647 or ranges A-B with A <= B, comma-separated (e.g. 0,1,2 or 0-4)";
  const seeds = listFlag(values, flag, (item) => {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item);
    const a = m ? Number(m[1]) : NaN;
    const b = m?.[2] !== undefined ? Number(m[2]) : a;
    if (!(a >= 0 && b <= max && a <= b)) throw new UsageError(`--${flag}`, expected, JSON.stringify(item));
    if (b - a + 1 > MAX_SEEDS) {
      throw new UsageError(`--${flag}`, `at most ${MAX_SEEDS} seeds`, `${JSON.stringify(item)} (${b - a + 1} seeds)`);
    }
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }).flat();
  if (seeds.length > MAX_SEEDS) {
    throw new UsageError(`--${flag}`, `at most ${MAX_SEEDS} seeds`, `${seeds.length} seeds`);
  }
  const repeated = seeds.find((seed, i) => seeds.indexOf(seed) !== i);
  if (repeated !== undefined) {
    throw new UsageError(`--${flag}`, "distinct seeds", `${JSON.stringify(values[flag])} (${repeated} twice)`);
  }
  return seeds;
}

/** The flags that choose what to train, which --report-only refuses. */
const REPORT_ONLY_IGNORES = [
  "k",
  "epochs",
  "train-limit",
  "test-limit",
  "batch-size",
  "seed",
  "seeds",
  "resume",
  "bn-momentum",
  "backend",
  "conv-filter-grad",
  "quick",
  "step-cost",
  "data",
  "overwrite",
] as const;

/** Whether two paths name the same file: `.`, `..` and symbolic links (of the file or its folders) resolved. */
function samePath(a: string, b: string): boolean {
  return realPathOf(a) === realPathOf(b);
}

/**
 * The absolute path of `path` with links resolved as far as it exists: the longest prefix that exists
 * is resolved by the system (so `link/..` is the link target's parent, as the system reads it), and
 * the rest, not there yet, is appended.
 */
export function realPathOf(path: string): string {
  const absolute = isAbsolute(path) ? path : `${Deno.cwd()}/${path}`;
  const parts = absolute.split(/[/\\]+/);
  for (let i = parts.length; i > 0; i--) {
    try {
      return resolve(Deno.realPathSync(parts.slice(0, i).join("/") || "/"), ...parts.slice(i));
    } catch {
      // This prefix is not there (or is a dangling link): try a shorter one.
    }
  }
  return resolve(absolute);
}

/** Reads the flags into {@link Settings}. @throws UsageError naming the flag. */
export function settingsFrom(values: FlagValues, args: readonly string[]): Settings {
  if (values["report-only"] === true) {
    // The report is drawn from the file alone: a training flag beside it would be silently ignored.
    const ignored = REPORT_ONLY_IGNORES.filter((flag) => given(args, flag));
    if (ignored.length > 0) {
      throw new UsageError(
        "--report-only",
        "only --json and --svg with it (it redraws the file as it is)",
        ignored.map((flag) => `--${flag}`).join(", "),
      );
    }
  }
  for (const flag of ["json", "svg"]) {
    if (values[flag] === "") throw new UsageError(`--${flag}`, "a file name", '"" (empty)');
  }
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
  const svg = typeof values.svg === "string" ? values.svg : json?.replace(/(\.json)?$/i, ".svg");
  if (json !== undefined && svg !== undefined && samePath(json, svg)) {
    throw new UsageError("--svg", "a file other than --json's (the chart would replace the report)", svg);
  }
  if (given(args, "seeds") && given(args, "seed")) {
    throw new UsageError("--seeds", "either --seed N or --seeds LIST, not both", `--seed ${values.seed}`);
  }
  const seeds = given(args, "seeds") ? parseSeeds(values) : [intFlag(values, "seed", 0, 2 ** 31 - 1)];
  const resume = values.resume === true;
  const reportOnly = values["report-only"] === true;
  if (resume && !json) throw new UsageError("--resume", "--json FILE (the run to continue)", "no --json");
  if (resume && values["step-cost"] !== undefined) {
    throw new UsageError("--resume", "a training run (--step-cost trains nothing to continue)", "--step-cost");
  }
  const overwrite = values.overwrite === true;
  if (overwrite && resume) throw new UsageError("--overwrite", "either --overwrite or --resume, not both", "--resume");
  if (reportOnly && !json) throw new UsageError("--report-only", "--json FILE (the report to read)", "no --json");
  return {
    seeds,
    resume,
    overwrite,
    reportOnly,
    ks,
    epochs: pick("epochs", QUICK.epochs, 1),
    trainLimit: pick("train-limit", QUICK.trainLimit, 1, 11000),
    testLimit: pick("test-limit", QUICK.testLimit, 1, 1000),
    batchSize: intFlag(values, "batch-size", 1, 11000),
    evalBatchSize: 500,
    seed: seeds[0],
    bnMomentum: numberFlag(values, "bn-momentum", 0, 1),
    backend: choiceFlag(values, "backend", ["webgpu", "cpu"] as const),
    convFilterGradient: choiceFlag(values, "conv-filter-grad", CONV_FILTER_GRADIENTS),
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
    const a = await requestAdapterOrThrow();
    const info = a.info;
    adapter = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      engine: engineInfo().implementation,
      line: describeAdapter(a),
    };
  }
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    engine: engineInfo().name,
    webgpuAdapter: adapter,
    DENO_WEBGPU_BACKEND: Deno.env.get("DENO_WEBGPU_BACKEND") ?? null,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    hardwareConcurrency: navigator.hardwareConcurrency,
    date: new Date().toISOString(),
  };
}

function configOf(s: Settings, data: ClutteredMnist, dataSha256: string): Record<string, unknown> {
  return {
    ks: s.ks,
    epochs: s.epochs,
    trainImages: data.train.n,
    testImages: data.test.n,
    trainLimit: s.trainLimit,
    testLimit: s.testLimit,
    batchSize: s.batchSize,
    seeds: s.seeds,
    bnMomentum: s.bnMomentum,
    backend: s.backend,
    convFilterGradient: s.convFilterGradient,
    quick: s.quick,
    optimizer: "adam(learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-8)",
    loss: "softmax cross-entropy on logits, batch mean",
    model: "conv3x3x16 same-bn-relu, pool 2x2 same, conv3x3x16 same-bn-relu, pool, flatten, dense1024-bn-relu, " +
      "dense10 no bias; k=1: tf.layers.maxPooling2d, k>=2: sortPooling2d (logits N(0, 0.1))",
    seeding: "per (k, seed): every initializer's seed drawn from mulberry32(seed ^ 0x5eed5eed) (the same " +
      "conv/dense init for every k), shuffle: mulberry32(seed) per run (the same batches for every k)",
    dataFile: s.data,
    dataSha256,
  };
}

/** Writes `text` to `path` (creating its folder) through a temporary file and a rename, so a kill never leaves half a file. */
async function writeFile(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  // A temporary name of this process's own, so that two writers never rename each other's half-written file.
  const tmp = `${path}.${Deno.pid}.partial`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** The config fields a resumed run must share with the file it continues. */
export const PROTOCOL_FIELDS = [
  "epochs",
  "trainImages",
  "testImages",
  "batchSize",
  "bnMomentum",
  "backend",
  "convFilterGradient",
  "dataSha256",
] as const;

/** A protocol field of a report written before the field existed: what every run of it did. */
function protocolFieldOf(report: Report, field: (typeof PROTOCOL_FIELDS)[number]): unknown {
  const value = report.config[field];
  if (value !== undefined) return value;
  // Every run then used tfjs's own filter gradient; the backend was recorded only in the environment.
  if (field === "convFilterGradient") return "stock";
  if (field === "backend") return report.environment?.backend;
  return undefined;
}

/** Selects the run's tfjs backend and its conv2d filter gradient. */
export async function prepareBackend(s: Pick<Settings, "backend" | "convFilterGradient">): Promise<void> {
  await useBackend(s.backend);
  useConvFilterGradient(s.convFilterGradient, s.backend);
}

/** The (k, seed) pairs to train, seed by seed: every k of the first seed, then every k of the next. */
export function planPairs(ks: readonly number[], seeds: readonly number[]): { k: number; seed: number }[] {
  return seeds.flatMap((seed) => ks.map((k) => ({ k, seed })));
}

/**
 * Reads the report at `path` for `flag` (for --resume, undefined when there is no file yet).
 * @throws UsageError naming `flag` when the file cannot be read or is not a report.
 */
async function readReportFile(path: string, flag: string): Promise<Report | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && flag === "--resume") return undefined;
    throw new UsageError(
      flag,
      `a readable report file at --json ${path}`,
      `${(e as Error).name}: ${(e as Error).message}`,
    );
  }
  return readReport(text, path, flag);
}

/** Parses JSON text; a byte-order mark (some editors save one) is not part of the JSON. */
function parseJson(text: string): unknown {
  return JSON.parse(text.replace(/^\uFEFF/, ""));
}

/**
 * Refuses to start a run over a training report that is already there (hours of runs); a file that
 * is not one (a --step-cost table, say) may be replaced.
 * @throws UsageError naming --json.
 */
async function refuseToReplaceReport(path: string): Promise<void> {
  const text = await Deno.readTextFile(path).catch(() => undefined);
  if (text === undefined) return;
  let doc: unknown;
  try {
    doc = parseJson(text);
  } catch {
    return;
  }
  if (typeof doc === "object" && doc !== null && Array.isArray((doc as { runs?: unknown }).runs)) {
    throw new UsageError(
      "--json",
      "a file that holds no training report yet (--resume continues it; --overwrite replaces it)",
      `${path}, a report with ${(doc as { runs: unknown[] }).runs.length} run(s)`,
    );
  }
}

/**
 * The report at `path` that `--resume` continues (undefined when the file does not exist, so that
 * the run starts), checked against the protocol of `config`.
 * @throws UsageError on --resume when the file's protocol differs from `config`'s or it is not a report.
 */
export async function resumableReport(path: string, config: Record<string, unknown>): Promise<Report | undefined> {
  const old = await readReportFile(path, "--resume");
  if (old === undefined) return undefined;
  for (const field of PROTOCOL_FIELDS) {
    const had = protocolFieldOf(old, field);
    // Reports older than the data file's hash cannot be checked for it.
    if (field === "dataSha256" && had === undefined) continue;
    if (had !== config[field]) {
      throw new UsageError(
        "--resume",
        `${field} ${JSON.stringify(had ?? "not recorded")} as in ${path} (change the flags or --json)`,
        JSON.stringify(config[field]),
      );
    }
  }
  return old;
}

/**
 * Refuses to continue on another WebGPU adapter than the one the file's runs trained on: pairs from
 * two adapters would be compared as if one had trained them (their sums, and their speed, differ).
 */
export function checkSameAdapter(old: Report, env: Record<string, unknown>, path: string): void {
  // Mesa's two CPU adapters describe themselves alike (llvmpipe through GL or Vulkan): the variable
  // that chose one tells them apart.
  const lineOf = (e: Record<string, unknown> | undefined) => {
    const line = (e?.webgpuAdapter as { line?: unknown } | null | undefined)?.line;
    return typeof line === "string" ? `${line}, DENO_WEBGPU_BACKEND=${e?.DENO_WEBGPU_BACKEND ?? "unset"}` : null;
  };
  const had = lineOf(old.environment);
  const now = lineOf(env);
  if (had !== null && had !== now) {
    throw new UsageError(
      "--resume",
      `the WebGPU adapter the runs in ${path} trained on, ${had} (start another --json on this one)`,
      String(now),
    );
  }
}

/**
 * Parses a JSON report and checks it against reproduce/report.schema.json and what the schema
 * cannot say: one run per (k, seed), per-epoch lists of config.epochs values, bestEpoch among them,
 * the pooling of k. Older runs without `seed` get `config.seed`.
 * @throws UsageError naming `flag`, the file and the first faults.
 */
export function readReport(text: string, path: string, flag: string): Report {
  let doc: unknown;
  try {
    doc = parseJson(text);
  } catch (e) {
    throw new UsageError(flag, `a JSON report in ${path}`, `unparsable JSON (${(e as Error).message})`);
  }
  const expected = `a report of deno task reproduce in ${path} (reproduce/report.schema.json)`;
  if (typeof doc === "object" && doc !== null && "stepCost" in doc) {
    throw new UsageError(flag, expected, "a --step-cost table, which has no training runs");
  }
  const faults = validateReport(doc).map(formatViolation);
  if (faults.length === 0) faults.push(...runFaults(doc as Report));
  if (faults.length > 0) {
    const shown = faults.slice(0, 5).join("; ");
    throw new UsageError(flag, expected, faults.length > 5 ? `${shown}; and ${faults.length - 5} more` : shown);
  }
  const report = doc as Report;
  try {
    // What --resume reads it writes back: a document nested too deeply for that is refused now, not after training.
    JSON.stringify(report, null, 2);
  } catch (e) {
    throw new UsageError(flag, expected, `a document that cannot be written back (${(e as Error).message})`);
  }
  const fallback = report.config.seed as number;
  return { ...report, runs: report.runs.map((r) => withNaN({ ...r, seed: r.seed ?? fallback })) };
}

/** A run as read, with the nulls that JSON.stringify wrote for NaN turned back into NaN (null would count as 0). */
function withNaN(run: RunResult): RunResult {
  const nan = (v: number | null) => v ?? NaN;
  return {
    ...run,
    valCrossEntropy: run.valCrossEntropy.map(nan),
    valAccuracy: run.valAccuracy.map(nan),
    trainLoss: run.trainLoss.map(nan),
    bestValCrossEntropy: nan(run.bestValCrossEntropy),
    valAccuracyAtBest: nan(run.valAccuracyAtBest),
    msPerStep: nan(run.msPerStep),
    firstStepMs: nan(run.firstStepMs),
    finalWeights: run.finalWeights.map((w) => w.map(nan)),
  };
}

const validateReport = violationsAgainst(reportSchema, { firstOnly: true });

/** What the schema cannot state about a report's runs, as `$.runs[i]...: expected ...; received ...` lines. */
function runFaults(report: Report): string[] {
  const faults: string[] = [];
  const epochs = report.config.epochs as number;
  const seen = new Map<string, number>();
  for (const [i, r] of report.runs.entries()) {
    const at = `$.runs[${i}]`;
    const seed = r.seed ?? report.config.seed;
    if (seed === undefined) {
      faults.push(`${at}.seed: expected a seed (or config.seed, in a report older than per-run seeds); received none`);
    }
    const key = `${r.k}/${seed}`;
    const first = seen.get(key);
    if (first !== undefined) {
      faults.push(
        `${at}: expected one run per (k, seed); received k=${r.k}, seed ${seed} again (first at $.runs[${first}])`,
      );
    } else seen.set(key, i);
    const pooling = r.k === 1 ? "maxPooling2d" : "sortPooling2d";
    if (r.pooling !== pooling) {
      faults.push(`${at}.pooling: expected "${pooling}" for k=${r.k}; received "${r.pooling}"`);
    }
    for (const list of ["valCrossEntropy", "valAccuracy", "trainLoss"] as const) {
      if (r[list].length !== epochs) {
        faults.push(`${at}.${list}: expected ${epochs} values (config.epochs); received ${r[list].length}`);
      }
    }
    if (r.bestEpoch > epochs) {
      faults.push(`${at}.bestEpoch: expected 1..${epochs}; received ${r.bestEpoch}`);
      continue;
    }
    // The best epoch is the trainer's (bestEpochIndex), and its figures are that epoch's.
    const ce = r.valCrossEntropy as (number | null)[];
    const bestEpoch = bestEpochIndex(ce.map((v) => v ?? NaN)) + 1;
    if (r.bestEpoch !== bestEpoch) {
      faults.push(
        `${at}.bestEpoch: expected the first epoch with the lowest valCrossEntropy, ${bestEpoch}; received ${r.bestEpoch}`,
      );
    }
    const best = ce[r.bestEpoch - 1];
    if (r.bestValCrossEntropy !== best) {
      faults.push(
        `${at}.bestValCrossEntropy: expected valCrossEntropy[bestEpoch - 1], ${best}; received ${r.bestValCrossEntropy}`,
      );
    }
    if (r.valAccuracyAtBest !== r.valAccuracy[r.bestEpoch - 1]) {
      faults.push(
        `${at}.valAccuracyAtBest: expected valAccuracy[bestEpoch - 1], ${r.valAccuracy[r.bestEpoch - 1]}; ` +
          `received ${r.valAccuracyAtBest}`,
      );
    }
    const misfit = r.finalWeights.some((w) => w.length !== r.k);
    if (r.k === 1 ? r.finalWeights.length > 0 : r.finalWeights.length === 0 || misfit) {
      faults.push(
        `${at}.finalWeights: expected ${r.k === 1 ? "[] for max pooling" : `lists of ${r.k} weights`}; ` +
          `received ${JSON.stringify(r.finalWeights).slice(0, 80)}`,
      );
    }
    const steps = epochs * stepsPerEpoch(report.config.trainImages as number, report.config.batchSize as number);
    if (r.steps !== steps) {
      faults.push(`${at}.steps: expected ${steps} (epochs x batches of trainImages); received ${r.steps}`);
    }
    const ks = report.config.ks;
    if (Array.isArray(ks) && !ks.includes(r.k)) {
      faults.push(`${at}.k: expected one of config.ks ${JSON.stringify(ks)}; received ${r.k}`);
    }
    const seeds = report.config.seeds;
    if (Array.isArray(seeds) && seed !== undefined && !seeds.includes(seed)) {
      faults.push(`${at}.seed: expected one of config.seeds ${JSON.stringify(seeds)}; received ${seed}`);
    }
  }
  return faults;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0
    ? `${h} h ${String(m).padStart(2, "0")} min`
    : `${m} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;
}

/**
 * Prints the tables of `report` to stdout and writes its chart to `svg` (when given).
 * @throws UsageError naming --svg when `svg` is the report's own file `json` (links followed now that
 * the report's folders exist).
 */
export async function printAndChart(report: Report, svg: string | undefined, json?: string): Promise<void> {
  if (svg !== undefined && json !== undefined && samePath(svg, json)) {
    throw new UsageError("--svg", "a file other than --json's (the chart would replace the report)", svg);
  }
  const backend = String(report.config.backend ?? report.environment?.backend ?? "?");
  const title = titleOf(report.config, backend);
  console.log(`${title}; article values: k=1..4 ${Object.values(ARTICLE_BEST_VAL_CE).join(" / ")}`);
  console.log(runsTable(report.runs));
  console.log();
  console.log(summaryTable(report.summary.byK));
  console.log();
  console.log(pairedTable(report.summary.pairedToK1));
  if (svg) {
    await writeFile(svg, await chartSvg(report.runs, title));
    console.error(`reproduce: wrote ${svg}`);
  }
}

/** SHA-256 of a file, in hex: what a resumed run checks the data against (its path may differ between clones). */
async function sha256Of(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Refuses, before any training, an output path that cannot be a file: a folder, a name ending in a
 * separator, or one under a file.
 */
async function checkOutputPath(path: string, flag: string): Promise<void> {
  if (/[/\\]$/.test(path) || [".", ".."].includes(basename(path))) {
    throw new UsageError(flag, "a file name", `${JSON.stringify(path)}, a folder name`);
  }
  if ((await Deno.stat(path).catch(() => undefined))?.isDirectory) {
    throw new UsageError(flag, "a file name", `${JSON.stringify(path)}, which is a folder`);
  }
  for (let dir = dirname(resolve(path));; dir = dirname(dir)) {
    const info = await Deno.stat(dir).catch(() => undefined);
    if (info?.isFile) throw new UsageError(flag, "a path whose folders are folders", `${path} (${dir} is a file)`);
    if (info || dirname(dir) === dir) return;
  }
}

/**
 * Takes the lock of the report at `path` (a system file lock on `PATH.lock`, which the system
 * releases when the process ends, however it ends), so that two runs never write one report: each
 * would drop the other's pairs. `path` should be the report's real path, so that links to one report
 * share one lock. Returns its release.
 * @throws UsageError naming --json while another run holds it, or when the lock cannot be made.
 */
async function lockReport(path: string): Promise<() => Promise<void>> {
  const lockPath = `${path}.lock`;
  const cannot = (e: unknown) =>
    new UsageError(
      "--json",
      `a folder where ${lockPath} can be written`,
      `${(e as Error).name}: ${(e as Error).message}`,
    );
  for (let attempt = 0; attempt < 5; attempt++) {
    let file: Deno.FsFile;
    try {
      await Deno.mkdir(dirname(lockPath), { recursive: true });
      file = await Deno.open(lockPath, { create: true, write: true });
    } catch (e) {
      throw cannot(e);
    }
    if (!(await file.tryLock(true))) {
      file.close();
      throw new UsageError(
        "--json",
        "a report that no other run is writing",
        `${path}: another deno task reproduce holds ${lockPath}`,
      );
    }
    // The holder before us may have removed the file after we opened it: then this lock guards
    // nothing (a third run would create and lock a new file), so take the one at the path again.
    const [held, now] = [await file.stat(), await Deno.stat(lockPath).catch(() => undefined)];
    if (now === undefined || (held.ino !== null && now.ino !== held.ino)) {
      file.close();
      continue;
    }
    await file.truncate();
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
    return async () => {
      // Removed before unlocking, so that a run waiting on this file finds it gone and takes the new one.
      await Deno.remove(lockPath).catch(() => {});
      file.close();
    };
  }
  throw cannot(new Error("the lock file kept being replaced"));
}

/** Runs the experiment with `s` and writes its outputs; returns the exit code. */
export async function reproduce(s: Settings): Promise<number> {
  if (s.svg) await checkOutputPath(s.svg, "--svg");
  if (s.reportOnly) {
    const old = (await readReportFile(s.json!, "--report-only"))!;
    if (old.runs.length === 0) {
      throw new UsageError("--report-only", `a report with finished runs in ${s.json}`, "no runs");
    }
    await printAndChart(makeReport(old.runs, old.config, old.environment ?? {}), s.svg, s.json);
    return 0;
  }
  if (s.json) await checkOutputPath(s.json, "--json");
  // The report is written at its real path: a link to a report is that report (one lock; the link stays).
  const json = s.json === undefined ? undefined : realPathOf(s.json);
  const release = json ? await lockReport(json) : undefined;
  try {
    return await run({ ...s, json });
  } finally {
    await release?.();
  }
}

/** A training run, or the step cost (the report file, if any, is locked). */
async function run(s: Settings): Promise<number> {
  const full = await loadClutteredMnist(s.data);
  const data = { train: head(full.train, s.trainLimit), test: head(full.test, s.testLimit) };
  const config = configOf(s, data, await sha256Of(s.data));
  // A file of another protocol is refused before the backend starts (which takes a while on webgpu).
  const resumed = s.resume ? await resumableReport(s.json!, config) : undefined;
  if (s.json && !s.resume && !s.overwrite) await refuseToReplaceReport(s.json);
  const runs: RunResult[] = [...resumed?.runs ?? []];
  const done = new Set(runs.map((r) => `${r.k}/${r.seed}`));
  const plan = planPairs(s.ks, s.seeds);
  const todo = plan.filter((p) => !done.has(`${p.k}/${p.seed}`));
  if (s.resume) {
    console.error(
      `reproduce: --resume: ${runs.length} finished run(s) in ${s.json}; ${plan.length - todo.length} of the ` +
        `${plan.length} planned (k, seed) pairs done, ${todo.length} to train`,
    );
  }
  if (resumed && todo.length === 0) {
    // Nothing to train: the file stays as it was, and the tables come from it alone.
    console.error(`reproduce: nothing to train; ${s.json} left as it was`);
    await printAndChart(makeReport(resumed.runs, resumed.config, resumed.environment ?? {}), s.svg, s.json);
    return 0;
  }

  await prepareBackend(s);
  const env = await environment(s.backend);
  if (resumed) checkSameAdapter(resumed, env, s.json!);
  console.error(
    `reproduce: backend ${s.backend}${env.webgpuAdapter ? ` (${JSON.stringify(env.webgpuAdapter)})` : ""}, ` +
      `k ${s.ks.join(",")}, ${s.epochs} epochs, ${data.train.n} training / ${data.test.n} test images, ` +
      `batch ${s.batchSize}, seeds ${s.seeds.join(",")}`,
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

  // The seeds of the report are every seed with a run, old or planned.
  const allSeeds = () => [...new Set([...runs.map((r) => r.seed), ...s.seeds])].sort((a, b) => a - b);
  // A continued file keeps the environment its first runs recorded (the adapter is the same, checked
  // above) and lists when it was continued.
  const reportEnv = resumed?.environment
    ? { ...resumed.environment, resumedAt: [...(resumed.environment.resumedAt as string[] ?? []), env.date] }
    : env;
  const reportNow = () =>
    makeReport(runs, {
      ...config,
      seeds: allSeeds(),
      ks: [...new Set([...runs.map((r) => r.k), ...s.ks])].sort((a, b) => a - b),
      wallSeconds: runs.reduce((t, r) => t + r.wallSeconds, 0),
    }, reportEnv);

  const started = performance.now();
  const stepsPerRun = s.epochs * stepsPerEpoch(data.train.n, s.batchSize);
  const totalSteps = todo.length * stepsPerRun;
  let doneSteps = 0;
  let bar: SingleBar | null = null;
  const planLeft = () => {
    const elapsed = (performance.now() - started) / 1000;
    return doneSteps === 0 ? NaN : elapsed / doneSteps * (totalSteps - doneSteps);
  };
  for (const [i, { k, seed }] of todo.entries()) {
    console.error(
      `reproduce: pair ${i + 1} of ${todo.length} to train (k=${k}, seed ${seed}); whole plan: about ` +
        `${formatSeconds(planLeft())} left`,
    );
    const run = await trainOne(k, data.train, data.test, { ...s, seed }, {
      epochStart(k, epoch, steps) {
        bar = new SingleBar({
          format: `seed ${seed} k=${k} epoch ${epoch}/${s.epochs} [{bar}] {value}/{total} steps | ` +
            `ETA {eta_formatted} | loss {loss}`,
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
        console.error(
          `seed ${seed} k=${k} epoch ${epoch}/${s.epochs}: train loss ${r.trainLoss.toFixed(4)}, ` +
            `val CE ${r.valCrossEntropy.toFixed(4)}, val acc ${(100 * r.valAccuracy).toFixed(1)} % ` +
            `(${formatSeconds(elapsed)} elapsed; whole plan: about ${formatSeconds(planLeft())} left)`,
        );
      },
    });
    runs.push(run);
    if (s.json) {
      await writeFile(s.json, JSON.stringify(reportNow(), null, 2) + "\n");
      console.error(`reproduce: seed ${seed} k=${k} done in ${run.wallSeconds.toFixed(0)} s; wrote ${s.json}`);
    }
  }
  // The file was rewritten after each pair.
  await printAndChart(reportNow(), s.svg, s.json);
  return 0;
}

if (import.meta.main) {
  await runCli(CLI, Deno.args, ({ values }) => reproduce(settingsFrom(values, Deno.args)));
}
