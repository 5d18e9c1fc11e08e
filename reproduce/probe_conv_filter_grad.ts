/**
 * A probe of tfjs's conv2d filter gradient (Conv2DBackpropFilter) on the webgpu backend against
 * the cpu backend, on the reduced reproduction's shapes (conv1: x [B, 40, 40, 1] -> 16 filters,
 * conv2: x [B, 20, 20, 16] -> 16 filters, 3x3 "same") and a few variations: the gradient of
 * sum(conv2d(x, w) * dy) with respect to w, for seeded random x, w and dy.
 *
 * ```sh
 * DENO_WEBGPU_BACKEND=vulkan npx -y deno@2.9.6 run -A reproduce/probe_conv_filter_grad.ts
 * ```
 *
 * With `--conv-filter-grad sliced` it probes the reproduction's workaround (conv_filter_grad.ts) instead.
 *
 * @module
 */
import { choiceFlag, defineCli, runCli, UsageError } from "../harness/cli.ts";
import { CONV_FILTER_GRADIENTS, useConvFilterGradient } from "./conv_filter_grad.ts";
import { uniformFloat32 } from "../src/random.ts";
import { throwGpuErrors } from "../src/mod.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import { describeAdapter, requestAdapterOrThrow } from "../src/webgpu/device.ts";

interface Case {
  readonly name: string;
  readonly batch: number;
  readonly size: number;
  readonly inChannels: number;
  readonly filters: number;
}

const CASES: Case[] = [
  { name: "conv1 shape, batch 128", batch: 128, size: 40, inChannels: 1, filters: 16 },
  { name: "conv2 shape, batch 128", batch: 128, size: 20, inChannels: 16, filters: 16 },
  { name: "conv1 shape, batch 80 (last batch)", batch: 80, size: 40, inChannels: 1, filters: 16 },
  { name: "conv1 shape, batch 32", batch: 32, size: 40, inChannels: 1, filters: 16 },
  { name: "conv1 shape, batch 8", batch: 8, size: 40, inChannels: 1, filters: 16 },
  { name: "conv1 shape, batch 1", batch: 1, size: 40, inChannels: 1, filters: 16 },
  { name: "40x40, 16 -> 16, batch 128", batch: 128, size: 40, inChannels: 16, filters: 16 },
  { name: "20x20, 1 -> 16, batch 128", batch: 128, size: 20, inChannels: 1, filters: 16 },
];

async function filterGrad(backend: "cpu" | "webgpu", c: Case, seed: number): Promise<Float32Array> {
  await useBackend(backend);
  const x = tf.tensor4d(uniformFloat32(c.batch * c.size * c.size * c.inChannels, seed), [
    c.batch,
    c.size,
    c.size,
    c.inChannels,
  ]);
  const dy = tf.tensor4d(uniformFloat32(c.batch * c.size * c.size * c.filters, seed + 1), [
    c.batch,
    c.size,
    c.size,
    c.filters,
  ]);
  const w = tf.tensor4d(uniformFloat32(9 * c.inChannels * c.filters, seed + 2), [3, 3, c.inChannels, c.filters]);
  const g = tf.grad((wt: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, wt as tf.Tensor4D, 1, "same"), dy)))(w);
  const out = (await g.data()) as Float32Array;
  if (backend === "webgpu") await throwGpuErrors();
  tf.dispose([x, dy, w, g]);
  return out;
}

/**
 * With x and dy all ones, dw[r][c][i][f] counts the (image, row, column) terms the kernel summed:
 * 128·40·40 at most (fewer at the borders: rows and columns that fall into the padding).
 */
async function termCounts(batch: number, size: number): Promise<number[]> {
  await useBackend("webgpu");
  const x = tf.ones([batch, size, size, 1]) as tf.Tensor4D;
  const dy = tf.ones([batch, size, size, 16]) as tf.Tensor4D;
  const w = tf.zeros([3, 3, 1, 16]) as tf.Tensor4D;
  const g = tf.grad((wt: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, wt as tf.Tensor4D, 1, "same"), dy)))(w);
  const out = Array.from(await g.data());
  await throwGpuErrors();
  tf.dispose([x, dy, w, g]);
  return out;
}

