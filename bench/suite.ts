/**
 * One benchmark suite: every subject of one device group on one shape, all k values, both
 * passes, interleaved in a single {@link runInterleaved} call; then the tensor-count check and
 * the derived figures (throughput, ratio to tf.maxPool, percent of the roofline).
 *
 * @module
 */
import { tf } from "../src/tfjs/runtime.ts";
import type { BenchHandle, Padding } from "../src/types.ts";
import { bytesMoved, inputElements, throughput } from "./metrics.ts";
import type { Group, PlannedShape } from "./plan.ts";
import {
  commonRatio,
  maxPoolName,
  METHODS,
  type ResultRow,
  ROOFLINE_NAME,
  type Subject,
  type SuiteResult,
  taskKey,
  type Timer,
} from "./rows.ts";
import { type SampleSummary, summarize } from "./stats.ts";
import { type BenchMethod, runInterleaved, type SampleClock, type TaskTiming, type TimedTask } from "./timing.ts";

/** What {@link runSuite} needs besides the subjects. */
export interface SuiteContext {
  readonly planned: PlannedShape;
  readonly group: Group;
  readonly padding: Padding;
  readonly subjects: readonly Subject[];
  /** GPU clock for the webgpu group (absent: wall clock only), with the reason when absent. */
  readonly clock?: SampleClock;
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

/** A task that only measures the queue's completion latency on its own device. */
async function queueRoundTripTask(): Promise<{ task: TimedTask; destroy: () => void } | null> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const device = await adapter.requestDevice();
  return {
    task: {
      name: "queue-round-trip",
      run: async () => {
        device.queue.submit([device.createCommandEncoder().finish()]);
        await device.queue.onSubmittedWorkDone();
      },
    },
    destroy: () => device.destroy(),
  };
}

/** A row without timings: the common fields, plus status and reason. */
function emptyRow(
  ctx: SuiteContext,
  id: string,
  s: Subject,
  pass: BenchMethod,
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
    bytesMoved: bytesMoved(shape, ctx.padding, pass),
    elementsPerSecond: null,
    gigabytesPerSecond: null,
    vsMaxPool: null,
    rooflinePercent: null,
    warmupCalls: timing?.warmupCalls ?? 0,
    firstCallMs: timing?.firstCallMs ?? null,
    samples: { wall: [] },
  };
}

/** Fills the ratio and roofline columns of the rows of one suite. */
function addComparisons(rows: ResultRow[], group: Group): ResultRow[] {
  const find = (name: string, pass: BenchMethod) =>
    rows.find((r) => r.subject === name && r.pass === pass && r.status === "ok");
  return rows.map((row) => {
    if (row.status !== "ok") return row;
    const maxPool = find(maxPoolName(group), row.pass);
    const vs = maxPool ? commonRatio(row, maxPool) : null;
    let rooflinePercent: number | null = null;
    let rooflineNote: string | undefined;
    if (group !== "webgpu") {
      rooflineNote = "no roofline for the cpu group";
    } else {
      const roofline = find(ROOFLINE_NAME, row.pass);
      const r = roofline ? commonRatio(roofline, row) : null;
      if (r) rooflinePercent = 100 * r.ratio;
      else rooflineNote = roofline ? "no common clock with the roofline" : "roofline not measured in this suite";
    }
    return {
      ...row,
      vsMaxPool: vs ? vs.ratio : null,
      rooflinePercent,
      ...(rooflineNote ? { rooflineNote } : {}),
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
    const rows = ctx.subjects.flatMap((s) => METHODS.map((m) => emptyRow(ctx, id, s, m, "failed", ctx.unavailable!)));
    return { ...base, policy, rows, queueRoundTrip: null, tensors: null, failures: [], durationMs: 0 };
  }

  const before = tf.memory().numTensors;
  const failures: string[] = [];
  const prepared: { subject: Subject; handle: BenchHandle }[] = [];
  const rows: ResultRow[] = [];
  ctx.progress(`${id}: preparing ${ctx.subjects.length} workloads`);
  const preSkip = ctx.preSkip ?? new Map<string, string>();
  const wanted = (s: Subject) => METHODS.filter((m) => !preSkip.has(taskKey(s.name, s.k, m)));
  for (const subject of ctx.subjects) {
    for (const m of METHODS) {
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
  const owners = new Map<string, { subject: Subject; pass: BenchMethod }>();
  for (const { subject, handle } of prepared) {
    for (const pass of wanted(subject)) {
      const name = `${subjectLabel(subject)}|${pass}`;
      tasks.push({ name, run: () => handle[pass](), cohort: `${subject.name}|${pass}` });
      owners.set(name, { subject, pass });
    }
  }
  if (roundTrip) tasks.push(roundTrip.task);

  let lastLine = 0;
  let timings: TaskTiming[] = [];
  try {
    timings = await runInterleaved(tasks, {
      samples: policy.samples,
      minSamples: policy.minSamples,
      budgetMs: policy.budgetMs,
      warmupCalls: policy.warmupCalls,
      warmupMs: policy.warmupMs,
      skipFirstCallOverMs: policy.skipFirstCallOverMs,
      warmupOnceOverMs: policy.warmupOnceOverMs,
      ...(ctx.clock ? { clock: ctx.clock } : {}),
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
    if (t.name === "queue-round-trip") {
      queueRoundTrip = t.status === "ok" && t.samples.length > 0 ? summarize(t.samples) : null;
      continue;
    }
    const owner = owners.get(t.name)!;
    if (t.status !== "ok") {
      rows.push(emptyRow(ctx, id, owner.subject, owner.pass, t.status, t.reason ?? t.status, t));
      continue;
    }
    const wall = summarize(t.samples);
    const device = t.clockSamples && t.clockSamples.length > 0 ? summarize(t.clockSamples) : null;
    const timer: Timer = device ? "gpu-timestamps" : "wall-clock";
    const ms = device ? device.median : wall.median;
    const tp = ms > 0 ? throughput(planned.shape, padding, owner.pass, ms) : null;
    const deviceNote = group === "webgpu" && !device
      ? (ctx.clock ? t.clockNote ?? "no GPU timestamp reading" : ctx.clockNote ?? "GPU timestamps not in use")
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
      samples: { wall: t.samples, ...(t.clockSamples ? { device: t.clockSamples } : {}) },
    });
  }
  // Stable order: subjects as given, forward before forward+backward.
  const order = new Map(ctx.subjects.map((s, i) => [subjectLabel(s), i]));
  rows.sort((a, b) =>
    (order.get(a.k === null ? a.subject : `${a.subject} k=${a.k}`) ?? 0) -
      (order.get(b.k === null ? b.subject : `${b.subject} k=${b.k}`) ?? 0) ||
    METHODS.indexOf(a.pass) - METHODS.indexOf(b.pass)
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
