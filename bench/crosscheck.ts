/**
 * Independent re-timing of a benchmark JSON: `deno run -A bench/crosscheck.ts --json FILE`.
 *
 * For every measured row it can rebuild (registry entries, tfjs baselines, the roofline) it
 * prepares the same workload again and times it a different way: no tinybench, no interleaving,
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
import { uniformFloat32 } from "../src/random.ts";
import { implementations } from "../src/registry.ts";
import { sizeOf } from "../src/spec.ts";
import { preparePoolBaseline } from "../src/tfjs/baselines.ts";
import { tf, useBackend } from "../src/tfjs/runtime.ts";
import type { BenchHandle, Shape4 } from "../src/types.ts";
import { SortPoolArgumentError } from "../src/validate.ts";
import { formatMs } from "./report.ts";
import { findRooflineFactory } from "./roofline.ts";
import type { ResultRow, SuiteResult } from "./rows.ts";
import { median, medianAbsoluteDeviation } from "./stats.ts";

/** Rows slower than this (wall median, ms) are not re-timed, to keep the check short. */
const MAX_ROW_MS = 1500;

async function prepare(row: ResultRow): Promise<BenchHandle> {
  const shape = row.shape as Shape4;
  const m = /^tf\.(maxPool|avgPool)@(webgpu|cpu)$/.exec(row.subject);
  if (m) return preparePoolBaseline(m[1] as "maxPool" | "avgPool", m[2] as "webgpu" | "cpu", shape, row.padding);
  if (row.kind === "roofline") {
    const roofline = await findRooflineFactory();
    if (!roofline.available) throw new Error(`roofline: ${roofline.reason}`);
    return roofline.prepare(shape, row.padding);
  }
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

function parseArgs(args: string[]): string {
  if (args.length === 2 && args[0] === "--json") return args[1];
  if (args.length === 1 && args[0].startsWith("--json=")) return args[0].slice(7);
  throw new SortPoolArgumentError("--json", "--json FILE (a JSON written by deno task bench)", JSON.stringify(args));
}

async function main(): Promise<number> {
  if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", "/tmp");
  const file = parseArgs(Deno.args);
  const run = JSON.parse(await Deno.readTextFile(file)) as {
    environment: { denoWebgpuBackend: string };
    suites: SuiteResult[];
  };
  const here = Deno.env.get("DENO_WEBGPU_BACKEND") ?? "";
  if (run.environment.denoWebgpuBackend !== here) {
    console.error(
      `warning: ${file} was measured with DENO_WEBGPU_BACKEND=${run.environment.denoWebgpuBackend || "(unset)"}, ` +
        `this process has ${here || "(unset)"}`,
    );
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

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    Deno.exit(2);
  }
}
