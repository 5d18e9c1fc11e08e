/**
 * One benchmark suite: every subject of one device group on one shape, all k values, both
 * passes, interleaved in a single `runRounds` call (harness/measure/rounds.ts); then the tensor-count
 * check and the derived figures (throughput, per-round ratio to tf.maxPool, percent of the copy
 * kernel's bandwidth).
 *
 * @module
 */
import type { DeviceClock } from "../harness/measure/clocks.ts";
import { BENCH_PASSES, type BenchPass } from "../harness/measure/passes.ts";
import { localTask, runRounds, summaryOn, type TaskTiming, type TimedTask } from "../harness/measure/rounds.ts";
import type { SampleSummary } from "../harness/measure/stats.ts";
import { tf } from "../src/tfjs/runtime.ts";
import type { BenchHandle, Padding } from "../src/types.ts";
import { bytesMoved, inputElements, throughput } from "./metrics.ts";
import type { Group, PlannedShape } from "./plan.ts";
import {
  COPY_NAME,
  maxPoolName,
  type ResultRow,
  rowRatio,
  scaleRatio,
  type Subject,
  type SuiteResult,
  taskKey,
  type Timer,
} from "./rows.ts";

/** What {@link runSuite} needs besides the subjects. */
export interface SuiteContext {
  readonly planned: PlannedShape;
  readonly group: Group;
  readonly padding: Padding;
  readonly subjects: readonly Subject[];
  /** GPU clock for the webgpu group (absent: wall clock only), with the reason when absent. */
  readonly clock?: DeviceClock;
  readonly clockNote?: string;
  /**
   * Tasks not to run, keyed `"<subject>[ k=<k>]|<pass>"`, with the reason (e.g. predicted too
   * slow from a smaller shape). A subject with both passes listed is not even prepared.
   */
  readonly preSkip?: ReadonlyMap<string, string>;
  /** Set when the group cannot run at all (e.g. no WebGPU adapter): every row fails with it. */
  readonly unavailable?: string;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
}

function subjectLabel(s: Subject): string {
  return s.k === null ? s.name : `${s.name} k=${s.k}`;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Name of the task that only measures the queue's completion latency. */
const QUEUE_ROUND_TRIP = "queue-round-trip";

/** A task that only measures the queue's completion latency (empty submit) on its own device. */
async function queueRoundTripTask(): Promise<{ task: TimedTask; destroy: () => void } | null> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const device = await adapter.requestDevice();
  return {
    task: localTask(QUEUE_ROUND_TRIP, async () => {
      device.queue.submit([device.createCommandEncoder().finish()]);
      await device.queue.onSubmittedWorkDone();
    }),
    destroy: () => device.destroy(),
  };
}

/** A row without timings: the common fields, plus status and reason. */
function emptyRow(
  ctx: SuiteContext,
  id: string,
  s: Subject,
  pass: BenchPass,
  status: ResultRow["status"],
  reason: string | undefined,
  timing?: TaskTiming,
): ResultRow {
  const { shape, label } = ctx.planned;
  return {
    suite: id,
    group: ctx.group,
    shapeLabel: label,
    shape,
    padding: ctx.padding,
    subject: s.name,
    kind: s.kind,
    k: s.k,
    pass,
    status,
    ...(reason === undefined ? {} : { reason }),
    timer: null,
    ms: null,
    wall: null,
    device: null,
    inputElements: inputElements(shape),
    bytesMoved: bytesMoved(shape, ctx.padding, pass, ctx.planned.window),
    elementsPerSecond: null,
    gigabytesPerSecond: null,
    vsMaxPool: null,
    copyPercent: null,
    warmupCalls: timing?.warmupCalls ?? 0,
    firstCallMs: timing?.firstCallMs ?? null,
    samples: { round: [], wall: [], cpu: [] },
  };
}

