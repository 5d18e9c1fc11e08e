/**
 * Exports what one reduced-reproduction run (a (k, seed) pair of `deno task reproduce`) starts
 * from, through the harness's own modules, so that a separate implementation can replay it
 * (reproduce/independent/train_torch.py):
 *
 * - `data/`: the training images (the first `--train-limit` of X_train + X_valid, as
 *   reproduce/data.ts `head` takes them) and the evaluation images (the first `--test-limit` of
 *   X_test): `train_x.npy` float32 [n, 1600], `train_y.npy` int32 [n], likewise `test_*`;
 * - `seed<S>/order.npy` int32 [epochs, n]: each epoch's permutation, from `mulberry32(seed)` and
 *   `shuffledIndices` exactly as `trainOne` draws them; `seed<S>/batches.npy` int32 [steps, batch]:
 *   every training step's image indices in step order, the last partial batch of each epoch padded
 *   with -1;
 * - `seed<S>/k<K>/`: the model's initial weights from `buildTrainableModel` (one `.npy` per weight,
 *   tfjs layouts: conv kernels [kh, kw, in, out], dense kernels [in, out]) and `manifest.json`
 *   (weights in model order with names, shapes and trainability; layer output shapes; the
 *   protocol settings).
 *
 * Initializers draw their numbers in JavaScript (tfjs-core's seeded generators), whatever the
 * backend, so the cpu backend used here gives the weights the webgpu run started from.
 *
 * ```sh
 * npx -y deno@2.9.6 run -A reproduce/replay_export.ts --seeds 0,1,2 --k 1,2,3,4 --out /tmp/replay
 * ```
 *
 * @module
 */
import { defineCli, runCli } from "../harness/cli.ts";
import { dump } from "npyjs";
import { mulberry32 } from "../src/random.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import { head, IMAGE_PIXELS, loadClutteredMnist } from "./data.ts";
import { batchRows, disposeModel, shuffledIndices, stepsPerEpoch } from "./experiment.ts";
import { buildTrainableModel, DEFAULT_BN_MOMENTUM } from "./model.ts";
import { replayFlags, replaySettings } from "./replay_flags.ts";

/** The reduced protocol's settings (README "Reduced run"). */
export interface ReplaySettings {
  readonly seeds: readonly number[];
  readonly ks: readonly number[];
  readonly trainLimit: number;
  readonly testLimit: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly bnMomentum: number;
  readonly out: string;
  readonly data: string;
}

/** Each epoch's permutation and every step's rows, as `trainOne` draws and slices them. */
export function batchPlan(
  n: number,
  epochs: number,
  batchSize: number,
  seed: number,
): { order: Int32Array; batches: Int32Array; steps: number } {
  const random = mulberry32(seed);
  const perEpoch = stepsPerEpoch(n, batchSize);
  const order = new Int32Array(epochs * n);
  const batches = new Int32Array(epochs * perEpoch * batchSize).fill(-1);
  for (let e = 0; e < epochs; e++) {
    const perm = shuffledIndices(n, random);
    order.set(perm, e * n);
    for (let s = 0; s < perEpoch; s++) {
      const rows = batchRows(perm, s, batchSize);
      batches.set(rows, (e * perEpoch + s) * batchSize);
    }
  }
  return { order, batches, steps: epochs * perEpoch };
}

async function writeNpy(path: string, data: Float32Array | Int32Array, shape: number[]): Promise<void> {
  await Deno.writeFile(path, new Uint8Array(dump(data, shape)));
}

/** Writes the exports of `s` (see the module doc). */
export async function exportReplay(s: ReplaySettings): Promise<void> {
  await useBackend("cpu");
  const full = await loadClutteredMnist(s.data);
  const train = head(full.train, s.trainLimit);
  const test = head(full.test, s.testLimit);
  await Deno.mkdir(`${s.out}/data`, { recursive: true });
  await writeNpy(`${s.out}/data/train_x.npy`, train.x.slice(), [train.n, IMAGE_PIXELS]);
  await writeNpy(`${s.out}/data/train_y.npy`, train.y.slice(), [train.n]);
  await writeNpy(`${s.out}/data/test_x.npy`, test.x.slice(), [test.n, IMAGE_PIXELS]);
  await writeNpy(`${s.out}/data/test_y.npy`, test.y.slice(), [test.n]);
  for (const seed of s.seeds) {
    const dir = `${s.out}/seed${seed}`;
    await Deno.mkdir(dir, { recursive: true });
    const plan = batchPlan(train.n, s.epochs, s.batchSize, seed);
    await writeNpy(`${dir}/order.npy`, plan.order, [s.epochs, train.n]);
    await writeNpy(`${dir}/batches.npy`, plan.batches, [plan.steps, s.batchSize]);
    for (const k of s.ks) {
      const kdir = `${dir}/k${k}`;
      await Deno.mkdir(kdir, { recursive: true });
      const model = buildTrainableModel({ k, seed, bnMomentum: s.bnMomentum });
      try {
        const weights = [];
        for (const [i, w] of model.weights.entries()) {
          const values = await w.read().data() as Float32Array;
          const file = `${String(i).padStart(2, "0")}_${w.name.replace(/[^A-Za-z0-9_.-]/g, "_")}.npy`;
          await writeNpy(`${kdir}/${file}`, values.slice(), w.shape as number[]);
          weights.push({ name: w.name, shape: w.shape, trainable: w.trainable, file });
        }
        const layers = model.layers.map((l) => ({
          name: l.name,
          className: l.getClassName(),
          outputShape: l.outputShape,
          config: l.getConfig(),
        }));
        const manifest = {
          k,
          seed,
          weights,
          layers,
          protocol: {
            trainImages: train.n,
            testImages: test.n,
            epochs: s.epochs,
            batchSize: s.batchSize,
            steps: plan.steps,
            bnMomentum: s.bnMomentum ?? DEFAULT_BN_MOMENTUM,
            optimizer: "adam(0.001, 0.9, 0.999, 1e-8)",
          },
        };
        await Deno.writeTextFile(`${kdir}/manifest.json`, JSON.stringify(manifest, null, 1) + "\n");
      } finally {
        disposeModel(model);
      }
      console.error(`replay_export: wrote ${kdir}`);
    }
  }
  console.error(`replay_export: tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, out ${s.out}`);
}

/** The command line of this tool. */
export const REPLAY_EXPORT_CLI = defineCli({
  command: "deno run -A reproduce/replay_export.ts",
  summary: "Exports the data, each (k, seed) model's initial weights and every step's image indices of a " +
    "reduced-reproduction run as .npy files, for a separate implementation to replay.",
  options: {
    ...replayFlags({ backend: false, onePair: false }),
    out: { type: "string", value: "DIR", description: "where to write", default: "/tmp/replay" },
  },
});

if (import.meta.main) {
  await runCli(REPLAY_EXPORT_CLI, Deno.args, async ({ values }) => {
    const s = replaySettings(values, Deno.args);
    await exportReplay({
      seeds: s.seeds,
      ks: s.ks,
      trainLimit: s.trainLimit,
      testLimit: s.testLimit,
      epochs: s.epochs,
      batchSize: s.batchSize,
      bnMomentum: s.bnMomentum ?? DEFAULT_BN_MOMENTUM,
      out: String(values.out),
      data: s.data,
    });
    return 0;
  });
}
