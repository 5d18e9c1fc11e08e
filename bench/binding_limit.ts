/**
 * How the `wgsl` entry's cost grows across the device's storage-binding limit: x from 1/4 to 4
 * times maxStorageBufferBindingSize. Past the limit the kernels split a call along the batch
 * (src/webgpu/chunks.ts); the figure shows whether that costs more than the linear growth the
 * sizes below the limit set.
 *
 * ```
 * deno run -A bench/binding_limit.ts [--impl wgsl] [--fractions 0.25,0.5,1,2,4] [--limit BYTES]
 *                                    [--image 64x64x4] [--k 4] [--repeats 5] [--json FILE]
 * ```
 *
 * Each point is a bench handle (device-resident data: src/types.ts BenchHandle), forward and
 * forward + backward (the gradient: dx and dLogits). All points are prepared first and timed in
 * interleaved rounds (every point once per round, after one warm-up round), so load that comes
 * and goes on a shared machine hits every size alike; each figure is the median over the rounds.
 * Two clocks (harness/measure/clocks.ts): process CPU time, the primary one on CPU-emulated adapters
 * (llvmpipe and lavapipe run the "GPU" as threads of this process, so other processes' load barely
 * moves it), and wall time. "ms/MB" divides by the MB of x; "vs linear" divides the time by the
 * straight line fitted to the points at or below the limit (1 = linear growth continued past the
 * limit; fixed per-call costs are the line's intercept). With
 * `--limit` lower than the device's, the entry is planned against it (`withBindingLimits`), which
 * keeps a run short. Progress on stderr, the table on stdout.
 *
 * @module
 */
import { defineCli, intFlag, listFlag, type ParsedCli, runCli, UsageError } from "../harness/cli.ts";
import { timeCall } from "../harness/measure/clocks.ts";
import { median } from "../harness/measure/stats.ts";
import { uniformFloat32 } from "../src/random.ts";
import { implementation } from "../src/registry.ts";
import { outputShape } from "../src/spec.ts";
import type { BenchHandle, Shape4, SortPoolCase } from "../src/types.ts";
import { planChunks } from "../src/webgpu/chunks.ts";
import { describeAdapter, requestAdapterOrThrow } from "../src/webgpu/device.ts";
import type { WgslImplementation } from "../src/webgpu/implementation.ts";
import { formatMs } from "./format.ts";

/** The command line. */
export const BINDING_LIMIT_CLI = defineCli({
  command: "deno run -A bench/binding_limit.ts",
  summary: "Times the wgsl entry (forward, and forward + backward) with x from 1/4 to 4 times the device's " +
    "maxStorageBufferBindingSize, past which calls are split along the batch, and prints ms, ms per MB of x and " +
    "the ratio to the linear growth set by the sizes at or below the limit. Progress on stderr, table on stdout.",
  options: {
    impl: { type: "string", value: "NAME", description: "wgsl or wgsl@tfjs", default: "wgsl" },
    fractions: {
      type: "string",
      value: "LIST",
      description: "sizes of x as multiples of the binding limit, comma-separated",
      default: "0.25,0.5,1,2,4",
    },
    limit: {
      type: "string",
      value: "BYTES",
      description: "binding limit to plan against (default: the device's maxStorageBufferBindingSize)",
    },
    image: { type: "string", value: "HxWxC", description: "one image's height, width, channels", default: "64x64x4" },
    k: { type: "string", value: "K", description: "kept ranks, 1..4", default: "4" },
    repeats: {
      type: "string",
      value: "N",
      description: "timed rounds (each point once per round; median)",
      default: "7",
    },
    json: { type: "string", value: "FILE", description: "also write the rows as JSON" },
  },
  epilog: "exit status: 0 every point ran, 1 a point failed (no adapter, a refusal), 2 usage error",
});

