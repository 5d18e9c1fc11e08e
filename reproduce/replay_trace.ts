/**
 * Runs one (k, seed) pair of the reduced reproduction through the harness's own `trainOne` on a
 * chosen tfjs backend and records every training step's loss as well as the per-epoch figures,
 * so that reproduce/independent/train_torch.py can be compared with our code step by step (the
 * JSON report keeps only per-epoch means). Writes JSON to `--out`.
 *
 * ```sh
 * npx -y deno@2.9.6 run -A reproduce/replay_trace.ts --seed 0 --k 1 --epochs 1 --backend cpu --out /tmp/replay/trace.json
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf, type TfjsBackendName, useBackend } from "../src/tfjs/runtime.ts";
import { DEFAULT_DATA_FILE, head, loadClutteredMnist } from "./data.ts";
import { trainOne } from "./experiment.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seed: { type: "string", default: "0" },
      k: { type: "string", default: "1" },
      epochs: { type: "string", default: "5" },
      "train-limit": { type: "string", default: "2000" },
      "test-limit": { type: "string", default: "1000" },
      "batch-size": { type: "string", default: "128" },
      "bn-momentum": { type: "string", default: "0.5" },
      backend: { type: "string", default: "cpu" },
      out: { type: "string", default: "/tmp/replay/trace.json" },
      data: { type: "string", default: DEFAULT_DATA_FILE.pathname },
    },
  });
  const backend = values.backend as TfjsBackendName;
  await useBackend(backend);
  const full = await loadClutteredMnist(values.data);
  const train = head(full.train, Number(values["train-limit"]));
  const test = head(full.test, Number(values["test-limit"]));
  const seed = Number(values.seed);
  const k = Number(values.k);
  const stepLoss: number[] = [];
  const started = performance.now();
  const run = await trainOne(k, train, test, {
    ks: [k],
    epochs: Number(values.epochs),
    batchSize: Number(values["batch-size"]),
    seed,
    evalBatchSize: 500,
    bnMomentum: Number(values["bn-momentum"]),
  }, {
    step(_k, epoch, step, loss) {
      stepLoss.push(loss);
      console.error(`seed ${seed} k=${k} epoch ${epoch} step ${step}: loss ${loss.toFixed(6)}`);
    },
    epochEnd(_k, epoch, r) {
      console.error(
        `seed ${seed} k=${k} epoch ${epoch}: val CE ${r.valCrossEntropy.toFixed(4)}, ` +
          `val acc ${(100 * r.valAccuracy).toFixed(1)} %`,
      );
    },
  });
  const doc = {
    backend: tf.getBackend(),
    tfjs: tf.version.tfjs,
    stepLoss,
    ...run,
    traceSeconds: (performance.now() - started) / 1000,
  };
  await Deno.writeTextFile(values.out!, JSON.stringify(doc, null, 1) + "\n");
  console.error(`replay_trace: wrote ${values.out}`);
}
