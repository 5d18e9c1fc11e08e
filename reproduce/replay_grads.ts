/**
 * The first training step's loss and gradients of one (k, seed) model of the reduced
 * reproduction on its first batch, computed by the harness's own model on a chosen tfjs backend
 * and written as .npy files (one per trainable weight, tfjs layouts, named as
 * reproduce/replay_export.ts names the weights) plus `grads.json` (loss, names, shapes, and the
 * batch norm layers' batch statistics). reproduce/independent/compare_grads.py compares them with
 * PyTorch's, to find which layer's computation differs between backends.
 *
 * ```sh
 * npx -y deno@2.9.6 run -A reproduce/replay_grads.ts --seed 0 --k 1 --backend webgpu --out /tmp/replay/grads-webgpu-s0-k1
 * ```
 *
 * @module
 */
import { defineCli, runCli } from "../harness/cli.ts";
import { dump } from "npyjs";
import { mulberry32 } from "../src/random.ts";
import { throwGpuErrors } from "../src/mod.ts";
import { tf } from "../src/tfjs/runtime.ts";
import { prepareBackend } from "./main.ts";
import { head, loadClutteredMnist } from "./data.ts";
import { batchRows, batchTensors, disposeModel, shuffledIndices } from "./experiment.ts";
import { onePairSettings, replayFlags } from "./replay_flags.ts";
import { buildTrainableModel, softmaxCrossEntropy } from "./model.ts";

/** The command line of this tool. */
export const REPLAY_GRADS_CLI = defineCli({
  command: "deno run -A reproduce/replay_grads.ts",
  summary: "Writes the first training step's loss and gradients of one (k, seed) model of the reduced " +
    "reproduction on a chosen tfjs backend as .npy files plus grads.json under --out.",
  options: {
    ...replayFlags({ backend: true, onePair: true }),
    out: { type: "string", value: "DIR", description: "where to write", default: "/tmp/replay/grads" },
  },
});

if (import.meta.main) {
  await runCli(REPLAY_GRADS_CLI, Deno.args, async ({ values }) => {
    const s = onePairSettings(values, Deno.args);
    const backend = s.backend;
    await prepareBackend(s);
    const full = await loadClutteredMnist(s.data);
    const train = head(full.train, s.trainLimit);
    const { seed, batchSize } = s;
    const k = s.ks[0];
    const order = shuffledIndices(train.n, mulberry32(seed));
    const rows = batchRows(order, 0, batchSize);
    const { x, y } = batchTensors(train, rows);
    const model = buildTrainableModel({ k, seed, bnMomentum: s.bnMomentum });
    const out = String(values.out);
    await Deno.mkdir(out, { recursive: true });
    const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(
      () => softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
      trainable,
    );
    const entries = [];
    for (const [i, w] of model.trainableWeights.entries()) {
      const g = grads[trainable[i].name];
      const file = `${String(i).padStart(2, "0")}_${w.name.replace(/[^A-Za-z0-9_.-]/g, "_")}.npy`;
      await Deno.writeFile(`${out}/${file}`, new Uint8Array(dump((await g.data()) as Float32Array, g.shape)));
      entries.push({ name: w.name, shape: g.shape, file });
    }
    // Batch norm moving statistics after this one training-mode pass: m * initial + (1 - m) * batch statistic.
    const moving: Record<string, number[]> = {};
    for (const w of model.nonTrainableWeights) moving[w.name] = Array.from(await w.read().data());
    const loss = (await value.data())[0];
    if (backend === "webgpu") await throwGpuErrors();
    await Deno.writeTextFile(
      `${out}/grads.json`,
      JSON.stringify({
        backend: tf.getBackend(),
        k,
        seed,
        loss,
        rows: Array.from(rows),
        grads: entries,
        moving,
      }) +
        "\n",
    );
    console.error(`replay_grads: ${tf.getBackend()} seed ${seed} k=${k}: loss ${loss}; wrote ${out}`);
    disposeModel(model);
    tf.dispose([x, y, value, ...Object.values(grads)]);
    return 0;
  });
}
