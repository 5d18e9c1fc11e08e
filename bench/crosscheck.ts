/**
 * Independent re-timing of a benchmark JSON: `deno run -A bench/crosscheck.ts --json FILE`.
 *
 * For every measured row it can rebuild (registry entries, tfjs baselines, the copy kernel) it
 * prepares the same workload again and times it a different way: no round loop, no interleaving,
 * no injected GPU timestamps, just `performance.now()` around each of N back-to-back awaited
 * calls after its own warm-up (at least 10 calls and 100 ms). The median is compared with the
 * JSON's wall-clock median. For tf.maxPool / tf.avgPool on WebGPU it also asks tfjs for its own GPU kernel time (`tf.time`,
 * which uses timestamp-query through tfjs's code, not bench/gpu_timestamps.ts) and compares it
 * with the JSON's GPU-timestamp median.
 *
 * "Agrees" means within max(25 %, 3 MAD / median) of the JSON figure: the machine is shared, so
 * this catches a broken method (a sample that does not wait for the GPU, a mis-attributed
 * timestamp), not a few percent of drift. Exit status 1 when a row disagrees or fails.
 *
 * @module
 */
import { defineCli, type ParsedCli, runCli, UsageError } from "../harness/cli.ts";
import { median, medianAbsoluteDeviation } from "../harness/measure/stats.ts";
import { uniformFloat32 } from "../src/random.ts";
import { implementations } from "../src/registry.ts";
import { sizeOf } from "../src/spec.ts";
import { preparePoolBaseline } from "./baselines.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import type { BenchHandle, Shape4 } from "../src/types.ts";
import { prepareCopyBench } from "./copy_kernel.ts";
import { formatMs } from "./format.ts";
import { engineName, type RunIdentity, runLabel } from "./environment.ts";
import { describeAdapter, engineInfo } from "../src/webgpu/engine.ts";
import type { ResultRow, SuiteResult } from "./rows.ts";

/** The command line of the cross-check. */
export const CROSSCHECK_CLI = defineCli({
  command: "deno run -A bench/crosscheck.ts",
  summary: "Re-times the rows of a benchmark JSON a different way (back-to-back calls of a fresh handle, no " +
    "interleaving, no injected timestamps; tfjs's own tf.time for tf.maxPool / tf.avgPool on WebGPU) and prints " +
    "both figures side by side. Progress on stderr, the table on stdout.",
  options: { json: { type: "string", value: "FILE", description: "a JSON written by deno task bench (required)" } },
  epilog: "exit status: 0 every row agrees within max(25 %, 3 MAD), 1 a row differs or fails, 2 usage error",
});

/** Rows slower than this (wall median, ms) are not re-timed, to keep the check short. */
const MAX_ROW_MS = 1500;

async function prepare(row: ResultRow): Promise<BenchHandle> {
  const shape = row.shape as Shape4;
  const m = /^tf\.(maxPool|avgPool)@(webgpu|cpu)$/.exec(row.subject);
  if (m) return preparePoolBaseline(m[1] as "maxPool" | "avgPool", m[2] as "webgpu" | "cpu", shape, row.padding);
  if (row.kind === "copy") return await prepareCopyBench(shape);
  const entry = implementations.find((i) => i.name === row.subject);
  if (!entry?.prepareBench) throw new Error(`${row.subject}: not in the registry or without prepareBench`);
  const k = row.k!;
  return entry.prepareBench({
    x: uniformFloat32(sizeOf(shape), 7),
    shape,
    logits: [0.4, 0.1, -0.2, -0.5].slice(0, k),
    k,
    padding: row.padding,
  });
}

/** tfjs's own GPU kernel time of one tf.maxPool / tf.avgPool call (timestamp-query inside tfjs). */
async function tfjsKernelMs(op: "maxPool" | "avgPool", shape: Shape4, padding: "same" | "valid", n: number) {
  await useBackend("webgpu");
  const x = tf.tensor4d(uniformFloat32(sizeOf(shape), 1), [...shape]);
  const times: number[] = [];
  try {
    for (let i = 0; i < n + 10; i++) {
      let y: tf.Tensor | undefined;
      const info = await tf.time(() => {
        y = op === "maxPool" ? tf.maxPool(x, 2, 2, padding) : tf.avgPool(x, 2, 2, padding);
      });
      y?.dispose();
      if (i >= 10) times.push(info.kernelMs as number);
    }
  } finally {
    x.dispose();
  }
  return times;
}