/** One measured point: median milliseconds over the rounds on one clock. */
export interface LimitRow {
  readonly fraction: number;
  readonly shape: Shape4;
  readonly xMB: number;
  readonly chunks: number;
  readonly forwardMs: number;
  readonly gradientMs: number;
}

/** The rows on each clock. */
export interface LimitRows {
  readonly cpu: readonly LimitRow[];
  readonly wall: readonly LimitRow[];
}

/** Parses "64x64x4". */
function imageFlag(raw: unknown): [number, number, number] {
  const m = typeof raw === "string" ? /^(\d+)x(\d+)x(\d+)$/.exec(raw.trim()) : null;
  const dims = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (!m || dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new UsageError("--image", "HxWxC with positive integers, e.g. 64x64x4", JSON.stringify(raw));
  }
  return dims as [number, number, number];
}

/**
 * The line `ms = a + b · MB` through the points at or below the limit (least squares; through the
 * origin when only one such point exists): the growth the sizes that need no split set, fixed
 * per-call costs (submission, completion polling) included.
 */
export function linearFit(points: readonly { x: number; y: number }[]): { a: number; b: number } {
  if (points.length === 0) throw new RangeError("linearFit: expected at least one point");
  if (points.length === 1) return { a: 0, b: points[0].y / points[0].x };
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

/** The table: one row per point; "vs linear" = measured ms over the linear fit of the points at or below the limit. */
export function formatTable(rows: readonly LimitRow[], limitBytes: number): string {
  const below = rows.filter((r) => r.fraction <= 1);
  const basis = below.length > 0 ? below : rows.slice(0, 1);
  const fit = (pick: (r: LimitRow) => number) => linearFit(basis.map((r) => ({ x: r.xMB, y: pick(r) })));
  const fwd = fit((r) => r.forwardMs);
  const grad = fit((r) => r.gradientMs);
  const lines = [
    `binding limit ${limitBytes} bytes (${(limitBytes / 2 ** 20).toFixed(1)} MiB); linear fit of the points at or ` +
    `below it: forward ${fwd.a.toFixed(1)} ms + ${fwd.b.toFixed(3)} ms/MB, fwd+bwd ${grad.a.toFixed(1)} ms + ` +
    `${grad.b.toFixed(3)} ms/MB; "vs linear" = measured / fit`,
    "",
    "| x / limit | shape | x MB | chunks | forward ms | ms/MB | vs linear | fwd+bwd ms | ms/MB | vs linear |",
    "| --------- | ----- | ---- | ------ | ---------- | ----- | --------- | ---------- | ----- | --------- |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.fraction} | [${r.shape.join(", ")}] | ${r.xMB.toFixed(1)} | ${r.chunks} | ${formatMs(r.forwardMs)} | ` +
        `${(r.forwardMs / r.xMB).toFixed(3)} | ${(r.forwardMs / (fwd.a + fwd.b * r.xMB)).toFixed(2)} | ` +
        `${formatMs(r.gradientMs)} | ${(r.gradientMs / r.xMB).toFixed(3)} | ` +
        `${(r.gradientMs / (grad.a + grad.b * r.xMB)).toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

async function main({ values }: ParsedCli): Promise<number> {
  const implName = values.impl as string;
  if (implName !== "wgsl" && implName !== "wgsl@tfjs") {
    throw new UsageError("--impl", "wgsl or wgsl@tfjs", JSON.stringify(implName));
  }
  const fractions = listFlag(values, "fractions", (item) => {
    const n = Number(item);
    if (!Number.isFinite(n) || n <= 0 || n > 16) throw new UsageError("--fractions", "numbers in (0, 16]", item);
    return n;
  });
  const [h, w, c] = imageFlag(values.image);
  const k = intFlag(values, "k", 1, 4);
  const repeats = intFlag(values, "repeats", 1, 1000);
  const adapter = await requestAdapterOrThrow();
  const deviceLimit = adapter.limits.maxStorageBufferBindingSize;
  const limitBytes = values.limit === undefined ? deviceLimit : intFlag(values, "limit", 1024, deviceLimit);
  const entry = implementation(implName) as WgslImplementation;
  const subject = limitBytes === deviceLimit
    ? entry
    : entry.withBindingLimits({ maxStorageBufferBindingSize: limitBytes });
  const imageBytes = h * w * c * 4;
  console.error(`binding_limit: ${describeAdapter(adapter)}; ${implName}; image ${h}x${w}x${c}; k ${k}`);

  const points: { fraction: number; shape: Shape4; xMB: number; chunks: number; handle: BenchHandle }[] = [];
  try {
    for (const fraction of fractions) {
      const batch = Math.max(1, Math.round((fraction * limitBytes) / imageBytes));
      const shape: Shape4 = [batch, h, w, c];
      const testCase: SortPoolCase = {
        x: uniformFloat32(batch * imageBytes / 4, 7),
        shape,
        logits: [0.4, 0.1, -0.2, -0.5].slice(0, k),
        k,
        padding: "same",
      };
      const lanes = c % 4 === 0 ? 4 : 1;
      const chunks = planChunks(
        { shape, padding: "same", lanes, groupsPerInvocation: (c / lanes) % 2 === 0 ? 2 : 1 },
        {
          maxStorageBufferBindingSize: limitBytes,
          minStorageBufferOffsetAlignment: adapter.limits.minStorageBufferOffsetAlignment,
          maxBufferSize: adapter.limits.maxBufferSize,
        },
      ).chunks.length;
      console.error(`  x = ${fraction} × limit: [${shape.join(", ")}] → [${outputShape(shape, "same").join(", ")}]`);
      const handle = await subject.prepareBench(testCase);
      points.push({ fraction, shape, xMB: (batch * imageBytes) / 1e6, chunks, handle });
    }
    const samples = points.map(() => ({
      fwdCpu: [] as number[],
      fwdWall: [] as number[],
      gradCpu: [] as number[],
      gradWall: [] as number[],
    }));
    for (let round = 0; round <= repeats; round++) {
      console.error(`  round ${round === 0 ? "warm-up" : `${round}/${repeats}`}`);
      for (const [i, point] of points.entries()) {
        const fwd = await timeCall(() => point.handle.forward());
        const grad = await timeCall(() => point.handle.forwardBackward());
        if (round === 0) continue;
        samples[i].fwdCpu.push(fwd.readings.cpu);
        samples[i].fwdWall.push(fwd.readings.wall);
        samples[i].gradCpu.push(grad.readings.cpu);
        samples[i].gradWall.push(grad.readings.wall);
      }
    }
    const rowsOn = (fwd: "fwdCpu" | "fwdWall", grad: "gradCpu" | "gradWall"): LimitRow[] =>
      points.map((p, i) => ({
        fraction: p.fraction,
        shape: p.shape,
        xMB: p.xMB,
        chunks: p.chunks,
        forwardMs: median(samples[i][fwd]),
        gradientMs: median(samples[i][grad]),
      }));
    const rows: LimitRows = { cpu: rowsOn("fwdCpu", "gradCpu"), wall: rowsOn("fwdWall", "gradWall") };
    const head = `${describeAdapter(adapter)}, ${implName}, k = ${k}, "same", median of ${repeats} interleaved rounds`;
    console.log(`${head}; process CPU time (the emulated GPU's threads included)\n`);
    console.log(formatTable(rows.cpu, limitBytes));
    console.log(`\n${head}; wall time\n`);
    console.log(formatTable(rows.wall, limitBytes));
    if (values.json) {
      await Deno.writeTextFile(
        values.json as string,
        JSON.stringify({ adapter: describeAdapter(adapter), limitBytes, implName, rows }, null, 2) + "\n",
      );
    }
  } finally {
    for (const p of points) await p.handle.dispose();
  }
  await entry.dispose();
  return 0;
}

if (import.meta.main) await runCli(BINDING_LIMIT_CLI, Deno.args, main);
