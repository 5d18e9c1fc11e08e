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
import { defineCli, runCli } from "../harness/cli.ts";
import { tf } from "../src/tfjs/runtime.ts";
import { prepareBackend } from "./main.ts";
import { head, loadClutteredMnist } from "./data.ts";
import { trainOne } from "./experiment.ts";
import { onePairSettings, replayFlags } from "./replay_flags.ts";

/** The command line of this tool. */
export const REPLAY_TRACE_CLI = defineCli({
  command: "deno run -A reproduce/replay_trace.ts",
  summary: "Trains one (k, seed) pair of the reduced reproduction with the harness's own trainOne on a chosen " +
    "tfjs backend, recording every training step's loss, and writes JSON to --out.",
  options: {
    ...replayFlags({ backend: true, onePair: true }),
    out: { type: "string", value: "FILE", description: "the JSON to write", default: "/tmp/replay/trace.json" },
  },
});

if (import.meta.main) {
  await runCli(REPLAY_TRACE_CLI, Deno.args, async ({ values }) => {
    const s = onePairSettings(values, Deno.args);
    await prepareBackend(s);
    const full = await loadClutteredMnist(s.data);
    const train = head(full.train, s.trainLimit);
    const test = head(full.test, s.testLimit);
    const { seed } = s;
    const k = s.ks[0];
    const stepLoss: number[] = [];
    const started = performance.now();
    const run = await trainOne(k, train, test, { ...s, ks: [k] }, {
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
    await Deno.writeTextFile(String(values.out), JSON.stringify(doc, null, 1) + "\n");
    console.error(`replay_trace: wrote ${values.out}`);
    return 0;
  });
}