/** Fills the ratio columns of one suite's rows: per-round ratios to tf.maxPool and to the copy kernel. */
function addComparisons(rows: ResultRow[], group: Group): ResultRow[] {
  const find = (name: string, pass: BenchPass) =>
    rows.find((r) => r.subject === name && r.pass === pass && r.status === "ok");
  return rows.map((row) => {
    if (row.status !== "ok") return row;
    const maxPool = find(maxPoolName(group), row.pass);
    let copyPercent: ResultRow["copyPercent"] = null;
    let copyNote: string | undefined;
    if (group !== "webgpu") {
      copyNote = "no copy kernel in the cpu group";
    } else {
      const copy = find(COPY_NAME, row.pass);
      const r = copy ? rowRatio(copy, row) : null;
      if (r) copyPercent = scaleRatio(r, 100);
      else copyNote = copy ? "no common clock or round with the copy kernel" : "copy kernel not measured in this suite";
    }
    return {
      ...row,
      vsMaxPool: maxPool ? rowRatio(row, maxPool) : null,
      copyPercent,
      ...(copyNote ? { copyNote } : {}),
    };
  });
}

/**
 * Prepares every subject (all handles alive at once, so their calls can be interleaved), times
 * them, disposes them and checks that tfjs holds as many tensors as before.
 */