/** Re-times the rows of `--json FILE`; returns the exit status. */
export async function crosscheckMain({ values }: ParsedCli): Promise<number> {
  const file = values.json;
  if (typeof file !== "string" || file === "") throw new UsageError("--json", "a file name", "nothing");
  const run = JSON.parse(await Deno.readTextFile(file)) as {
    environment: RunIdentity;
    suites: SuiteResult[];
  };
  // Compare engine and adapter as adapter.info names them (the requested wgpu backend only as a hint).
  const adapter = await navigator.gpu?.requestAdapter();
  const here: RunIdentity = {
    engine: engineInfo(),
    ...(adapter ? { adapterLine: describeAdapter(adapter) } : {}),
    adapter: adapter ? { available: true, info: {}, features: [], limits: {} } : { available: false, reason: "none" },
    denoWebgpuBackend: Deno.env.get("DENO_WEBGPU_BACKEND") ?? "",
  };
  if (engineName(run.environment) !== engineName(here) || runLabel(run.environment) !== runLabel(here)) {
    console.error(`warning: ${file} was measured on ${runLabel(run.environment)}; this process has ${runLabel(here)}`);
  }
  const rows = run.suites.flatMap((s) => s.rows).filter((r) => r.status === "ok" && r.wall!.median <= MAX_ROW_MS);
  const lines: string[] = [
    "| subject | shape | pass | bench wall median | independent wall median | ratio | bench gpu-ts | tf.time kernelMs | ratio | verdict |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  let bad = 0;
  const byWorkload = new Map<string, ResultRow[]>();
  for (const r of rows) {
    const key = `${r.subject}|${r.k}|${r.shape.join("x")}`;
    byWorkload.set(key, [...(byWorkload.get(key) ?? []), r]);
  }
  const agree = (ours: number, theirs: number, mad: number) =>
    Math.abs(theirs / ours - 1) <= Math.max(0.25, (3 * mad) / ours);
  for (const group of byWorkload.values()) {
    const first = group[0];
    let handle: BenchHandle;
    try {
      handle = await prepare(first);
    } catch (e) {
      bad++;
      lines.push(
        `| ${first.subject} | ${first.shape.join("x")} | - | | | | | | | FAILED: ${
          e instanceof Error ? e.message : e
        } |`,
      );
      continue;
    }
    try {
      for (const r of group) {
        const n = Math.max(5, Math.min(25, Math.ceil(1000 / r.wall!.median)));
        // Warm-up: at least 10 calls and 100 ms (at most 50 calls), so V8 has tiered up the JS
        // side of sub-millisecond calls as the bench's warm-up does.
        const warmStart = performance.now();
        for (let i = 0; i < 50 && (i < 10 || performance.now() - warmStart < 100); i++) await handle[r.pass]();
        const times: number[] = [];
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          await handle[r.pass]();
          times.push(performance.now() - t0);
        }
        const wall = median(times);
        const wallOk = agree(r.wall!.median, wall, Math.max(r.wall!.mad, medianAbsoluteDeviation(times)));
        let gpuCells = "| - | - | -";
        let gpuOk = true;
        const pool = /^tf\.(maxPool|avgPool)@webgpu$/.exec(r.subject);
        if (pool && r.pass === "forward" && r.device) {
          const kernel = await tfjsKernelMs(pool[1] as "maxPool" | "avgPool", r.shape as Shape4, r.padding, n);
          const km = median(kernel);
          gpuOk = km > 0 && agree(r.device.median, km, Math.max(r.device.mad, medianAbsoluteDeviation(kernel)));
          gpuCells = `| ${formatMs(r.device.median)} | ${formatMs(km)} | ${(km / r.device.median).toFixed(2)}`;
        }
        if (!wallOk || !gpuOk) bad++;
        lines.push(
          `| ${r.k === null ? r.subject : `${r.subject} k=${r.k}`} | ${r.shape.join("x")} | ${r.pass} | ` +
            `${formatMs(r.wall!.median)} | ${formatMs(wall)} | ${(wall / r.wall!.median).toFixed(2)} ${gpuCells} | ` +
            `${wallOk && gpuOk ? "agrees" : "DIFFERS"} |`,
        );
      }
    } finally {
      await handle.dispose();
    }
  }
  console.log(lines.join("\n"));
  console.log(`\n${rows.length} rows re-timed from ${file}; ${bad} disagree or failed (tolerance max(25 %, 3 MAD)).`);
  return bad === 0 ? 0 : 1;
}

if (import.meta.main) await runCli(CROSSCHECK_CLI, Deno.args, crosscheckMain);