/** The command line of this tool. */
export const PROBE_CLI = defineCli({
  command: "deno run -A reproduce/probe_conv_filter_grad.ts",
  summary: "Compares tfjs's webgpu conv2d filter gradient with its cpu backend's on the reduced reproduction's " +
    "shapes, or (--counts) counts the terms the webgpu kernel sums per weight at conv1's shape.",
  options: {
    counts: { type: "boolean", description: "count summed terms (x and dy all ones) for batches 32, 40, 41, 80, 128" },
    all: { type: "boolean", description: "with --counts: batch 128 only, and every filter's count" },
    json: { type: "string", value: "FILE", description: "write the comparison rows as JSON" },
    "conv-filter-grad": {
      type: "string",
      value: "HOW",
      description: "stock (tfjs's kernel, the one probed) or sliced (the reproduction's batch-sliced workaround)",
      default: "stock",
    },
  },
});

async function countTerms(all: boolean): Promise<void> {
  for (const batch of all ? [128] : [32, 40, 41, 80, 128]) {
    const counts = await termCounts(batch, 40);
    // One value per (r, c) window offset (the 16 filters agree).
    const perOffset = Array.from({ length: 9 }, (_, i) => counts[i * 16]);
    const full = Array.from({ length: 9 }, (_, i) => batch * (i < 3 || i >= 6 ? 39 : 40) * (i % 3 === 1 ? 40 : 39));
    console.log(`batch ${batch}: terms summed per offset ${perOffset.join(", ")} (full sums: ${full.join(", ")})`);
    if (all) console.log(`  every filter: ${counts.join(", ")}`);
  }
}

async function compareBackends(json: string | undefined): Promise<void> {
  const rows = [];
  for (const [i, c] of CASES.entries()) {
    const seed = 1000 + 10 * i;
    const ref = await filterGrad("cpu", c, seed);
    const gpu = await filterGrad("webgpu", c, seed);
    let num = 0, den = 0, maxAbs = 0;
    for (let j = 0; j < ref.length; j++) {
      num += (gpu[j] - ref[j]) ** 2;
      den += ref[j] ** 2;
      maxAbs = Math.max(maxAbs, Math.abs(gpu[j] - ref[j]));
    }
    const rel = Math.sqrt(num / den);
    rows.push({ ...c, relError: rel, maxAbsDiff: maxAbs, verdict: rel < 1e-4 ? "ok" : "WRONG" });
    console.log(
      `${c.name.padEnd(36)} x [${c.batch}, ${c.size}, ${c.size}, ${c.inChannels}] -> ${c.filters}: ` +
        `webgpu vs cpu relative error ${rel.toExponential(2)}, max |diff| ${maxAbs.toExponential(2)} ` +
        `${rel < 1e-4 ? "ok" : "WRONG"}`,
    );
  }
  if (json) await Deno.writeTextFile(json, JSON.stringify(rows, null, 1) + "\n");
}

if (import.meta.main) {
  await runCli(PROBE_CLI, Deno.args, async ({ values }) => {
    const how = choiceFlag(values, "conv-filter-grad", CONV_FILTER_GRADIENTS);
    await useBackend("webgpu");
    useConvFilterGradient(how, "webgpu");
    console.log(`webgpu adapter: ${describeAdapter(await requestAdapterOrThrow())}; filter gradient: ${how}`);
    if (values.all === true && values.counts !== true) throw new UsageError("--all", "--counts with it", "no --counts");
    if (values.counts === true) await countTerms(values.all === true);
    else await compareBackends(typeof values.json === "string" ? values.json : undefined);
    return 0;
  });
}