export async function runSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const { planned, group, padding } = ctx;
  const policy = planned.groups[group];
  const id = `${group} ${planned.label} ${planned.shape.join("x")}`;
  const started = performance.now();
  const base = {
    id,
    group,
    shapeLabel: planned.label,
    shape: planned.shape,
    padding,
    ...(planned.window ? { window: planned.window } : {}),
  };
  if ("skip" in policy) {
    return {
      ...base,
      policy: null,
      skipped: policy.skip,
      rows: [],
      queueRoundTrip: null,
      tensors: null,
      failures: [],
      durationMs: 0,
    };
  }
  if (ctx.unavailable) {
    const rows = ctx.subjects.flatMap((s) =>
      BENCH_PASSES.map((m) => emptyRow(ctx, id, s, m, "failed", ctx.unavailable!))
    );
    return { ...base, policy, rows, queueRoundTrip: null, tensors: null, failures: [], durationMs: 0 };
  }

  const before = tf.memory().numTensors;
  const failures: string[] = [];
  const prepared: { subject: Subject; handle: BenchHandle }[] = [];
  const rows: ResultRow[] = [];
  ctx.progress(`${id}: preparing ${ctx.subjects.length} workloads`);
  const preSkip = ctx.preSkip ?? new Map<string, string>();
  const wanted = (s: Subject) => BENCH_PASSES.filter((m) => !preSkip.has(taskKey(s.name, s.k, m)));
  for (const subject of ctx.subjects) {
    for (const m of BENCH_PASSES) {
      const why = preSkip.get(taskKey(subject.name, subject.k, m));
      if (why !== undefined) rows.push(emptyRow(ctx, id, subject, m, "skipped", why));
    }
    if (wanted(subject).length === 0) continue;
    try {
      prepared.push({ subject, handle: await subject.prepare() });
    } catch (e) {
      const reason = `prepare failed: ${errorMessage(e)}`;
      for (const m of wanted(subject)) rows.push(emptyRow(ctx, id, subject, m, "failed", reason));
    }
  }
  const roundTrip = group === "webgpu" ? await queueRoundTripTask() : null;

  const tasks: TimedTask[] = [];
  const owners = new Map<string, { subject: Subject; pass: BenchPass }>();
  for (const { subject, handle } of prepared) {
    for (const pass of wanted(subject)) {
      const name = `${subjectLabel(subject)}|${pass}`;
      tasks.push(localTask(name, () => handle[pass](), { device: ctx.clock, cohort: `${subject.name}|${pass}` }));
      owners.set(name, { subject, pass });
    }
  }
  if (roundTrip) tasks.push(roundTrip.task);

  let lastLine = 0;
  let timings: TaskTiming[] = [];
  try {
    timings = await runRounds(tasks, {
      rounds: policy.samples,
      minSamples: policy.minSamples,
      budgetMs: policy.budgetMs,
      warmupCalls: policy.warmupCalls,
      warmupMs: policy.warmupMs,
      skipFirstCallOverMs: policy.skipFirstCallOverMs,
      warmupOnceOverMs: policy.warmupOnceOverMs,
      onProgress: (p) => {
        const now = performance.now();
        if (now - lastLine < 2000) return;
        lastLine = now;
        ctx.progress(
          p.phase === "warmup"
            ? `${id}: warm-up round ${p.round} (${(p.elapsedMs / 1000).toFixed(0)} s)`
            : `${id}: round ${p.round}, ${p.samplesTaken}/${p.samplesPlanned} samples (${
              (p.elapsedMs / 1000).toFixed(0)
            } s)`,
        );
      },
    });
  } finally {
    for (const { subject, handle } of prepared) {
      try {
        await handle.dispose();
      } catch (e) {
        failures.push(`${id}: ${subjectLabel(subject)}: dispose threw: ${errorMessage(e)}`);
      }
    }
    roundTrip?.destroy();
  }
  const after = tf.memory().numTensors;
  if (after !== before) {
    failures.push(
      `${id}: tf.memory().numTensors was ${before} before the suite and ${after} after disposing every handle ` +
        `(${after - before > 0 ? "leak" : "over-disposal"} of ${Math.abs(after - before)} tensors) among: ` +
        prepared.map((p) => subjectLabel(p.subject)).join(", "),
    );
  }

  let queueRoundTrip: SampleSummary | null = null;
  for (const t of timings) {
    if (t.name === QUEUE_ROUND_TRIP) {
      queueRoundTrip = t.status === "ok" ? summaryOn(t, "wall") : null;
      continue;
    }
    const owner = owners.get(t.name)!;
    if (t.status !== "ok") {
      rows.push(emptyRow(ctx, id, owner.subject, owner.pass, t.status, t.reason ?? t.status, t));
      continue;
    }
    const wall = summaryOn(t, "wall")!;
    const device = ctx.clock ? summaryOn(t, "gpu") : null;
    const timer: Timer = device ? "gpu-timestamps" : "wall-clock";
    const ms = device ? device.median : wall.median;
    const tp = ms > 0 ? throughput(planned.shape, padding, owner.pass, ms, planned.window) : null;
    const deviceNote = group === "webgpu" && !device
      ? (ctx.clock ? t.gpuNote ?? "no GPU timestamp reading" : ctx.clockNote ?? "GPU timestamps not in use")
      : undefined;
    rows.push({
      ...emptyRow(ctx, id, owner.subject, owner.pass, "ok", t.reason, t),
      timer,
      ms,
      wall,
      device,
      ...(deviceNote ? { deviceNote } : {}),
      elementsPerSecond: tp ? tp.elementsPerSecond : null,
      gigabytesPerSecond: tp ? tp.gigabytesPerSecond : null,
      samples: {
        round: t.samples.map((x) => x.round),
        wall: t.samples.map((x) => x.wall),
        cpu: t.samples.map((x) => x.cpu),
        ...(device ? { device: t.samples.map((x) => x.gpu as number) } : {}),
      },
    });
  }
  // Stable order: subjects as given, forward before forward+backward.
  const order = new Map(ctx.subjects.map((s, i) => [subjectLabel(s), i]));
  rows.sort((a, b) =>
    (order.get(a.k === null ? a.subject : `${a.subject} k=${a.k}`) ?? 0) -
      (order.get(b.k === null ? b.subject : `${b.subject} k=${b.k}`) ?? 0) ||
    BENCH_PASSES.indexOf(a.pass) - BENCH_PASSES.indexOf(b.pass)
  );
  return {
    ...base,
    policy,
    rows: addComparisons(rows, group),
    queueRoundTrip,
    tensors: { before, after },
    failures,
    durationMs: performance.now() - started,
  };
}
